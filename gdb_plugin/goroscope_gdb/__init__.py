"""goroscope_gdb: the GDB adapter of goroscope (debugger, commands, printers, unwinder).

Only this package imports gdb. It implements goroscope.debugger.Debugger
over GDB's Python API (debugger.py, target.py), registers the core's
commands and settings through one wrapper (commands.py), and adds what
only GDB has: the pretty-printers, the goroutine unwinder, the stop at
fatal errors.
"""

import gdb

_registered = False


def register():
    global _registered
    if _registered or getattr(gdb, "goroscope_loaded", False):
        return
    _registered = True
    from . import commands, fatal, printers, state, unwinder

    state.install()
    unwinder.install()
    printers.install()
    commands.install()
    fatal.install()
    gdb.goroscope_loaded = True
