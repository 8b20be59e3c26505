"""commands: the LLDB commands, the same names, flags and text as in GDB.

    goroutines [Delve's flags]     goroutine ID [CMD] | goroutine clear
    gomap info|buckets|find EXPR   deadlocks       goroscope snapshot FILE | view [ADDR]

Errors are one line (`goroscope: ...`) in the command's result, never a
traceback. `goroutine ID` needs the OperatingSystem plugin (osplugin.py), which
makes every goroutine an LLDB thread; the command selects that thread.
"""

import shlex

import lldb

from goroscope import deadlock, maps, snapshot
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
    rt = state.runtime(debugger)
    try:
        return rt.u(evaluate_address(debugger, expr, "chan") + rt.L.const("Chan.hchan"), 8)
    except GoroscopeError:
        raise


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
            if o == gcmd.Options():
                return list(gcmd.fast_listing(rt, sym, rt.target.now_ns()))
            chan = chan_address(debugger, o.chan) if o.chan else None
            views = gcmd.select(rt, sym, gcmd.collect(rt, rt.target.now_ns()), o, chan)
            if o.exec_cmd:
                out = []
                for v in views:
                    out.append(gcmd.line(rt, sym, v, o))
                    out.extend(run_in(debugger, v.goid, o.exec_cmd))
                return out
            return list(gcmd.render(rt, sym, views, o))

        _run(debugger, result, body)


def run_in(debugger, goid, cmd):
    """Run cmd with goroutine goid's thread selected (the OS plugin's), then restore."""
    from .target import OS_THREAD_BASE

    p = debugger.GetSelectedTarget().GetProcess()
    prev = p.GetSelectedThread()
    th = p.GetThreadByID(OS_THREAD_BASE + goid)
    if not th.IsValid():
        rt = state.runtime(debugger)
        addr = rt.findg(goid)
        if addr is None:
            raise GoroscopeError(f"no goroutine {goid}")
        # running: its worker's OS thread
        for w in rt.workers():
            if w["curg"] == addr:
                th = p.GetThreadByID(w["procid"])
        if not th.IsValid():
            raise GoroscopeError(f"goroutine {goid} has no thread (is the goroscope OS plugin "
                                 f"loaded? `goroscope os-plugin on`)")
    ci = debugger.GetCommandInterpreter()
    sink = lldb.SBCommandReturnObject()
    ci.HandleCommand(f"thread select {th.GetIndexID()}", sink)
    out = lldb.SBCommandReturnObject()
    try:
        ci.HandleCommand(cmd, out)
    finally:
        if prev.IsValid():
            ci.HandleCommand(f"thread select {prev.GetIndexID()}", sink)
    text = (out.GetOutput() or "") + (out.GetError() or "")
    return text.rstrip("\n").split("\n") if text else []


class Goroutine:
    def __init__(self, debugger, d):
        pass

    def get_short_help(self):
        return "goroutine ID [CMD]: select goroutine ID's thread, or run CMD in its context."

    def __call__(self, debugger, command, exe_ctx, result):
        def body():
            from .target import OS_THREAD_BASE

            argv = command.strip().split(None, 1)
            if not argv:
                th = debugger.GetSelectedTarget().GetProcess().GetSelectedThread()
                tid = th.GetThreadID()
                return [f"goroutine {tid - OS_THREAD_BASE}" if tid >= OS_THREAD_BASE
                        else "no goroutine selected (an OS thread is)"]
            try:
                goid = int(argv[0], 0)
            except ValueError:
                raise GoroscopeError(f"'{argv[0]}' is not a goroutine id") from None
            rt = state.runtime(debugger)
            if rt.findg(goid) is None:
                raise GoroscopeError(f"no goroutine {goid}")
            if len(argv) > 1:
                return run_in(debugger, goid, argv[1])
            p = debugger.GetSelectedTarget().GetProcess()
            th = p.GetThreadByID(OS_THREAD_BASE + goid)
            if not th.IsValid():
                raise GoroscopeError(f"goroutine {goid} has no thread (is the goroscope OS "
                                     f"plugin loaded? `goroscope os-plugin on`)")
            out = lldb.SBCommandReturnObject()
            debugger.GetCommandInterpreter().HandleCommand(f"thread select {th.GetIndexID()}", out)
            return [f"[Switching to goroutine {goid}]"] + \
                (out.GetOutput() or "").rstrip("\n").split("\n")

        _run(debugger, result, body)


class Gomap:
    def __init__(self, debugger, d):
        pass

    def get_short_help(self):
        return "gomap info|buckets|find EXPR ...: a goro::Map's internals."

    def __call__(self, debugger, command, exe_ctx, result):
        def body():
            argv = shlex.split(command)
            if not argv or argv[0] not in ("info", "buckets", "find"):
                raise GoroscopeError("gomap info|buckets|find EXPR ... (see help gomap)")
            rt = state.runtime(debugger)
            sub, rest = argv[0], argv[1:]
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
                "goroscope view [ADDR] | goroscope os-plugin on|off")

    def __call__(self, debugger, command, exe_ctx, result):
        def body():
            argv = shlex.split(command)
            if not argv:
                raise GoroscopeError(self.get_short_help())
            if argv[0] == "os-plugin":
                from . import osplugin

                return [osplugin.enable(debugger, argv[1:] != ["off"])]
            if argv[0] not in ("snapshot", "view"):
                raise GoroscopeError(self.get_short_help())
            frames, map_name, limit, rest = True, None, state.settings["bucket-limit"], []
            i = 1
            while i < len(argv):
                a = argv[i]
                if a == "--no-frames":
                    frames = False
                elif a == "--map" and i + 1 < len(argv):
                    map_name = argv[i + 1]
                    i += 1
                elif a == "--buckets" and i + 1 < len(argv):
                    limit = int(argv[i + 1])
                    i += 1
                else:
                    rest.append(a)
                i += 1
            rt = state.runtime(debugger)
            pid = debugger.GetSelectedTarget().GetProcess().GetProcessID()
            doc = snapshot.build(rt, state.symbolizer(debugger), "goroscope-lldb", pid, frames,
                                 limit, map_name)
            text = snapshot.dumps(doc)
            if argv[0] == "view":
                from goroscope import push

                addr = rest[0] if rest else (state.settings["viewer"] or push.default_address())
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


def install(debugger):
    ci = debugger.HandleCommand
    for name, cls in (("goroutines", "Goroutines"), ("goroutine", "Goroutine"), ("gomap", "Gomap"),
                      ("deadlocks", "Deadlocks"), ("goroscope", "Goroscope")):
        ci(f"command script add -o -c goroscope_lldb.commands.{cls} {name}")
