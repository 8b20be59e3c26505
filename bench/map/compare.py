#!/usr/bin/python3
"""Side-by-side report for the goroscope hash-map benchmark (bench/map).

Runs (or reads) two programs that time the same workloads on the same keys
(splitmix64-generated, see go/main.go for the exact recipe):

  * BUILD/bench/goro_map_bench, a Google Benchmark binary whose benchmarks are
    map/<op>/<key>/<impl>/<n> for impl in goro, goro_nocheck, std, absl, each
    with a user counter ns_per_op (nanoseconds per single map operation);
  * the Go 1.19 program in go/, which prints one JSON line per benchmark,
    {"name": "map/<op>/<key>/go/<n>", "ns_per_op": x}.

It prints ONE table, a row per (op, key, n), then PASS/FAIL/n/a lines for the
performance targets. It is a report: the exit status is 0 even if targets
fail, and nonzero only for a real error (missing C++ binary, a run failing).

  compare.py --build-dir BUILD [--quick] [--filter SUBSTR] [--markdown]
             [--cxx-json FILE] [--go-json FILE]

--filter keeps benchmarks whose full name contains SUBSTR (Go names use impl
"go", so filter on op/key, e.g. "lookup_hit/int64", to keep both sides);
--quick drops n=1000000.
"""

import argparse
import datetime
import json
import math
import subprocess
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
sys.dont_write_bytecode = True  # no bench/__pycache__ in the source tree
import common  # noqa: E402  (bench/common.py)
from common import Error, fmt, ratio, run  # noqa: E402

OPS = ["insert", "lookup_hit", "lookup_miss", "erase", "iterate"]
KEYS = ["int64", "string"]
SIZES = [1000, 100000, 1000000]
CXX_IMPLS = ["goro", "goro_nocheck", "std", "absl"]
HERE = Path(__file__).resolve().parent


def selected(name, args):
    return args.filter in name and not (args.quick and name.endswith("/1000000"))


def parse_name(name):
    """'map/<op>/<key>/<impl>/<n>[/suffix]' -> (op, key, impl, n) or None."""
    parts = name.split("/")
    if len(parts) < 5 or parts[0] != "map" or not parts[4].isdigit():
        return None
    return parts[1], parts[2], parts[3], int(parts[4])


# --- C++ side ---------------------------------------------------------------

def run_cxx(build, args):
    exe = build / "bench" / "goro_map_bench"
    if not exe.is_file():
        raise Error(f"{exe} not found (build the goro_map_bench target first)")
    out = build / "bench" / "map_cxx.json"
    # Repetitions in random interleaving, reported as medians: one run's
    # ordering or memory layout must not decide a 3% comparison.
    reps = 1 if args.quick else args.repetitions
    cmd = [exe, "--benchmark_format=json", f"--benchmark_out={out}",
           "--benchmark_out_format=json", f"--benchmark_repetitions={reps}",
           "--benchmark_enable_random_interleaving=true",
           f"--benchmark_min_time={0.1 if args.quick else 0.2}"]
    if args.filter or args.quick:
        # One explicit alternation of the wanted names: Google Benchmark takes
        # a single regex, and "contains SUBSTR but not /1000000" has no
        # extended-regex spelling.
        names = [f"map/{o}/{k}/{i}/{n}" for o in OPS for k in KEYS
                 for i in CXX_IMPLS for n in SIZES]
        names = [n for n in names if selected(n, args)]
        if not names:
            return None
        cmd.append(f"--benchmark_filter=^({'|'.join(names)})(/.*)?$")
    run(cmd, stdout=subprocess.DEVNULL)
    return out


