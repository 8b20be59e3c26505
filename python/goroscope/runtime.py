"""runtime: the goro runtime's state, decoded from target memory.

Runtime(target) finds the layout descriptor, then reads the scheduler
(`sched`), the goroutine registry (`sched.allgchunks`: chunks of
`allg.chunk` G records, never freed; dead records have goid 0), the goid
index (O(1) `findg`), the workers (`sched.allm`) and the named objects
(`named.head`). Everything is read in bulk: a chunk of G records is one
read and one `struct.iter_unpack`, which is what makes a 100k-goroutine
listing fast (docs/performance.md).

Every traversal is bounded (chunk counts, list lengths) and every decoded
count is checked against a sane limit: a core of a crashed program may
hold garbage, and the plugin must print `<corrupt ...>`, never hang.
"""

from dataclasses import dataclass
from typing import Dict, List, Optional

from . import layout as layoutmod
from .errors import Corrupt, MemoryReadError
from .target import PageCache, Target

MAX_WAITLINK = 4096  # sudogs of one blocking operation (select cases)
MAX_QUEUE = 1 << 20  # waiters followed along one wait queue
MAX_NAMED = 1 << 20
# goids count up from 1, one per go(): 2^48 of them at 10^9 a second is 3
# days of nothing but spawning. A record with a larger goid (or a status no
# gstatus names) is garbage, listed as `<corrupt G: ...>`, never as a goroutine.
MAX_GOID = 1 << 48


@dataclass
class Sudog:
    addr: int
    g: int
    next: int
    c: int  # the object waited on
    kind: str  # objkind string: chan, mutex, rwmutex, waitgroup, cond, sema, none
    is_read: bool
    is_select: bool
    ticket: int
    acquiretime: int


def cname(raw: bytes) -> str:
    """A fixed-size NUL-terminated char array (G.name, namedobj.name) as text."""
    return raw.split(b"\0", 1)[0].decode("utf-8", "replace")


