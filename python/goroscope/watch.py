"""watch: `gomap watch`, hardware watchpoints on a map's header and slots.

    --grow       on hmap.buckets (8 bytes): growth starts (the array is replaced)
    --evacuated  on hmap.oldbuckets: evacuation ends (it becomes null)
    --writing    on hmap.flags (1 byte): hashWriting is set; reports the
                 goroutine setting it and, if it was already set, the
                 holder (hmap.writer): a concurrent write caught in the act
    --key KEY    on the slot holding KEY (its tophash byte and its elem): the
                 value is written, the key is deleted, or evacuation moves
                 it; then the watch re-arms itself on the key's new slot

This module decides; the debugger (goroscope.debugger.Debugger's watchpoint
verbs) arms the CPU's watchpoints and calls hit() when one fires: stop (a message) or continue silently (a
write that changes nothing of interest). x86-64 has 4 debug registers:
arm() refuses up front, with the count, what would not fit. Watchpoints are
never created or deleted from inside hit() (neither GDB's stop() nor LLDB's
watchpoint callback allows it): hit() queues the change and
goroscope.stop.after_stop applies it (apply_pending) once the inferior is stopped.

Rejected: software watchpoints (single-stepping every instruction of a map
write: minutes for the fixture's 4000 writes); watching whole buckets (a
bucket is 144+ bytes, a debug register covers at most 8).
"""

from . import maps, objects
from .errors import Corrupt, GoroscopeError, MemoryReadError

DEBUG_REGISTERS = 4


USAGE = "usage: gomap watch EXPR [--grow] [--evacuated] [--writing] [--key KEY]"


def session(dbg):
    """The map watches of one debugger session (created on first use)."""
    ws = getattr(dbg, "_map_watches", None)
    if ws is None:
        ws = dbg._map_watches = Watches(dbg)
    return ws


class MapWatch:
    def __init__(self, what, hmap, check):
        self.what = what
        self.hmap = hmap
        self.check = check  # (watches, watch) -> message or None
        self.prev = None
        self.number = None
        self.key = self.slot = self.role = self.partner = None
        self.landing = False


class Watches:
    """The active map watches of one debugger session (a goroscope.debugger.Debugger)."""

    def __init__(self, dbg):
        self.dbg = dbg
        self.active = []
        self.pending = []  # changes queued by hit(), applied at the stop

    def _make(self, what, addr, size, hmap, check):
        w = MapWatch(what, hmap, check)
        w.number = self.dbg.arm_watchpoint(addr, size, lambda: self.hit(w))
        self.active.append(w)
        return w

    def hit(self, w):
        """A watchpoint of w fired: the message to stop with, or None to continue."""
        try:
            self.dbg.invalidate()
            return w.check(self, w)
        except (Corrupt, MemoryReadError, GoroscopeError) as e:
            return f"gomap watch {w.what}: {e}"

    def apply_pending(self):
        while self.pending:
            self.pending.pop(0)()

    def arm(self, hmap, grow, evacuated, writing, key):
        rt = self.dbg.runtime()
        h = maps.header(rt, hmap)
        need = grow + evacuated + writing + (2 if key is not None else 0)
        if need == 0:
            raise GoroscopeError("gomap watch EXPR --grow|--evacuated|--writing|--key KEY")
        used = self.dbg.watchpoints_in_use()
        if need + used > DEBUG_REGISTERS:
            raise GoroscopeError(f"gomap watch needs {need} hardware watchpoint(s) and {used} "
                                 f"{'is' if used == 1 else 'are'} in use: x86-64 has "
                                 f"{DEBUG_REGISTERS} debug registers (delete some watchpoints, "
                                 f"or watch fewer events at once)")
        base = hmap + rt.L.const("Map.hmap")
        made = []
        for on, what, field, size, check in (
                (grow, "--grow", "hmap.buckets", 8, check_grow),
                (evacuated, "--evacuated", "hmap.oldbuckets", 8, check_evacuated),
                (writing, "--writing", "hmap.flags", 1, check_writing)):
            if on:
                w = self._make(what, base + rt.L.off(field), size, hmap, check)
                w.prev = h
                made.append(w)
        if key is not None:
            r = maps.find(rt, h, key)
            if r["found"] is None:
                raise GoroscopeError(f"key {key} is not in the map")
            if h.type.indirectkey:
                raise GoroscopeError("--key: maps with indirect keys are not supported")
            made += self.arm_slot(rt, hmap, key, r["found"])
        return made

    def arm_slot(self, rt, hmap, key, sl):
        """Watch sl's tophash byte and its elem (the elem's first 1-8 bytes)."""
        t = maps.header(rt, hmap).type
        top = sl.key_addr - t.keysoff - sl.slot * t.keysize + sl.slot
        size = 8 if t.indirectelem else max(x for x in (1, 2, 4, 8)
                                            if x <= min(8, t.elemtypesize))
        tw = self._make(f"--key {key}", top, 1, hmap, check_key)
        ew = self._make(f"--key {key}", sl.elem_addr, size, hmap, check_key)
        for x, role in ((tw, "tophash"), (ew, "elem")):
            x.key, x.slot, x.role = key, sl, role
        tw.partner, ew.partner = ew, tw
        return [tw, ew]

    def rearm(self, w, new):
        self.disarm([w, w.partner])
        try:
            made = self.arm_slot(self.dbg.runtime(), w.hmap, w.key, new)
            made[1].landing = True
            for nw in made:
                self.dbg.announce(f"gomap watch --key {w.key}: hardware watchpoint {nw.number}")
        except Exception as e:  # noqa: BLE001 - a debugger's error type: one line
            self.dbg.announce(f"goroscope: gomap watch --key {w.key}: cannot re-arm: {e}")

    def disarm(self, ws):
        for w in ws:
            if w in self.active:
                self.active.remove(w)
                self.dbg.disarm_watchpoint(w.number)

    def clear(self):
        n = len(self.active)
        self.disarm(list(self.active))
        return n

    def listing(self):
        # (a watchpoint the user deleted with `delete N` is gone from the list too)
        return [f"{w.number}: gomap watch {w.what} on map {w.hmap:#x}" for w in self.active
                if self.dbg.watchpoint_alive(w.number)]


