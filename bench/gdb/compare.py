#!/usr/bin/env python3
"""bench/gdb: the GDB and LLDB plugins' costs against issues 5 and 7's targets, and Delve.

Runs BUILD/bench/goro_gdb_many (100k goroutines in a channel receive, a
named 1M-entry map) under GDB with the plugin (measure_gdb.py times the
commands: median of 5 for the listing, each from a fresh decode), and the
same 100k-goroutine program in Go 1.19 (go/main.go) under Delve: its
`goroutines` time is the difference of two sessions with and without the
command (median of 3 each), its memory the peak RSS of the dlv process.
The same program under lldb-16 with the LLDB plugin (measure_lldb.py: the
same commands, the OS plugin on as by default). Prints one table and a
targets block:
  goroutines over 100k goroutines        <= 1 s and <= 100 MB (GDB's growth)
  goroutine ID bt                         O(1): the same at the first, middle, last goid
  first 200 entries of a 1M-entry map     <= 0.2 s
  gomap info on a 1M-entry map            <= 0.5 s
  goroutines over 100k goroutines, LLDB   <= 1.5 s

usage: compare.py --build-dir BUILD [--markdown] [--goroutines N]
"""

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import datetime, timezone
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
sys.dont_write_bytecode = True
import common  # noqa: E402

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent.parent


def gdb_run(exe, n):
    cmd = ["gdb", "-nx", "-batch", "-ex", "set pagination off", "-ex",
           f"source {ROOT}/gdb_plugin/goroscope-gdb.py", "-ex", "break ready", "-ex", "run",
           "-x", str(HERE / "measure_gdb.py"), "--args", str(exe), str(n)]
    print("running:", " ".join(cmd), file=sys.stderr)
    p = subprocess.run(cmd, capture_output=True, text=True, timeout=900, stdin=subprocess.DEVNULL)
    for line in reversed(p.stdout.splitlines()):
        if line.startswith("MEASURE "):
            return json.loads(line[8:])
    raise common.Error("gdb run gave no measurements:\n" + (p.stdout + p.stderr)[-3000:])


def lldb_run(exe, n):
    cmd = ["lldb-16", "-b", "--no-lldbinit", "-o",
           f"command script import {ROOT}/lldb_plugin/goroscope_lldb_init.py",
           "-o", f"target create {exe}", "-o", f"settings set -- target.run-args {n}",
           "-o", "b ready", "-o", "run", "-o", f"command script import {HERE / 'measure_lldb.py'}",
           "-o", "process kill"]
    print("running:", " ".join(cmd), file=sys.stderr)
    env = dict(os.environ, LLDB_DEBUGSERVER_PATH="/usr/lib/llvm-16/bin/lldb-server")
    p = subprocess.run(cmd, capture_output=True, text=True, timeout=900, stdin=subprocess.DEVNULL,
                       env=env)
    for line in reversed(p.stdout.splitlines()):
        if line.startswith("MEASURE "):
            return json.loads(line[8:])
    raise common.Error("lldb run gave no measurements:\n" + (p.stdout + p.stderr)[-3000:])


def dlv_session(exe, n, with_goroutines, d):
    init = Path(d) / ("init1" if with_goroutines else "init0")
    init.write_text("break main.ready\ncontinue\n" + ("goroutines\n" if with_goroutines else "")
                    + "exit\n")
    cmd = ["dlv", "exec", str(exe), "--init", str(init), "--allow-non-terminal-interactive=true",
           "--", str(n)]
    t = time.perf_counter()
    p = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL,
                         stdin=subprocess.DEVNULL)
    out = p.stdout.read()
    _, status, ru = os.wait4(p.pid, 0)
    wall = time.perf_counter() - t
    lines = out.count(b"\n  Goroutine ") + out.count(b"\n* Goroutine ")
    return wall, ru.ru_maxrss / 1024, lines


