"""measure_lldb: imported into lldb-16 by compare.py at many.cpp's ready() (or,
with GOROSCOPE_BENCH_SHAPE=mixed, at mixed.cpp's: mixed_measure.py); prints
one JSON line of timings (seconds) and memory (MiB) for the LLDB plugin's
commands (the twin of measure_gdb.py)."""

import json
import os
import statistics
import sys
import time

import lldb


def status(key):
    for line in open("/proc/self/status"):
        if line.startswith(key):
            return int(line.split()[1]) / 1024
    return 0.0


def __lldb_init_module(debugger, internal_dict):
    import goroscope_lldb.state as st

    ci = debugger.GetCommandInterpreter()
    t = debugger.GetSelectedTarget()

    def timed(cmd, n=1, _capture=True):  # (the output is always captured, then written)
        ts, out = [], ""
        for _ in range(n):
            st.reset()  # every run decodes from scratch, as after a stop
            f = t.GetProcess().GetSelectedThread().GetSelectedFrame()
            r = lldb.SBCommandReturnObject()
            t0 = time.perf_counter()
            ci.HandleCommand(cmd, lldb.SBExecutionContext(f), r)
            out = r.GetOutput() or ""
            sys.stdout.write(out)  # to a pipe, as a user's terminal would take it
            ts.append(time.perf_counter() - t0)
            if not r.Succeeded():
                raise SystemExit(f"{cmd}: {r.GetError()}")
        return statistics.median(ts), out

    if os.environ.get("GOROSCOPE_BENCH_SHAPE") == "mixed":
        sys.dont_write_bytecode = True
        import mixed_measure  # (LLDB put this file's directory on sys.path)

        print("MEASURE " + json.dumps(mixed_measure.measure(timed)))
        return
    res = {"threads": t.GetProcess().GetNumThreads()}
    rss0, hwm0 = status("VmRSS"), status("VmHWM")
    res["goroutines_first_s"], _ = timed("goroutines")
    res["goroutines_s"], out = timed("goroutines", 5)
    res["goroutines_lines"] = out.count("\n")
    res["lldb_rss_before_mib"] = rss0
    res["lldb_peak_mib"] = max(status("VmHWM"), hwm0)
    res["goroutines_mem_mib"] = max(0.0, status("VmHWM") - rss0)
    rt = st.runtime(debugger)
    goids = sorted(g.goid for _, g in rt.all_g())
    for name, goid in (("first", goids[1]), ("middle", goids[len(goids) // 2]),
                       ("last", goids[-1])):
        res[f"goroutine_bt_{name}_s"], _ = timed(f"goroutine {goid} bt 1", 5)
    f = t.GetProcess().GetSelectedThread().GetSelectedFrame()
    while f.IsValid() and not f.FindVariable("big").IsValid():
        f = t.GetProcess().GetSelectedThread().GetFrameAtIndex(f.GetFrameID() + 1)
    if f.IsValid():
        t.GetProcess().GetSelectedThread().SetSelectedFrame(f.GetFrameID())
    res["gomap_info_s"], _ = timed("gomap info big", 3)
    print("MEASURE " + json.dumps(res))
