"""deadlock: the wait-for graph of a stopped program, its cycles, and the
goroutines nothing can wake.

Nodes are goroutines and the objects they block on. Edges:
  goroutine -> object      it waits on it (every case of a select)
  object -> goroutine      "held by": a Mutex's owner, an RWMutex's writer
                           (the holder of its inner Mutex); definite
  object -> goroutine      "would be woken by": a goroutine that references
                           the object (its address, or the object itself, lies
                           in that goroutine's live stack [sp, stack.hi), where
                           goro also places each goroutine's closure); possible

A cycle of waits and "held by" edges is a deadlock (lock-order inversion;
a goroutine waiting on a mutex it holds). Then a fixpoint: running,
runnable and sleeping goroutines are live; a blocked goroutine is live if
any object it waits on can be woken by a live goroutine (for a mutex: its
holder; for channels, WaitGroups and Conds: any goroutine that references
it, or an unknown holder: a channel with more handles (`hchan.refs`) than
goroutines referencing it, a holder that is not a goroutine). What is
left can never be woken: leaked. The analysis is conservative: it reports
a goroutine as leaked only when every possible partner is itself blocked
for good (or gone); references it cannot see (heap containers) count as a
live partner.
"""

from dataclasses import dataclass, field
from typing import Dict, List, Set

from . import objects
from .errors import Corrupt, MemoryReadError

SCAN_LIMIT = 1 << 20  # bytes of one stack scanned for references


@dataclass
class Node:
    goid: int
    status: str
    reason: str
    waits: List = field(default_factory=list)  # sudogs
    sp: int = 0
    lo: int = 0
    hi: int = 0


@dataclass
class Graph:
    gs: Dict[int, Node]
    objs: Dict[int, dict]  # addr -> {"kind", "holders": [goid], "refs": set(goid), "unknown": bool}
    cycles: List[List] = field(default_factory=list)
    leaked: Set[int] = field(default_factory=set)


def build(rt, views) -> Graph:
    gs, objs = {}, {}
    for v in views:
        n = Node(v.goid, v.status, v.reason, sp=v.sp, lo=v.stack_lo, hi=v.stack_hi)
        if v.status == "waiting":
            try:
                n.waits = rt.waits_of(v.addr, rt.g_at(v.addr))
            except (Corrupt, MemoryReadError):
                n.waits = []
        gs[v.goid] = n
    for n in gs.values():
        for s in n.waits:
            if s.c and s.kind not in ("none", "sema"):
                objs.setdefault(s.c, {"kind": s.kind, "holders": [], "refs": set(),
                                      "unknown": False})
    for addr, o in objs.items():
        try:
            describe(rt, addr, o)
        except (Corrupt, MemoryReadError):
            o["unknown"] = True
    scan_references(rt, gs, objs)
    g = Graph(gs, objs)
    g.cycles = find_cycles(g)
    g.leaked = stuck(g)
    return g


def describe(rt, addr, o):
    k = o["kind"]
    if k == "mutex":
        d = objects.mutex(rt, addr)
        if d["locked"]:
            if d["owner"]:
                o["holders"] = [d["owner"]]
            else:
                o["unknown"] = True  # held by a plain thread
    elif k == "rwmutex":
        d = objects.rwmutex(rt, addr)
        if d["writer"] and d["writer"] not in d["writerWaiting"]:
            # (a writer still waiting for readers to leave holds nothing yet)
            o["holders"] = [d["writer"]]
        o["holders"] = o.get("holders", []) + d["readLockers"]
        if d["readers"] > len(d["readLockers"]):
            o["unknown"] = True  # readers the runtime did not record (plain threads, ...)
    elif k == "chan":
        d = objects.chan(rt, addr)
        o["chan"] = d
    o["desc"] = d if k in ("mutex", "rwmutex", "chan") else None


def scan_references(rt, gs, objs):
    """refs: goroutines whose live stack holds an object's address or the object."""
    if not objs:
        return
    targets = set(objs)
    for n in gs.values():
        lo, hi = n.lo, n.hi
        for a in targets:
            if lo <= a < hi:
                objs[a]["refs"].add(n.goid)
        start = n.sp if lo <= n.sp < hi else lo
        if hi <= start or hi - start > SCAN_LIMIT:
            continue
        try:
            raw = rt.target.read(start & ~7, hi - (start & ~7))
        except MemoryReadError:
            continue
        words = memoryview(raw).cast("Q")
        found = targets.intersection(words)
        for a in found:
            objs[a]["refs"].add(n.goid)
    for a, o in objs.items():
        ch = o.get("chan")
        if ch and not ch.get("nil") and ch["refs"] > len(o["refs"]):
            o["unknown"] = True  # a handle somewhere we cannot see (heap, a thread)


