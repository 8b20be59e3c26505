"""debugger: goroscope.debugger.Debugger over LLDB's SB API.

LldbTarget (target.py) reads memory and symbols; this adds the verbs the
core's commands use: expressions, the goroutine selection (goroutines are
LLDB threads through the OperatingSystem plugin, osplugin.py), commands run
in a goroutine's context, hardware watchpoints (SB watchpoints with a
Python callback), settings, and output. One LldbDebugger per SBDebugger
(state.dbg).

Output at a stop: a watchpoint's or breakpoint's callback cannot print in
LLDB 16 (its output is dropped), so announce() queues the line and the
plugin's stop hook (commands.StopHook) prints it with the stop.
"""

import os
import re

import lldb

from goroscope import goroutines as gcmd
from goroscope import settings as settingsmod
from goroscope import stacks
from goroscope.debugger import Debugger, Value
from goroscope.errors import GoroscopeError

from .target import OS_THREAD_BASE, LldbTarget

_USER_EXPR = re.compile(r"<user expression \d+>:\d+:\d+: (?:error: )?(.*)")


class LldbDebugger(LldbTarget, Debugger):
    name = "lldb"
    producer = "goroscope-lldb"
    own_bt = False  # LLDB 16 misplaces GCC's inlined calls: goroutines.bt_lines

    def __init__(self, debugger):
        LldbTarget.__init__(self, debugger)
        Debugger.__init__(self, settingsmod.Settings("lldb"))
        self.hits = {}  # watchpoint id -> on_hit
        self.said = []  # lines for the stop hook to print
        self._os_reloaded = set()  # pids whose OS plugin was loaded again (see goroutine_thread)

    # ---- process ------------------------------------------------------------

    def has_process(self):
        p = self.process()
        return p.IsValid() and p.GetState() != lldb.eStateInvalid

    def pid(self):
        return self.process().GetProcessID()

    def stop_key(self):
        p = self.process()
        return (p.GetProcessID(), p.GetStopID())

    def program_key(self):
        return self.target().GetExecutable().fullpath

    def at_new_stop(self):
        self.bind(self.process())

    def frame(self):
        return self.process().GetSelectedThread().GetSelectedFrame()

    # ---- expressions --------------------------------------------------------

    def evaluate(self, expr):
        f = self.frame()
        v = f.EvaluateExpression(expr) if f.IsValid() else self.target().EvaluateExpression(expr)
        if not v.IsValid() or not v.GetError().Success():
            # "expression failed to parse:\nerror: <user expression 0>:1:1: use of
            # undeclared identifier 'x'\n...": the first diagnostic is the message.
            text = v.GetError().GetCString() or ""
            m = _USER_EXPR.search(text)
            first = text.strip().split("\n")[0].removeprefix("error: ")
            raise GoroscopeError(m.group(1) if m else first or f"cannot evaluate '{expr}'")
        t = v.GetType().GetCanonicalType()
        a = v.GetLoadAddress()
        address = None if a == lldb.LLDB_INVALID_ADDRESS else a
        if t.IsPointerType():
            return Value(t.GetName(), "pointer", v.GetValueAsUnsigned(), address,
                         t.GetPointeeType().GetCanonicalType().GetName())
        if t.GetTypeFlags() & (lldb.eTypeIsInteger | lldb.eTypeIsEnumeration):
            return Value(t.GetName(), "integer", v.GetValueAsUnsigned(), address)
        return Value(t.GetName(), "other", None, address)

    # ---- goroutine selection ------------------------------------------------

    def selected_goroutine(self):
        tid = self.process().GetSelectedThread().GetThreadID()
        return tid - OS_THREAD_BASE if tid >= OS_THREAD_BASE else None

    def goroutine_thread(self, rt, goid):
        """The LLDB thread showing goroutine goid: the OS plugin's for a parked
        one, its worker's OS thread for a running one; None past the OS
        plugin's limit."""
        p = self.process()
        th = p.GetThreadByID(OS_THREAD_BASE + goid)
        if not th.IsValid() and self.os_plugin_reload():
            th = p.GetThreadByID(OS_THREAD_BASE + goid)
        if th.IsValid():
            return th
        addr = rt.findg(goid)
        for w in rt.workers():
            if w["curg"] == addr:
                th = p.GetThreadByID(w["procid"])
                if th.IsValid():
                    return th
        return None

    def no_thread(self, goid):
        return GoroscopeError(
            f"goroutine {goid} is not an LLDB thread (the OS plugin shows the first "
            f"{self.settings['os-plugin-limit']} goroutines: `goroscope os-plugin limit N`, or "
            f"`goroscope os-plugin on`); `goroutine {goid} bt` works for any goroutine")

    def select_goroutine(self, rt, goid):
        th = self.goroutine_thread(rt, goid)
        if th is None:
            raise self.no_thread(goid)
        self.process().SetSelectedThread(th)
        st = lldb.SBStream()
        th.GetStatus(st)
        return [f"[Switching to goroutine {goid}]"] + (st.GetData() or "").rstrip("\n").split("\n")

    def clear_goroutine(self):
        """Back to the thread that stopped (GDB: the unwinder's selection ends)."""
        p = self.process()
        for th in p:
            if th.GetThreadID() < OS_THREAD_BASE and \
                    th.GetStopReason() not in (lldb.eStopReasonNone, lldb.eStopReasonInvalid):
                p.SetSelectedThread(th)
                return [f"[Switching to thread {th.GetIndexID()}]"]
        return ["goroutine selection cleared"]

    def run_in_goroutine(self, rt, goid, command):
        p = self.process()
        prev = p.GetSelectedThread()
        th = self.goroutine_thread(rt, goid)
        if th is None:
            raise self.no_thread(goid)
        command, note = self.frame_number(rt, goid, th, command)
        # Inside a script command, nested HandleCommand calls run in the outer
        # command's execution context (LLDB keeps an override stack), so
        # selecting the thread alone is not enough: the command gets the
        # thread's context.
        ci = self.debugger.GetCommandInterpreter()
        p.SetSelectedThread(th)
        out = lldb.SBCommandReturnObject()
        try:
            ci.HandleCommand(command, lldb.SBExecutionContext(th.GetSelectedFrame()), out)
        finally:
            if prev.IsValid():
                p.SetSelectedThread(prev)
        text = (out.GetOutput() or "") + (out.GetError() or "")
        return (text.rstrip("\n").split("\n") if text else []) + ([note] if note else [])

    @staticmethod
    def lldb_indexes(th, ours):
        """Per frame of goroutines.bt_frames, the index of LLDB's frame for
        it: (exact index or None, the index of its group's outermost frame or
        None). A group is a physical frame with its inlined calls, or a tail
        call (an artificial frame); LLDB's group of the same number is ours
        frame by frame when both have as many frames, else matched by name
        (LLDB may lack an inlined call, or name a lambda `operator()`)."""
        groups = [[]]
        for i in range(min(th.GetNumFrames(), 1 << 14)):
            f = th.GetFrameAtIndex(i)
            groups[-1].append((i, stacks.elide_params(f.GetDisplayFunctionName() or "")))
            if not f.IsInlined():
                groups.append([])
        ours_by = {}
        for j, (key, _) in enumerate(ours):
            ours_by.setdefault(key, []).append(j)
        out = [(None, None)] * len(ours)
        for key, js in ours_by.items():
            g = groups[key] if key < len(groups) else []
            if not g:
                continue
            for pos, j in enumerate(js):
                exact = None
                if len(g) == len(js):
                    exact = g[pos][0]
                else:
                    want = stacks.elide_params(ours[j][1].function)
                    exact = next((i for i, name in g if name == want), None)
                out[j] = (exact, g[-1][0])
        return out

    def bt_decor(self, v, frames):
        th = self.goroutine_thread(self.runtime(), v.goid)
        if th is None:
            return None, []
        head = f"* thread #{th.GetIndexID()}, name = '{th.GetName() or ''}'"
        args = []
        for exact, _ in self.lldb_indexes(th, frames):
            if exact is None:
                args.append(None)
                continue
            vals = th.GetFrameAtIndex(exact).GetVariables(True, False, False, True)
            parts = []
            for k in range(vals.GetSize()):
                val = vals.GetValueAtIndex(k)
                text = val.GetSummary() or val.GetValue()
                if text is None:
                    text = "<unavailable>" if val.GetError().Fail() else "..."
                parts.append(f"{val.GetName() or '(null)'}={text}")
            args.append(", ".join(parts) or None)  # none read: the name's own types
        return head, args

    def frame_number(self, rt, goid, th, command):
        """`frame select K` / `f K` with K a number of `goroutine N bt`
        (goroscope's frames) made LLDB's (lldb_indexes: the same frame, else
        its group's outermost)."""
        argv = command.split()
        if argv[:2] == ["frame", "select"] and len(argv) == 3:
            head, k = "frame select", argv[2]
        elif argv[:1] in (["f"], ["frame"]) and len(argv) == 2:
            head, k = argv[0], argv[1]
        else:
            return command, None
        if not k.isdigit():
            return command, None
        ours = gcmd.bt_frames(rt, self.symbolizer(),
                              gcmd.collect(rt, None, only=rt.findg(goid))[0])
        if int(k) >= len(ours):
            raise GoroscopeError(f"goroutine {goid} has {len(ours)} frames "
                                 f"(`goroutine {goid} bt`)")
        exact, outer = self.lldb_indexes(th, ours)[int(k)]
        if exact is None and outer is None:
            raise GoroscopeError(f"LLDB's walk of goroutine {goid} stops before its "
                                 f"frame {k}")
        i = exact if exact is not None else outer
        # LLDB's frame may sit elsewhere (it lacks an inlined call, or reads
        # another line-table row): say where goroscope's frame K is.
        want = ours[int(k)][1]
        le = th.GetFrameAtIndex(i).GetLineEntry()
        have = (le.GetFileSpec().GetFilename(), le.GetLine()) if le.IsValid() else ("", 0)
        note = None
        if want.file and (os.path.basename(want.file), want.line) != have:
            note = (f"goroscope: frame {k} of `goroutine {goid} bt` is "
                    f"{stacks.elide_params(want.function)} at "
                    f"{os.path.basename(want.file)}:{want.line}; LLDB's frame #{i} for it "
                    f"reads {have[0] or '?'}:{have[1]}")
        return f"{head} {i}", note

    # ---- watchpoints --------------------------------------------------------

    def arm_watchpoint(self, addr, size, on_hit):
        t = self.target()
        err = lldb.SBError()
        wp = t.WatchAddress(addr, size, False, True, err)
        if not err.Success() or not wp.IsValid():
            raise GoroscopeError(f"gomap watch: LLDB could not set a {size}-byte write "
                                 f"watchpoint at {addr:#x}: {err.GetCString() or 'unsupported'}")
        n = wp.GetID()
        self.hits[n] = on_hit
        # (a one-liner that returns the callback's value: LLDB 16's `-F`
        # wrapper drops it, so every hit would stop)
        out = lldb.SBCommandReturnObject()
        self.debugger.GetCommandInterpreter().HandleCommand(
            f"watchpoint command add -s python -o 'return goroscope_lldb.debugger."
            f"watch_callback(frame, wp, internal_dict)' {n}", out)
        if not out.Succeeded():
            t.DeleteWatchpoint(n)
            raise GoroscopeError(f"gomap watch: {out.GetError().strip()}")
        return n

    def disarm_watchpoint(self, number):
        if self.hits.pop(number, None) is not None:
            self.target().DeleteWatchpoint(number)

    def watchpoint_alive(self, number):
        return self.target().FindWatchpointByID(number).IsValid()

    def watchpoints_in_use(self):
        t = self.target()
        return sum(1 for i in range(t.GetNumWatchpoints())
                   if t.GetWatchpointAtIndex(i).IsEnabled())

    # ---- output and LLDB-only -------------------------------------------------

    def announce(self, text):
        self.said.append(text)

    def os_plugin_reload(self):
        """LLDB 16 loads the OperatingSystem plugin when a process is launched,
        not when one is attached (`process attach`, `lldb -p`): set it again,
        once per process, when a goroutine's thread is missing."""
        from . import osplugin

        pid = self.pid()
        if pid in self._os_reloaded or not osplugin.enabled(self.debugger):
            return False
        self._os_reloaded.add(pid)
        osplugin.enable(self.debugger, True)
        return True

    def os_plugin(self, on=None, limit=None):
        from . import osplugin

        return osplugin.enable(self.debugger, on)


def watch_callback(frame, wp, internal_dict):
    """A map watchpoint fired: True stops (the message printed with the stop), False continues."""
    from . import state

    dbg = state.dbg(frame.GetThread().GetProcess().GetTarget().GetDebugger())
    on_hit = dbg.hits.get(wp.GetID())
    if on_hit is None:
        return True  # not ours (any more): a plain stop
    msg = on_hit()
    if msg:
        dbg.announce(msg)
        return True
    return False
