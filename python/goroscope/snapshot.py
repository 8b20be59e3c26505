"""snapshot: the runtime's snapshot format (docs/snapshot-format.md, version 1)
written from a stopped program's memory.

The same document goro::debug::snapshot() produces, so the viewer and any
tool read one format whatever produced it: goroutines (registry order, the
goroutine on the selected thread first), the objects they wait on and the
named objects, the named maps with their bucket layout (paged like the
runtime: at most `bucket_limit` buckets per array). The debugger stops every
thread, so the world is always "stopped" and never "partial", and every
goroutine's stack is available (a running one's from its thread).
Differences from the runtime's own snapshot: producer, time, pause_ns, and
frames (symbolized by the debugger, not libbacktrace).
"""

import json
import time

from . import goroutines as gcmd
from . import maps, objects, stacks
from .errors import Corrupt, MemoryReadError

FORMAT = "goroscope-snapshot"
VERSION = 1
OPS = {("chan", True): "recv", ("chan", False): "send", ("rwmutex", True): "rlock",
       ("rwmutex", False): "lock", ("mutex", True): "lock", ("mutex", False): "lock"}
BOOLS = {"closed", "locked", "starving", "writerPending", "done", "amended"}


def addr(a):
    return f"{a:#x}" if a else "0x0"


def frame_json(f, pc, rt_frame):
    return {"function": stacks.elide_params(f.function) + "(...)" if f.function else "?",
            "file": f.file, "line": max(0, f.line), "pc": addr(pc), "inlined": f.inlined,
            "runtime": rt_frame}


def goroutine_json(rt, sym, v, now, frames=True):
    g = rt.g_at(v.addr)
    waits = rt.waits_of(v.addr, g) if v.status == "waiting" else []
    start = None
    if v.startpc:
        f = sym.user_frame([v.startpc], False)[0]
        start = {"pc": addr(v.startpc),
                 "function": stacks.elide_params(f.function) + "(...)" if f.function else "?"}
    created = None
    if v.gopc:
        f = sym.user_frame([v.gopc], True)[0]
        created = {"pc": addr(v.gopc),
                   "function": stacks.elide_params(f.function) + "(...)" if f.function else "?",
                   "file": f.file, "line": max(0, f.line), "goroutine": v.parent}
    fr = []
    if frames:
        for k, pc in enumerate(gcmd.pcs_of(rt, v)):
            for f in sym.frames(pc, k > 0 or v.parked):
                fr.append(frame_json(f, pc, stacks.is_runtime_frame(f)))
    parked = v.status in ("waiting", "runnable")
    return {
        "goid": v.goid, "status": v.status, "wait_reason": v.reason,
        "waiting_ns": v.waited_ns or 0,
        "created_ns_ago": max(0, now - g.createtime) if g.createtime else 0,
        "worker": g.m if v.status == "running" else -1,
        "current": v.current, "stack_unavailable": False, "name": v.name,
        "labels": gcmd.labels_of(rt, v), "parent": v.parent, "start": start,
        "created_by": created,
        "stack": {"lo": addr(v.stack_lo), "hi": addr(v.stack_hi),
                  "sp": addr(g.sched_sp if parked else 0), "pc": addr(g.sched_pc if parked else 0),
                  "bp": addr(g.sched_bp if parked else 0)},
        "waiting_on": [{"object": addr(s.c), "kind": s.kind,
                        "op": OPS.get((s.kind, s.is_read), "wait"), "select": s.is_select}
                       for s in waits],
        "frames": fr,
    }, waits


def object_json(rt, a, kind, name):
    d = objects.DECODERS[kind](rt, a)
    o = {"addr": addr(a), "kind": kind, "name": name, "type": ""}
    if kind == "chan":
        et = rt.field(a, "hchan.elemtype")
        o["type"] = rt.cstring(rt.field(et, "chantype.elemname")) if et else ""
        o.update(qcount=d["qcount"], dataqsiz=d["dataqsiz"], closed=d["closed"],
                 elemsize=rt.field(et, "chantype.elemsize") if et else 0,
                 sendx=d["sendx"], recvx=d["recvx"], refs=d["refs"], recvq=d["recvq"],
                 sendq=d["sendq"])
    elif kind == "mutex":
        o.update(state=d["state"], locked=d["locked"], starving=d["starving"], owner=d["owner"],
                 waiters=d["waiters"])
    elif kind == "rwmutex":
        o.update(readerCount=d["readerCount"], readerWait=d["readerWait"], readers=d["readers"],
                 writerPending=d["writerPending"], writer=d["writer"], writers=d["writers"],
                 writerWaiting=d["writerWaiting"], readerWaiters=d["readerWaiters"],
                 readLockers=d["readLockers"])
    elif kind == "waitgroup":
        o.update(counter=d["counter"], waiters=d["waiters"], waiting=d["waiting"])
    elif kind == "cond":
        o.update(wait=d["wait"], notify=d["notify"], waiting=d["waiting"])
    elif kind == "once":
        o.update(done=d["done"], owner=d["owner"], waiting=d["waiting"])
    elif kind == "syncmap":
        o.update(read=d["read"], dirty=d["dirty"], misses=d["misses"], amended=d["amended"])
    return o


