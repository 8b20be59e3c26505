"""deadlock: which goroutines can never run again -- the deadlock cycles and
the goroutines no other goroutine can wake -- in a stopped program (the
debuggers' `deadlocks`) or in a snapshot document.

The rules are written once, in docs/deadlock-rules.md (R1-R9 below are its
numbers), and implemented twice: here and in the viewer's model
(viewer/model/waitfor.cpp). tests/conformance holds the snapshots on which
both must give the expected verdict.

Three layers, so the rules never touch a Runtime or memory:

  inputs     Goroutine (its Waits) and Object: all the rules read
  builders   build(rt, views): a stopped program; who references an object is
             found by scanning every goroutine's live stack [sp, stack.hi)
             for its address (goro places each goroutine's closure there too)
             from_snapshot(doc): a snapshot document (docs/snapshot-format.md);
             who references an object is its `referenced_by` (the runtime and
             the debuggers write it by the same scan), else unknown
  analyze    the verdict, from either builder

and render, the `deadlocks` report. The fixpoint of R9 is a work list
(each goroutine that can run is visited once, each object re-checked once
per holder or referencer that can run), so 100k goroutines take linear time.
"""

from dataclasses import dataclass, field
from typing import Dict, List, Optional, Set, Tuple

from . import objects
from .errors import Corrupt, MemoryReadError

SCAN_LIMIT = 1 << 20  # bytes of one live stack scanned for references (the descriptor's
#                       refs.scan_limit when it has one: the runtime's scan uses the same)

# R2: the wait reasons of a goroutine that nothing can wake.
FOREVER = frozenset({"chan receive (nil chan)", "chan send (nil chan)", "select (no cases)"})
LOCKS = frozenset({"mutex", "rwmutex", "once"})  # R5: released by their holders
SHARED = frozenset({"chan", "waitgroup", "cond"})  # R6-R8: acted on by whoever references them
OPAQUE = frozenset({"sema", "none"})  # R4: waits the rules cannot see into


@dataclass
class Wait:
    obj: int  # the object's address; 0: none
    kind: str  # chan, mutex, rwmutex, waitgroup, cond, sema, none
    op: str  # recv, send, lock, rlock, wait


@dataclass
class Goroutine:
    goid: int
    status: str  # running, runnable, waiting, ...
    reason: str  # Go's wait reason; "" unless waiting
    waits: List[Wait] = field(default_factory=list)  # its blocking op's objects (select: each case)


@dataclass
class Object:
    kind: str  # chan, mutex, rwmutex, waitgroup, cond, once, syncmap
    holders: List[int] = field(default_factory=list)  # goroutines holding a lock (holders())
    refs: Optional[Set[int]] = None  # goroutines referencing it; None: unknown
    handles: Optional[int] = None  # a channel's live Chan handles (hchan.refs); None: unknown
    closed: bool = False  # a closed channel
    unreadable: bool = False  # its fields could not be read


@dataclass
class Verdict:
    cycles: List[List[int]]  # each deadlock's goroutines, ascending; ordered by the first
    paths: List[List[Tuple[int, int]]]  # each cycle walked: (goid, the lock it waits on)
    unwakeable: List[int]  # blocked, in no cycle, and nothing can wake them; ascending
    leaked: Set[int]  # every goroutine that can never run again: cycles and unwakeable


@dataclass
class Graph:
    gs: Dict[int, Goroutine]
    objs: Dict[int, Object]  # by address
    verdict: Verdict


# ---------------------------------------------------------------- the rules


def holders(kind, d) -> List[int]:
    """The goroutines holding a lock, from its fields (the decoders' names,
    which are the snapshot's): a Mutex's owner; an RWMutex's writer (unless
    it is still waiting for the readers to leave: writerWaiting) and its
    recorded readers (readLockers); a Once's runner until it is done."""
    if kind == "mutex":
        return [d["owner"]] if d.get("locked") and d.get("owner") else []
    if kind == "rwmutex":
        h = []
        w = d.get("writer", 0)
        if w and w not in d.get("writerWaiting", []):
            h.append(w)
        return h + [r for r in d.get("readLockers", []) if r not in h]
    if kind == "once":
        return [d["owner"]] if not d.get("done") and d.get("owner") else []
    return []