def check_grow(ws, w):
    h = maps.header(ws.dbg.runtime(), w.hmap)
    old, w.prev = w.prev, h
    if h.buckets == old.buckets or not h.growing:
        return None
    kind = "same-size grow" if h.same_size else f"B {old.B} -> {h.B}"
    return (f"gomap watch --grow: growth started ({kind}): buckets {h.buckets:#x}, "
            f"oldbuckets {h.oldbuckets:#x} ({1 << h.oldB} to evacuate), count {h.count}")


def check_evacuated(ws, w):
    h = maps.header(ws.dbg.runtime(), w.hmap)
    old, w.prev = w.prev, h
    if h.oldbuckets or not old.oldbuckets:
        return None
    return (f"gomap watch --evacuated: evacuation done: oldbuckets {old.oldbuckets:#x} "
            f"released; B={h.B} ({1 << h.B} buckets), count {h.count}")


def current_goroutine(rt):
    """The goid running on the selected thread (0: none)."""
    tid = rt.target.selected_thread()
    for w in rt.workers():
        if w["procid"] == tid and w["curg"]:
            return rt.field(w["curg"], "G.goid")
    return 0


def check_writing(ws, w):
    rt = ws.dbg.runtime()
    h = maps.header(rt, w.hmap)
    old, w.prev = w.prev, h
    bit = rt.L.const("flags.hashWriting")
    if not (h.flags & bit):
        return None
    me = current_goroutine(rt)
    who = f"goroutine {me}" if me else "a plain thread"
    if old.flags & bit:
        k, ident = objects.who(rt, old.writer)
        if k == "goroutine" and ident == me or k == "thread" and not me and \
                ident == rt.target.selected_thread():
            return None  # another flag of the holder's own write (hashGrow's set_flags)
        holder = f"{k} {ident}" if k else "another writer"
        return (f"gomap watch --writing: hashWriting set again by {who} while {holder} holds "
                f"it: concurrent map writes")
    return f"gomap watch --writing: {who} sets hashWriting (a write begins)"


def where(sl, h=None):
    """"old bucket 3 overflow 1 slot 5": old if the slot now lies in h's old array."""
    old = sl.old
    if h is not None and h.type is not None and h.growing and not sl.chainpos:
        base = h.oldbuckets
        old = base <= sl.key_addr < base + (1 << h.oldB) * h.type.bucketsize
    return (f"{'old ' if old else ''}bucket {sl.bucket}"
            + (f" overflow {sl.chainpos}" if sl.chainpos else "") + f" slot {sl.slot}")


def check_key(ws, w):
    rt = ws.dbg.runtime()
    h = maps.header(rt, w.hmap)
    t = h.type
    if w.role == "elem":
        if w.landing:
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
            ws.pending.append(lambda: ws.disarm([w, w.partner]))
            return (f"gomap watch --key {w.key}: evacuation ({'Y' if y else 'X'}) moves it from "
                    f"{where(w.slot, h)} to a new overflow bucket; watch removed (arm it "
                    f"again once it has landed)")
        ws.pending.append(lambda: ws.rearm(w, dst))
        return (f"gomap watch --key {w.key}: evacuation ({'Y' if y else 'X'}) moves it from "
                f"{where(w.slot, h)} to {where(dst)}; watch re-armed there")
    r = maps.find(rt, h, str(w.key))
    new = r["found"]
    if new is None:
        ws.pending.append(lambda: ws.disarm([w, w.partner]))
        return f"gomap watch --key {w.key}: deleted from {where(w.slot, h)}; watch removed"
    ws.pending.append(lambda: ws.rearm(w, new))
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
