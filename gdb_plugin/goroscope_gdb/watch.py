"""watch: `gomap watch`, hardware watchpoints on a map's header and slots.

    --grow       on hmap.buckets (8 bytes): growth starts (the array is replaced)
    --evacuated  on hmap.oldbuckets: evacuation ends (it becomes null)
    --writing    on hmap.flags (1 byte): hashWriting is set; reports the
                 goroutine setting it and, if it was already set, the
                 holder (hmap.writer): a concurrent write caught in the act
    --key KEY    on the slot holding KEY (its tophash byte and its elem): the
                 value is written, the key is deleted, or evacuation moves
                 it; then the watch re-arms itself on the key's new slot

Each is a gdb.Breakpoint of type BP_HARDWARE_WATCHPOINT whose stop()
decides whether the change is the event asked for (a write that changes
nothing of interest continues silently). x86-64 has 4 debug registers;
`gomap watch` refuses up front, with the count, what would not fit.
Breakpoints are never created or deleted inside stop() (GDB forbids it):
stop() queues the change and the stop-event handler, which runs once the
inferior is stopped, applies it.
"""

import gdb

from goroscope import maps, objects
from goroscope.errors import Corrupt, GoroscopeError, MemoryReadError

from . import state

DEBUG_REGISTERS = 4
_watches = []  # live MapWatch objects (for `gomap watch --list/--clear`)
_pending = []  # breakpoint changes queued by stop(), applied at the stop event


def apply_pending(_event=None):
    while _pending:
        _pending.pop(0)()


def install():
    gdb.events.stop.connect(apply_pending)


def hw_in_use():
    n = 0
    for b in gdb.breakpoints() or ():
        if b.is_valid() and b.enabled and b.type in (gdb.BP_HARDWARE_WATCHPOINT,
                                                      gdb.BP_READ_WATCHPOINT,
                                                      gdb.BP_ACCESS_WATCHPOINT):
            n += 1
    return n


def current_goroutine(rt):
    """The goid running on the selected thread (0: none)."""
    tid = rt.target.selected_thread()
    for w in rt.workers():
        if w["procid"] == tid and w["curg"]:
            return rt.field(w["curg"], "G.goid")
    return 0


class MapWatch(gdb.Breakpoint):
    def __init__(self, what, addr, size, hmap, check):
        ctype = {1: "unsigned char", 2: "unsigned short", 4: "unsigned int", 8: "unsigned long"}
        super().__init__(f"*({ctype[size]} *) {addr:#x}", gdb.BP_WATCHPOINT, gdb.WP_WRITE,
                         internal=False)
        self.what = what
        self.hmap = hmap
        self.check = check  # (watch) -> message or None
        self.silent = True
        self.prev = None
        _watches.append(self)

    def stop(self):
        try:
            state.reset()
            msg = self.check(self)
        except (Corrupt, MemoryReadError, GoroscopeError) as e:
            msg = f"gomap watch {self.what}: {e}"
        if msg:
            gdb.write(msg + "\n")
            return True
        return False


def header(hmap):
    return maps.header(state.runtime(), hmap)


def arm(hmap, grow, evacuated, writing, key):
    rt = state.runtime()
    h = maps.header(rt, hmap)
    need = grow + evacuated + writing + (2 if key is not None else 0)
    if need == 0:
        raise GoroscopeError("gomap watch EXPR --grow|--evacuated|--writing|--key KEY")
    used = hw_in_use()
    if need + used > DEBUG_REGISTERS:
        raise GoroscopeError(f"gomap watch needs {need} hardware watchpoint(s) and {used} "
                             f"{'is' if used == 1 else 'are'} in use: x86-64 has "
                             f"{DEBUG_REGISTERS} debug registers (delete some watchpoints, or "
                             f"watch fewer events at once)")
    base = hmap + rt.L.const("Map.hmap")
    made = []
    if grow:
        w = MapWatch("--grow", base + rt.L.off("hmap.buckets"), 8, hmap, check_grow)
        w.prev = h
        made.append(w)
    if evacuated:
        w = MapWatch("--evacuated", base + rt.L.off("hmap.oldbuckets"), 8, hmap,
                     check_evacuated)
        w.prev = h
        made.append(w)
    if writing:
        w = MapWatch("--writing", base + rt.L.off("hmap.flags"), 1, hmap, check_writing)
        w.prev = h
        made.append(w)
    if key is not None:
        made += arm_key(rt, hmap, key)
    return made


def check_grow(w):
    h = header(w.hmap)
    old, w.prev = w.prev, h
    if h.buckets == old.buckets or not h.growing:
        return None
    kind = "same-size grow" if h.same_size else f"B {old.B} -> {h.B}"
    return (f"gomap watch --grow: growth started ({kind}): buckets {h.buckets:#x}, "
            f"oldbuckets {h.oldbuckets:#x} ({1 << h.oldB} to evacuate), count {h.count}")


def check_evacuated(w):
    h = header(w.hmap)
    old, w.prev = w.prev, h
    if h.oldbuckets or not old.oldbuckets:
        return None
    return (f"gomap watch --evacuated: evacuation done: oldbuckets {old.oldbuckets:#x} "
            f"released; B={h.B} ({1 << h.B} buckets), count {h.count}")


