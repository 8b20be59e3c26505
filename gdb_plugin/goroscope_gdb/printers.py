"""printers: GDB pretty-printers for goro's types, over the core's decoders.

    goro::Map<K, V>      map[K]V len=N, children with the "map" hint (growth-correct,
                         `set print elements` honoured: GDB stops asking for children)
    goro::Chan<T>        chan T len=1 cap=4 recvq=[17 18] sendq=[]
    goro::Mutex ...      sync.Mutex locked by goroutine 1, waiters [20]
    goro::detail::G      goroutine 17 [chan receive] worker ...

A printer never raises at the user: what cannot be decoded prints
`<corrupt hmap: B=73>` (or `<unreadable ...>`).
"""

import gdb
import gdb.printing

from goroscope import maps, objects
from goroscope.errors import Corrupt, GoroscopeError, MemoryReadError

from . import state


def _addr(val):
    if val.address is None:
        raise GoroscopeError("value has no address")
    return int(val.address)


class MapPrinter:
    """goro::Map: the summary and the entries of maps.walk, each key and elem
    checked by maps.check_value before a printer of its type sees it: a
    libstdc++ std::string printer handed garbage raises in the middle of the
    print; a child that fails prints the core's marker instead (a Python
    string child: GDB prints it as is, `[<corrupt std::string: size=...>] = 1`)."""

    def __init__(self, val):
        self.val = val
        self.err = None
        self.h = None
        self.walked = None  # (slots, marker of a walk cut short)
        try:
            self.rt = state.runtime()
            self.h = maps.header(self.rt, _addr(val))
        except (Corrupt, MemoryReadError, GoroscopeError) as e:
            self.err = e.render() if isinstance(e, Corrupt) else f"<unreadable goro::Map: {e}>"

    def walk(self):
        """maps.walk up to the entries GDB prints (`print elements` counts a
        key and a value as two; one entry more tells it to print `...`)."""
        if self.walked is None:
            elements = gdb.parameter("print elements")
            limit = None if elements is None else max(1, (elements + 1) // 2 + 1)
            self.walked = maps.walk(self.rt, self.h, limit)
        return self.walked

    def to_string(self):
        if self.err:
            return self.err
        return maps.summary(self.h, self.walk()[1])

    def display_hint(self):
        return "map"

    def children(self):
        if self.err or self.h is None or not self.h.count:
            return
        try:
            ktype = self.val.type.strip_typedefs().template_argument(0)
            vtype = self.val.type.strip_typedefs().template_argument(1)
        except (RuntimeError, gdb.error):
            return
        t = self.h.type
        for n, sl in enumerate(self.walk()[0]):
            yield f"[{n}k]", self.value(ktype, sl.key_addr, t.keykind, t.keytypesize)
            yield f"[{n}v]", self.value(vtype, sl.elem_addr, t.elemkind, t.elemtypesize)

    def value(self, typ, addr, kind, size):
        """The gdb.Value of a key or elem, printed by its own printer; the
        core's marker (a str) when maps.check_value rejects it, and a
        std::string with no printer loaded (a core file without libstdc++'s
        printers) as the core renders it."""
        bad = maps.check_value(self.rt, kind, addr, size)
        if bad is not None:
            return bad
        v = gdb.Value(addr).cast(typ.pointer()).dereference()
        if kind == "std_string" and gdb.default_visualizer(v) is None:
            return maps.render_value(self.rt, kind, addr, size)
        return v


class ObjectPrinter:
    """Summary-only printers of channels and sync objects."""

    kind = ""

    def __init__(self, val):
        self.val = val

    def address(self):
        return _addr(self.val)

    def to_string(self):
        try:
            rt = state.runtime()
            d = objects.DECODERS[self.kind](rt, self.address())
            return objects.summary(self.kind, d)
        except Corrupt as e:
            return e.render()
        except (MemoryReadError, GoroscopeError) as e:
            return f"<unreadable {self.kind}: {e}>"


class ChanPrinter(ObjectPrinter):
    kind = "chan"

    def address(self):
        rt = state.runtime()
        return rt.u(_addr(self.val) + rt.L.const("Chan.hchan"), 8)


def _printer(kind):
    return type(f"{kind.capitalize()}Printer", (ObjectPrinter,), {"kind": kind})


class GPrinter:
    def __init__(self, val):
        self.val = val

    def to_string(self):
        try:
            rt = state.runtime()
            a = _addr(self.val)
            return objects.g_summary(rt, rt.g_at(a), a)
        except Corrupt as e:
            return e.render()
        except (MemoryReadError, GoroscopeError) as e:
            return f"<unreadable G: {e}>"


def build():
    pp = gdb.printing.RegexpCollectionPrettyPrinter("goroscope")
    pp.add_printer("goro::Map", r"^goro::Map<.*>$", MapPrinter)
    pp.add_printer("goro::Chan", r"^goro::Chan<.*>$", ChanPrinter)
    for cls, kind in (("Mutex", "mutex"), ("RWMutex", "rwmutex"), ("WaitGroup", "waitgroup"),
                      ("Once", "once"), ("Cond", "cond")):
        pp.add_printer(f"goro::{cls}", rf"^goro::{cls}$", _printer(kind))
    pp.add_printer("goro::SyncMap", r"^goro::SyncMap<.*>$", _printer("syncmap"))
    pp.add_printer("goro::detail::G", r"^goro::detail::G$", GPrinter)
    return pp


def install():
    gdb.printing.register_pretty_printer(None, build(), replace=True)

