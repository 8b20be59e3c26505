#!/usr/bin/env python3
"""bench/viewer: goroscope-view's costs against issue 6's targets.

Runs BUILD/bench/goro_view_bench (Google Benchmark, JSON output) and prints
one table and a targets block:
  snapshot parse of a 1M-entry map            <= 1 s
  frame CPU, a 2^20-bucket map (fit, zoomed)   <= 16 ms
  frame CPU, 100k goroutines                   <= 16 ms

usage: compare.py --build-dir BUILD [--markdown]
"""

import argparse
import json
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
    exe = Path(args.build_dir) / "bench" / "goro_view_bench"
    if not exe.exists():
        print(f"compare.py: {exe} not found (build first; needs libimgui-dev)", file=sys.stderr)
        return 1
    with tempfile.NamedTemporaryFile(suffix=".json") as out:
        try:
            common.run([str(exe), f"--benchmark_out={out.name}", "--benchmark_out_format=json"],
                       timeout=900)
        except common.Error as e:
            print(f"compare.py: {e}", file=sys.stderr)
            return 1
        data = json.load(open(out.name))
    res, rows = {}, []
    for b in data["benchmarks"]:
        name = b["name"].split("/")[0].replace("BM_", "")
        res[name] = b
        ms = b["real_time"] if b["time_unit"] == "ms" else b["real_time"] / 1e6
        extra = ", ".join(f"{k}={b[k]:.0f}" if b[k] >= 100 else f"{k}={b[k]:.2f}"
                          for k in ("mb", "vertices", "nodes") if k in b)
        rows.append([name, f"{ms:.3f} ms", extra])
    now = datetime.now(timezone.utc).strftime("%Y-%m-%d %H:%M:%S UTC")
    print(common.host_line("bench/viewer", now))
    for line in common.render(["benchmark", "time", "counters"], rows, args.markdown, 1):
        print(line)
    ms = lambda k: res[k]["real_time"]  # noqa: E731 (all in ms)
    ok = lambda c: "pass" if c else "FAIL"  # noqa: E731
    print()
    print("targets:")
    print(f"  parse a 1M-entry map snapshot <= 1 s: {ms('parse_1M_map') / 1000:.2f} s  "
          f"{ok(ms('parse_1M_map') <= 1000)}")
    for k in ("frame_map_2to20_fit", "frame_map_2to20_zoom", "frame_goroutines_100k"):
        print(f"  {k} <= 16 ms of CPU: {ms(k):.2f} ms  {ok(ms(k) <= 16)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
