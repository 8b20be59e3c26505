"""goroscope_gdb: the GDB adapter of goroscope (target, commands, printers, unwinder).

Only this package imports gdb. It implements goroscope.target.Target over
GDB's Python API, registers the commands and pretty-printers, and routes
every error to one handler that prints `goroscope: <message>`.
"""

import gdb

_registered = False


def register():
    global _registered
    if _registered:
        return
    _registered = True
    from . import commands, fatal, printers, settings, state, unwinder, watch

    state.install()
    settings.install()
    unwinder.install()
    printers.install()
    commands.install()
    watch.install()
    fatal.install()
    gdb.goroscope_loaded = True
