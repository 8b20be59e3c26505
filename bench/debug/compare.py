#!/usr/bin/env python3
"""bench/debug: the debug surface's costs against issue 4's targets.

Runs BUILD/bench/goro_debug_bench (Google Benchmark, JSON output), each
snapshot_pause configuration in a process of its own (the G registry only
grows: a 100k run would slow every later one), REPEAT times interleaved,
and prints the medians in one table, the referenced_by scan's table (the
pause without and with it, and the scan after the pause) and a targets block:
  snapshot pause for 10k parked goroutines, no maps   <= 1 ms
  the stack scan for referenced_by adds to it         <= 1 ms
  1M-entry map snapshot: write + parse                 about 1 s

usage: compare.py --build-dir BUILD [--markdown] [--repeat N]
"""

import argparse
import json
import re
import statistics
import subprocess
import sys
import tempfile
from datetime import datetime, timezone
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
sys.dont_write_bytecode = True
import common  # noqa: E402


PAUSE_N = (1000, 10000, 100000)  # goroutines
PAUSE_CONFIGS = [(n, refs, shape) for n in PAUSE_N for refs in (0, 1) for shape in (0, 1)]


def bench(exe, flt):
    """The benchmarks matching flt, from one run of exe: {name: result}."""
    with tempfile.NamedTemporaryFile(suffix=".json") as out:
        common.run([str(exe), f"--benchmark_filter={flt}", f"--benchmark_out={out.name}",
                    "--benchmark_out_format=json"], timeout=600,
                   stdout=subprocess.DEVNULL)
        data = json.load(open(out.name))
    res = {}
    for b in data["benchmarks"]:
        if "error_message" in b:
            raise common.Error(f"{b['name']}: {b['error_message']}")
        res[re.sub(r"/(iterations:\d+|real_time)", "", b["name"])] = b
    return res


def median_of(runs):
    """One result per name: the median of each number over the runs."""
    out = {}
    for name in runs[0]:
        bs = [r[name] for r in runs]
        out[name] = {k: statistics.median(b[k] for b in bs) for k in bs[0]
                     if isinstance(bs[0][k], (int, float))}
    return out


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--build-dir", required=True)
    ap.add_argument("--markdown", action="store_true")
    ap.add_argument("--repeat", type=int, default=3)
    args = ap.parse_args()
    exe = Path(args.build_dir) / "bench" / "goro_debug_bench"
    if not exe.exists():
        print(f"compare.py: {exe} not found (build first)", file=sys.stderr)
        return 1
    runs = {}
    try:
        for _ in range(args.repeat):
            for n, refs, shape in PAUSE_CONFIGS:
                name = f"BM_snapshot_pause/{n}/{refs}/{shape}"
                runs.setdefault(name, []).append(bench(exe, f"^{name}/"))
        runs["BM_map_roundtrip/1000000"] = [bench(exe, "^BM_map_roundtrip/")]
    except common.Error as e:
        print(f"compare.py: {e}", file=sys.stderr)
        return 1
    res = {}
    for group in runs.values():
        res.update(median_of(group))
    rows = []
    for name, b in res.items():
        extra = ", ".join(f"{k}={b[k]:.3f}" for k in
                          ("pause_us", "scan_us", "stack_b", "pause_ms", "write_ms", "parse_ms",
                           "mb") if k in b)
        rows.append([name, f"{b['real_time']:.2f} ms", extra])
    now = datetime.now(timezone.utc)
    print(common.host_line("bench/debug", now))
    print(f"(snapshot_pause: medians of {args.repeat} runs, each in its own process)")
    print("\n".join(common.render(["benchmark", "time per call", "counters"], rows, args.markdown,
                                   1)))
    print()
    print("referenced_by: the pause without and with the stack scan, and the scan after it")
    scan = []
    for n in PAUSE_N:
        for shape, what in ((0, "one channel"), (1, "a channel each")):
            off = res[f"BM_snapshot_pause/{n}/0/{shape}"]
            on = res[f"BM_snapshot_pause/{n}/1/{shape}"]
            scan.append([f"{n:,}", what, f"{off['pause_us']:.0f}", f"{on['pause_us']:.0f}",
                         f"{on['pause_us'] - off['pause_us']:+.0f}", f"{on['scan_us']:.0f}",
                         f"{on['stack_b']:.0f}"])
    print("\n".join(common.render(["goroutines", "parked on", "pause us, no scan",
                                   "pause us, scan", "difference", "scan us (after)",
                                   "bytes/goroutine"], scan, args.markdown, 2)))
    pause = res["BM_snapshot_pause/10000/1/0"]["pause_us"] / 1000
    added = pause - res["BM_snapshot_pause/10000/0/0"]["pause_us"] / 1000
    rt = res["BM_map_roundtrip/1000000"]
    trip = (rt["write_ms"] + rt["parse_ms"]) / 1000
    print()
    print("targets:")
    print(f"  snapshot pause, 10k goroutines <= 1 ms: {pause:.3f} ms  "
          f"{'pass' if pause <= 1 else 'FAIL'}")
    print(f"  the referenced_by scan adds to it <= 1 ms: {added:+.3f} ms  "
          f"{'pass' if added <= 1 else 'FAIL'}")
    print(f"  1M-entry map round trip about 1 s (<= 1.2 s): {trip:.3f} s  "
          f"{'pass' if trip <= 1.2 else 'FAIL'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
