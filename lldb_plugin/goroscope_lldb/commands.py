"""commands: the LLDB commands, the same names, flags and text as in GDB.

    goroutines [Delve's flags]     goroutine ID [CMD] | goroutine clear
    gomap info|buckets|find EXPR   deadlocks       goroscope snapshot FILE | view [ADDR]

Errors are one line (`goroscope: ...`) in the command's result, never a
traceback. `goroutine ID` needs the OperatingSystem plugin (osplugin.py), which
makes every goroutine an LLDB thread; the command selects that thread.
"""

import shlex

import lldb

from goroscope import deadlock, maps
from goroscope import goroutines as gcmd
from goroscope.errors import GoroscopeError

from . import state

PREFIX = "goroscope: "


def _run(debugger, result, fn):
    try:
        lines = fn()
        if lines:
            result.AppendMessage("\n".join(lines))
        result.SetStatus(lldb.eReturnStatusSuccessFinishResult)
    except GoroscopeError as e:
        result.SetError(PREFIX + str(e))
    except Exception as e:  # noqa: BLE001 - never a traceback at the user
        import os

        if os.environ.get("GOROSCOPE_DEBUG") == "1":
            raise
        result.SetError(f"{PREFIX}internal error: {type(e).__name__}: {e} "
                        f"(GOROSCOPE_DEBUG=1 shows the traceback)")


def evaluate_address(debugger, expr, kind="map"):
    """The address of a goro object: an expression (value or pointer), else a debug name."""
    rt = state.runtime(debugger)
    frame = debugger.GetSelectedTarget().GetProcess().GetSelectedThread().GetSelectedFrame()
    v = frame.EvaluateExpression(expr) if frame.IsValid() else None
    if v is not None and v.IsValid() and v.GetError().Success():
        t = v.GetType().GetCanonicalType()
        if t.IsPointerType() and t.GetPointeeType().GetName().startswith("goro::"):
            if v.GetValueAsUnsigned() == 0:
                raise GoroscopeError(f"{expr} is a null pointer")
            return v.GetValueAsUnsigned()
        if t.GetName().startswith("goro::"):
            a = v.GetLoadAddress()
            if a != lldb.LLDB_INVALID_ADDRESS:
                return a
        err = f"{expr} is a {t.GetName()}, not a goro {kind}"
    else:
        err = f"use of undeclared identifier '{expr}'"
    named = rt.find_named(expr)
    if named is not None and (kind is None or named["kind"] == kind):
        return named["addr"]
    raise GoroscopeError(f"{err} (and no {kind} is named '{expr}')")


def chan_address(debugger, expr):
    """The hchan address of a goro::Chan<T> or hchan* expression, or of the
    channel named expr (a name belongs to the hchan)."""
    rt = state.runtime(debugger)
    frame = debugger.GetSelectedTarget().GetProcess().GetSelectedThread().GetSelectedFrame()
    v = frame.EvaluateExpression(expr) if frame.IsValid() else None
    if v is not None and v.IsValid() and v.GetError().Success():
        t = v.GetType().GetCanonicalType()
        if t.IsPointerType() and "hchan" in t.GetPointeeType().GetName():
            return v.GetValueAsUnsigned()
        if t.IsPointerType():
            v, t = v.Dereference(), t.GetPointeeType()
        if t.GetName().startswith("goro::Chan<"):
            a = v.GetLoadAddress()
            if a != lldb.LLDB_INVALID_ADDRESS:
                return rt.u(a + rt.L.const("Chan.hchan"), 8)
        elif t.GetBasicType() != lldb.eBasicTypeInvalid:
            return v.GetValueAsUnsigned()
    named = rt.find_named(expr)
    if named is not None and named["kind"] == "chan":
        return named["addr"]
    raise GoroscopeError(f"{expr}: not a goro::Chan (and no channel is named '{expr}')")


