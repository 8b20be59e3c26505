"""debugger: goroscope.debugger.Debugger over GDB's Python API.

GdbTarget (target.py) reads memory and symbols; this adds the verbs the
core's commands use: expressions, the goroutine selection (through the
gdb.unwinder in unwinder.py: no register is ever written), commands run in
a goroutine's context, hardware watchpoints, settings (gdb.Parameter), and
output. One GdbDebugger per GDB session (state.DBG).
"""

import sys

import gdb

from goroscope import settings as settingsmod
from goroscope.debugger import Debugger, Value
from goroscope.errors import GoroscopeError

from . import unwinder
from .target import GdbTarget, connection_type

_INTEGER = (gdb.TYPE_CODE_INT, gdb.TYPE_CODE_ENUM, gdb.TYPE_CODE_CHAR, gdb.TYPE_CODE_BOOL)
_CTYPE = {1: "unsigned char", 2: "unsigned short", 4: "unsigned int", 8: "unsigned long"}


class Watchpoint(gdb.Breakpoint):
    """A write watchpoint whose stop() asks the core (on_hit) whether to stop."""

    def __init__(self, addr, size, on_hit):
        super().__init__(f"*({_CTYPE[size]} *) {addr:#x}", gdb.BP_WATCHPOINT, gdb.WP_WRITE,
                         internal=False)
        self.on_hit = on_hit
        self.silent = True

    def stop(self):
        msg = self.on_hit()
        if msg:
            gdb.write(msg + "\n")
            return True
        return False


class GdbDebugger(GdbTarget, Debugger):
    name = "gdb"
    producer = "goroscope-gdb"

    def __init__(self):
        GdbTarget.__init__(self)
        Debugger.__init__(self, settingsmod.Settings("gdb"))
        self._objgen = 0
        self._bps = {}  # number -> Watchpoint

    # ---- process ------------------------------------------------------------

    def has_process(self):
        return connection_type() != ""

    def pid(self):
        return gdb.selected_inferior().pid

    def is_core(self):
        return connection_type() == "core"

    def stop_key(self):
        return self.generation()

    def program_key(self):
        return self._objgen

    def new_program(self):
        self._objgen += 1

    # ---- expressions --------------------------------------------------------

    def evaluate(self, expr):
        try:
            v = gdb.parse_and_eval(expr)
            t = v.type.strip_typedefs()
            address = int(v.address) if v.address is not None else None
            if t.code == gdb.TYPE_CODE_PTR:
                return Value(str(t), "pointer", int(v), address,
                             str(t.target().strip_typedefs()))
            if t.code in _INTEGER:
                return Value(str(t), "integer", int(v), address)
            return Value(str(t), "other", None, address)
        except gdb.error as e:
            raise GoroscopeError(str(e).rstrip(".")) from None

    # ---- goroutine selection ------------------------------------------------

    def selected_goroutine(self):
        sel = unwinder.selected()
        return sel.goid if sel is not None else None

    def _thread_of(self, rt, goid):
        """(None, regs) of a parked goroutine, (gdb thread, None) of a running one."""
        addr = rt.findg(goid)
        g = rt.g_at(addr)
        if g.atomicstatus == rt.running:
            for w in rt.workers():
                if w["curg"] == addr:
                    for th in gdb.selected_inferior().threads():
                        if (th.ptid[1] or th.ptid[0]) == w["procid"]:
                            return th, None
            raise GoroscopeError(f"goroutine {goid} is running but its thread is not known")
        return None, {"pc": g.sched_pc, "sp": g.sched_sp, "bp": g.sched_bp, "rbx": g.sched_rbx,
                      "r12": g.sched_r12, "r13": g.sched_r13, "r14": g.sched_r14,
                      "r15": g.sched_r15}

    def _select(self, rt, goid):
        th, regs = self._thread_of(rt, goid)
        if th is not None:
            unwinder.clear()
            th.switch()
            gdb.selected_frame()  # (raises if the thread has no frame)
            return f"thread {th.num}"
        unwinder.select(goid, regs)
        try:  # frame #1: the goroutine's own innermost frame
            f = gdb.newest_frame().older()
            if f is not None:
                f.select()
        except gdb.error:
            pass
        return None

    def select_goroutine(self, rt, goid):
        how = self._select(rt, goid)
        out = [f"[Switching to goroutine {goid}" + (f" on {how}" if how else "") + "]"]
        try:
            out += gdb.execute("frame", from_tty=False, to_string=True).rstrip("\n").split("\n")
        except gdb.error:
            pass
        return out

    def clear_goroutine(self):
        unwinder.clear()
        return ["goroutine selection cleared"]

    def run_in_goroutine(self, rt, goid, command):
        prev_sel = unwinder.selected()
        prev_thread = gdb.selected_thread()
        try:
            prev_level = gdb.selected_frame().level()
        except gdb.error:
            prev_level = None
        try:
            self._select(rt, goid)
            text = gdb.execute(command, from_tty=False, to_string=True)
        except gdb.error as e:
            raise GoroscopeError(str(e)) from None
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
        return text.rstrip("\n").split("\n") if text else []

    # ---- watchpoints ----------------------------------------------------------

    def arm_watchpoint(self, addr, size, on_hit):
        try:
            bp = Watchpoint(addr, size, on_hit)
        except gdb.error as e:
            raise GoroscopeError(f"gomap watch: {e}") from None
        self._bps[bp.number] = bp
        return bp.number

    def disarm_watchpoint(self, number):
        bp = self._bps.pop(number, None)
        if bp is not None and bp.is_valid():
            bp.delete()

    def watchpoint_alive(self, number):
        bp = self._bps.get(number)
        return bp is not None and bp.is_valid()

    def watchpoints_in_use(self):
        kinds = (gdb.BP_HARDWARE_WATCHPOINT, gdb.BP_READ_WATCHPOINT, gdb.BP_ACCESS_WATCHPOINT)
        return sum(1 for b in gdb.breakpoints() or ()
                   if b.is_valid() and b.enabled and b.type in kinds)

    # ---- output ---------------------------------------------------------------

    def announce(self, text):
        gdb.write(text + "\n", gdb.STDERR if text.startswith("goroscope:") else gdb.STDOUT)

    def progress(self, n):
        sys.stderr.write(f"\rgoroscope: {n} goroutines read...")
        sys.stderr.flush()
