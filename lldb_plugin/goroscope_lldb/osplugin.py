"""osplugin: the LLDB OperatingSystem plugin that makes goroutines threads.

`thread list` shows every parked goroutine as a thread (tid = 2^48 + goid,
named with its wait reason); `thread select N` + `bt` / `frame variable`
unwind it from the registers saved in its G record (G.sched: rip, rsp, rbp,
rbx, r12-r15). Running goroutines stay on their OS threads (LLDB keeps the
real threads as they are). Enabled with `goroscope os-plugin on`, which sets
target.process.python-os-plugin-path to this file.

At most `goroscope os-plugin limit N` goroutines (default 1024, the lowest
goids) become threads, as Delve's DAP server caps its threads response at
1024 goroutines: LLDB builds a thread object, and lldb-dap a UI row, per
thread at every stop, which for 100k goroutines took 190 s a stop here
(1024: see docs/performance.md). `goroutines` always lists every goroutine,
and `goroutine ID CMD` reaches any of them.
"""

import os
import struct


OS_THREAD_BASE = 1 << 48
_REGS = [("rax", 0), ("rbx", 1), ("rcx", 2), ("rdx", 3), ("rsi", 4), ("rdi", 5), ("rbp", 6),
         ("rsp", 7), ("r8", 8), ("r9", 9), ("r10", 10), ("r11", 11), ("r12", 12), ("r13", 13),
         ("r14", 14), ("r15", 15), ("rip", 16), ("rflags", None), ("cs", None), ("fs", None),
         ("gs", None), ("ss", None), ("ds", None), ("es", None)]


def enabled(debugger):
    """Is this file the target's OS plugin?"""
    out = lldb_return(debugger, "settings show target.process.python-os-plugin-path")
    return os.path.abspath(__file__) in out


def lldb_return(debugger, command):
    import lldb

    r = lldb.SBCommandReturnObject()
    debugger.GetCommandInterpreter().HandleCommand(command, r)
    return r.GetOutput() or ""


def enable(debugger, on=True):
    path = os.path.abspath(__file__) if on else ""
    debugger.HandleCommand(f"settings set target.process.python-os-plugin-path {path}"
                           if on else "settings clear target.process.python-os-plugin-path")
    return f"goroscope OS plugin {'on' if on else 'off'}"


class OperatingSystemPlugIn:
    def __init__(self, process):
        self.process = process
        self.threads = None

    def _dbg(self):
        import sys

        here = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
        for p in (here, os.path.join(os.path.dirname(here), "python")):
            if p not in sys.path:
                sys.path.insert(0, p)
        from goroscope_lldb import state

        return state.dbg(self.process.GetTarget().GetDebugger())

    def get_thread_info(self):
        """The lowest `limit` goids among the goroutines not running, streamed
        (a heap of `limit` entries, not 100k decoded records)."""
        import heapq

        try:
            dbg = self._dbg()
            from goroscope.goroutines import name_suffix
            from goroscope.runtime import cname
            rt = dbg.runtime()
            ix = rt.Grec.index
            gi, si, wi, ni = ix["goid"], ix["atomicstatus"], ix["waitreason"], ix["name"]
            running, waiting = rt.running, rt.waiting
            parked = ((t[gi], t[si], t[wi], t[ni]) for _a, t in rt.all_g_raw()
                      if t[si] != running)
            out = []
            for goid, st, wr, nm in heapq.nsmallest(dbg.settings["os-plugin-limit"], parked):
                reason = rt.reason_name(wr) if st == waiting else rt.status_name(st)
                name = f"goroutine {goid}{name_suffix(cname(nm))} [{reason}]"
                # (no register_data_addr: LLDB would read a register block at
                # that address; get_register_data builds it from G.sched)
                out.append({"tid": OS_THREAD_BASE + goid, "name": name,
                            "queue": "", "state": "stopped", "stop_reason": "none"})
        except Exception:  # noqa: BLE001 - no runtime (yet): no goroutine threads
            return []
        self.threads = out
        return out

    def create_thread(self, tid, context):
        return None

    def get_register_info(self):
        regs = []
        for i, (name, dwarf) in enumerate(_REGS):
            r = {"name": name, "bitsize": 64, "offset": i * 8, "encoding": "uint",
                 "format": "hex", "set": 0}
            if dwarf is not None:
                r["dwarf"] = dwarf
                r["gcc"] = dwarf
            if name == "rip":
                r["generic"] = "pc"
            elif name == "rsp":
                r["generic"] = "sp"
            elif name == "rbp":
                r["generic"] = "fp"
            regs.append(r)
        return {"sets": ["General Purpose Registers"], "registers": regs}

    def get_register_data(self, tid):
        goid = tid - OS_THREAD_BASE
        rt = self._dbg().runtime()
        addr = rt.findg(goid)
        vals = dict.fromkeys((n for n, _ in _REGS), 0)
        if addr is not None:
            g = rt.g_at(addr)
            vals.update(rip=g.sched_pc, rsp=g.sched_sp, rbp=g.sched_bp, rbx=g.sched_rbx,
                        r12=g.sched_r12, r13=g.sched_r13, r14=g.sched_r14, r15=g.sched_r15)
        return struct.pack("<" + "Q" * len(_REGS), *(vals[n] for n, _ in _REGS))
