"""objects: channels and sync primitives, decoded and summarized.

Each decoder takes the object's address and returns a dict of its fields
(and waiter goids, read along its wait queues, bounded); `summary` renders
the one line the printers show:

    chan int len=1 cap=4 recvq=[17 18] sendq=[]
    sync.Mutex locked by goroutine 1, waiters [20]
    sync.RWMutex readers=2 writer pending (goroutine 9), readerWaiters [11]
    sync.WaitGroup counter=1 waiters=1 [22]

A field that cannot be what it claims raises Corrupt (rendered
`<corrupt hchan: qcount=9 > dataqsiz=4>`).
"""

import functools
import shutil
import subprocess

from .errors import Corrupt

MAX_CHAN_CAP = 1 << 40


@functools.lru_cache(maxsize=1024)
def demangle_type(name):
    """typeid(T).name() ("i", "NSt7__cxx1112basic_string...") -> "int" (c++filt -t)."""
    if not name or " " in name or "::" in name or not shutil.which("c++filt"):
        return name
    try:
        out = subprocess.run(["c++filt", "-t", name], capture_output=True, text=True,
                             timeout=5).stdout.strip()
    except (OSError, subprocess.SubprocessError):
        return name
    return out or name


def who(rt, token):
    """A Who token (hmap.writer) -> ("goroutine"|"thread"|"", id)."""
    shift = rt.L.const("Who.kindshift")
    kind, ident = token >> shift, token & ((1 << shift) - 1)
    if kind == rt.L.const("Who.goroutine"):
        return "goroutine", ident
    if kind == rt.L.const("Who.thread"):
        return "thread", ident
    return "", 0


def sema_waiters(rt, root):
    return rt.queue_goids(rt.field(root, "semaRoot.head"))


def chan(rt, hchan):
    if not hchan:
        return {"nil": True}
    f = lambda n, s=False: rt.field(hchan, "hchan." + n, s)  # noqa: E731
    qcount, dataqsiz = f("qcount"), f("dataqsiz")
    if dataqsiz > MAX_CHAN_CAP or qcount > dataqsiz:
        raise Corrupt("hchan", f"qcount={qcount} dataqsiz={dataqsiz}")
    et = f("elemtype")
    elem = demangle_type(rt.cstring(rt.field(et, "chantype.elemname"))) if et else "?"
    recvq = rt.queue_goids(rt.u(hchan + rt.L.off("hchan.recvq") + rt.L.off("waitq.first"), 8))
    sendq = rt.queue_goids(rt.u(hchan + rt.L.off("hchan.sendq") + rt.L.off("waitq.first"), 8))
    return {"nil": False, "addr": hchan, "elem": elem, "qcount": qcount, "dataqsiz": dataqsiz,
            "closed": f("closed") != 0, "sendx": f("sendx"), "recvx": f("recvx"),
            "recvq": recvq, "sendq": sendq, "refs": f("refs")}


def mutex(rt, addr):
    state = rt.field(addr, "Mutex.state", True)
    return {"addr": addr, "state": state,
            "locked": bool(state & rt.L.const("mutexLocked")),
            "starving": bool(state & rt.L.const("mutexStarving")),
            "owner": rt.field(addr, "Mutex.owner"),
            "waiters": sema_waiters(rt, addr + rt.L.off("Mutex.waiters"))}


def rwmutex(rt, addr):
    rc = rt.field(addr, "RWMutex.readerCount", True)
    maxr = rt.L.const("rwmutexMaxReaders")
    w = mutex(rt, addr + rt.L.off("RWMutex.w"))
    pending = rc < 0
    return {"addr": addr, "readerCount": rc, "readers": rc + maxr if pending else rc,
            "readerWait": rt.field(addr, "RWMutex.readerWait", True),
            "writerPending": pending, "writer": w["owner"], "writers": w["waiters"],
            "writerWaiting": sema_waiters(rt, addr + rt.L.off("RWMutex.writerWaiters")),
            "readerWaiters": sema_waiters(rt, addr + rt.L.off("RWMutex.readerWaiters")),
            "readLockers": rt.read_lockers(addr) if (rc + maxr if pending else rc) > 0 else []}


def waitgroup(rt, addr):
    state = rt.field(addr, "WaitGroup.state")
    counter = (state >> 32) - (1 << 32) if state >> 63 else state >> 32
    return {"addr": addr, "counter": counter, "waiters": state & 0xFFFFFFFF,
            "waiting": sema_waiters(rt, addr + rt.L.off("WaitGroup.waiters"))}


def once(rt, addr):
    m = mutex(rt, addr + rt.L.off("Once.m"))
    return {"addr": addr, "done": rt.field(addr, "Once.done") != 0, "owner": m["owner"],
            "waiting": m["waiters"]}


