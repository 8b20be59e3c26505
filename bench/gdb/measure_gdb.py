"""measure_gdb: run inside GDB by compare.py at many.cpp's ready() (or, with
GOROSCOPE_BENCH_SHAPE=mixed, at mixed.cpp's: mixed_measure.py); prints one
JSON line of timings (seconds) and memory (MiB) for the plugin's commands."""

import json
import os
import statistics
import sys
import time

import gdb


def status(key):
    for line in open("/proc/self/status"):
        if line.startswith(key):
            return int(line.split()[1]) / 1024
    return 0.0


def timed(cmd, n=1, capture=True):
    """Median seconds of n runs of cmd (its output: captured, or to GDB's stdout,
    a pipe, as a user's terminal would take it)."""
    ts, out = [], ""
    for _ in range(n):
        import goroscope_gdb.state as st

        st.reset()  # every run decodes from scratch, as after a stop
        t = time.perf_counter()
        if capture:
            out = gdb.execute(cmd, to_string=True)
        else:
            gdb.execute(cmd)
        ts.append(time.perf_counter() - t)
    return statistics.median(ts), out


def uniform():
    """many.cpp's measurements."""
    res = {}
    rss0, hwm0 = status("VmRSS"), status("VmHWM")
    first, _ = timed("goroutines", 1, capture=False)
    res["goroutines_first_s"] = first
    res["goroutines_s"], _ = timed("goroutines", 5, capture=False)
    res["gdb_rss_before_mib"] = rss0
    res["gdb_peak_mib"] = max(status("VmHWM"), hwm0)
    res["goroutines_mem_mib"] = max(0.0, status("VmHWM") - rss0)
    _, out = timed("goroutines")
    res["goroutines_lines"] = out.count("\n")
    import goroscope_gdb.state as st

    rt = st.runtime()
    goids = sorted(g.goid for _, g in rt.all_g())
    for name, goid in (("first", goids[1]), ("middle", goids[len(goids) // 2]),
                       ("last", goids[-1])):
        res[f"goroutine_bt_{name}_s"], _ = timed(f"goroutine {goid} bt 1", 5)
    # The 1M-entry map: from the frame that has it.
    f = gdb.newest_frame()
    while f is not None:
        try:
            if str(f.read_var("big").type.strip_typedefs()).startswith("goro::Map"):
                f.select()
                break
        except (ValueError, gdb.error, RuntimeError):
            pass
        f = f.older()
    res["print200_s"], out = timed("with print elements 400 -- print big", 3)
    res["print200_entries"] = out.count("] = ")
    res["gomap_info_s"], _ = timed("gomap info big", 3)
    return res


if os.environ.get("GOROSCOPE_BENCH_SHAPE") == "mixed":
    sys.dont_write_bytecode = True
    sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
    import mixed_measure

    print("MEASURE " + json.dumps(mixed_measure.measure(timed)))
else:
    print("MEASURE " + json.dumps(uniform()))