class Goroutines:
    def __init__(self, debugger, d):
        pass

    def get_short_help(self):
        return "List goroutines, as Delve's `goroutines` (see help goroutines)."

    def get_long_help(self):
        return gcmd.__doc__

    def __call__(self, debugger, command, exe_ctx, result):
        def body():
            o = gcmd.parse_args(shlex.split(command))
            rt = state.runtime(debugger)
            sym = state.symbolizer(debugger)
            sel = selected_goroutine(debugger)  # `*`: a goroutine thread is selected
            if o == gcmd.Options():
                return list(gcmd.fast_listing(rt, sym, rt.target.now_ns(), sel))
            views = gcmd.collect(rt, rt.target.now_ns())
            if sel is not None:
                for v in views:
                    v.current = v.goid == sel
            chan = chan_address(debugger, o.chan) if o.chan else None
            views = gcmd.select(rt, sym, views, o, chan)
            if o.exec_cmd:
                out = []
                for v in views:
                    out.append(gcmd.line(rt, sym, v, o))
                    out.extend(run_in(debugger, v.goid, o.exec_cmd))
                return out
            return list(gcmd.render(rt, sym, views, o))

        _run(debugger, result, body)


def selected_goroutine(debugger):
    """The goid of the selected thread if it is one of the OS plugin's, else None."""
    from .target import OS_THREAD_BASE

    tid = debugger.GetSelectedTarget().GetProcess().GetSelectedThread().GetThreadID()
    return tid - OS_THREAD_BASE if tid >= OS_THREAD_BASE else None


def goroutine_thread(debugger, rt, goid):
    """The LLDB thread showing goroutine goid: the OS plugin's for a parked one,
    its worker's OS thread for a running one; None past the OS plugin's cap."""
    from .target import OS_THREAD_BASE

    p = debugger.GetSelectedTarget().GetProcess()
    th = p.GetThreadByID(OS_THREAD_BASE + goid)
    if th.IsValid():
        return th
    addr = rt.findg(goid)
    if addr is None:
        raise GoroscopeError(f"no goroutine {goid}")
    for w in rt.workers():
        if w["curg"] == addr:
            th = p.GetThreadByID(w["procid"])
            if th.IsValid():
                return th
    return None


def no_thread(goid):
    return GoroscopeError(f"goroutine {goid} is not an LLDB thread (the OS plugin shows the "
                          f"first {state.settings['os-plugin-limit']} goroutines: `goroscope "
                          f"os-plugin limit N`, or `goroscope os-plugin on`); `goroutine {goid} "
                          f"bt` works for any goroutine")


def run_in(debugger, goid, cmd):
    """Run cmd with goroutine goid's thread selected (the OS plugin's), then restore."""
    p = debugger.GetSelectedTarget().GetProcess()
    prev = p.GetSelectedThread()
    rt = state.runtime(debugger)
    th = goroutine_thread(debugger, rt, goid)
    if th is None:
        argv = cmd.split()
        if argv and argv[0] in ("bt", "backtrace"):
            # Not a thread (past the OS plugin's limit, or the plugin is
            # off): the core's own walk from its saved registers.
            depth = int(argv[1]) if len(argv) > 1 and argv[1].isdigit() else 1 << 30
            addr = rt.findg(goid)
            g = rt.g_at(addr)  # parked (a running one has its OS thread)
            v = gcmd.GView(goid, addr, "waiting", "", None, 0, False, g.gopc, g.startpc,
                           g.parentGoid, "", 0, g.sched_pc, g.sched_sp, g.sched_bp,
                           g.stack_lo, g.stack_hi)
            return gcmd.stack_lines(rt, state.symbolizer(debugger), v, depth, "  ")
        raise no_thread(goid)
    # Inside a script command, nested HandleCommand calls run in the outer
    # command's execution context (LLDB keeps an override stack), so selecting
    # the thread alone is not enough: the command gets the thread's context.
    ci = debugger.GetCommandInterpreter()
    p.SetSelectedThread(th)
    out = lldb.SBCommandReturnObject()
    try:
        ci.HandleCommand(cmd, lldb.SBExecutionContext(th.GetSelectedFrame()), out)
    finally:
        if prev.IsValid():
            p.SetSelectedThread(prev)
    text = (out.GetOutput() or "") + (out.GetError() or "")
    return text.rstrip("\n").split("\n") if text else []


