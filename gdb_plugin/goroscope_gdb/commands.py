"""commands: goroutines, goroutine (the GDB registrations; logic in the core).

Every command goes through `guard`: a GoroscopeError (or any unexpected
exception) becomes one line `goroscope: ...` via gdb.GdbError, never a
Python traceback.
"""

import functools
import sys

import gdb

from goroscope import goroutines as gcmd
from goroscope.errors import GoroscopeError

from . import state, unwinder


def guard(invoke):
    @functools.wraps(invoke)
    def wrapper(self, arg, from_tty):
        try:
            return invoke(self, arg, from_tty)
        except (gdb.GdbError, KeyboardInterrupt):
            raise
        except GoroscopeError as e:
            raise gdb.GdbError(f"goroscope: {e}") from None
        except gdb.error as e:
            raise gdb.GdbError(f"goroscope: {e}") from None
        except Exception as e:  # noqa: BLE001 - never a traceback at the user
            if _debug():
                raise
            raise gdb.GdbError(f"goroscope: internal error: {type(e).__name__}: {e} "
                               f"(GOROSCOPE_DEBUG=1 shows the traceback)") from None

    return wrapper


def _debug():
    import os

    return os.environ.get("GOROSCOPE_DEBUG") == "1"


def progress(n):
    sys.stderr.write(f"\rgoroscope: {n} goroutines read...")
    sys.stderr.flush()


def chan_address(expr):
    """The hchan address of a goro::Chan<T> (or hchan*) expression."""
    rt = state.runtime()
    v = gdb.parse_and_eval(expr)
    t = v.type.strip_typedefs()
    if t.code == gdb.TYPE_CODE_PTR:
        if "hchan" in str(t.target().strip_typedefs()):
            return int(v)
        v = v.dereference()
        t = v.type.strip_typedefs()
    if t.code in (gdb.TYPE_CODE_INT,):
        return int(v)
    if v.address is None:
        raise GoroscopeError(f"{expr} is not an lvalue")
    return rt.u(int(v.address) + rt.L.const("Chan.hchan"), 8)


def views_with_selection(rt):
    views = gcmd.collect(rt, rt.target.now_ns(), progress)
    sel = unwinder.selected()
    if sel is not None:
        for v in views:
            v.current = v.goid == sel.goid
    return views


class Goroutines(gdb.Command):
    """List goroutines, as Delve's `goroutines`.

Usage: goroutines [-u|-r|-g|-s] [-t [depth]] [-l] [-with|-w FILTER] [-without|-wo FILTER]
                  [-group GROUP] [-chan EXPR] [-exec CMD]

Location shown: -u the topmost user frame (default), -r the topmost frame,
-g where the goroutine was created (the go() call), -s its start function.
-t [depth]   the stack of each goroutine (default depth 10)
-l           labels
-with/-without FILTER, FILTER one of:
    userloc|curloc|goloc|startloc SUBSTRING   (matched against the location text)
    label KEY[=VALUE]     running     user
-group GROUP  group by userloc|curloc|goloc|startloc|running|user|label KEY:
              at most 5 goroutines per group, and the group's total
-chan EXPR   only goroutines waiting on the channel EXPR (a goro::Chan<T>)
-exec CMD    run CMD in the context of every listed goroutine

A line: `* Goroutine 6 - User: ./main.cpp:11 worker (0x4b8465) [chan receive 2.5s]`;
`*` marks the selected goroutine, `(thread N)` a running one's OS thread,
[...] the wait reason and for how long it has waited."""

    def __init__(self):
        super().__init__("goroutines", gdb.COMMAND_STACK)

    @guard
    def invoke(self, arg, from_tty):
        o = gcmd.parse_args(gdb.string_to_argv(arg))
        rt = state.runtime()
        sym = state.symbolizer()
        if o == gcmd.Options():  # the plain listing: one pass, no per-goroutine objects
            sel = unwinder.selected()
            write_lines(gcmd.fast_listing(rt, sym, rt.target.now_ns(),
                                          sel.goid if sel else None, progress))
            return
        chan = chan_address(o.chan) if o.chan else None
        views = gcmd.select(rt, sym, views_with_selection(rt), o, chan)
        if o.exec_cmd:
            for v in views:
                gdb.write(gcmd.line(rt, sym, v, o) + "\n")
                run_in(rt, v.goid, o.exec_cmd)
            return
        write_lines(gcmd.render(rt, sym, views, o))


def write_lines(lines):
    """gdb.write in batches of 512 lines (one call per line costs ~1 us; the pager still pages)."""
    buf = []
    for ln in lines:
        buf.append(ln)
        if len(buf) >= 512:
            gdb.write("\n".join(buf) + "\n")
            buf.clear()
    if buf:
        gdb.write("\n".join(buf) + "\n")