def load_cxx(path, args):
    """-> ({(op, key, n): {impl: ns}}, context). Repetitions: median."""
    try:
        doc = json.loads(Path(path).read_text())
    except (OSError, ValueError) as e:
        raise Error(f"cannot read C++ results {path}: {e}")
    runs, medians = {}, {}
    for b in doc.get("benchmarks", []):
        name = b.get("run_name", b.get("name", ""))
        parsed = parse_name(name)
        if not parsed or b.get("error_occurred") or "ns_per_op" not in b:
            continue
        if not selected("/".join(name.split("/")[:5]), args):
            continue
        if b.get("run_type") == "aggregate":
            if b.get("aggregate_name") == "median":
                medians[parsed] = float(b["ns_per_op"])
        else:
            runs.setdefault(parsed, []).append(float(b["ns_per_op"]))
    for k, v in runs.items():
        medians.setdefault(k, sorted(v)[len(v) // 2])
    table = {}
    for (op, key, impl, n), ns in medians.items():
        table.setdefault((op, key, n), {})[impl] = ns
    return table, doc.get("context", {})


# --- Go side ----------------------------------------------------------------

def run_go(build, go, args):
    bench = build / "bench"
    exe, out = bench / "map_go", bench / "map_go.jsonl"
    common.build_go(go, HERE / "go", exe, bench)
    cmd = [exe, "-filter", args.filter] + (["-quick"] if args.quick else [])
    return common.run_jsonl(cmd, out)


def load_go(path, args):
    table = {}
    try:
        lines = Path(path).read_text().splitlines()
        recs = [json.loads(line) for line in lines if line.strip()]
    except (OSError, ValueError) as e:
        raise Error(f"cannot read Go results {path}: {e}")
    for rec in recs:
        parsed = parse_name(rec.get("name", ""))
        if parsed and selected(rec["name"], args):
            op, key, _, n = parsed
            table.setdefault((op, key, n), {})["go"] = float(rec["ns_per_op"])
    return table


# --- report -----------------------------------------------------------------

def header(build, gover, context):
    now = datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d %H:%M UTC")
    lines = [common.host_line("hash-map benchmark", now),
             f"C++: {common.cxx_compiler(build) or 'unknown'}; Go: {gover or 'not available'}"]
    if context.get("cpu_scaling_enabled"):
        lines.append("note: CPU frequency scaling was enabled during the C++ run")
    return lines


COLUMNS = ["op", "key", "n", "goro ns", "goro/Go", "no-check ns", "check cost %",
           "std ns", "std/Go", "absl ns", "absl/Go", "Go 1.19 ns"]


def rows(data):
    for op in OPS:
        for key in KEYS:
            for n in SIZES:
                d = data.get((op, key, n))
                if not d:
                    continue
                goro, noc, std, absl, go = (d.get(i) for i in CXX_IMPLS + ["go"])
                cost = ratio(goro, noc)
                cost = None if cost is None else (cost - 1) * 100
                yield [op, key, str(n), fmt(goro, ".1f"), fmt(ratio(goro, go), ".2f"),
                       fmt(noc, ".1f"), fmt(cost, "+.1f"),
                       fmt(std, ".1f"), fmt(ratio(std, go), ".2f"),
                       fmt(absl, ".1f"), fmt(ratio(absl, go), ".2f"), fmt(go, ".1f")]


def render(body, markdown):
    return common.render(COLUMNS, body, markdown, 2)


def targets(data):
    def cell(op, impl):
        return data.get((op, "int64", 1000000), {}).get(impl)

    out = []
    checks = [("lookup_hit", "goro", "go", "<=", 0.9),
              ("lookup_miss", "goro", "go", "<=", 0.9),
              ("insert", "goro", "go", "<=", 0.8),
              ("iterate", "goro", "go", "<=", 0.8),
              ("lookup_hit", "std", "goro", ">=", 2.0),
              ("lookup_miss", "std", "goro", ">=", 2.0)]
    for op, num, den, cmp, limit in checks:
        a, b = cell(op, num), cell(op, den)
        r = ratio(a, b)
        label = f"{op} int64 1M {num}/{'Go' if den == 'go' else den} {cmp} {limit:.2f}"
        if r is None:
            out.append(f"n/a   {label}")
            continue
        ok = r <= limit if cmp == "<=" else r >= limit
        out.append(f"{'PASS' if ok else 'FAIL'}  {label}: {r:.2f} "
                   f"({num} {a:.1f} ns, {'Go' if den == 'go' else den} {b:.1f} ns)")
    # "1M lookups" against std, as hits and misses together (geometric mean).
    hs, ms = ratio(cell("lookup_hit", "std"), cell("lookup_hit", "goro")), \
        ratio(cell("lookup_miss", "std"), cell("lookup_miss", "goro"))
    label = "lookups (hit and miss) int64 1M std/goro >= 2.00, geometric mean"
    if hs is None or ms is None:
        out.append(f"n/a   {label}")
    else:
        g = math.sqrt(hs * ms)
        out.append(f"{'PASS' if g >= 2.0 else 'FAIL'}  {label}: {g:.2f} (hit {hs:.2f}, miss {ms:.2f})")
    costs = [((ratio(d["goro"], d["goro_nocheck"]) - 1) * 100, f"{op}/{key}/{n}")
             for (op, key, n), d in data.items()
             if op in ("lookup_hit", "lookup_miss", "insert")
             and ratio(d.get("goro"), d.get("goro_nocheck")) is not None]
    # The target is on the benchmarks as a whole: the geometric mean of the
    # goro/no-check ratios over the lookup and insert cells. Single cells
    # carry a few percent of run-to-run noise either way; the extremes are
    # printed so that a real regression in one cell still shows.
    label = "check cost <= 3% (geometric mean over lookup_hit, lookup_miss, insert cells)"
    if costs:
        gmean = (math.prod(1 + c / 100 for c, _ in costs) ** (1 / len(costs)) - 1) * 100
        worst, wat = max(costs)
        best, bat = min(costs)
        out.append(f"{'PASS' if gmean <= 3.0 else 'FAIL'}  {label}: {gmean:+.1f}% over "
                   f"{len(costs)} cells (from {best:+.1f}% at {bat} to {worst:+.1f}% at {wat})")
    else:
        out.append(f"n/a   {label}")
    return out


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--build-dir", required=True, type=Path, metavar="BUILD")
    ap.add_argument("--quick", action="store_true", help="skip n=1000000")
    ap.add_argument("--repetitions", type=int, default=5, metavar="N",
                    help="C++ repetitions (random interleaving, median reported; default 5)")
    ap.add_argument("--filter", default="", metavar="SUBSTR",
                    help="only benchmarks whose name contains SUBSTR")
    ap.add_argument("--cxx-json", type=Path, metavar="FILE", help="read C++ results instead of running")
    ap.add_argument("--go-json", type=Path, metavar="FILE", help="read Go results instead of running")
    ap.add_argument("--markdown", action="store_true", help="print a GitHub markdown table")
    args = ap.parse_args()
    build = args.build_dir.resolve()

    try:
        data, context = {}, {}
        cxx_json = args.cxx_json or run_cxx(build, args)
        if cxx_json:
            data, context = load_cxx(cxx_json, args)
        go = common.find_go()
        go_json = args.go_json
        gover = common.go_version(go) or ("unknown version" if go_json else None)
        if not go_json and not go:
            print("note: Go not found (set GO=/path/to/go); Go columns show '-'",
                  file=sys.stderr)
        elif not go_json:
            (build / "bench").mkdir(parents=True, exist_ok=True)
            go_json = run_go(build, go, args)
        if go_json:
            for k, v in load_go(go_json, args).items():
                data.setdefault(k, {}).update(v)
    except Error as e:
        print(f"error: {e}", file=sys.stderr)
        return 1

    head = header(build, gover, context)
    tgt = targets(data)
    if args.markdown:
        print("\n".join(f"{h}  " for h in head) + "\n")
        print("\n".join(render(list(rows(data)), True)) + "\n")
        print("Targets:\n\n```text\n" + "\n".join(tgt) + "\n```")
    else:
        print("\n".join(head) + "\n")
        print("\n".join(render(list(rows(data)), False)) + "\n")
        print("targets:\n" + "\n".join("  " + t for t in tgt))
    return 0


if __name__ == "__main__":
    sys.exit(main())