def cond(rt, addr):
    nl = addr + rt.L.off("Cond.notify")
    return {"addr": addr, "wait": rt.field(nl, "notifyList.wait"),
            "notify": rt.field(nl, "notifyList.notify"),
            "waiting": rt.queue_goids(rt.field(nl, "notifyList.head"))}


def map_count(rt, hmap):
    return rt.field(hmap + rt.L.const("Map.hmap"), "hmap.count", True) if hmap else 0


def syncmap(rt, addr):
    """read/dirty sizes, misses, amended (through the shared_ptrs' pointers)."""
    ro = rt.u(addr + rt.L.off("SyncMap.read"), 8)
    read_map = rt.u(ro + rt.L.off("SyncMap.readOnly.m"), 8) if ro else 0
    amended = bool(rt.u(ro + rt.L.off("SyncMap.readOnly.amended"), 1)) if ro else False
    dirty = rt.u(addr + rt.L.off("SyncMap.dirty"), 8)
    return {"addr": addr, "read": map_count(rt, read_map), "read_map": read_map,
            "dirty": map_count(rt, dirty) if dirty else -1, "dirty_map": dirty,
            "misses": rt.field(addr, "SyncMap.misses", True), "amended": amended,
            "mu": mutex(rt, addr + rt.L.off("SyncMap.mu"))}


KIND_NAMES = {"chan": "chan", "mutex": "sync.Mutex", "rwmutex": "sync.RWMutex",
              "waitgroup": "sync.WaitGroup", "cond": "sync.Cond", "once": "sync.Once",
              "syncmap": "sync.Map", "map": "map"}

DECODERS = {"chan": chan, "mutex": mutex, "rwmutex": rwmutex, "waitgroup": waitgroup,
            "once": once, "cond": cond, "syncmap": syncmap}


def goids(lst):
    return "[" + " ".join(str(g) for g in lst) + "]"


def held(owner):
    return f"locked by goroutine {owner}" if owner else "locked"


def summary(kind, d):
    """The printers' one line for a decoded object."""
    if kind == "chan":
        if d.get("nil"):
            return "chan <nil>"
        s = f"chan {d['elem']} len={d['qcount']} cap={d['dataqsiz']}"
        if d["closed"]:
            s += " closed"
        return s + f" recvq={goids(d['recvq'])} sendq={goids(d['sendq'])}"
    if kind == "mutex":
        s = "sync.Mutex " + (held(d["owner"]) if d["locked"] else "unlocked")
        if d["starving"]:
            s += " (starving)"
        return s + (f", waiters {goids(d['waiters'])}" if d["waiters"] else "")
    if kind == "rwmutex":
        s = f"sync.RWMutex readers={d['readers']}"
        if d["writerPending"]:
            s += " writer " + (f"goroutine {d['writer']}" if d["writer"] else "pending")
            s += f" waiting for {d['readerWait']} readers" if d["readerWait"] > 0 else " holds it"
        if d.get("readLockers"):
            s += f", read-locked by {goids(d['readLockers'])}"
        for k in ("writers", "writerWaiting", "readerWaiters"):
            if d[k]:
                s += f", {k} {goids(d[k])}"
        return s
    if kind == "waitgroup":
        s = f"sync.WaitGroup counter={d['counter']} waiters={d['waiters']}"
        return s + (f" {goids(d['waiting'])}" if d["waiting"] else "")
    if kind == "once":
        s = "sync.Once done" if d["done"] else "sync.Once not done"
        if not d["done"] and d["owner"]:
            s += f", running in goroutine {d['owner']}"
        return s + (f", waiting {goids(d['waiting'])}" if d["waiting"] else "")
    if kind == "cond":
        return f"sync.Cond waiters {goids(d['waiting'])}" if d["waiting"] else "sync.Cond no waiters"
    if kind == "syncmap":
        dirty = "nil" if d["dirty"] < 0 else str(d["dirty"])
        return (f"sync.Map read={d['read']} dirty={dirty} misses={d['misses']} "
                f"amended={'true' if d['amended'] else 'false'}")
    return kind


def g_summary(rt, g, addr=0):
    """The G record's one line, as both plugins print it:
    `goroutine 18 [waiting: chan receive] "name" created by goroutine 1`;
    a record that cannot be a goroutine's (Runtime.corrupt_g, a dead one
    aside) as `<corrupt G: goid=... status=... @0x...>`."""
    bad = rt.corrupt_g(addr, g.goid, g.atomicstatus) if g.goid else None
    if bad is not None:
        return bad.render()
    s = f"goroutine {g.goid} [{rt.status_name(g.atomicstatus)}"
    if g.atomicstatus == rt.waiting:
        s += f": {rt.reason_name(g.waitreason)}"
    s += "]"
    name = rt.gname(g)
    if name:
        s += f' "{name}"'
    if g.parentGoid:
        s += f" created by goroutine {g.parentGoid}"
    return s