def goroutine_regs(rt, goid):
    """(view, regs, thread num or None) of goroutine goid, found in O(1)."""
    addr = rt.findg(goid)
    if addr is None:
        raise GoroscopeError(f"no goroutine {goid}")
    g = rt.g_at(addr)
    if g.goid != goid or g.atomicstatus in (rt.dead, rt.idle):
        raise GoroscopeError(f"no goroutine {goid}")
    if g.atomicstatus == rt.running:
        for w in rt.workers():
            if w["curg"] == addr:
                for th in gdb.selected_inferior().threads():
                    if (th.ptid[1] or th.ptid[0]) == w["procid"]:
                        return g, None, th
        raise GoroscopeError(f"goroutine {goid} is running but its thread is not known")
    regs = {"pc": g.sched_pc, "sp": g.sched_sp, "bp": g.sched_bp, "rbx": g.sched_rbx,
            "r12": g.sched_r12, "r13": g.sched_r13, "r14": g.sched_r14, "r15": g.sched_r15}
    return g, regs, None


def select_goroutine(rt, goid):
    g, regs, th = goroutine_regs(rt, goid)
    if th is not None:
        unwinder.clear()
        th.switch()
        gdb.selected_frame()  # (raises if the thread has no frame)
        return f"thread {th.num}"
    unwinder.select(goid, regs)
    try:
        f = gdb.newest_frame().older()
        if f is not None:
            f.select()
    except gdb.error:
        pass
    return None


def run_in(rt, goid, cmd):
    """Run cmd with goroutine goid selected, then restore the selection."""
    prev_sel = unwinder.selected()
    prev_thread = gdb.selected_thread()
    try:
        prev_frame = gdb.selected_frame()
        prev_level = prev_frame.level()
    except gdb.error:
        prev_level = None
    try:
        select_goroutine(rt, goid)
        gdb.execute(cmd, from_tty=False)
    finally:
        if prev_thread is not None and prev_thread.is_valid():
            prev_thread.switch()
        if prev_sel is None:
            unwinder.clear()
        else:
            unwinder.select(prev_sel.goid, prev_sel.regs)
        if prev_level is not None:
            try:
                f = gdb.newest_frame()
                for _ in range(prev_level):
                    f = f.older() or f
                f.select()
            except gdb.error:
                pass


class Goroutine(gdb.Command):
    """Select a goroutine, or run a command in its context.

Usage: goroutine                  show the selected goroutine
       goroutine ID               select goroutine ID: bt, frame N, up/down and
                                  info locals then walk its stack (frame #1 and up;
                                  #0 stays the stopped thread's own frame)
       goroutine ID CMD...        run CMD in goroutine ID's context only
       goroutine clear            back to the threads' own stacks

A running goroutine is its worker's OS thread: selecting it selects that
thread. The selection ends when the program resumes. No registers are
written, so this works on core files and remote targets too."""

    def __init__(self):
        super().__init__("goroutine", gdb.COMMAND_STACK)

    @guard
    def invoke(self, arg, from_tty):
        argv = arg.strip().split(None, 1)
        rt = state.runtime()
        if not argv:
            sel = unwinder.selected()
            if sel is None:
                gdb.write("no goroutine selected (the threads' own stacks are shown)\n")
                return
            o = gcmd.Options()
            for v in views_with_selection(rt):
                if v.goid == sel.goid:
                    gdb.write(gcmd.line(rt, state.symbolizer(), v, o) + "\n")
            return
        if argv[0] == "clear":
            unwinder.clear()
            gdb.write("goroutine selection cleared\n")
            return
        try:
            goid = int(argv[0], 0)
        except ValueError:
            try:
                goid = int(gdb.parse_and_eval(argv[0]))  # $convenience, expressions
            except gdb.error:
                raise GoroscopeError(f"'{argv[0]}' is not a goroutine id") from None
        if len(argv) > 1:
            run_in(rt, goid, argv[1])
            return
        how = select_goroutine(rt, goid)
        gdb.write(f"[Switching to goroutine {goid}" + (f" on {how}" if how else "") + "]\n")
        try:
            gdb.execute("frame", from_tty=False)
        except gdb.error:
            pass




def object_address(expr, kind="map"):
    """The address of the goro object EXPR names: an expression of a goro type
    (or a pointer to one), else the name given with goro::debug::name."""
    rt = state.runtime()
    err = None
    try:
        v = gdb.parse_and_eval(expr)
        t = v.type.strip_typedefs()
        if t.code == gdb.TYPE_CODE_PTR and str(t.target().strip_typedefs()).startswith("goro::"):
            if int(v) == 0:
                raise GoroscopeError(f"{expr} is a null pointer")
            return int(v)
        if t.code == gdb.TYPE_CODE_INT:
            return int(v)
        if str(t).startswith("goro::") and v.address is not None:
            return int(v.address)
        err = f"{expr} is a {t}, not a goro {kind}"
    except gdb.error as e:
        err = str(e)
    named = rt.find_named(expr)
    if named is not None and (kind is None or named["kind"] == kind):
        return named["addr"]
    raise GoroscopeError(f"{err} (and no {kind} is named '{expr}')")