class Goroutine:
    def __init__(self, debugger, d):
        pass

    def get_short_help(self):
        return ("goroutine ID [CMD]: select goroutine ID's thread, or run CMD in its context; "
                "goroutine clear: back to the thread that stopped.")

    def __call__(self, debugger, command, exe_ctx, result):
        def body():
            from .target import OS_THREAD_BASE

            argv = command.strip().split(None, 1)
            p = debugger.GetSelectedTarget().GetProcess()
            if not argv:
                sel = selected_goroutine(debugger)
                return [f"goroutine {sel}" if sel is not None
                        else "no goroutine selected (an OS thread is)"]
            if argv == ["clear"]:
                # back to the thread that stopped (GDB: the unwinder's selection ends)
                for th in p:
                    if th.GetThreadID() < OS_THREAD_BASE and \
                            th.GetStopReason() not in (lldb.eStopReasonNone,
                                                       lldb.eStopReasonInvalid):
                        p.SetSelectedThread(th)
                        return [f"[Switching to thread {th.GetIndexID()}]"]
                return []
            try:
                goid = int(argv[0], 0)
            except ValueError:
                raise GoroscopeError(f"'{argv[0]}' is not a goroutine id") from None
            rt = state.runtime(debugger)
            if rt.findg(goid) is None:
                raise GoroscopeError(f"no goroutine {goid}")
            if len(argv) > 1:
                return run_in(debugger, goid, argv[1])
            th = goroutine_thread(debugger, rt, goid)
            if th is None:
                raise no_thread(goid)
            p.SetSelectedThread(th)
            st = lldb.SBStream()
            th.GetStatus(st)
            return [f"[Switching to goroutine {goid}]"] + (st.GetData() or "").rstrip("\n").split("\n")

        _run(debugger, result, body)


class Gomap:
    def __init__(self, debugger, d):
        pass

    def get_short_help(self):
        return "gomap info|buckets|find|watch EXPR ...: a goro::Map's internals."

    def get_long_help(self):
        return GOMAP_HELP

    def __call__(self, debugger, command, exe_ctx, result):
        def body():
            argv = shlex.split(command)
            if not argv or argv[0] not in ("info", "buckets", "find", "watch"):
                raise GoroscopeError("gomap info|buckets|find|watch EXPR ... (see help gomap)")
            rt = state.runtime(debugger)
            sub, rest = argv[0], argv[1:]
            if sub == "watch":
                return gomap_watch(debugger, rest)
            if sub == "info":
                if not rest:
                    raise GoroscopeError("usage: gomap info EXPR")
                return maps.info_lines(rt, maps.header(rt, evaluate_address(debugger,
                                                                            " ".join(rest))))
            if sub == "buckets":
                expr, old, first, last = maps.parse_buckets_args(rest,
                                                                 state.settings["print-limit"])
                h = maps.header(rt, evaluate_address(debugger, expr))
                out = maps.bucket_lines(rt, h, old, first, last)
                nb = (1 << h.oldB) if old else (1 << h.B)
                if last < nb:
                    out.append(f"(buckets {first}..{last - 1} of {nb}; --range {last}:"
                               f"{last + 64} for more)")
                return out
            if len(rest) < 2:
                raise GoroscopeError("usage: gomap find EXPR KEY")
            h = maps.header(rt, evaluate_address(debugger, " ".join(rest[:-1])))
            return maps.find_lines(h, maps.find(rt, h, rest[-1]))

        _run(debugger, result, body)