def array_json(rt, h, old, first, limit):
    t = h.type
    arr, nb = (h.oldbuckets, 1 << h.oldB) if old else (h.buckets, 1 << h.B)
    first = min(first, nb)
    count = nb - first if not limit else min(nb - first, limit)
    out = {"addr": addr(arr), "nbuckets": nb, "first": first, "count": count,
           "truncated_chain": False, "chains": []}
    mintop = rt.L.const("tophash.minTopHash")
    for i in range(first, first + count):
        ch = {"index": i, "buckets": []}
        try:
            for pos, (b, raw) in enumerate(maps.chain(rt, t, arr + i * t.bucketsize)):
                if pos == 0 and old:
                    ch["evacuated"] = maps.evacuated(rt, raw)
                keys, elems = [], []
                for s in range(8):
                    if raw[s] < mintop:
                        keys.append(None)
                        elems.append(None)
                        continue
                    ka, ea = maps.slot_addrs(t, b, raw, s)
                    keys.append(maps.slot_text(rt, t.keykind, ka, t.keytypesize))
                    elems.append(maps.slot_text(rt, t.elemkind, ea, t.elemtypesize))
                ov = int.from_bytes(raw[t.overflowoff:t.overflowoff + 8], "little")
                ch["buckets"].append({"addr": addr(b), "tophash": list(raw[:8]), "keys": keys,
                                      "elems": elems, "overflow": addr(ov)})
        except Corrupt:
            out["truncated_chain"] = True
        if ch["buckets"]:
            out["chains"].append(ch)
    return out


def map_json(rt, a, name, first=0, limit=4096):
    h = maps.header(rt, a)
    t = h.type
    k, ident = objects.who(rt, h.writer)
    m = {"addr": addr(a), "name": name, "count": h.count, "B": h.B, "flags": h.flags,
         "flag_names": h.flag_names(), "noverflow": h.noverflow, "hash0": h.hash0,
         "nevacuate": h.nevacuate, "growing": h.growing,
         "load_factor": h.count / (1 << h.B), "writer": {"kind": k or "none", "id": ident},
         "type": {}, "buckets_omitted": t is None}
    if t:
        m["type"] = {"key": t.keyname, "elem": t.elemname, "keykind": t.keykind,
                     "elemkind": t.elemkind, "keysize": t.keysize, "elemsize": t.elemsize,
                     "bucketsize": t.bucketsize, "keysoff": t.keysoff, "elemsoff": t.elemsoff,
                     "overflowoff": t.overflowoff, "indirectkey": t.indirectkey,
                     "indirectelem": t.indirectelem}
        m["buckets"] = array_json(rt, h, False, first, limit) if h.buckets else \
            {"addr": "0x0", "nbuckets": 1 << h.B, "first": 0, "count": 0,
             "truncated_chain": False, "chains": []}
        m["oldbuckets"] = array_json(rt, h, True, first, limit) if h.growing else None
    else:
        m["buckets"] = {"addr": addr(h.buckets), "nbuckets": 1 << h.B, "first": 0, "count": 0,
                        "truncated_chain": False, "chains": []}
        m["oldbuckets"] = None
    return m


def build(rt, sym, producer="goroscope-gdb", pid=0, frames=True, bucket_limit=4096,
          map_name=None):
    """The snapshot document (a dict) of the stopped program."""
    views = gcmd.collect(rt, rt.target.now_ns())
    now = rt.now_ns(max([0] + [v.waited_ns or 0 for v in views]))
    wall = rt.target.core_time_ns() or time.time_ns()
    views.sort(key=lambda v: (not v.current, v.addr))
    gs, order = [], []
    for v in views:
        try:
            gj, waits = goroutine_json(rt, sym, v, now, frames)
        except (Corrupt, MemoryReadError):
            continue
        gs.append(gj)
        for s in waits:
            if s.c and s.kind not in ("none", "sema") and (s.c, s.kind) not in order:
                order.append((s.c, s.kind))
    names = {}
    named = rt.named_objects()
    for o in named:
        names[(o["addr"], o["kind"])] = o["name"]
    for o in named:
        if o["kind"] not in ("map",) and (o["addr"], o["kind"]) not in order:
            order.append((o["addr"], o["kind"]))
    # Who references each waited-on object (the goroutines whose live stack
    # holds its address: deadlock.scan_references): the viewer's "would be
    # woken by" edges. The runtime's snapshot scans by the same rule.
    refs = {}
    try:
        from . import deadlock

        g = deadlock.build(rt, views)
        refs = {a: sorted(o.refs) for a, o in g.objs.items() if o.refs is not None}
    except (Corrupt, MemoryReadError):
        pass
    objs = []
    for a, kind in order:
        if kind not in objects.DECODERS:
            continue
        try:
            o = object_json(rt, a, kind, names.get((a, kind), ""))
        except (Corrupt, MemoryReadError):
            continue
        if a in refs:
            o["referenced_by"] = refs[a]
        objs.append(o)
    ms = []
    for o in named:
        if o["kind"] != "map":
            continue
        try:
            m = map_json(rt, o["addr"], o["name"], 0, bucket_limit)
        except (Corrupt, MemoryReadError):
            continue
        if map_name is not None and o["name"] != map_name:  # headers only
            m["buckets_omitted"] = True
            for arr in (m["buckets"], m["oldbuckets"]):
                if arr:
                    arr["chains"], arr["count"] = [], 0
        ms.append(m)
    workers = rt.workers()
    return {
        "format": FORMAT, "version": VERSION,
        "producer": {"name": producer, "pid": pid, "layout_version": VERSION},
        "time": {"wall_ns": wall, "monotonic_ns": now},
        "world": {"running": rt.is_running(), "stopped": True, "partial": False, "pause_ns": 0,
                  "workers": len(workers), "running_workers": [],
                  "main_goid": rt.sched_field("maingoid")},
        "goroutines": gs, "objects": objs, "maps": ms,
    }


def dumps(doc):
    return json.dumps(doc, separators=(",", ":"), ensure_ascii=False)