def find_cycles(g: Graph):
    """Cycles goroutine -> object -> holder -> ... over definite edges."""
    edges = {}
    for n in g.gs.values():
        for s in n.waits:
            o = g.objs.get(s.c)
            if o and o["holders"]:
                edges.setdefault(n.goid, []).extend((s.c, h) for h in o["holders"])
    cycles, seen = [], set()
    for start in sorted(edges):
        path, pos, cur = [], {}, start
        while cur in edges and cur not in pos:
            pos[cur] = len(path)
            obj, nxt = edges[cur][0]
            path.append((cur, obj))
            cur = nxt
        if cur in pos:
            cyc = path[pos[cur]:]
            key = frozenset(x for x, _ in cyc)
            if key not in seen:
                seen.add(key)
                cycles.append(cyc)
    return cycles


def stuck(g: Graph) -> Set[int]:
    live = {n.goid for n in g.gs.values() if n.status != "waiting" or n.reason == "sleep"}
    blocked = [n for n in g.gs.values() if n.goid not in live]
    changed = True
    while changed:
        changed = False
        for n in blocked:
            if n.goid in live:
                continue
            if wakeable(g, n, live):
                live.add(n.goid)
                changed = True
    return {n.goid for n in blocked if n.goid not in live}


def wakeable(g, n, live):
    for s in n.waits:
        o = g.objs.get(s.c)
        if o is None or o["unknown"]:
            return True
        if o["kind"] in ("mutex", "rwmutex"):
            if any(h in live for h in o["holders"]) or not o["holders"]:
                return True
        elif any(r in live and r != n.goid for r in o["refs"]):
            return True
    return False


def render(rt, sym, g: Graph, views, stack_lines):
    """The `deadlocks` report; stack_lines(view) -> the goroutine's stack text lines."""
    by = {v.goid: v for v in views}
    out = []
    try:
        names = {o["addr"]: o["name"] for o in rt.named_objects()}
    except (Corrupt, MemoryReadError):
        names = {}

    def name(addr):
        o = g.objs[addr]
        n = f' "{names[addr]}"' if addr in names else ""
        return f"{objects.KIND_NAMES.get(o['kind'], o['kind'])}{n} {addr:#x}"

    for cyc in g.cycles:
        parts = []
        for goid, obj in cyc:
            parts.append(f"goroutine {goid} [{g.gs[goid].reason}] waits on {name(obj)}, held by")
        parts.append(f"goroutine {cyc[0][0]}")
        out.append("deadlock: " + " ".join(parts))
        for goid, _ in cyc:
            out.extend(stack_lines(by[goid]))
        out.append("")
    cyc_members = {goid for cyc in g.cycles for goid, _ in cyc}
    rest = sorted(g.leaked - cyc_members)
    if rest:
        out.append(f"{len(rest)} goroutine{'s' if len(rest) > 1 else ''} that no other "
                   f"goroutine can wake:")
        for goid in rest:
            n = g.gs[goid]
            why = []
            for s in n.waits:
                o = g.objs.get(s.c)
                if o is None:
                    continue
                partners = sorted(x for x in o["refs"] if x != goid)
                if o["kind"] in ("mutex", "rwmutex"):
                    why.append(f"{name(s.c)} held by goroutine {o['holders'][0]}")
                elif partners:
                    why.append(f"{name(s.c)}: its other users {partners} are blocked too")
                else:
                    why.append(f"{name(s.c)}: no other goroutine references it")
            if not n.waits:
                why.append("it waits on nothing that can fire")
            out.append(f"goroutine {goid} [{n.reason}]: " + "; ".join(why))
            out.extend(stack_lines(by[goid]))
    if not out:
        live = sum(1 for n in g.gs.values() if n.status != "waiting")
        out.append(f"no deadlock: every blocked goroutine can still be woken "
                   f"({live} running or runnable)")
    return out