class Runtime:
    def __init__(self, target: Target):
        self.target = target
        self.mem = PageCache(target)
        self.L = layoutmod.find(target)
        L = self.L
        self.sched = L.glob("sched")
        self.named = L.glob("named")
        self.status_names = L.enum("gstatus")
        self.reason_names = L.enum("waitReason")
        self.objkinds = L.enum("objkind")
        self.gsize = L.size("G")
        self.chunk = L.const("allg.chunk")
        self.maxchunks = L.const("allg.maxchunks")
        self.Grec = L.record("G", [
            ("sched.sp", "u64"), ("sched.pc", "u64"), ("sched.bp", "u64"),
            ("sched.rbx", "u64"), ("sched.r12", "u64"), ("sched.r13", "u64"),
            ("sched.r14", "u64"), ("sched.r15", "u64"),
            ("stack.lo", "u64"), ("stack.hi", "u64"),
            ("goid", "u64"), ("atomicstatus", "u32"), ("waitreason", "u8"),
            ("stackguarded", "u8"), ("runs", "u16"), ("waitsince", "i64"), ("waiting", "ptr"),
            ("m", "i32"), ("selectDone", "u32"), ("parentGoid", "u64"), ("gopc", "ptr"),
            ("startpc", "ptr"), ("labels", "ptr"), ("name", "s32"), ("createtime", "i64"),
        ] + ([("rlocked", "ptr")] if L.has("G.rlocked") else []),
            base={"sched": "gobuf", "stack": "stack"})
        self.Srec = L.record("sudog", [
            ("g", "ptr"), ("next", "ptr"), ("c", "ptr"), ("waitlink", "ptr"),
            ("acquiretime", "i64"), ("ticket", "u32"), ("kind", "u8"), ("isSelect", "bool"),
            ("isRead", "bool")])
        self.dead = L.enum_value("gstatus", "dead")
        self.idle = L.enum_value("gstatus", "idle")
        self.waiting = L.enum_value("gstatus", "waiting")
        self.running = L.enum_value("gstatus", "running")
        self._named = None

    # ---- small readers --------------------------------------------------

    def u(self, addr, n):
        return int.from_bytes(self.mem.read(addr, n), "little")

    def i(self, addr, n):
        return int.from_bytes(self.mem.read(addr, n), "little", signed=True)

    def field(self, base, name, signed=False):
        off, size = self.L.off(name), self.L.fsize(name)
        if not 1 <= size <= 8:
            raise Corrupt("goroscope_layout", f"{name}: a {size}-byte integer")
        return (self.i if signed else self.u)(base + off, size)

    def cstring(self, addr, limit=256):
        if not addr:
            return ""
        out = b""
        while len(out) < limit:
            try:
                chunk = self.mem.read(addr + len(out), 64)
            except MemoryReadError:
                break
            z = chunk.find(b"\0")
            if z >= 0:
                out += chunk[:z]
                break
            out += chunk
        return out[:limit].decode("utf-8", "replace")

    # ---- the scheduler --------------------------------------------------

    def sched_field(self, name, signed=False):
        return self.field(self.sched, "schedt." + name, signed)

    def is_running(self):
        """Inside goro::run (workers exist)."""
        return bool(self.sched_field("running")) and bool(self.sched_field("allm"))

    def now_ns(self, newest=0):
        """The target's CLOCK_MONOTONIC now: live, or mapped from a core's mtime
        through the clocks run() recorded (schedt.walltime0/nanotime0); else newest."""
        now = self.target.now_ns()
        if now is not None:
            return now
        wall = self.target.core_time_ns()
        if wall is not None and self.L.has("schedt.walltime0"):
            w0 = self.sched_field("walltime0", True)
            n0 = self.sched_field("nanotime0", True)
            if w0 > 0 and n0 > 0 and wall >= w0:
                return n0 + (wall - w0)
        return newest

    def workers(self) -> List[Dict[str, int]]:
        """[{id, procid, curg}] of every worker."""
        allm, nm = self.sched_field("allm"), self.sched_field("nm")
        if not allm or nm <= 0:
            return []
        if nm > 4096:
            raise Corrupt("schedt", f"nm={nm}")
        ptrs = self.mem.read(allm, 8 * nm)
        out = []
        for k in range(nm):
            m = int.from_bytes(ptrs[8 * k:8 * k + 8], "little")
            if not m:
                continue
            out.append({"addr": m, "id": self.field(m, "m.id", True),
                        "procid": self.field(m, "m.procid"), "curg": self.field(m, "m.curg")})
        return out

    # ---- goroutines -------------------------------------------------------

    def all_g(self, include_dead=False):
        """Every G record as (address, decoded namedtuple), chunk by chunk."""
        make = self.Grec.tuple._make
        for addr, t in self.all_g_raw(include_dead):
            yield addr, make(t)

    def read_lockers(self, rw):
        """goids of the goroutines whose G.rlocked is the RWMutex at rw (the
        read locks the runtime records; [] for a layout without it)."""
        i = self.Grec.index.get("rlocked")
        if i is None:
            return []
        gi = self.Grec.index["goid"]
        return sorted(t[gi] for _a, t in self.all_g_raw() if t[i] == rw)

    def all_g_raw(self, include_dead=False, corrupt=None):
        """all_g with plain tuples (fields at self.Grec.index[name]): the fast path.
        A record that cannot be a goroutine (corrupt_g) is never yielded (but
        with include_dead): it goes to the list `corrupt`, if given, as
        (address, Corrupt)."""
        chunks, n = self.sched_field("allgchunks"), self.sched_field("nallgchunks")
        if not chunks or n == 0:
            return
        if n > self.maxchunks:
            raise Corrupt("schedt", f"nallgchunks={n}")
        table = self.mem.read(chunks, 8 * n)
        stride = self.gsize
        gi, si = self.Grec.index["goid"], self.Grec.index["atomicstatus"]
        dead, idle, statuses = self.dead, self.idle, self.status_names
        for c in range(n):
            base = int.from_bytes(table[8 * c:8 * c + 8], "little")
            if not base:
                continue
            try:
                # One read per chunk (not cached: read once per listing).
                raw = self.target.read(base, stride * self.chunk)
            except MemoryReadError:
                continue
            if len(raw) != stride * self.chunk:
                continue
            for k, t in enumerate(self.Grec.struct.iter_unpack(raw)):
                if include_dead:
                    yield base + k * stride, t
                elif t[gi] and t[si] != dead and t[si] != idle:
                    if t[gi] > MAX_GOID or t[si] not in statuses:
                        if corrupt is not None:
                            corrupt.append((base + k * stride,
                                            self.corrupt_g(base + k * stride, t[gi], t[si])))
                        continue
                    yield base + k * stride, t

    def corrupt_g(self, addr, goid, status) -> Optional[Corrupt]:
        """Corrupt when the G record at addr cannot be a live goroutine's: a
        goid over MAX_GOID or a status the runtime does not have
        (`<corrupt G: goid=18446744073709551615 status=4294967295 @0x7f...>`);
        else None."""
        if goid <= MAX_GOID and status in self.status_names:
            return None
        return Corrupt("G", f"goid={goid} status={self.status_names.get(status, status)} "
                            f"@{addr:#x}")

    def g_at(self, addr):
        return self.Grec.unpack(self.mem.read(addr, self.Grec.size))

    def findg(self, goid) -> Optional[int]:
        """The address of goroutine goid's G record, in O(1) (the goid index)."""
        L = self.L
        stripes = L.const("goidx.stripes")
        st = self.sched + L.off("schedt.goidx") + (goid % stripes) * L.size("goidxstripe")
        bits = self.field(st, "goidxstripe.bits")
        tab = self.field(st, "goidxstripe.tab")
        if bits == 0 or not tab:
            return None
        if bits > 40:
            raise Corrupt("goidx", f"bits={bits}")
        mask = (1 << bits) - 1
        i = ((goid * L.const("goidx.multiplier")) & ((1 << 64) - 1)) >> (64 - bits)
        esize = L.size("goidxent")
        for _ in range(mask + 1):
            e = tab + i * esize
            g = self.field(e, "goidxent.goid")
            if g == goid:
                return self.field(e, "goidxent.g")
            if g == 0:
                return None
            i = (i + 1) & mask
        return None

    def status_name(self, st):
        return self.status_names.get(st, f"status{st}")

    def reason_name(self, r):
        return self.reason_names.get(r, "") if r else ""

    def labels(self, ptr) -> Dict[str, str]:
        """G.labels: "k=v\\0k=v\\0\\0"."""
        if not ptr:
            return {}
        try:
            raw = self.mem.read(ptr, 64)
            while b"\0\0" not in raw and len(raw) < 4096:
                raw += self.mem.read(ptr + len(raw), 64)
        except MemoryReadError:
            return {}
        out = {}
        for kv in raw.split(b"\0\0", 1)[0].split(b"\0"):
            if kv:
                k, _, v = kv.decode("utf-8", "replace").partition("=")
                out[k] = v
        return out

    @staticmethod
    def gname(g):
        return cname(g.name)

    # ---- waits ------------------------------------------------------------

    def sudog(self, addr) -> Sudog:
        s = self.Srec.unpack(self.mem.read(addr, self.Srec.size))
        return Sudog(addr, s.g, s.next, s.c, self.objkinds.get(s.kind, "none"), s.isRead,
                     s.isSelect, s.ticket, s.acquiretime)

    def waits_of(self, gaddr, g) -> List[Sudog]:
        """The sudogs of a blocked goroutine (G.waiting, then waitlink)."""
        out = []
        s = g.waiting
        waitsg = gaddr + self.L.off("G.waitsg")
        seen = set()
        while s and len(out) < MAX_WAITLINK:
            # In the G record or on its own stack; anything else is damage.
            if s != waitsg and not (g.stack_lo <= s and s + self.Srec.size <= g.stack_hi):
                break
            if s in seen:
                break
            seen.add(s)
            try:
                sg = self.sudog(s)
            except MemoryReadError:
                break
            out.append(sg)
            s = self.u(s + self.L.off("sudog.waitlink"), 8)
        return out

    def queue_goids(self, first) -> List[int]:
        """Goids along a wait queue (sudog.next), bounded and cycle-safe."""
        out, seen = [], set()
        s = first
        off_next, off_g, off_goid = self.L.off("sudog.next"), self.L.off("sudog.g"), \
            self.L.off("G.goid")
        while s and len(out) < MAX_QUEUE and s not in seen:
            seen.add(s)
            try:
                gp = self.u(s + off_g, 8)
                out.append(self.u(gp + off_goid, 8) if gp else 0)
                s = self.u(s + off_next, 8)
            except MemoryReadError:
                break
        return out

    # ---- named objects ------------------------------------------------------

    def named_objects(self) -> List[Dict]:
        """[{name, kind, addr}] in registration order (newest first, as the list is)."""
        out = []
        n = self.field(self.named, "namedreg.head")
        seen = set()
        while n and n not in seen and len(out) < MAX_NAMED:
            seen.add(n)
            try:
                raw = self.mem.read(n, self.L.size("namedobj"))
            except MemoryReadError:
                break
            off = lambda f: self.L.off("namedobj." + f)  # noqa: E731
            obj = int.from_bytes(raw[off("obj"):off("obj") + 8], "little")
            kind = raw[off("kind")]
            name = raw[off("name"):off("name") + self.L.fsize("namedobj.name")]
            out.append({"name": cname(name),
                        "kind": self.objkinds.get(kind, "none"), "addr": obj})
            n = int.from_bytes(raw[off("next"):off("next") + 8], "little")
        return out

    def find_named(self, name):
        for o in self.named_objects():
            if o["name"] == name:
                return o
        return None


def check(cond, what, detail):
    if not cond:
        raise Corrupt(what, detail)