def runs(g: Goroutine) -> bool:
    """R1: running, runnable, or asleep on a timer."""
    return g.status != "waiting" or g.reason == "sleep"


def fires(o: Object, held: int, running_holders: int, running_refs: int, anyone: bool) -> bool:
    """R4-R8: whether a wait on o can still fire, given how many goroutines
    hold it (held) and how many of them can run, how many goroutines that
    reference it can run, and whether any goroutine can."""
    if o.unreadable:
        return True  # R4
    if o.kind in LOCKS:
        return running_holders == held  # R5 (no holder: unlocked, or a thread's)
    if o.kind in SHARED:
        if o.closed:
            return True  # R6
        if o.refs is None:
            return anyone  # R8
        return running_refs > 0 or (o.handles is not None and o.handles > len(o.refs))  # R7
    return True  # R4: a kind the rules do not know


def opaque(w: Wait, objs) -> bool:
    """R4: a wait the rules cannot see into."""
    return not w.obj or w.kind in OPAQUE or w.obj not in objs


def analyze(gs: Dict[int, Goroutine], objs: Dict[int, Object]) -> Verdict:
    """The verdict of R1-R9 on the inputs (see the module comment)."""
    held = {a: [h for h in dict.fromkeys(o.holders) if h in gs] for a, o in objs.items()}
    holds, refs_of, waiters = {}, {}, {}
    for a, o in objs.items():
        for h in held[a]:
            holds.setdefault(h, []).append(a)
        for r in sorted(o.refs or ()):
            if r in gs:
                refs_of.setdefault(r, []).append(a)
    live, queue, fired = set(), [], set()

    def wake(goid):
        if goid not in live:
            live.add(goid)
            queue.append(goid)

    for g in gs.values():
        if runs(g):
            wake(g.goid)
        elif g.reason not in FOREVER:  # R2
            if not g.waits or any(opaque(w, objs) for w in g.waits):
                wake(g.goid)  # R4: cannot tell
            for w in g.waits:
                if not opaque(w, objs):
                    waiters.setdefault(w.obj, []).append(g.goid)
    running_holders = dict.fromkeys(objs, 0)
    running_refs = dict.fromkeys(objs, 0)

    def check(a):
        if a not in fired and fires(objs[a], len(held[a]), running_holders[a], running_refs[a],
                                    bool(live)):
            fired.add(a)
            for goid in waiters.get(a, ()):
                wake(goid)  # R3: any one of its waits

    for a in objs:
        check(a)
    unknown = [a for a, o in objs.items() if o.refs is None]
    anyone_seen = False
    while queue:  # R9
        h = queue.pop()
        if not anyone_seen:
            anyone_seen = True
            for a in unknown:
                check(a)
        for a in holds.get(h, ()):
            running_holders[a] += 1
            check(a)
        for a in refs_of.get(h, ()):
            running_refs[a] += 1
            check(a)
    leaked = {goid for goid in gs if goid not in live}
    cycles, paths = find_cycles(gs, objs, held, leaked)
    members = {goid for c in cycles for goid in c}
    return Verdict(cycles, paths, sorted(leaked - members), leaked)