class Gomap(gdb.Command):
    """Inspect a goro::Map's internals (Go's pre-1.24 hmap).

Usage: gomap info EXPR                        the header: B, count, load factor, flags,
                                              evacuation progress, overflow chains
       gomap buckets EXPR [--old] [--range A:B]   each bucket's 8 tophash slots by state,
                                              keys and values, overflow links
       gomap find EXPR KEY                    KEY's hash, tophash, bucket (new and old)
                                              and slot (integer and string keys)

EXPR is a goro::Map expression (or pointer), or the name given with
goro::debug::name. Reads memory only: works on cores and remote targets."""

    def __init__(self):
        super().__init__("gomap", gdb.COMMAND_DATA, prefix=True)

    @guard
    def invoke(self, arg, from_tty):
        raise GoroscopeError("gomap info|buckets|find EXPR ... (see help gomap)")


class GomapInfo(gdb.Command):
    """gomap info EXPR: the decoded hmap header of a goro::Map."""

    def __init__(self):
        super().__init__("gomap info", gdb.COMMAND_DATA)

    @guard
    def invoke(self, arg, from_tty):
        from goroscope import maps

        if not arg.strip():
            raise GoroscopeError("usage: gomap info EXPR")
        rt = state.runtime()
        h = maps.header(rt, object_address(arg.strip()))
        for ln in maps.info_lines(rt, h):
            gdb.write(ln + "\n")


class GomapBuckets(gdb.Command):
    """gomap buckets EXPR [--old] [--range A:B]: the text layout of a goro::Map's buckets."""

    def __init__(self):
        super().__init__("gomap buckets", gdb.COMMAND_DATA)

    @guard
    def invoke(self, arg, from_tty):
        from goroscope import maps

        expr, old, first, last = maps.parse_buckets_args(gdb.string_to_argv(arg),
                                                          state.settings["print-limit"])
        rt = state.runtime()
        h = maps.header(rt, object_address(expr))
        for ln in maps.bucket_lines(rt, h, old, first, last):
            gdb.write(ln + "\n")
        nb = (1 << h.oldB) if old else (1 << h.B)
        if last < nb:
            gdb.write(f"(buckets {first}..{last - 1} of {nb}; --range {last}:{last + 64} for more)\n")


class GomapFind(gdb.Command):
    """gomap find EXPR KEY: where KEY lives in a goro::Map (hash, tophash, bucket, slot)."""

    def __init__(self):
        super().__init__("gomap find", gdb.COMMAND_DATA)

    @guard
    def invoke(self, arg, from_tty):
        from goroscope import maps

        argv = gdb.string_to_argv(arg)
        if len(argv) < 2:
            raise GoroscopeError("usage: gomap find EXPR KEY")
        rt = state.runtime()
        h = maps.header(rt, object_address(" ".join(argv[:-1])))
        r = maps.find(rt, h, argv[-1])
        for ln in maps.find_lines(h, r):
            gdb.write(ln + "\n")

class GomapWatch(gdb.Command):
    """gomap watch EXPR [--grow] [--evacuated] [--writing] [--key KEY]: hardware watchpoints.

  --grow       stop when growth starts (hmap.buckets changes)
  --evacuated  stop when evacuation ends (hmap.oldbuckets becomes null)
  --writing    stop when hashWriting is set: the goroutine doing it, and the one
               already holding it if any (a concurrent write)
  --key KEY    stop when KEY's value is written, KEY is deleted, or evacuation
               moves it (the watch then re-arms itself on its new slot)
gomap watch --list | --clear: the active map watches. Uses the CPU's debug
registers (4 on x86-64); refuses with a clear message when they would run out."""

    def __init__(self):
        super().__init__("gomap watch", gdb.COMMAND_BREAKPOINTS)

    @guard
    def invoke(self, arg, from_tty):
        from goroscope import watch as core

        from . import watch

        a = core.parse_args(gdb.string_to_argv(arg))
        if a[0] == "list":
            for ln in watch.listing() or ["no map watches"]:
                gdb.write(ln + "\n")
            return
        if a[0] == "clear":
            gdb.write(f"{watch.clear()} map watchpoint(s) deleted\n")
            return
        made = watch.arm(object_address(a[1]), *a[2:])
        for w in made:
            gdb.write(f"gomap watch {w.what}: hardware watchpoint {w.number}\n")


