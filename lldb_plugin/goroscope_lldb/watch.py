"""watch: `gomap watch` in LLDB: the core's map watches (goroscope.watch) on
SB watchpoints (SBTarget.WatchAddress, write-only, the CPU's debug
registers), each with a Python callback (`watchpoint command add -F`) that
asks the core whether to stop: it returns False to continue silently.

The core queues watchpoint changes (re-arming --key on the slot the key moved
to) instead of making them inside the callback; the plugin's stop hook applies
them once the process is stopped, and prints the callback's message with
the stop (a callback's own output is not shown in LLDB 16). LLDB 16 on x86-64 Linux supports write
watchpoints of 1, 2, 4 and 8 aligned bytes, live and through lldb-server (a
core file has none: arming says so).
"""

import lldb

from goroscope import watch as core
from goroscope.errors import GoroscopeError

from . import state

_sessions = {}  # debugger.GetID() -> Watches


class LldbBackend(core.Backend):
    def __init__(self, debugger):
        self.debugger = debugger
        self.wps = {}  # id(MapWatch) -> watchpoint id
        self.by_wp = {}  # watchpoint id -> MapWatch
        self.said = []  # messages for the stop hook to print with the stop

    def target(self):
        return self.debugger.GetSelectedTarget()

    def invalidate(self):
        state.reset()

    def runtime(self):
        return state.runtime(self.debugger)

    def in_use(self):
        t = self.target()
        return sum(1 for i in range(t.GetNumWatchpoints())
                   if t.GetWatchpointAtIndex(i).IsEnabled())

    def create(self, w, addr, size):
        t = self.target()
        if state.target(self.debugger).is_core():
            raise GoroscopeError("gomap watch: a core file cannot run: watchpoints need a live "
                                 "process")
        err = lldb.SBError()
        wp = t.WatchAddress(addr, size, False, True, err)
        if not err.Success() or not wp.IsValid():
            raise GoroscopeError(f"gomap watch {w.what}: LLDB could not set a {size}-byte write "
                                 f"watchpoint at {addr:#x}: {err.GetCString() or 'unsupported'}")
        n = wp.GetID()
        self.wps[id(w)] = n
        self.by_wp[n] = w
        # (a one-liner that returns the callback's value: LLDB 16's `-F`
        # wrapper drops it, so every hit would stop)
        out = lldb.SBCommandReturnObject()
        self.debugger.GetCommandInterpreter().HandleCommand(
            f"watchpoint command add -s python -o 'return goroscope_lldb.watch.callback(frame, "
            f"wp, internal_dict)' {n}", out)
        if not out.Succeeded():
            t.DeleteWatchpoint(n)
            raise GoroscopeError(f"gomap watch: {out.GetError().strip()}")
        return n

    def delete(self, w):
        n = self.wps.pop(id(w), None)
        if n is not None:
            self.by_wp.pop(n, None)
            self.target().DeleteWatchpoint(n)

    def say(self, text):
        self.said.append(text)


def watches(debugger):
    ws = _sessions.get(debugger.GetID())
    if ws is None:
        ws = _sessions[debugger.GetID()] = core.Watches(LldbBackend(debugger))
    return ws


def callback(frame, wp, internal_dict):
    """The watchpoint callback: True stops, False continues."""
    debugger = frame.GetThread().GetProcess().GetTarget().GetDebugger()
    ws = _sessions.get(debugger.GetID())
    w = ws.backend.by_wp.get(wp.GetID()) if ws else None
    if w is None:
        return True  # not ours (any more): a plain stop
    msg = ws.hit(w)
    if msg:
        ws.backend.said.append(msg)
        return True
    return False


def on_stop(debugger, stream):
    """From the plugin's stop hook: apply queued changes, print the messages."""
    ws = _sessions.get(debugger.GetID())
    if ws is not None:
        ws.apply_pending()
        for text in ws.backend.said:
            stream.Print(text + "\n")
        ws.backend.said.clear()
