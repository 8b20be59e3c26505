"""printers: LLDB summaries and synthetic children for goro's types (the
summaries are the GDB printers' lines, from the core's decoders)."""

import lldb

from goroscope import maps, objects
from goroscope.errors import Corrupt, GoroscopeError, MemoryReadError

from . import state


def _addr(valobj):
    """The object's address: of the value (a type with synthetic children gets
    its summary called on the synthetic value, which has none: ask the real
    one), or the pointer's value when LLDB applies the summary to a pointer."""
    v = valobj.GetNonSyntheticValue() if valobj.IsSynthetic() else valobj
    if v.GetType().IsPointerType():
        a = v.GetValueAsUnsigned()
        if not a:
            raise GoroscopeError("null pointer")
        return a
    a = v.GetLoadAddress()
    if a != lldb.LLDB_INVALID_ADDRESS:
        return a
    data, err = v.GetData(), lldb.SBError()
    raw = data.ReadRawData(err, 0, data.GetByteSize()) if data.IsValid() else None
    if not err.Success() or not raw:
        raise GoroscopeError("value has no address")
    return state.dbg(_debugger(valobj)).overlay(raw)


def _debugger(valobj):
    return valobj.GetTarget().GetDebugger()


def _limit(dbg):
    """The entries the synthetic children list: target.max-children-count, and
    one more (LLDB then prints "...")."""
    limit = dbg.GetSetting("target.max-children-count")
    n = limit.GetIntegerValue() if limit.IsValid() else 256
    return max(1, n) + 1


def map_summary(valobj, internal_dict):
    try:
        dbg = _debugger(valobj)
        rt = state.runtime(dbg)
        h = maps.header(rt, _addr(valobj))
        return maps.summary(h, maps.walk(rt, h, _limit(dbg))[1])
    except Corrupt as e:
        return e.render()
    except (MemoryReadError, GoroscopeError) as e:
        return f"<unreadable goro::Map: {e}>"


class MapSynth:
    """One child per entry of maps.walk, named by its key (`["key3"] = 3`, as
    GDB's `map` display hint prints it), growth-correct, capped by
    target.max-children-count. The key is the core's text (maps.render_value:
    `[<corrupt std::string: size=...>]` when it is garbage); the elem is LLDB's
    value of its type once maps.check_value accepts it, else a child that
    shows the core's marker (a char array: `= "<corrupt std::string: ...>"`)."""

    def __init__(self, valobj, internal_dict):
        self.valobj = valobj
        self.slots = []
        self.names = []

    def update(self):
        self.slots, self.names = [], []
        try:
            dbg = _debugger(self.valobj)
            self.rt = rt = state.runtime(dbg)
            h = maps.header(rt, _addr(self.valobj))
            self.t = t = h.type
            slots = maps.walk(rt, h, _limit(dbg))[0]
            self.vtype = self.valobj.GetType().GetCanonicalType().GetTemplateArgumentType(1)
            self.names = [f"[{maps.render_value(rt, t.keykind, sl.key_addr, t.keytypesize)}]"
                          for sl in slots]
            self.slots = slots
        except (Corrupt, MemoryReadError, GoroscopeError):
            self.slots, self.names = [], []
        return False

    def num_children(self):
        return len(self.slots)

    def get_child_index(self, name):
        try:
            return self.names.index(name)
        except ValueError:
            return -1

    def get_child_at_index(self, i):
        if not 0 <= i < len(self.slots):
            return None
        t, sl = self.t, self.slots[i]
        bad = maps.check_value(self.rt, t.elemkind, sl.elem_addr, t.elemtypesize)
        if bad is None:
            return self.valobj.CreateValueFromAddress(self.names[i], sl.elem_addr, self.vtype)
        return _text_value(self.valobj, self.names[i], bad)

    def has_children(self):
        return bool(self.slots)


def _text_value(valobj, name, text):
    """A child named name that LLDB shows as "text" (a char array from data)."""
    raw = text.encode() + b"\0"
    target = valobj.GetTarget()
    ctype = target.GetBasicType(lldb.eBasicTypeChar).GetArrayType(len(raw))
    data = lldb.SBData()
    data.SetData(lldb.SBError(), raw, target.GetByteOrder(), target.GetAddressByteSize())
    return valobj.CreateValueFromData(name, data, ctype)


def _object_summary(kind, addr_of=None):
    def summary(valobj, internal_dict):
        try:
            rt = state.runtime(_debugger(valobj))
            a = _addr(valobj)
            if addr_of:
                a = addr_of(rt, a)
            return objects.summary(kind, objects.DECODERS[kind](rt, a))
        except Corrupt as e:
            return e.render()
        except (MemoryReadError, GoroscopeError) as e:
            return f"<unreadable {kind}: {e}>"

    return summary


chan_summary = _object_summary("chan", lambda rt, a: rt.u(a + rt.L.const("Chan.hchan"), 8))
mutex_summary = _object_summary("mutex")
rwmutex_summary = _object_summary("rwmutex")
waitgroup_summary = _object_summary("waitgroup")
once_summary = _object_summary("once")
cond_summary = _object_summary("cond")
syncmap_summary = _object_summary("syncmap")


def g_summary(valobj, internal_dict):
    try:
        rt = state.runtime(_debugger(valobj))
        a = _addr(valobj)
        return objects.g_summary(rt, rt.g_at(a), a)
    except Corrupt as e:
        return e.render()
    except (MemoryReadError, GoroscopeError) as e:
        return f"<unreadable G: {e}>"


def install(debugger):
    h = debugger.HandleCommand
    m = "goroscope_lldb.printers"
    h(f'type summary add -w goroscope -e -F {m}.map_summary -x "^goro::Map<.+>$"')
    h(f'type synthetic add -w goroscope -l {m}.MapSynth -x "^goro::Map<.+>$"')
    h(f'type summary add -w goroscope -F {m}.chan_summary -x "^goro::Chan<.+>$"')
    for cls, fn in (("Mutex", "mutex"), ("RWMutex", "rwmutex"), ("WaitGroup", "waitgroup"),
                    ("Once", "once"), ("Cond", "cond")):
        h(f'type summary add -w goroscope -F {m}.{fn}_summary "goro::{cls}"')
    h(f'type summary add -w goroscope -F {m}.syncmap_summary -x "^goro::SyncMap<.+>$"')
    h(f'type summary add -w goroscope -F {m}.g_summary "goro::detail::G"')
    h("type category enable goroscope")
