"""expressions: what a user's expression names — a goro object's address, a
channel's hchan, a goroutine id — decided once for both debuggers.

The debugger evaluates (Debugger.evaluate); these rules read the result. An
expression that does not evaluate, or evaluates to something else, may still
be a debug name (`goro::debug::name(obj, "sessions")`): the runtime's named
objects are the fallback, so `gomap info sessions` and `goroutines -chan jobs`
work on a stripped program or in a frame where the variable is not in scope.
"""

from .errors import GoroscopeError


def _evaluate(dbg, expr):
    """(Value, None) or (None, the debugger's error message)."""
    try:
        return dbg.evaluate(expr), None
    except GoroscopeError as e:
        return None, str(e)


def _named(rt, expr, kind, err):
    named = rt.find_named(expr)
    if named is not None and (kind is None or named["kind"] == kind):
        return named["addr"]
    raise GoroscopeError(f"{err} (and no {kind} is named '{expr}')")


def object_address(dbg, rt, expr, kind="map"):
    """The address of the goro object expr names: an expression of a goro
    type (or a pointer to one, or an integer address), else a debug name."""
    v, err = _evaluate(dbg, expr)
    if v is not None:
        if v.kind == "pointer" and v.pointee.startswith("goro::"):
            if not v.value:
                raise GoroscopeError(f"{expr} is a null pointer")
            return v.value
        if v.kind == "integer":
            return v.value
        if v.type.startswith("goro::") and v.address is not None:
            return v.address
        err = f"{expr} is a {v.type}, not a goro {kind}"
    return _named(rt, expr, kind, err)


def chan_address(dbg, rt, expr):
    """The hchan address of a goro::Chan<T> (or a pointer to one, an hchan*,
    an integer address), else of the channel named expr."""
    v, err = _evaluate(dbg, expr)
    if v is not None:
        if v.kind == "pointer" and "hchan" in v.pointee:
            return v.value
        if v.kind == "integer":
            return v.value
        typ, addr = (v.pointee, v.value) if v.kind == "pointer" else (v.type, v.address)
        if typ.startswith("goro::Chan<") and addr:
            return rt.u(addr + rt.L.const("Chan.hchan"), 8)
        err = f"{expr} is a {v.type}, not a goro::Chan"
    return _named(rt, expr, "chan", err)


def goroutine_id(dbg, text):
    """A goroutine id: a number, or an expression of integer type ($gid, g.id)."""
    try:
        return int(text, 0)
    except ValueError:
        pass
    v, _ = _evaluate(dbg, text)
    if v is not None and v.kind == "integer":
        return v.value
    raise GoroscopeError(f"'{text}' is not a goroutine id")
