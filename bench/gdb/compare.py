#!/usr/bin/env python3
"""bench/gdb: the GDB and LLDB plugins' costs against issues 5, 7 and 16's targets, and Delve.

Two shapes, each a table and a targets block.

uniform: BUILD/bench/goro_gdb_many (many.cpp: 100k goroutines in a channel
receive, a named 1M-entry map) under GDB with the plugin (measure_gdb.py
times the commands: median of 5 for the listing, each from a fresh decode),
and the same 100k-goroutine program in Go 1.19 (go/main.go) under Delve: its
`goroutines` time is the difference of sessions with and without the
command (median of 3 each), its memory the peak RSS of the dlv process.
The same program under lldb-16 with the LLDB plugin (measure_lldb.py: the
same commands, the OS plugin on as by default).
  goroutines over 100k goroutines        <= 1 s and <= 100 MB (GDB's growth)
  goroutine ID bt                         O(1): the same at the first, middle, last goid
  first 200 entries of a 1M-entry map     <= 0.2 s
  gomap info on a 1M-entry map            <= 0.5 s
  goroutines over 100k goroutines, LLDB   <= 1.5 s

mixed: BUILD/bench/goro_gdb_mixed (mixed.cpp, -O2: 100k goroutines parked
in five user functions) under GDB and LLDB, two sessions each so that each
command's first call is its session's first (mixed_measure.py); the same
shape in Go (go/mixed) under Delve, timed as above.
  goroutines, goroutines -group userloc   <= 1 s each, GDB and LLDB, first call included

usage: compare.py --build-dir BUILD [--markdown] [--goroutines N] [--shape all|uniform|mixed]
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


def measurement(p, what):
    """The MEASURE line's JSON from a debugger session's output."""
    for line in reversed(p.stdout.splitlines()):
        if line.startswith("MEASURE "):
            return json.loads(line[8:])
    raise common.Error(f"{what} run gave no measurements:\n" + (p.stdout + p.stderr)[-3000:])


def gdb_run(exe, n, env=None):
    cmd = ["gdb", "-nx", "-batch", "-ex", "set pagination off", "-ex",
           f"source {ROOT}/gdb_plugin/goroscope-gdb.py", "-ex", "break ready", "-ex", "run",
           "-x", str(HERE / "measure_gdb.py"), "--args", str(exe), str(n)]
    print("running:", " ".join(cmd), file=sys.stderr)
    p = subprocess.run(cmd, capture_output=True, text=True, timeout=900, stdin=subprocess.DEVNULL,
                       env=dict(os.environ, **(env or {})))
    return measurement(p, "gdb")


def lldb_run(exe, n, env=None):
    cmd = ["lldb-16", "-b", "--no-lldbinit", "-o",
           f"command script import {ROOT}/lldb_plugin/goroscope_lldb_init.py",
           "-o", f"target create {exe}", "-o", f"settings set -- target.run-args {n}",
           "-o", "b ready", "-o", "run", "-o", f"command script import {HERE / 'measure_lldb.py'}",
           "-o", "process kill"]
    print("running:", " ".join(cmd), file=sys.stderr)
    env = dict(os.environ, LLDB_DEBUGSERVER_PATH="/usr/lib/llvm-16/bin/lldb-server", **(env or {}))
    p = subprocess.run(cmd, capture_output=True, text=True, timeout=900, stdin=subprocess.DEVNULL,
                       env=env)
    return measurement(p, "lldb")


def mixed_run(run, exe, n):
    """The mixed shape under one debugger (run: gdb_run or lldb_run): two
    sessions, so that each command's first call is its session's first
    (mixed_measure.py). {KEY_first_s, KEY_s, KEY_listed, KEY_groups} for
    KEY goroutines and group."""
    env = {"GOROSCOPE_BENCH_SHAPE": "mixed"}
    res = run(exe, n, dict(env, GOROSCOPE_BENCH_FIRST="goroutines", GOROSCOPE_BENCH_REPEAT="1"))
    res["goroutines_first_s"] = res["first_s"]
    res["group_first_s"] = run(exe, n, dict(env, GOROSCOPE_BENCH_FIRST="group"))["first_s"]
    return res


def dlv_session(exe, n, command, d):
    """(wall seconds, peak RSS in MiB, stdout) of one Delve session that
    stops at main.ready, runs command (None: nothing) and exits."""
    init = Path(d) / "init"
    init.write_text("break main.ready\ncontinue\n" + (f"{command}\n" if command else "")
                    + "exit\n")
    cmd = ["dlv", "exec", str(exe), "--init", str(init), "--allow-non-terminal-interactive=true",
           "--", str(n)]
    t = time.perf_counter()
    p = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL,
                         stdin=subprocess.DEVNULL)
    out = p.stdout.read()
    _, status, ru = os.wait4(p.pid, 0)
    wall = time.perf_counter() - t
    return wall, ru.ru_maxrss / 1024, out


def delve(go, src, n, bench_dir, commands):
    """Delve on the Go program in src: for each command, its time (the median
    of 3 sessions with it minus the median of 3 without), the dlv process's
    peak RSS, the goroutines it listed and the groups it printed."""
    with tempfile.TemporaryDirectory() as d:
        exe = common.build_go(go, src, Path(d) / "prog", bench_dir)
        walls = {c: [] for c in (None,) + tuple(commands)}
        res = {c: {"rss": 0.0} for c in commands}
        for _ in range(3):
            for c in walls:
                w, rss, out = dlv_session(exe, n, c, d)
                walls[c].append(w)
                if c:
                    r = res[c]
                    r["rss"] = max(r["rss"], rss)
                    r["listed"] = out.count(b"\n  Goroutine ") + out.count(b"\n* Goroutine ") + \
                        out.count(b"\n\t  Goroutine ") + out.count(b"\n\t* Goroutine ")
                    r["groups"] = out.count(b"\tTotal: ")
        base = statistics.median(walls[None])
        for c in commands:
            res[c]["s"] = statistics.median(walls[c]) - base
        return res


def ok(c):
    return "pass" if c else "FAIL"


def uniform_report(exe, n, build, markdown):
    """many.cpp: the table and targets of issues 5 and 7."""
    g = gdb_run(exe, n)
    ll = lldb_run(exe, n) if common.which("lldb-16") else None
    go = common.find_go()
    dl = delve(go, HERE / "go", n, build / "bench", ["goroutines"])["goroutines"] \
        if go and common.which("dlv") else None
    rows = [
        ("goroutines (GDB + goroscope)", f"{g['goroutines_s']:.2f} s",
         f"{g['goroutines_mem_mib']:.0f} MiB more (GDB {g['gdb_rss_before_mib']:.0f} -> "
         f"peak {g['gdb_peak_mib']:.0f} MiB)", f"{g['goroutines_lines'] - 1} goroutines listed; "
         f"first call {g['goroutines_first_s']:.2f} s"),
    ]
    if dl:
        rows.append(("goroutines (Delve, Go 1.19)", f"{dl['s']:.2f} s",
                     f"dlv peak {dl['rss']:.0f} MiB", f"{dl['listed']} goroutines listed"))
    for k in ("first", "middle", "last"):
        rows.append((f"goroutine ID bt ({k} goid)", f"{g[f'goroutine_bt_{k}_s'] * 1000:.1f} ms",
                     "", "findg: the goid index"))
    rows.append(("print first 200 entries, 1M map", f"{g['print200_s'] * 1000:.0f} ms", "",
                 f"{g['print200_entries']} entries printed"))
    rows.append(("gomap info, 1M map", f"{g['gomap_info_s'] * 1000:.0f} ms", "",
                 "header + overflow-chain histogram"))
    if ll:
        rows.append(("goroutines (LLDB + goroscope)", f"{ll['goroutines_s']:.2f} s",
                     f"{ll['goroutines_mem_mib']:.0f} MiB more (LLDB "
                     f"{ll['lldb_rss_before_mib']:.0f} -> peak {ll['lldb_peak_mib']:.0f} MiB)",
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
                              [list(r) for r in rows], markdown, 1):
        print(line)
    print()
    print("targets:")
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
        print(f"  side by side: Delve {dl['s']:.2f} s / goroscope {g['goroutines_s']:.2f} s = "
              f"{dl['s'] / g['goroutines_s']:.1f}x; memory {dl['rss']:.0f} MiB (dlv) vs "
              f"{g['gdb_peak_mib']:.0f} MiB (all of GDB)")


MIXED_FUNCTIONS = 5  # mixed.cpp's (and go/mixed's) user functions


def mixed_report(exe, n, build, markdown):
    """mixed.cpp: `goroutines` and `goroutines -group userloc` <= 1 s in GDB and
    LLDB (first call and repeated), and Delve on go/mixed."""
    runs = [("GDB", mixed_run(gdb_run, exe, n))]
    if common.which("lldb-16"):
        runs.append(("LLDB", mixed_run(lldb_run, exe, n)))
    go = common.find_go()
    commands = {"goroutines": "goroutines", "group": "goroutines -group userloc"}
    dl = delve(go, HERE / "go" / "mixed", n, build / "bench", list(commands.values())) \
        if go and common.which("dlv") else None
    rows = []
    for key, cmd in commands.items():
        for name, r in runs:
            note = (f"{r[f'{key}_groups']} groups" if key == "group"
                    else f"{r[f'{key}_listed']} goroutines listed")
            rows.append((f"{cmd} ({name} + goroscope)", f"{r[f'{key}_first_s']:.2f} s",
                         f"{r[f'{key}_s']:.2f} s", note))
        if dl:
            d = dl[cmd]
            note = (f"{d['groups']} groups" if key == "group"
                    else f"{d['listed']} goroutines listed")
            rows.append((f"{cmd} (Delve, Go 1.19)", f"{d['s']:.2f} s", "",
                         f"{note}; dlv peak {d['rss']:.0f} MiB"))
    now = datetime.now(timezone.utc).strftime("%Y-%m-%d %H:%M:%S UTC")
    print(common.host_line(f"bench/gdb mixed ({n} goroutines in {MIXED_FUNCTIONS} user "
                           f"functions, -O2)", now))
    for line in common.render(["measure", "first call", "repeated", "note"],
                              [list(r) for r in rows], markdown, 1):
        print(line)
    print()
    print("targets:")
    for name, r in runs:
        for key, cmd in commands.items():
            worst = max(r[f"{key}_first_s"], r[f"{key}_s"])
            whole = r["group_groups"] > MIXED_FUNCTIONS if key == "group" \
                else r["goroutines_listed"] > n
            print(f"  {name}: {cmd} over {n} goroutines <= 1 s (first call included): "
                  f"{worst:.2f} s  {ok(worst <= 1.0 and whole)}")
    if dl:
        for key, cmd in commands.items():
            print(f"  side by side: {cmd}: Delve {dl[cmd]['s']:.2f} s / goroscope "
                  f"{runs[0][1][f'{key}_s']:.2f} s = "
                  f"{dl[cmd]['s'] / runs[0][1][f'{key}_s']:.1f}x")


SHAPES = {"uniform": ("goro_gdb_many", uniform_report), "mixed": ("goro_gdb_mixed", mixed_report)}


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--build-dir", required=True)
    ap.add_argument("--markdown", action="store_true")
    ap.add_argument("--goroutines", type=int, default=100000)
    ap.add_argument("--shape", choices=["all"] + list(SHAPES), default="all")
    args = ap.parse_args()
    build = Path(args.build_dir).resolve()
    shapes = list(SHAPES) if args.shape == "all" else [args.shape]
    for shape in shapes:
        exe = build / "bench" / SHAPES[shape][0]
        if not exe.exists():
            print(f"compare.py: {exe} not found (build first)", file=sys.stderr)
            return 1
    try:
        for k, shape in enumerate(shapes):
            if k:
                print()
            exe, report = SHAPES[shape]
            report(build / "bench" / exe, args.goroutines, build, args.markdown)
            sys.stdout.flush()
    except common.Error as e:
        print(f"compare.py: {e}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
