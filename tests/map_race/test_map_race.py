"""test_map_race: every racy map run ends in a report, never in silence.

race.cpp runs one shape of unsynchronized map writes (key type, keys per
writer, writers, workers, goroutines or threads, insert or insert+erase).
Each run ends one of three ways:

    reported   "fatal error: ..." on stderr (exit 2): the runtime noticed; or
               Go's "panic: runtime error: invalid memory address" (a race
               Go's detector missed faulted in user code), or goro's
               "SIGABRT: abort" (the C library found the heap broken)
    finished   exit 0: the writers never overlapped where the detector looks
               (best-effort, as Go's is)
    silent     anything else: a signal, an abort, a nonzero exit without a
               report -- what issue 18 forbids

The test runs every shape RUNS times (GOROSCOPE_MAP_RACE_RUNS, default 12)
and fails on any silent run. `python3 test_map_race.py --runs 60 --go`
prints the table for the closing note, beside Go 1.19's twin (go/main.go).
"""

import argparse
import collections
import os
import subprocess
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
BUILT = os.environ.get("GOROSCOPE_MAP_RACE", os.path.join(ROOT, "build", "tests", "map_race"))
GO = "/usr/lib/go-1.19/bin/go"

# (key, keys per writer, writers, workers, spawn, op)
SHAPES = [
    ("int", 8, 2, 2, "go", "insert"),
    ("int", 1000, 2, 2, "go", "insert"),
    ("int", 100000, 2, 2, "go", "insert"),
    ("int", 1000, 4, 4, "go", "mixed"),
    ("string", 1000, 2, 2, "go", "insert"),
    ("string", 20000, 2, 2, "go", "mixed"),
    ("string", 5000, 4, 4, "go", "insert"),
    ("int", 1000, 2, 0, "thread", "insert"),
    ("string", 20000, 3, 0, "thread", "mixed"),
]


REPORTS = ("fatal error: ", "panic: ", "SIGABRT: abort")  # goro's and Go's shapes


def outcome(rc, err):
    if any(r in err for r in REPORTS):
        return "reported"
    if rc == 0:
        return "finished"
    return "silent"


def run_one(argv, timeout=60):
    """(outcome, exit status, stderr); a run that hangs is silent, and its
    threads' stacks (GDB) are its stderr, for the table's notes."""
    p = subprocess.Popen(argv, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True,
                         errors="replace")
    try:
        _, err = p.communicate(timeout=timeout)
        return outcome(p.returncode, err), p.returncode, err
    except subprocess.TimeoutExpired:
        bt = subprocess.run(["gdb", "-p", str(p.pid), "-batch", "-ex", "thread apply all bt 12"],
                            capture_output=True, text=True, errors="replace", timeout=120).stdout
        p.kill()
        p.communicate()
        return "silent", "timeout", bt


def shape_args(s):
    key, keys, writers, workers, spawn, op = s
    return [key, str(keys), str(writers), str(max(workers, 1)), spawn, op]


def measure(binary, runs, shapes=SHAPES):
    """{shape: Counter(outcome)} and the first silent run's (rc, stderr) per shape."""
    table, examples = {}, {}
    for s in shapes:
        c = collections.Counter()
        for _ in range(runs):
            what, rc, err = run_one([binary] + shape_args(s))
            c[what] += 1
            if what == "silent" and s not in examples:
                examples[s] = (rc, err[-1500:])
        table[s] = c
    return table, examples


def go_binary(tmp):
    if not os.access(GO, os.X_OK):
        return None
    out = os.path.join(tmp, "race-go")
    env = dict(os.environ, GOPROXY="off", GOFLAGS="-mod=mod", GO111MODULE="off",
               GOCACHE=os.path.join(tmp, "gocache"))
    subprocess.run([GO, "build", "-o", out, os.path.join(HERE, "go", "main.go")], env=env,
                   check=True, capture_output=True)
    return out


def render(tables, runs):
    names = list(tables)
    head = "| shape (key keys writers workers spawn op) |" + "".join(
        f" {n} reported | {n} finished | {n} silent |" for n in names)
    lines = [head, "|" + "---|" * (1 + 3 * len(names))]
    totals = {n: collections.Counter() for n in names}
    for s in SHAPES:
        row = f"| {' '.join(map(str, s))} |"
        for n in names:
            c = tables[n][s]
            totals[n].update(c)
            row += f" {c['reported']} | {c['finished']} | {c['silent']} |"
        lines.append(row)
    row = f"| all ({len(SHAPES)} shapes x {runs} runs) |"
    for n in names:
        c = totals[n]
        t = sum(c.values())
        row += (f" {c['reported']} ({100 * c['reported'] / t:.1f}%) | {c['finished']} |"
                f" {c['silent']} |")
    lines.append(row)
    return "\n".join(lines)


def test_no_silent_deaths():
    runs = int(os.environ.get("GOROSCOPE_MAP_RACE_RUNS", "12"))
    table, examples = measure(os.path.join(BUILT, "map_race_shapes"), runs)
    print(render({"goro": table}, runs))
    assert not examples, "\n\n".join(f"{s}: exit {rc}\n{err}" for s, (rc, err) in examples.items())
    # The detector must see most overlaps of long runs (not only die well).
    long_runs = [table[s] for s in SHAPES if s[1] >= 20000 or s[2] >= 4]
    assert sum(c["reported"] for c in long_runs) >= len(long_runs) * runs // 2, table


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--runs", type=int, default=60)
    ap.add_argument("--go", action="store_true", help="also run Go 1.19's twin")
    a = ap.parse_args()
    tables, examples = {}, {}
    with tempfile.TemporaryDirectory() as tmp:
        tables["goro"], examples["goro"] = measure(os.path.join(BUILT, "map_race_shapes"),
                                                   a.runs)
        if a.go:
            gb = go_binary(tmp)
            if gb:
                tables["go1.19"], examples["go1.19"] = measure(gb, a.runs)
    print(render(tables, a.runs))
    for name, ex in examples.items():
        for s, (rc, err) in ex.items():
            print(f"\n{name} silent: {s}: exit {rc}\n{err[-600:]}")


if __name__ == "__main__":
    sys.exit(main())