GOMAP_HELP = """gomap info EXPR: the decoded header (B, count, load factor, flags, noverflow,
  hash0, buckets/oldbuckets, evacuation progress, overflow-chain histogram)
gomap buckets EXPR [--old] [--range A:B]: tophash, keys and values per bucket
gomap find EXPR KEY: KEY's hash, tophash, bucket (new and old) and slot
gomap watch EXPR [--grow] [--evacuated] [--writing] [--key KEY]: hardware watchpoints
  --grow       stop when growth starts (hmap.buckets changes)
  --evacuated  stop when evacuation ends (hmap.oldbuckets becomes null)
  --writing    stop when hashWriting is set: the goroutine doing it, and the one
               already holding it if any (a concurrent write)
  --key KEY    stop when KEY's value is written, KEY is deleted, or evacuation
               moves it (the watch then re-arms itself on its new slot)
gomap watch --list | --clear: the active map watches. Uses the CPU's debug
registers (4 on x86-64); refuses with a clear message when they would run out.
EXPR: an expression of a goro::Map (or a pointer to one), or a debug name."""


def gomap_watch(debugger, argv):
    from goroscope import watch as core

    from . import watch

    ws = watch.watches(debugger)
    a = core.parse_args(argv)
    if a[0] == "list":
        return ws.listing() or ["no map watches"]
    if a[0] == "clear":
        return [f"{ws.clear()} map watchpoint(s) deleted"]
    made = ws.arm(evaluate_address(debugger, a[1]), *a[2:])
    return [f"gomap watch {w.what}: hardware watchpoint {w.number}" for w in made]


class Deadlocks:
    def __init__(self, debugger, d):
        pass

    def get_short_help(self):
        return "Find deadlocks and goroutines that nothing can wake."

    def __call__(self, debugger, command, exe_ctx, result):
        def body():
            if command.strip():
                raise GoroscopeError("usage: deadlocks")
            rt = state.runtime(debugger)
            sym = state.symbolizer(debugger)
            views = gcmd.collect(rt, rt.target.now_ns())
            g = deadlock.build(rt, views)
            return deadlock.render(rt, sym, g, views,
                                   lambda v: gcmd.dump_lines(rt, sym, v, "\t"))

        _run(debugger, result, body)


class Goroscope:
    def __init__(self, debugger, d):
        pass

    def get_short_help(self):
        return ("goroscope snapshot FILE [--no-frames] [--map NAME] [--buckets N] | "
                "goroscope view [ADDR] | goroscope os-plugin on|off|limit N | "
                "goroscope set|show [print-limit|bucket-limit|viewer|auto-push] [VALUE]")

    def __call__(self, debugger, command, exe_ctx, result):
        def body():
            argv = shlex.split(command)
            if not argv:
                raise GoroscopeError(self.get_short_help())
            if argv[0] == "os-plugin":
                from . import osplugin

                if argv[1:2] == ["limit"] and len(argv) == 3 and argv[2].isdigit():
                    return [osplugin.limit(int(argv[2]))]
                if argv[1:] not in ([], ["on"], ["off"]):
                    raise GoroscopeError("usage: goroscope os-plugin on|off|limit N")
                return [osplugin.enable(debugger, argv[1:] != ["off"])]
            if argv[0] in ("set", "show"):
                return settings_command(argv)
            if argv[0] not in ("snapshot", "view"):
                raise GoroscopeError(self.get_short_help())
            from goroscope import snapshot

            frames, map_name, limit, rest = snapshot.parse_args(argv[1:],
                                                                state.settings["bucket-limit"])
            doc, text = snapshot_text(debugger, frames, limit, map_name)
            if argv[0] == "view":
                from goroscope import push

                addr = rest[0] if rest else viewer_address()
                push.send(addr, text)
                return [f"snapshot pushed to {addr}"]
            if len(rest) != 1:
                raise GoroscopeError("usage: goroscope snapshot FILE [--no-frames] [--map NAME] "
                                     "[--buckets N]")
            try:
                with open(rest[0], "w", encoding="utf-8", errors="surrogateescape") as f:
                    f.write(text + "\n")
            except OSError as e:
                raise GoroscopeError(f"{rest[0]}: {e.strerror}") from None
            return [f"snapshot of {len(doc['goroutines'])} goroutines, {len(doc['objects'])} "
                    f"objects, {len(doc['maps'])} maps written to {rest[0]} ({len(text)} bytes)"]

        _run(debugger, result, body)


