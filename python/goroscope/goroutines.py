"""goroutines: the `goroutines` command, with Delve's flags and line format.

    goroutines [-u|-r|-g|-s] [-t [depth]] [-l] [-with|-w FILTER] [-without|-wo FILTER]
               [-group GROUP] [-chan EXPR] [-exec CMD]

    FILTER: (userloc|curloc|goloc|startloc|name) SUBSTR | label K[=V] | running | user
    GROUP:  userloc|curloc|goloc|startloc|name|running|user | label K

A line is Delve's (`* Goroutine 1 - User: ./main.go:14 main.ready (0x49b260) (thread 9431)`),
with one addition Delve 1.20 lacks: how long a waiting goroutine has waited,
inside the wait reason's brackets (`[chan receive 2.5s]`, Go's duration
format rounded to the millisecond). `*` marks the goroutine running on the
debugger's selected thread. A goroutine named by goro::set_name ends its
line with the name in quotes (`[chan receive 2s] "auditor"`), as the
runtime's dumps put it after the status: at the end, so the line keeps
Delve's `Goroutine N - ` prefix that parsers and IDEs read. The listing
ends `[N goroutines]`; groups print at most 5 goroutines each and
`Total: N`, as Delve does.

This module renders GView records that `collect` builds from a Runtime;
the command (goroscope.commands.goroutines) parses the flags into Options,
resolves -chan's EXPR and runs -exec's command through the Debugger.
"""

import functools
import operator
import os
import time
from dataclasses import dataclass, field
from typing import Dict, List, Optional

from . import stacks
from .errors import Corrupt, MemoryReadError
from .runtime import MAX_GOID, cname
from .target import Frame

LOCS = ("userloc", "curloc", "goloc", "startloc")
GROUP_MAX = 5
DEFAULT_DEPTH = 10


@dataclass
class Filter:
    kind: str  # userloc|curloc|goloc|startloc|name|label|running|user
    arg: str = ""
    negate: bool = False


@dataclass
class Options:
    loc: str = "userloc"  # which location the line shows
    depth: int = 0  # -t: frames per goroutine (0: no stack)
    labels: bool = False
    filters: List[Filter] = field(default_factory=list)
    group: Optional[str] = None  # userloc|...|name|running|user|label
    group_label: str = ""
    chan: Optional[str] = None  # -chan EXPR (resolved by the adapter)
    exec_cmd: Optional[str] = None


@dataclass(slots=True)
class GView:
    """One goroutine as the commands see it."""

    goid: int
    addr: int
    status: str
    reason: str
    waited_ns: Optional[int]
    thread: int  # tid while running, else 0
    current: bool
    gopc: int
    startpc: int
    parent: int
    name: str
    labels_ptr: int
    pc: int  # registers to unwind from: saved (parked) or its thread's (running)
    sp: int
    bp: int
    stack_lo: int
    stack_hi: int
    parked: bool = True  # regs saved by a switch: even the first pc is a return address
    pcs: Optional[List[int]] = None
    labels: Optional[Dict[str, str]] = None


def running_regs(rt):
    """({G address: worker} of running goroutines, {tid: registers} of the threads).
    A running goroutine's registers are its worker thread's (m.procid = tid)."""
    workers = {w["curg"]: w for w in rt.workers() if w["curg"]}
    tid_regs = {}
    if workers:
        try:
            for t in rt.target.threads():
                tid_regs[t.tid] = t.regs
        except Exception:  # noqa: BLE001 - threads unknown: no running stacks
            pass
    return workers, tid_regs