def find_cycles(gs, objs, held, leaked):
    """Deadlock cycles: the strongly connected components (Tarjan, iterative:
    a 100k-long chain must not overflow the stack) of "g waits on a lock held
    by h", with two goroutines or more or a goroutine waiting on itself, all
    leaked. Each is also walked from its smallest goid along the first edge
    that stays in it, for the report."""
    edges = {}
    for g in gs.values():
        if runs(g):
            continue
        for w in g.waits:
            o = objs.get(w.obj)
            if o is not None and not o.unreadable and w.kind not in OPAQUE and o.kind in LOCKS:
                edges.setdefault(g.goid, []).extend((w.obj, h) for h in held[w.obj])
    index, low, on, stack, comps = {}, {}, set(), [], []
    for root in sorted(edges):
        if root in index:
            continue
        work = [(root, 0)]
        while work:
            v, i = work[-1]
            if i == 0:
                index[v] = low[v] = len(index)
                stack.append(v)
                on.add(v)
            out = edges.get(v, [])
            if i < len(out):
                work[-1] = (v, i + 1)
                w = out[i][1]
                if w not in index:
                    work.append((w, 0))
                elif w in on:
                    low[v] = min(low[v], index[w])
                continue
            work.pop()
            if work:
                u = work[-1][0]
                low[u] = min(low[u], low[v])
            if low[v] == index[v]:
                comp = []
                while True:
                    w = stack.pop()
                    on.discard(w)
                    comp.append(w)
                    if w == v:
                        break
                comps.append(comp)
    cycles = []
    for comp in comps:
        c = set(comp)
        if (len(c) > 1 or any(h == comp[0] for _, h in edges.get(comp[0], []))) and c <= leaked:
            cycles.append(sorted(c))
    cycles.sort()
    paths = []
    for c in cycles:
        inside, path, pos, cur = set(c), [], {}, c[0]
        while cur not in pos:
            pos[cur] = len(path)
            obj, nxt = next((o, h) for o, h in edges[cur] if h in inside)
            path.append((cur, obj))
            cur = nxt
        paths.append(path[pos[cur]:])
    return cycles, paths


# ---------------------------------------------------------------- builders


def build(rt, views) -> Graph:
    """The inputs of a stopped program (views: goroutines.collect), analysed."""
    from .snapshot import OPS

    gs, stacks = {}, {}
    frozen = frozen_sps(rt)
    for v in views:
        waits = []
        if v.status == "waiting":
            try:
                waits = [Wait(s.c, s.kind, OPS.get((s.kind, s.is_read), "wait"))
                         for s in rt.waits_of(v.addr, rt.g_at(v.addr))]
            except (Corrupt, MemoryReadError):
                waits = []
        gs[v.goid] = Goroutine(v.goid, v.status, v.reason, waits)
        sp = v.sp
        if v.status == "running" and not v.stack_lo <= sp < v.stack_hi:
            sp = frozen.get(v.addr, sp)
        stacks[v.goid] = (sp, v.stack_lo, v.stack_hi)
    objs = {}
    for g in gs.values():
        for w in g.waits:
            if w.obj and w.kind not in OPAQUE and w.obj not in objs:
                objs[w.obj] = describe(rt, w.obj, w.kind)
    scan_references(rt, stacks, objs)
    return Graph(gs, objs, analyze(gs, objs))


def describe(rt, addr, kind) -> Object:
    o = Object(kind, refs=set())
    try:
        if kind in LOCKS:
            o.holders = holders(kind, objects.DECODERS[kind](rt, addr))
        elif kind == "chan":
            d = objects.chan(rt, addr)
            o.closed, o.handles = d["closed"], d["refs"]
    except (Corrupt, MemoryReadError):
        o.unreadable = True
    return o


def frozen_sps(rt):
    """{G address: sp} of the running goroutines whose worker is frozen for a
    fatal report (freeze_others): where the signal interrupted them (their
    thread's registers are the handler's, on its signal stack)."""
    if not rt.L.has("m.frozensp"):
        return {}
    out = {}
    try:
        for w in rt.workers():
            if w["curg"] and rt.field(w["addr"], "m.frozen"):
                out[w["curg"]] = rt.field(w["addr"], "m.frozensp")
    except (Corrupt, MemoryReadError):
        return {}
    return out