SETTINGS = {  # GDB's `set goroscope KEY`: (parse, doc)
    "print-limit": (int, "The number of buckets `gomap buckets` prints without --range."),
    "bucket-limit": (int, "The buckets per array a snapshot holds (0: all)."),
    "viewer": (str, "The address of goroscope-view --listen (unix:PATH or tcp:HOST:PORT)."),
    "auto-push": (None, "Whether every stop pushes a snapshot to the viewer."),
    "stop-on-fatal": (None, "Whether a fatal error (goroscope_fatal) stops the program before "
                            "it exits."),
}


def _show(key):
    v = state.settings[key]
    if key in ("auto-push", "stop-on-fatal"):
        v = "on" if v else "off"
    elif key == "viewer" and not v:
        from goroscope import push

        v = push.default_address()
    return f"goroscope {key} is {v}."


def settings_command(argv):
    """`goroscope set KEY VALUE`, `goroscope show [KEY]` (LLDB has no user settings)."""
    if argv[0] == "show":
        keys = argv[1:] or list(SETTINGS)
        for k in keys:
            if k not in SETTINGS:
                raise GoroscopeError(f"no setting '{k}' (settings: {', '.join(SETTINGS)})")
        return [_show(k) for k in keys]
    if len(argv) != 3 or argv[1] not in SETTINGS:
        raise GoroscopeError(f"usage: goroscope set {'|'.join(SETTINGS)} VALUE")
    key, val = argv[1], argv[2]
    parse = SETTINGS[key][0]
    if parse is None:  # on/off
        if val not in ("on", "off", "1", "0", "true", "false"):
            raise GoroscopeError(f"goroscope set {key}: on or off, not '{val}'")
        state.settings[key] = val in ("on", "1", "true")
    else:
        try:
            state.settings[key] = parse(val)
        except ValueError:
            raise GoroscopeError(f"goroscope set {key}: not a number: '{val}'") from None
    return []


def snapshot_text(debugger, frames=True, limit=None, map_name=None):
    from goroscope import snapshot

    rt = state.runtime(debugger)
    pid = debugger.GetSelectedTarget().GetProcess().GetProcessID()
    doc = snapshot.build(rt, state.symbolizer(debugger), "goroscope-lldb", pid, frames,
                         state.settings["bucket-limit"] if limit is None else limit, map_name)
    return doc, snapshot.dumps(doc)


def viewer_address():
    from goroscope import push

    return state.settings["viewer"] or push.default_address()


_at_stop = {}  # debugger id -> lines for the stop hook to print


def say_at_stop(debugger, line):
    """Print line with the stop (a breakpoint or watchpoint callback's own
    output is not shown in LLDB 16)."""
    _at_stop.setdefault(debugger.GetID(), []).append(line)


class StopHook:
    """The plugin's stop hook: `gomap watch`'s queued changes and messages,
    then the auto-push of a snapshot to the viewer."""

    def __init__(self, target, extra_args, internal_dict):
        self.debugger = target.GetDebugger()

    def handle_stop(self, exe_ctx, stream):
        from . import watch

        watch.on_stop(self.debugger, stream)
        for line in _at_stop.pop(self.debugger.GetID(), []):
            stream.Print(line + "\n")
        if state.settings.get("auto-push"):
            try:
                from goroscope import push

                push.send(viewer_address(), snapshot_text(self.debugger)[1])
            except Exception as e:  # noqa: BLE001 - a failed push never disturbs the stop
                stream.Print(f"goroscope: auto-push: {e}\n")
        return True


def install(debugger):
    ci = debugger.HandleCommand
    for name, cls in (("goroutines", "Goroutines"), ("goroutine", "Goroutine"), ("gomap", "Gomap"),
                      ("deadlocks", "Deadlocks"), ("goroscope", "Goroscope")):
        ci(f"command script add -o -c goroscope_lldb.commands.{cls} {name}")
    debugger.GetCommandInterpreter().HandleCommand(
        "target stop-hook add -P goroscope_lldb.commands.StopHook", lldb.SBCommandReturnObject())
