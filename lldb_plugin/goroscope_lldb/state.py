"""state: the Runtime per stop (keyed by the process's stop id) and settings."""

from goroscope import runtime as rtmod
from goroscope.errors import GoroscopeError
from goroscope.stacks import Symbolizer

from .target import LldbTarget

_targets = {}
_cache = {}
settings = {"print-limit": 64, "bucket-limit": 4096, "viewer": None, "auto-push": False,
            "os-plugin-limit": 1024, "stop-on-fatal": True}


def target(debugger):
    t = _targets.get(debugger.GetID())
    if t is None:
        t = _targets[debugger.GetID()] = LldbTarget(debugger)
    return t


def runtime(debugger):
    t = target(debugger)
    p = t.process()
    if not p.IsValid() or p.GetState() == 0:
        raise GoroscopeError("the program is not running: run it, attach to a process or load a "
                             "core file")
    key = (debugger.GetID(), p.GetProcessID(), p.GetStopID())
    rt = _cache.get("rt")
    if rt is None or _cache.get("key") != key:
        t.bind(p)
        rt = rtmod.Runtime(t)
        _cache.update(rt=rt, key=key)
    return rt


def symbolizer(debugger):
    t = target(debugger)
    key = (debugger.GetID(), t.target().GetExecutable().fullpath)
    if _cache.get("symkey") != key:
        _cache.update(sym=Symbolizer(t), symkey=key)
    return _cache["sym"]


def reset():
    """Forget the decoded state (the next command decodes from scratch)."""
    _cache.pop("rt", None)
    _cache.pop("key", None)