def collect(rt, now_ns=None, progress=None, only=None, corrupt=None) -> List[GView]:
    """Every live goroutine, ordered by goid (only: just the G at that address,
    Corrupt if it cannot be a goroutine's).

    now_ns: the target's monotonic now (None: a core; durations are then
    relative to the core's time, see Runtime.now_ns). corrupt: a list that
    receives (address, Corrupt) of each G record that is garbage
    (Runtime.corrupt_g), which is no goroutine of the result.
    """
    workers, tid_regs = running_regs(rt)
    selected = rt.target.selected_thread()
    out = []
    newest = 0
    t0 = time.monotonic()
    running, waiting = rt.running, rt.waiting
    reasons, statuses = rt.reason_names, rt.status_names
    ix = rt.Grec.index
    (I_GOID, I_ST, I_WR, I_WS, I_GOPC, I_START, I_PARENT, I_NAME, I_LABELS, I_CT, I_PC, I_SP,
     I_BP, I_LO, I_HI) = (ix[k] for k in (
         "goid", "atomicstatus", "waitreason", "waitsince", "gopc", "startpc", "parentGoid",
         "name", "labels", "createtime", "sched_pc", "sched_sp", "sched_bp", "stack_lo",
         "stack_hi"))
    # Values many goroutines share (saved pc, creation site, start function,
    # parent) are interned: one int object instead of 100k (bench/gdb: the
    # listing's memory).
    intern = {}.setdefault
    if only is not None:
        g = rt.g_at(only)
        bad = rt.corrupt_g(only, g.goid, g.atomicstatus) if g.goid else None
        if bad is not None:
            raise bad
        records = [(only, g)]
    else:
        records = rt.all_g_raw(corrupt=corrupt)
    for n, (addr, g) in enumerate(records):
        if progress and n % 10000 == 0 and n and time.monotonic() - t0 > 1:
            progress(n)
        st = g[I_ST]
        if st == running:
            w = workers.get(addr)
            tid = w["procid"] if w else 0
            r = tid_regs.get(tid, {})
            pc, sp, bp = r.get("rip", 0), r.get("rsp", 0), r.get("rbp", 0)
        else:
            tid = 0
            pc, sp, bp = intern(g[I_PC], g[I_PC]), g[I_SP], g[I_BP]
        w8 = st == waiting
        ws = g[I_WS]
        if w8 and ws > newest:
            newest = ws
        if g[I_CT] > newest:
            newest = g[I_CT]
        nm = g[I_NAME]
        out.append(GView(g[I_GOID], addr, statuses.get(st) or f"status{st}",
                         reasons.get(g[I_WR], "") if w8 else "", ws if w8 and ws else None,
                         tid, bool(tid) and tid == selected, intern(g[I_GOPC], g[I_GOPC]),
                         intern(g[I_START], g[I_START]), intern(g[I_PARENT], g[I_PARENT]),
                         cname(nm) if nm[0] else "",
                         g[I_LABELS], pc, sp, bp, g[I_LO], g[I_HI], st != running))
    now = now_ns if now_ns is not None else rt.now_ns(newest)
    for v in out:
        if v.waited_ns is not None:
            v.waited_ns = max(0, now - v.waited_ns)
    out.sort(key=lambda v: v.goid)
    return out


def pcs_of(rt, v: GView) -> List[int]:
    if v.pcs is None:
        v.pcs = list(pcs_iter(rt, v))
    return v.pcs


def pcs_iter(rt, v: GView, limit=stacks.MAX_FRAMES):
    """The return addresses lazily (the user location needs only the first
    few), at most `limit` of a frame-pointer walk."""
    if v.pcs is not None and limit <= stacks.MAX_FRAMES:
        return iter(v.pcs)
    if not v.parked and v.thread:
        pcs = rt.target.thread_pcs(v.thread)
        if pcs:
            return iter(pcs)
    if not v.sp:
        return iter(())
    return stacks.walk_iter(rt.target.read, v.pc, v.sp, v.bp, v.stack_lo, v.stack_hi, limit)


def labels_of(rt, v: GView) -> Dict[str, str]:
    if v.labels is None:
        v.labels = rt.labels(v.labels_ptr)
    return v.labels


def user_location_of(rt, sym, v: GView) -> Frame:
    """The topmost user frame. A running goroutine's comes from its thread's
    registers by the debugger's own unwinder (CFI: its frame-pointer chain
    may be mid-prologue in a runtime function); a parked one's from the
    registers in its G record, walking only as far as needed."""
    if v.pcs is None and not v.parked and v.thread:
        pcs_of(rt, v)
    if v.pcs is not None:
        return sym.user_frame(v.pcs, v.parked)[0]
    if not v.sp:
        return Frame("", "", 0, 0)
    return stacks.user_location(sym, rt.target.read_view, v.pc, v.sp, v.bp, v.stack_lo,
                                v.stack_hi, v.parked)


