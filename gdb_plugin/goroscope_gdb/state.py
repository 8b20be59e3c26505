"""state: the one GdbDebugger of this GDB session, and what resets its
decoded state when the inferior runs."""

import gdb

from goroscope import stop

from .debugger import GdbDebugger

DBG = GdbDebugger()
listeners = []  # called with no argument when the inferior resumes or exits


def runtime():
    """The Runtime of the current inferior (cached until it runs again)."""
    return DBG.runtime()


def reset(*_):
    DBG.generation_bump()
    DBG.invalidate()
    for f in listeners:
        f()


def new_objfile(*_):
    DBG.new_program()
    reset()


def stopped(_event=None):
    reset()
    for line in stop.after_stop(DBG):
        DBG.announce(line)


def install():
    gdb.events.cont.connect(reset)
    gdb.events.exited.connect(reset)
    gdb.events.stop.connect(stopped)
    gdb.events.new_objfile.connect(new_objfile)
    if hasattr(gdb.events, "inferior_call_pre"):
        gdb.events.inferior_call_pre.connect(reset)
