"""fatal: the GDB side of goroscope.fatal: a breakpoint on the first
instruction of goroscope_fatal in every program linked with libgoro (set when
an objfile defining it is loaded; the spec `*goroscope_fatal` is re-resolved
when a PIE is relocated). `set goroscope stop-on-fatal off` disables it."""

import gdb

from goroscope import fatal as core

from . import state

_bp = None


class FatalBreakpoint(gdb.Breakpoint):
    def __init__(self):
        super().__init__(f"*{core.SYMBOL}", gdb.BP_BREAKPOINT, internal=True)
        self.silent = True

    def stop(self):
        if not state.DBG.settings["stop-on-fatal"]:
            return False
        try:
            f = gdb.selected_frame()
            msg = int(f.read_register("rdi"))
            panic = int(f.read_register("rsi")) & 0xFFFFFFFF
            state.reset()
            gdb.write(core.stop_message(state.runtime(), msg, panic) + "\n")
        except Exception as e:  # noqa: BLE001 - the stop itself must happen
            gdb.write(f"goroscope: stopped at a fatal error ({e})\n")
        return True


def arm(_event=None):
    global _bp
    if _bp is not None and _bp.is_valid():
        return
    try:
        if gdb.lookup_minimal_symbol(core.SYMBOL) is None:
            return
    except AttributeError:  # GDB before 14 has no lookup_minimal_symbol
        try:
            gdb.parse_and_eval(f"(void *) &{core.SYMBOL}")
        except gdb.error:
            return
    try:
        _bp = FatalBreakpoint()
    except gdb.error:
        _bp = None


def install():
    gdb.events.new_objfile.connect(arm)
    arm()