def check_writing(w):
    rt = state.runtime()
    h = header(w.hmap)
    old, w.prev = w.prev, h
    bit = rt.L.const("flags.hashWriting")
    if not (h.flags & bit):
        return None
    me = current_goroutine(rt)
    who = f"goroutine {me}" if me else "a plain thread"
    if old.flags & bit:
        k, ident = objects.who(rt, old.writer)
        holder = f"{k} {ident}" if k else "another writer"
        return (f"gomap watch --writing: hashWriting set again by {who} while {holder} holds "
                f"it: concurrent map writes")
    return f"gomap watch --writing: {who} sets hashWriting (a write begins)"


def arm_key(rt, hmap, key):
    h = maps.header(rt, hmap)
    r = maps.find(rt, h, key)
    if r["found"] is None:
        raise GoroscopeError(f"key {key} is not in the map")
    if h.type.indirectkey:
        raise GoroscopeError("--key: maps with indirect keys are not supported")
    return arm_slot(rt, hmap, key, r["found"])


def arm_slot(rt, hmap, key, sl, moving=False):
    """Watch sl's tophash byte and its elem (the elem's first 1-8 bytes)."""
    h = maps.header(rt, hmap)
    t = h.type
    top = sl.key_addr - t.keysoff - sl.slot * t.keysize + sl.slot
    size = 8 if t.indirectelem else max(x for x in (1, 2, 4, 8) if x <= min(8, t.elemtypesize))
    tw = MapWatch(f"--key {key}", top, 1, hmap, check_key)
    ew = MapWatch(f"--key {key}", sl.elem_addr, size, hmap, check_key)
    for x, role in ((tw, "tophash"), (ew, "elem")):
        x.key, x.slot, x.role = key, sl, role
    tw.partner, ew.partner = ew, tw
    return [tw, ew]


def where(sl, h=None):
    """"old bucket 3 overflow 1 slot 5": old if the slot now lies in h's old array."""
    old = sl.old
    if h is not None and h.type is not None and h.growing and not sl.chainpos:
        base = h.oldbuckets
        old = base <= sl.key_addr < base + (1 << h.oldB) * h.type.bucketsize
    return (f"{'old ' if old else ''}bucket {sl.bucket}"
            + (f" overflow {sl.chainpos}" if sl.chainpos else "") + f" slot {sl.slot}")


def check_key(w):
    rt = state.runtime()
    h = header(w.hmap)
    t = h.type
    if w.role == "elem":
        if getattr(w, "landing", False):
            w.landing = False
            return None  # evacuate()'s copy of the entry into its new slot
        return (f"gomap watch --key {w.key}: value written at {where(w.slot)}: "
                f"{maps.render_value(rt, t.elemkind, w.slot.elem_addr, t.elemtypesize)}")
    top = rt.mem.read(w.slot.key_addr - t.keysoff - w.slot.slot * t.keysize + w.slot.slot, 1)[0]
    if top == w.slot.tophash:
        return None
    L = rt.L
    if top in (L.const("tophash.evacuatedX"), L.const("tophash.evacuatedY")):
        # evacuate() marks the old slot, then copies the entry to the next
        # free slot of the X (same index) or Y (index + 2^oldB) bucket chain,
        # which only this old bucket fills: so where it lands is known now.
        y = top == L.const("tophash.evacuatedY")
        dst = landing(rt, h, w.slot, y)
        if dst is None:
            _pending.append(lambda: disarm([w, w.partner]))
            return (f"gomap watch --key {w.key}: evacuation ({'Y' if y else 'X'}) moves it from "
                    f"{where(w.slot, h)} to a new overflow bucket; watch removed (arm it "
                    f"again once it has landed)")
        _pending.append(lambda: rearm(w, dst))
        return (f"gomap watch --key {w.key}: evacuation ({'Y' if y else 'X'}) moves it from "
                f"{where(w.slot, h)} to {where(dst)}; watch re-armed there")
    r = maps.find(rt, h, str(w.key))
    new = r["found"]
    if new is None:
        _pending.append(lambda: disarm([w, w.partner]))
        return f"gomap watch --key {w.key}: deleted from {where(w.slot, h)}; watch removed"
    _pending.append(lambda: rearm(w, new))
    return (f"gomap watch --key {w.key}: moved from {where(w.slot, h)} to {where(new, h)}; "
            f"re-armed")


def landing(rt, h, sl, y):
    """The slot evacuation will copy sl's entry to (None: a new overflow bucket)."""
    t = h.type
    idx = sl.bucket + ((1 << h.oldB) if y else 0)
    mintop = rt.L.const("tophash.minTopHash")
    for pos, (b, raw) in enumerate(maps.chain(rt, t, h.buckets + idx * t.bucketsize)):
        for k in range(rt.L.const("bucketCnt")):
            if raw[k] < mintop:
                ka, ea = b + t.keysoff + k * t.keysize, b + t.elemsoff + k * t.elemsize
                return maps.Slot(idx, pos, k, sl.tophash, ka, ea, False)
    return None


def rearm(w, new):
    disarm([w, w.partner])
    try:
        made = arm_slot(state.runtime(), w.hmap, w.key, new)
        made[1].landing = True
        for nw in made:
            gdb.write(f"gomap watch --key {w.key}: hardware watchpoint {nw.number}\n")
    except (GoroscopeError, gdb.error) as e:
        gdb.write(f"goroscope: gomap watch --key {w.key}: cannot re-arm: {e}\n", gdb.STDERR)


def disarm(ws):
    for w in ws:
        if w in _watches:
            _watches.remove(w)
        if w.is_valid():
            w.delete()


def clear():
    n = len(_watches)
    disarm(list(_watches))
    return n


def listing():
    return [f"{w.number}: gomap watch {w.what} on map {w.hmap:#x}" for w in _watches
            if w.is_valid()]
