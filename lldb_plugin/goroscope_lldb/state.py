"""state: the Runtime per stop (keyed by the process's stop id) and settings."""

from goroscope import runtime as rtmod
from goroscope.errors import GoroscopeError
from goroscope.stacks import Symbolizer

from .target import LldbTarget

_targets = {}
_cache = {}
settings = {"print-limit": 64, "bucket-limit": 4096, "viewer": None, "auto-push": False}


def target(debugger):
    t = _targets.get(id(debugger))
    if t is None:
        t = _targets[id(debugger)] = LldbTarget(debugger)
    return t


def runtime(debugger):
    t = target(debugger)
    p = t.process()
    if not p.IsValid() or p.GetState() == 0:
        raise GoroscopeError("the program is not running: run it, attach to a process or load a "
                             "core file")
    key = (id(debugger), p.GetProcessID(), p.GetStopID())
    rt = _cache.get("rt")
    if rt is None or _cache.get("key") != key:
        rt = rtmod.Runtime(t)
        _cache.update(rt=rt, key=key)
    return rt


def symbolizer(debugger):
    t = target(debugger)
    key = (id(debugger), t.target().GetExecutable().fullpath)
    if _cache.get("symkey") != key:
        _cache.update(sym=Symbolizer(t), symkey=key)
    return _cache["sym"]
