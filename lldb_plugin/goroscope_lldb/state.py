"""state: one LldbDebugger per SBDebugger (the decoded state is cached there,
keyed by the process's stop id)."""

_dbgs = {}


def dbg(debugger):
    d = _dbgs.get(debugger.GetID())
    if d is None:
        from .debugger import LldbDebugger

        d = _dbgs[debugger.GetID()] = LldbDebugger(debugger)
    return d


def runtime(debugger):
    return dbg(debugger).runtime()


def target(debugger):
    return dbg(debugger)


def reset():
    """Forget every session's decoded state (the next command decodes from scratch)."""
    for d in _dbgs.values():
        d.invalidate()
