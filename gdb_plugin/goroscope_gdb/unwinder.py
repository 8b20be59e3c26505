"""unwinder: `goroutine N` without writing registers.

While a parked goroutine is selected, this gdb.unwinder.Unwinder unwinds
frame #0 of the thread that was selected into the goroutine's saved
registers (G.sched: pc, sp, bp, rbx, r12-r15): frame #1 and up are then
the goroutine's stack, built by GDB's own CFI unwinding, so `bt`,
`frame N`, `up`/`down` and `info locals` work on it, on live processes
and cores alike (folly's fiber unwinder works the same way; Go's
runtime-gdb.py instead rewrites $pc/$sp, which fails on cores). Frame #0
stays the thread's own frame: GDB always reads it from the thread's real
registers. The selection ends at `goroutine clear` or when the inferior
resumes.
"""

import gdb
import gdb.unwinder

_GOBUF = ("rbx", "r12", "r13", "r14", "r15")


class FrameId:
    def __init__(self, sp, pc):
        self.sp = sp
        self.pc = pc


class Selection:
    def __init__(self, goid, regs, ptid):
        self.goid = goid
        self.regs = regs  # pc, sp, bp, rbx, r12..r15 of the goroutine
        self.ptid = ptid  # the thread whose frame #0 leads into it


class GoroutineUnwinder(gdb.unwinder.Unwinder):
    def __init__(self):
        super().__init__("goroscope-goroutine")
        self.selection = None
        self._ptr = None

    def ptr(self, v):
        if self._ptr is None:
            self._ptr = gdb.lookup_type("void").pointer()
        return gdb.Value(v).cast(self._ptr)

    def __call__(self, pending_frame):
        sel = self.selection
        if sel is None or pending_frame.level() != 0:
            return None
        try:
            if gdb.selected_thread().ptid != sel.ptid:
                return None
        except gdb.error:
            return None
        sp = pending_frame.read_register("rsp")
        pc = pending_frame.read_register("rip")
        info = pending_frame.create_unwind_info(FrameId(sp, pc))
        r = sel.regs
        info.add_saved_register("rip", self.ptr(r["pc"]))
        info.add_saved_register("rsp", self.ptr(r["sp"]))
        info.add_saved_register("rbp", self.ptr(r["bp"]))
        for name in _GOBUF:
            if name in r:
                info.add_saved_register(name, self.ptr(r[name]))
        return info


_unwinder = GoroutineUnwinder()


def select(goid, regs):
    _unwinder.selection = Selection(goid, regs, gdb.selected_thread().ptid)
    gdb.invalidate_cached_frames()


def clear():
    if _unwinder.selection is not None:
        _unwinder.selection = None
        gdb.invalidate_cached_frames()


def selected():
    return _unwinder.selection


def install():
    gdb.unwinder.register_unwinder(None, _unwinder, replace=True)
    from . import state

    state.listeners.append(lambda: setattr(_unwinder, "selection", None))