def scan_references(rt, stacks, objs):
    """refs: the goroutines whose live stack [sp, hi) holds an object's
    address as an aligned word, or whose stack [lo, hi) holds the object (an
    sp outside the stack: all of it). A live stack over the limit, or
    one that cannot be read, leaves every object's refs unknown (None). The
    runtime's snapshot scans by the same rule (runtime/src/capture.cpp,
    "references"): both producers write the same referenced_by."""
    if not objs:
        return
    limit = rt.L.const("refs.scan_limit") if rt.L.has("refs.scan_limit") else SCAN_LIMIT
    targets = set(objs)
    for goid, (sp, lo, hi) in stacks.items():
        for a in targets:
            if lo <= a < hi:
                objs[a].refs.add(goid)
        start = sp if lo <= sp < hi else lo
        if hi <= start:
            continue  # no stack
        raw = None
        if hi - start <= limit:
            try:
                raw = rt.target.read(start & ~7, hi - (start & ~7))
            except MemoryReadError:
                pass
        if raw is None:
            for o in objs.values():
                o.refs = None
            return
        for a in targets.intersection(memoryview(raw).cast("Q")):
            objs[a].refs.add(goid)


def from_snapshot(doc) -> Graph:
    """The inputs of a snapshot document (docs/snapshot-format.md), analysed."""
    def addr(s):
        return int(s, 16)

    gs = {}
    for g in doc["goroutines"]:
        waits = [Wait(addr(w["object"]), w["kind"], w["op"]) for w in g["waiting_on"]] \
            if g["status"] == "waiting" else []
        gs[g["goid"]] = Goroutine(g["goid"], g["status"], g["wait_reason"], waits)
    objs = {}
    for o in doc["objects"]:
        chan = o["kind"] == "chan"
        objs[addr(o["addr"])] = Object(
            o["kind"], holders(o["kind"], o),
            set(o["referenced_by"]) if "referenced_by" in o else None,
            o.get("refs") if chan else None, chan and bool(o.get("closed")))
    return Graph(gs, objs, analyze(gs, objs))


# ---------------------------------------------------------------- the report


def render(rt, sym, g: Graph, views, stack_lines):
    """The `deadlocks` report; stack_lines(view) -> the goroutine's stack text lines."""
    by = {v.goid: v for v in views}
    v = g.verdict
    out = []
    try:
        names = {o["addr"]: o["name"] for o in rt.named_objects()}
    except (Corrupt, MemoryReadError):
        names = {}

    def name(addr):
        o = g.objs[addr]
        n = f' "{names[addr]}"' if addr in names else ""
        return f"{objects.KIND_NAMES.get(o.kind, o.kind)}{n} {addr:#x}"

    for cyc in v.paths:
        parts = []
        for goid, obj in cyc:
            parts.append(f"goroutine {goid} [{g.gs[goid].reason}] waits on {name(obj)}, held by")
        parts.append(f"goroutine {cyc[0][0]}")
        out.append("deadlock: " + " ".join(parts))
        for goid, _ in cyc:
            out.extend(stack_lines(by[goid]))
        out.append("")
    rest = v.unwakeable
    if rest:
        out.append(f"{len(rest)} goroutine{'s' if len(rest) > 1 else ''} that no other "
                   f"goroutine can wake:")
        for goid in rest:
            n = g.gs[goid]
            why = []
            for w in n.waits:
                o = g.objs.get(w.obj)
                if o is None:
                    continue
                if o.kind in LOCKS:
                    stuck = [h for h in o.holders if h in v.leaked] or o.holders
                    why.append(f"{name(w.obj)} held by goroutine {stuck[0]}")
                elif o.refs is None:
                    why.append(f"{name(w.obj)}: every other goroutine is blocked too")
                elif partners := sorted(x for x in o.refs if x != goid):
                    why.append(f"{name(w.obj)}: its other users {partners} are blocked too")
                else:
                    why.append(f"{name(w.obj)}: no other goroutine references it")
            if not n.waits:
                why.append("it waits on nothing that can fire")
            out.append(f"goroutine {goid} [{n.reason}]: " + "; ".join(why))
            out.extend(stack_lines(by[goid]))
    if not out:
        live = sum(1 for n in g.gs.values() if n.status != "waiting")
        out.append(f"no deadlock: every blocked goroutine can still be woken "
                   f"({live} running or runnable)")
    return out
