"""goroscope_gdb: the GDB adapter of goroscope (debugger, commands, printers, unwinder).

Only this package imports gdb. It implements goroscope.debugger.Debugger
over GDB's Python API (debugger.py, target.py), registers the core's
commands and settings through one wrapper (commands.py), and adds what
only GDB has: the pretty-printers, the goroutine unwinder, the stop at
fatal errors, a frame filter naming lambdas in GDB's own backtraces.
"""

import gdb

registrations = 0  # how many times the plugin was installed: 1 (tests check it)


def register():
    global registrations
    if registrations or getattr(gdb, "goroscope_loaded", False):
        return
    registrations += 1
    from . import commands, fatal, framefilter, printers, state, unwinder

    state.install()
    unwinder.install()
    printers.install()
    commands.install()
    fatal.install()
    framefilter.install()
    gdb.goroscope_loaded = True