def delve(go, n, bench_dir):
    with tempfile.TemporaryDirectory() as d:
        exe = common.build_go(go, HERE / "go", Path(d) / "many", bench_dir)
        with_, without, rss, lines = [], [], 0.0, 0
        for _ in range(3):
            w, r, ln = dlv_session(exe, n, True, d)
            with_.append(w)
            rss, lines = max(rss, r), max(lines, ln)
            w0, _, _ = dlv_session(exe, n, False, d)
            without.append(w0)
        return statistics.median(with_) - statistics.median(without), rss, lines


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--build-dir", required=True)
    ap.add_argument("--markdown", action="store_true")
    ap.add_argument("--goroutines", type=int, default=100000)
    args = ap.parse_args()
    build = Path(args.build_dir).resolve()
    exe = build / "bench" / "goro_gdb_many"
    if not exe.exists():
        print(f"compare.py: {exe} not found (build first)", file=sys.stderr)
        return 1
    try:
        g = gdb_run(exe, args.goroutines)
        ll = lldb_run(exe, args.goroutines) if common.which("lldb-16") else None
        go = common.find_go()
        dl = delve(go, args.goroutines, build / "bench") if go and common.which("dlv") else None
    except common.Error as e:
        print(f"compare.py: {e}", file=sys.stderr)
        return 1
    n = args.goroutines
    rows = [
        ("goroutines (GDB + goroscope)", f"{g['goroutines_s']:.2f} s",
         f"{g['goroutines_mem_mib']:.0f} MiB more (GDB {g['gdb_rss_before_mib']:.0f} -> "
         f"peak {g['gdb_peak_mib']:.0f} MiB)", f"{g['goroutines_lines'] - 1} goroutines listed; "
         f"first call {g['goroutines_first_s']:.2f} s"),
    ]
    if dl:
        rows.append(("goroutines (Delve, Go 1.19)", f"{dl[0]:.2f} s",
                     f"dlv peak {dl[1]:.0f} MiB", f"{dl[2]} goroutines listed"))
    for k in ("first", "middle", "last"):
        rows.append((f"goroutine ID bt ({k} goid)", f"{g[f'goroutine_bt_{k}_s'] * 1000:.1f} ms",
                     "", "findg: the goid index"))
    rows.append(("print first 200 entries, 1M map", f"{g['print200_s'] * 1000:.0f} ms", "",
                 f"{g['print200_entries']} entries printed"))
    rows.append(("gomap info, 1M map", f"{g['gomap_info_s'] * 1000:.0f} ms", "",
                 "header + overflow-chain histogram"))
    if ll:
        rows.append(("goroutines (LLDB + goroscope)", f"{ll['goroutines_s']:.2f} s",
                     f"{ll['goroutines_mem_mib']:.0f} MiB more (LLDB {ll['lldb_rss_before_mib']:.0f}"
                     f" -> peak {ll['lldb_peak_mib']:.0f} MiB)",
                     f"{ll['goroutines_lines'] - 1} goroutines listed; first call "
                     f"{ll['goroutines_first_s']:.2f} s; {ll['threads']} LLDB threads"))
        rows.append(("goroutine ID bt, LLDB (last goid)",
                     f"{ll['goroutine_bt_last_s'] * 1000:.1f} ms", "",
                     f"first/middle {ll['goroutine_bt_first_s'] * 1000:.1f}/"
                     f"{ll['goroutine_bt_middle_s'] * 1000:.1f} ms"))
        rows.append(("gomap info, 1M map, LLDB", f"{ll['gomap_info_s'] * 1000:.0f} ms", "", ""))
    now = datetime.now(timezone.utc).strftime("%Y-%m-%d %H:%M:%S UTC")
    print(common.host_line(f"bench/gdb ({n} goroutines)", now))
    for line in common.render(["measure", "time", "memory", "note"],
                              [list(r) for r in rows], args.markdown, 1):
        print(line)
    print()
    print("targets:")
    ok = lambda c: "pass" if c else "FAIL"  # noqa: E731
    print(f"  goroutines over {n} goroutines <= 1 s: {g['goroutines_s']:.2f} s  "
          f"{ok(g['goroutines_s'] <= 1.0)}")
    print(f"  ... and <= 100 MB: {g['goroutines_mem_mib']:.0f} MiB  "
          f"{ok(g['goroutines_mem_mib'] <= 100)}")
    bts = [g[f"goroutine_bt_{k}_s"] for k in ("first", "middle", "last")]
    print(f"  goroutine ID bt O(1) (first/middle/last within 3x): "
          f"{'/'.join(f'{b * 1000:.1f}' for b in bts)} ms  {ok(max(bts) <= 3 * min(bts) + 0.002)}")
    print(f"  first 200 entries of a 1M map <= 0.2 s: {g['print200_s']:.3f} s  "
          f"{ok(g['print200_s'] <= 0.2 and g['print200_entries'] >= 200)}")
    print(f"  gomap info on a 1M map <= 0.5 s: {g['gomap_info_s']:.3f} s  "
          f"{ok(g['gomap_info_s'] <= 0.5)}")
    if ll:
        worst = max(ll["goroutines_s"], ll["goroutines_first_s"])
        print(f"  LLDB: goroutines over {n} goroutines <= 1.5 s (first call included): "
              f"{worst:.2f} s  {ok(worst <= 1.5 and ll['goroutines_lines'] - 1 >= n)}")
    if dl:
        print(f"  side by side: Delve {dl[0]:.2f} s / goroscope {g['goroutines_s']:.2f} s = "
              f"{dl[0] / g['goroutines_s']:.1f}x; memory {dl[1]:.0f} MiB (dlv) vs "
              f"{g['gdb_peak_mib']:.0f} MiB (all of GDB)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
