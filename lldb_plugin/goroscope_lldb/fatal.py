"""fatal: the LLDB side of goroscope.fatal: a breakpoint on the first
instruction of goroscope_fatal (breakpoint name `goroscope_fatal`). Set on the current
target, or on LLDB's dummy target when the plugin is imported before any
target exists (~/.lldbinit): LLDB copies the dummy target's breakpoints into
every new target. `goroscope set stop-on-fatal off` makes it continue."""

import lldb

from goroscope import fatal as core

from . import state

NAME = "goroscope_fatal"  # (breakpoint names take no "-")


def install(debugger):
    t = debugger.GetSelectedTarget()
    if not t.IsValid():
        t = debugger.GetDummyTarget()
    if any(t.GetBreakpointAtIndex(i).MatchesName(NAME) for i in range(t.GetNumBreakpoints())):
        return
    # -K false: on the first instruction, the arguments still in rdi and esi
    # (-D: LLDB's dummy target when there is no target yet)
    out = lldb.SBCommandReturnObject()
    dummy = "" if debugger.GetSelectedTarget().IsValid() else "-D "
    debugger.GetCommandInterpreter().HandleCommand(
        f"breakpoint set {dummy}-n {core.SYMBOL} -K false -N {NAME}", out)
    for i in range(t.GetNumBreakpoints()):
        bp = t.GetBreakpointAtIndex(i)
        if bp.MatchesName(NAME):
            bp.SetScriptCallbackBody(
                "return goroscope_lldb.fatal.hit(frame, bp_loc, internal_dict)")


def hit(frame, bp_loc, internal_dict):
    debugger = frame.GetThread().GetProcess().GetTarget().GetDebugger()
    dbg = state.dbg(debugger)
    if not dbg.settings["stop-on-fatal"]:
        return False
    try:
        msg = frame.FindRegister("rdi").GetValueAsUnsigned()
        panic = frame.FindRegister("esi").GetValueAsUnsigned() & 0xFFFFFFFF
        dbg.invalidate()
        line = core.stop_message(dbg.runtime(), msg, panic)
    except Exception as e:  # noqa: BLE001 - the stop itself must happen
        line = f"goroscope: stopped at a fatal error ({e})"
    dbg.announce(line)
    return True