def install_gomap():
    Gomap()
    GomapWatch()
    GomapInfo()
    GomapBuckets()
    GomapFind()


def install():
    Goroutines()
    Goroutine()
    install_gomap()
    Deadlocks()
    install_goroscope()


class Deadlocks(gdb.Command):
    """Find deadlocks and goroutines that nothing can wake.

Usage: deadlocks

Builds the wait-for graph over goroutines, channels, selects, mutexes,
RWMutexes, WaitGroups and Conds; prints each cycle (goroutine -> object ->
holder -> ...) and the goroutines no other goroutine can wake (every
possible partner is itself blocked for good, or gone), with their stacks.
Conservative: a partner it cannot see (a reference outside every
goroutine's stack) counts as one that could still act."""

    def __init__(self):
        super().__init__("deadlocks", gdb.COMMAND_STACK)

    @guard
    def invoke(self, arg, from_tty):
        from goroscope import deadlock

        if arg.strip():
            raise GoroscopeError("usage: deadlocks")
        rt = state.runtime()
        sym = state.symbolizer()
        views = gcmd.collect(rt, rt.target.now_ns(), progress)
        g = deadlock.build(rt, views)
        for ln in deadlock.render(rt, sym, g, views,
                                  lambda v: gcmd.dump_lines(rt, sym, v, "\t")):
            gdb.write(ln + "\n")


class Goroscope(gdb.Command):
    """goroscope snapshot|view: the runtime's snapshot format, from the stopped program.

Usage: goroscope snapshot FILE [--no-frames] [--map NAME] [--buckets N]
           write the snapshot (docs/snapshot-format.md) of the stopped state to FILE
       goroscope view [ADDR]
           push it to a running goroscope-view --listen ADDR (default: `show goroscope viewer`)

`set goroscope auto-push on` pushes at every stop; `set goroscope bucket-limit N`
caps the buckets per map array (0: all)."""

    def __init__(self):
        super().__init__("goroscope", gdb.COMMAND_DATA, prefix=True)

    @guard
    def invoke(self, arg, from_tty):
        raise GoroscopeError("goroscope snapshot FILE | goroscope view [ADDR] (see help goroscope)")


def snapshot_doc(argv=()):
    from goroscope import snapshot

    frames, map_name, limit, rest = snapshot.parse_args(argv, state.settings["bucket-limit"])
    rt = state.runtime()
    pid = gdb.selected_inferior().pid
    doc = snapshot.build(rt, state.symbolizer(), "goroscope-gdb", pid, frames, limit, map_name)
    return doc, rest


class GoroscopeSnapshot(gdb.Command):
    """goroscope snapshot FILE [--no-frames] [--map NAME] [--buckets N]: write a snapshot."""

    def __init__(self):
        super().__init__("goroscope snapshot", gdb.COMMAND_DATA, gdb.COMPLETE_FILENAME)

    @guard
    def invoke(self, arg, from_tty):
        from goroscope import snapshot

        doc, rest = snapshot_doc(gdb.string_to_argv(arg))
        if len(rest) != 1:
            raise GoroscopeError("usage: goroscope snapshot FILE [--no-frames] [--map NAME] "
                                 "[--buckets N]")
        text = snapshot.dumps(doc)
        try:
            with open(rest[0], "w", encoding="utf-8", errors="surrogateescape") as f:
                f.write(text + "\n")
        except OSError as e:
            raise GoroscopeError(f"{rest[0]}: {e.strerror}") from None
        gdb.write(f"snapshot of {len(doc['goroutines'])} goroutines, {len(doc['objects'])} "
                  f"objects, {len(doc['maps'])} maps written to {rest[0]} ({len(text)} bytes)\n")


class GoroscopeView(gdb.Command):
    """goroscope view [ADDR]: push a snapshot to goroscope-view --listen ADDR."""

    def __init__(self):
        super().__init__("goroscope view", gdb.COMMAND_DATA)

    @guard
    def invoke(self, arg, from_tty):
        from goroscope import push, snapshot

        argv = gdb.string_to_argv(arg)
        addr = argv[0] if argv else state.settings["viewer"]
        doc, _ = snapshot_doc(argv[1:])
        push.send(addr, snapshot.dumps(doc))
        gdb.write(f"snapshot pushed to {addr}\n")


def auto_push(event):
    if not state.settings.get("auto-push"):
        return
    try:
        from goroscope import push, snapshot

        doc, _ = snapshot_doc()
        push.send(state.settings["viewer"], snapshot.dumps(doc))
    except Exception as e:  # noqa: BLE001 - a failed push never disturbs the stop
        gdb.write(f"goroscope: auto-push: {e}\n", gdb.STDERR)


def install_goroscope():
    Goroscope()
    GoroscopeSnapshot()
    GoroscopeView()
    gdb.events.stop.connect(auto_push)