def location(rt, sym, v: GView, which: str) -> Frame:
    if which == "goloc":
        # the user's go() call: the innermost user frame at the call (a
        # helper that starts the goroutine may be inlined into its caller;
        # the physical function is then the caller, not the go() line)
        return sym.user_frame([v.gopc], True)[0] if v.gopc else Frame("", "", 0, 0)
    if which == "startloc":
        return sym.frames(v.startpc, False)[-1] if v.startpc else Frame("", "", 0, 0)
    if which == "userloc":
        return user_location_of(rt, sym, v)
    pcs = pcs_of(rt, v)
    if not pcs:
        return Frame("", "", 0, 0)
    if which == "curloc":
        return sym.frames(pcs[0], v.parked)[0]
    return sym.user_frame(pcs, v.parked)[0]


def format_location(f: Frame) -> str:
    return _format_location(f.file, f.line, f.function, f.pc)


def _format_location(file, line, function, pc):
    return _format_location_in(os.getcwd(), file, line, function, pc)


@functools.lru_cache(maxsize=1 << 16)
def _format_location_in(cwd, file, line, function, pc):
    fn = stacks.elide_params(function) if function else "?"
    return f"{stacks._short_path(cwd, file)}:{line} {fn} ({pc:#x})"


def duration(ns: int) -> str:
    """Go's time.Duration.String() of ns rounded to the millisecond (sub-ms: as is)."""
    if ns < 1000:
        return f"{ns}ns"
    if ns < 1_000_000:
        return f"{ns / 1000:g}µs"
    return _duration_ms((ns + 500_000) // 1_000_000)


@functools.lru_cache(maxsize=1 << 12)
def _duration_ms(ms: int) -> str:
    ns = ms * 1_000_000
    if ns < 1_000_000_000:
        return f"{ns // 1_000_000}ms"
    h, rem = divmod(ns, 3600 * 10**9)
    m, rem = divmod(rem, 60 * 10**9)
    s = f"{rem / 1e9:.3f}".rstrip("0").rstrip(".") + "s"
    if h:
        return f"{h}h{m}m{s}"
    if m:
        return f"{m}m{s}"
    return s


def name_suffix(name: str) -> str:
    """What a goroutine's name adds to its line: ` "auditor"`, or nothing."""
    return f' "{name}"' if name else ""


LOCNAME = {"userloc": "User", "curloc": "Runtime", "goloc": "Go", "startloc": "Start"}


def line(rt, sym, v: GView, o: Options) -> str:
    f = location(rt, sym, v, o.loc)
    s = f"{'*' if v.current else ' '} Goroutine {v.goid} - {LOCNAME[o.loc]}: {format_location(f)}"
    if v.thread:
        s += f" (thread {v.thread})"
    if v.reason:
        s += f" [{v.reason}" + (f" {duration(v.waited_ns)}" if v.waited_ns is not None else "") + "]"
    elif v.status not in ("running", "waiting"):
        s += f" [{v.status}]"
    return s + name_suffix(v.name)


def is_user(rt, sym, v: GView) -> bool:
    """A goroutine started by user code (Delve's "user": not a runtime goroutine)."""
    f = location(rt, sym, v, "startloc")
    return bool(f.function) and not stacks.is_runtime_frame(f)


def matches(rt, sym, v: GView, f: Filter) -> bool:
    if f.kind in LOCS:
        loc = location(rt, sym, v, f.kind)
        ok = f.arg in format_location(loc)
    elif f.kind == "name":
        ok = f.arg in v.name
    elif f.kind == "label":
        k, eq, val = f.arg.partition("=")
        labels = labels_of(rt, v)
        ok = k in labels and (not eq or labels[k] == val)
    elif f.kind == "running":
        ok = v.status == "running"
    else:
        ok = is_user(rt, sym, v)
    return ok != f.negate


def group_key(rt, sym, v: GView, o: Options) -> str:
    if o.group in LOCS:
        return format_location(location(rt, sym, v, o.group))
    if o.group == "name":
        return f"name={v.name}"
    if o.group == "label":
        return f"{o.group_label}={labels_of(rt, v).get(o.group_label, '')}"
    if o.group == "running":
        return f"running={'true' if v.status == 'running' else 'false'}"
    return f"user={'true' if is_user(rt, sym, v) else 'false'}"


def stack_lines(rt, sym, v: GView, depth: int, indent: str = "\t") -> List[str]:
    out = []
    frames = bt_frames(rt, sym, v, stacks.MAX_FRAMES)
    for n, (_, f) in enumerate(frames):
        if n >= depth:
            out.append(f"{indent}(truncated)")
            return out
        fn = stacks.elide_params(f.function) if f.function else "?"
        out.append(f"{indent}{n}  {f.pc:#018x} in {fn}")
        out.append(f"{indent}    at {stacks.short_path(f.file)}:{f.line}")
    if not frames:
        out.append(f"{indent}(stack unavailable)")
    return out


def bt_depth(argv: List[str]) -> Optional[int]:
    """The frame count of `bt`, `bt N`, `bt -c N` (no limit: 1 << 30); None for
    any other form (`bt all`, `bt -s 3`: the debugger's own)."""
    if not argv or argv[0] not in ("bt", "backtrace"):
        return None
    rest = argv[1:]
    if rest[:1] == ["-c"]:
        rest = rest[1:]
        if not rest:
            return None
    if not rest:
        return 1 << 30
    return int(rest[0]) if len(rest) == 1 and rest[0].isdigit() else None


BT_MAX_FRAMES = 10000  # bt's physical frames (the listings stop at stacks.MAX_FRAMES)


def bt_frames(rt, sym, v: GView, limit=BT_MAX_FRAMES) -> List[tuple]:
    """[(group, Frame)] of v's stack, innermost first, inlined calls expanded
    (the numbering of bt_lines and of `goroutine N frame K`), up to `limit`
    physical frames. A group is a physical frame or a call the code made as
    a jump, which left no frame (Symbolizer.tail_calls: `[this] { serve(); }`
    at clang -O2)."""
    pcs = pcs_of(rt, v) if limit <= stacks.MAX_FRAMES else list(pcs_iter(rt, v, limit))
    tails = sym.tail_calls(pcs[:limit])
    out, key = [], 0  # key: the frame's group (a physical frame or a tail call)
    for k, pc in enumerate(pcs[:limit]):
        for f in sym.frames(pc, k > 0 or v.parked):
            out.append((key, f))
        key += 1
        for tpc in tails.get(k, ()):
            for f in sym.frames(tpc, False):
                out.append((key, f))
            key += 1
    return out


def bt_lines(rt, sym, v: GView, depth: int, header=True) -> List[str]:
    """`goroutine N bt` in LLDB's backtrace form, from goroscope's walk.

    LLDB 16 places a call GCC inlined at the callee's header line, with the
    library's inlined frames between it and the caller, names lambdas
    `operator()`, and has no hook to rename or move its frames; this walk reads
    the inline call sites itself (the same frames as `goroutines -t`). The
    frame numbers are this list's; `goroutine N frame select K` takes them."""
    frames = bt_frames(rt, sym, v, min(depth, BT_MAX_FRAMES))
    head, args = rt.target.bt_decor(v, frames[:depth])
    outer = {k: f.function for k, f in frames if not f.inlined}  # each group's physical frame
    out = [head or f"goroutine {v.goid} [{v.reason or v.status}]{name_suffix(v.name)}"] \
        if header else []
    for i, (k, f) in enumerate(frames):
        if i >= depth:
            break
        mod = rt.target.module_of(f.pc)
        fn = f.function or "?"
        if i < len(args) and args[i] is not None:
            fn = f"{stacks.elide_params(fn)}({args[i]})"
        if f.inlined:
            fn = f"{outer.get(k) or '?'} [inlined] {fn}"
        where = f" at {os.path.basename(f.file)}:{f.line}" if f.file else ""
        out.append(f"  {'*' if i == 0 else ' '} frame #{i}: {f.pc:#018x} "
                   f"{mod + '`' if mod else ''}{fn}{where}")
    if not frames:
        out.append("    (stack unavailable)")
    elif len(frames) > depth or (depth > BT_MAX_FRAMES and frames[-1][0] + 1 >= BT_MAX_FRAMES):
        out.append("    (truncated)")
    return out


def exec_in(dbg, rt, sym, v: GView, command: str, header=True) -> List[str]:
    """Runs a debugger command in goroutine v's context. A plain `bt` is
    goroscope's walk (bt_lines; header: its goroutine line) where the
    debugger's own frames are wrong (dbg.own_bt False: LLDB); `thread
    backtrace` there is still LLDB's."""
    depth = None if dbg.own_bt else bt_depth(command.split())
    if depth is not None:
        return bt_lines(rt, sym, v, depth, header)
    return dbg.run_in_goroutine(rt, v.goid, command)


def labels_line(rt, v: GView, indent="\t") -> Optional[str]:
    labels = labels_of(rt, v)
    if not labels:
        return None
    return indent + "Labels: " + ", ".join(f'"{k}":"{val}"' for k, val in sorted(labels.items()))


def select(rt, sym, views: List[GView], o: Options, chan_addr: Optional[int] = None):
    """The goroutines the filters (and -chan) keep."""
    if chan_addr is None and not o.filters:
        return list(views)
    keep = []
    for v in views:
        try:
            if chan_addr is not None and not waits_on(rt, v, chan_addr):
                continue
            if all(matches(rt, sym, v, f) for f in o.filters):
                keep.append(v)
        except (Corrupt, MemoryReadError):
            continue
    return keep


def waits_on(rt, v: GView, addr: int) -> bool:
    if v.status != "waiting":
        return False
    g = rt.g_at(v.addr)
    return any(s.c == addr for s in rt.waits_of(v.addr, g))


def render(rt, sym, views: List[GView], o: Options, corrupt=()):
    """Yields the output lines of a listing (without -exec); corrupt: the
    (address, Corrupt) of the garbage G records (collect's), listed after
    the goroutines."""
    if o.group:
        groups = {}
        for v in views:
            groups.setdefault(group_key(rt, sym, v, o), []).append(v)
        first = True
        for key in sorted(groups):
            if not first:
                yield ""
            first = False
            yield key
            members = groups[key]
            for v in members[:GROUP_MAX]:
                yield from entry(rt, sym, v, o, "\t")
            yield f"\tTotal: {len(members)}"
        yield from corrupt_group(corrupt, bool(groups))
        return
    if o.loc == "userloc" and not o.labels and not o.depth:
        yield from plain_lines(rt, sym, views)
    else:
        for v in views:
            yield from entry(rt, sym, v, o, "")
    yield from corrupt_lines(corrupt)
    yield total_line(len(views), len(corrupt))


CORRUPT_MAX = 10  # garbage G records listed one by one (a smashed chunk has hundreds)


def corrupt_lines(corrupt, indent=""):
    """The garbage G records' lines: `  Goroutine ? - <corrupt G: goid=... status=... @0x...>`
    (no goid to select it by: `?`), at most CORRUPT_MAX, then how many more."""
    for _addr, e in corrupt[:CORRUPT_MAX]:
        yield f"{indent}  Goroutine ? - {e.render()}"
    if len(corrupt) > CORRUPT_MAX:
        yield f"{indent}  ({len(corrupt) - CORRUPT_MAX} more corrupt G records)"


def corrupt_group(corrupt, after):
    """The garbage G records as the last group of a -group listing."""
    if not corrupt:
        return
    if after:
        yield ""
    yield "<corrupt G records>"
    yield from corrupt_lines(corrupt, "\t")
    yield f"\tTotal: {len(corrupt)}"


def total_line(n, ncorrupt=0):
    """A listing's last line: `[8 goroutines]`, `[8 goroutines, 256 corrupt G records]`."""
    return f"[{n} goroutines" + (f", {ncorrupt} corrupt G records" if ncorrupt else "") + "]"


def plain_lines(rt, sym, views):
    """`line` for the default listing, flattened: the 100k-goroutine hot path."""
    for v in views:
        try:
            f = user_location_of(rt, sym, v)
            s = (f"{'*' if v.current else ' '} Goroutine {v.goid} - User: "
                 f"{_format_location(f.file, f.line, f.function, f.pc)}")
            if v.thread:
                s += f" (thread {v.thread})"
            if v.reason:
                s += (f" [{v.reason} {duration(v.waited_ns)}]" if v.waited_ns is not None
                      else f" [{v.reason}]")
            elif v.status != "running" and v.status != "waiting":
                s += f" [{v.status}]"
            yield s + name_suffix(v.name)
        except Corrupt as e:
            yield f"  Goroutine {v.goid} - {e.render()}"
        except MemoryReadError as e:
            yield f"  Goroutine {v.goid} - <unreadable: {e}>"


def entry(rt, sym, v: GView, o: Options, indent: str):
    try:
        yield indent + line(rt, sym, v, o)
        if o.labels:
            lab = labels_line(rt, v, indent + "\t")
            if lab:
                yield lab
        if o.depth:
            yield from stack_lines(rt, sym, v, o.depth, indent + "\t")
    except Corrupt as e:
        yield f"{indent}  Goroutine {v.goid} - {e.render()}"
    except MemoryReadError as e:
        yield f"{indent}  Goroutine {v.goid} - <unreadable: {e}>"


def dump_lines(rt, sym, v: GView, indent="\t", all_frames=False) -> List[str]:
    """Go's dump format: `goroutine N [reason, 2 minutes]:`, then each user
    frame as `fn(...)` / `\\tfile:line`, then `created by F in goroutine K`."""
    head = f"goroutine {v.goid} [{v.reason or v.status}"
    if v.waited_ns and v.waited_ns >= 60 * 10**9:
        mins = v.waited_ns // (60 * 10**9)
        head += f", {mins} minute{'s' if mins > 1 else ''}"
    out = [indent + head + "]:"]
    for k, pc in enumerate(pcs_of(rt, v)):
        for f in sym.frames(pc, k > 0 or v.parked):
            if not all_frames and (stacks.is_runtime_frame(f) or not f.function):
                continue
            out.append(f"{indent}{stacks.elide_params(f.function)}(...)")
            out.append(f"{indent}\t{f.file or '?'}:{f.line}")
    if v.gopc:
        f = sym.user_frame([v.gopc], True)[0]
        out.append(f"{indent}created by {stacks.elide_params(f.function) or '?'} in goroutine "
                   f"{v.parent}")
        out.append(f"{indent}\t{f.file or '?'}:{f.line}")
    return out


def fast_listing(rt, sym, now_ns=None, selected_goid=None, progress=None, group=False):
    """The plain `goroutines` listing (no flags) in one pass over the G chunks:
    a narrow record, no GView, each line built as its goroutine is decoded,
    then sorted by goid (bench/gdb: 100k goroutines). Same text as render().
    group: `goroutines -group userloc` instead, from the same pass (only the
    lines of each group's first GROUP_MAX members are finished)."""
    L = rt.L
    rec = rt.__dict__.get("_listrec")
    if rec is None:
        rec = rt._listrec = L.record("G", [
            ("goid", "u64"), ("atomicstatus", "u32"), ("waitreason", "u8"),
            ("waitsince", "i64"), ("createtime", "i64"), ("sched.pc", "u64"),
            ("sched.sp", "u64"), ("sched.bp", "u64"), ("stack.lo", "u64"),
            ("stack.hi", "u64"), ("name", "s32")], base={"sched": "gobuf", "stack": "stack"})
    workers, tid_regs = running_regs(rt)
    selected = rt.target.selected_thread()
    chunks, n = rt.sched_field("allgchunks"), rt.sched_field("nallgchunks")
    if n > rt.maxchunks:
        raise Corrupt("schedt", f"nallgchunks={n}")
    table = rt.mem.read(chunks, 8 * n) if chunks and n else b""
    stride, per = rt.gsize, rt.chunk
    if rec.struct.size != stride:
        raise Corrupt("goroscope_layout", f"G record {rec.struct.size} != {stride}")
    running, waiting, dead, idle = rt.running, rt.waiting, rt.dead, rt.idle
    reasons, statuses = rt.reason_names, rt.status_names
    corrupt = []  # (address, Corrupt) of the garbage G records (Runtime.corrupt_g)
    read = rt.target.read_view
    user_location = stacks.user_location
    empty = Frame("", "", 0, 0)
    # (the struct unpacks fields in offset order; this puts them in ours)
    fields = operator.itemgetter(*(rec.index[k] for k in (
        "goid", "atomicstatus", "waitreason", "waitsince", "createtime", "sched_pc", "sched_sp",
        "sched_bp", "stack_lo", "stack_hi", "name")))
    rows = []  # (goid, head, waitsince or None, tail)
    locs, keep = {}, []  # location text per symbolized frame
    grouped = {}  # group: location text -> its goroutines' indexes in rows
    newest = 0
    t0 = time.monotonic()
    for c in range(n):
        base = int.from_bytes(table[8 * c:8 * c + 8], "little")
        if not base:
            continue
        try:
            raw = rt.target.read(base, stride * per)
        except MemoryReadError:
            continue
        if progress and c % 40 == 39 and time.monotonic() - t0 > 1:
            progress(len(rows))
        for k, t in enumerate(rec.struct.iter_unpack(raw)):
            goid, st, wr, ws, ct, pc, sp, bp, lo, hi, nm = fields(t)
            if not goid or st == dead or st == idle:
                continue
            addr = base + k * stride
            if goid > MAX_GOID or st not in statuses:
                corrupt.append((addr, rt.corrupt_g(addr, goid, st)))
                continue
            tid = 0
            parked = st != running
            if not parked:
                w = workers.get(addr)
                tid = w["procid"] if w else 0
                r = tid_regs.get(tid, {})
                pc, sp, bp = r.get("rip", 0), r.get("rsp", 0), r.get("rbp", 0)
            try:
                tpcs = None if parked or not tid else rt.target.thread_pcs(tid)
                if tpcs:  # a running goroutine: its thread, by the debugger's unwinder
                    f = sym.user_frame(tpcs, False)[0]
                else:
                    f = user_location(sym, read, pc, sp, bp, lo, hi, parked) if sp else empty
                loc = locs.get(id(f))
                if loc is None:
                    loc = locs[id(f)] = (" - User: " + _format_location(f.file, f.line,
                                                                         f.function, f.pc))
                    keep.append(f)  # (ids stay valid while the frames live)
            except Corrupt as e:
                loc = " - User: " + e.render()
            if selected_goid is not None:
                cur = goid == selected_goid
            else:
                cur = tid != 0 and tid == selected
            head = ("* Goroutine " if cur else "  Goroutine ") + str(goid) + loc
            if group:
                grouped.setdefault(loc, []).append(len(rows))
            if tid:
                head += f" (thread {tid})"
            if ct > newest:
                newest = ct
            name = name_suffix(cname(nm)) if nm[0] else ""
            if st == waiting:
                if ws > newest:
                    newest = ws
                rows.append((goid, head + f" [{reasons.get(wr, '')}", ws or None, "]" + name))
            elif st != running:
                rows.append((goid, head + f" [{statuses.get(st) or f'status{st}'}]{name}", None,
                             ""))
            else:
                rows.append((goid, head + name, None, ""))
    now = now_ns if now_ns is not None else rt.now_ns(newest)
    if group:
        yield from _group_lines(rows, grouped, now)
        yield from corrupt_group(corrupt, bool(rows))
        return
    rows.sort(key=lambda r: r[0])
    for goid, head, ws, tail in rows:
        if ws is not None:
            yield f"{head} {duration(max(0, now - ws))}{tail}"
        else:
            yield head + tail
    yield from corrupt_lines(corrupt)
    yield total_line(len(rows), len(corrupt))


def _group_lines(rows, grouped, now):
    """fast_listing's rows as render() groups them by userloc: the groups in
    the order of their location text, each its first GROUP_MAX goroutines by
    goid and its total."""
    for k, loc in enumerate(sorted(grouped)):
        if k:
            yield ""
        yield loc[len(" - User: "):]
        members = sorted(grouped[loc], key=lambda i: rows[i][0])
        for i in members[:GROUP_MAX]:
            _goid, head, ws, tail = rows[i]
            yield f"\t{head} {duration(max(0, now - ws))}{tail}" if ws is not None else \
                f"\t{head}{tail}"
        yield f"\tTotal: {len(members)}"
