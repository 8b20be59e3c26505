"""state: the one Runtime per stop, and what resets it when the inferior runs."""

import gdb

from goroscope import runtime as rtmod
from goroscope.stacks import Symbolizer

from .target import GdbTarget

_target = GdbTarget()
_rt = None
_sym = None
settings = {"print-limit": 64, "auto-push": False, "viewer": "", "stop-on-fatal": True}
listeners = []  # called with no argument when the inferior resumes or exits


def target():
    return _target


def runtime():
    """The Runtime of the current inferior (cached until it runs again)."""
    global _rt
    if _rt is None:
        from goroscope.errors import GoroscopeError

        from .target import connection_type

        if connection_type() == "":
            raise GoroscopeError("the program is not running: run it, attach to a process "
                                 "or load a core file")
        _rt = rtmod.Runtime(_target)
    return _rt


def symbolizer():
    global _sym
    if _sym is None:
        _sym = Symbolizer(_target)
    return _sym


def reset(*_):
    global _rt
    _rt = None
    _target.generation_bump()
    for f in listeners:
        f()


def new_objfile(*_):
    global _sym
    _sym = None
    reset()


def install():
    gdb.events.cont.connect(reset)
    gdb.events.exited.connect(reset)
    gdb.events.stop.connect(reset)
    gdb.events.new_objfile.connect(new_objfile)
    if hasattr(gdb.events, "inferior_call_pre"):
        gdb.events.inferior_call_pre.connect(reset)
