#!/usr/bin/env python3
"""bench/debug: the debug surface's costs against issue 4's targets.

Runs BUILD/bench/goro_debug_bench (Google Benchmark, JSON output) and
prints one table and a targets block:
  snapshot pause for 10k parked goroutines, no maps   <= 1 ms
  1M-entry map snapshot: write + parse                 about 1 s

usage: compare.py --build-dir BUILD [--markdown]
"""

import argparse
import json
import re
import sys
import tempfile
from datetime import datetime, timezone
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
sys.dont_write_bytecode = True
import common  # noqa: E402


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--build-dir", required=True)
    ap.add_argument("--markdown", action="store_true")
    args = ap.parse_args()
    exe = Path(args.build_dir) / "bench" / "goro_debug_bench"
    if not exe.exists():
        print(f"compare.py: {exe} not found (build first)", file=sys.stderr)
        return 1
    with tempfile.NamedTemporaryFile(suffix=".json") as out:
        try:
            common.run([str(exe), f"--benchmark_out={out.name}", "--benchmark_out_format=json"],
                       timeout=600)
        except common.Error as e:
            print(f"compare.py: {e}", file=sys.stderr)
            return 1
        data = json.load(open(out.name))
    rows, res = [], {}
    for b in data["benchmarks"]:
        if "error_message" in b:
            print(f"compare.py: {b['name']}: {b['error_message']}", file=sys.stderr)
            return 1
        name = re.sub(r"/(iterations:\d+|real_time)", "", b["name"])
        res[name] = b
        extra = ", ".join(f"{k}={b[k]:.3f}" for k in
                          ("pause_us", "pause_ms", "write_ms", "parse_ms", "mb") if k in b)
        rows.append([name, f"{b['real_time']:.2f} ms", extra])
    now = datetime.now(timezone.utc)
    print(common.host_line("bench/debug", now))
    print("\n".join(common.render(["benchmark", "time per call", "counters"], rows, args.markdown, 1)))
    pause = res["BM_snapshot_pause/10000"]["pause_us"] / 1000
    rt = res["BM_map_roundtrip/1000000"]
    trip = (rt["write_ms"] + rt["parse_ms"]) / 1000
    print()
    print("targets:")
    print(f"  snapshot pause, 10k goroutines <= 1 ms: {pause:.3f} ms  "
          f"{'pass' if pause <= 1 else 'FAIL'}")
    print(f"  1M-entry map round trip about 1 s (<= 1.2 s): {trip:.3f} s  "
          f"{'pass' if trip <= 1.2 else 'FAIL'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
