#!/usr/bin/python3
"""Side-by-side report for the goroscope scheduler benchmark (bench/sched).

Runs three programs that time the same loops (see sched_bench.cpp's header
for what each benchmark measures):

  * BUILD/bench/goro_sched_bench, Google Benchmark, goro
    (sched/<bench>/p<W>/goro, user counter ns_per_op);
  * the Go 1.19 program in go/ (JSON lines, sched/<bench>/p<W>/go);
  * BUILD/bench/goro_fiber_bench, Google Benchmark, Boost.Fiber
    (sched/<bench>/p<W>/fiber);

and each of them once more with --parked (-parked N for Go): N parked
goroutines or fibers, in a fresh process, for creation/release time and RSS
and page tables per goroutine.

Repetitions are interleaved: each round runs the three programs (and the
three --parked runs) once, in an order rotated from round to round, and
every cell of the table is the median of its rounds, so that a noisy minute
of a shared machine lands on all three columns rather than on one. Within
a C++ run the benchmarks come in random order.

It prints ONE table, a row per benchmark, then PASS/FAIL/n/a lines for the
performance targets, judged from the measured medians. It is a report: the
exit status is 0 even if targets fail, and nonzero only for a real error
(a missing C++ binary, a run failing).

  compare.py --build-dir BUILD [--quick] [--repetitions N] [--filter SUBSTR]
             [--markdown] [--parked N] [--samples-json FILE]

--filter keeps benchmarks whose row name (e.g. pingpong/p2, parked_rss/p2)
contains SUBSTR; --quick runs 1 round (unless --repetitions is given) with
0.1 s per benchmark instead of 0.5 s. The raw samples of every round are
saved in BUILD/bench/sched_samples.json; --samples-json FILE prints the
report from such a file without running anything.
"""

import argparse
import datetime
import json
import statistics
import subprocess
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
sys.dont_write_bytecode = True  # no bench/__pycache__ in the source tree
import common  # noqa: E402  (bench/common.py)
from common import Error, fmt, ratio, run  # noqa: E402

HERE = Path(__file__).resolve().parent
TIMEOUT = 1800  # seconds for one run of one program: a hang is an error, not a wait
IMPLS = ["goro", "go", "fiber"]
PARKED_DEFAULT = 1000000

# Rows in print order: (row name = "<bench>/p<W>", description, unit).
ROWS = [
    ("spawn_exit/p1", "spawn+exit: go f() + wg.done, wait all", "ns/spawn"),
    ("spawn_exit/p2", "spawn+exit: go f() + wg.done, wait all", "ns/spawn"),
    ("pingpong/p1", "unbuffered ping-pong", "ns/round trip"),
    ("pingpong/p2", "unbuffered ping-pong", "ns/round trip"),
    ("chan_spsc/p1", "chan cap 1024, 1 sender 1 receiver", "ns/msg"),
    ("chan_spsc/p2", "chan cap 1024, 1 sender 1 receiver", "ns/msg"),
    ("chan_mpmc/p2", "chan cap 1024, 4 senders 4 receivers", "ns/msg"),
    ("select_ready/p1", "select on 2 ready chans (+ refill send)", "ns/select"),
    ("select_closed/p1", "select on 2 closed chans", "ns/select"),
    ("mutex_uncontended/p1", "Mutex lock+unlock, uncontended", "ns/op"),
    ("mutex_contended/p2", "Mutex lock+unlock, 4 goroutines", "ns/op"),
    ("rwmutex_readmostly/p2", "RWMutex, 4 goroutines, 1% writes", "ns/op"),
    ("yield/p1", "context switch: yield, 2 goroutines", "ns/switch"),
    ("switch_raw/p1", "raw register switch (no scheduler)", "ns/switch"),
    ("parked_create/p2", "parked: create until all blocked", "ns/goroutine"),
    ("parked_release/p2", "parked: close chan until all exited", "ns/goroutine"),
    ("parked_rss/p2", "parked: VmRSS", "B/goroutine"),
    ("parked_pte/p2", "parked: VmPTE (page tables)", "B/goroutine"),
]
ROW_KEYS = [r[0] for r in ROWS]
# The primitive does not exist there: printed "n/a" rather than "-".
NOT_APPLICABLE = {("select_ready/p1", "fiber"), ("select_closed/p1", "fiber"),
                  ("rwmutex_readmostly/p2", "fiber"), ("switch_raw/p1", "go")}


def selected_rows(args):
    return [k for k in ROW_KEYS if args.filter in k]


def parse_name(name):
    """'sched/<bench>/p<W>/<impl>[/real_time]' -> (row, impl) or None."""
    parts = name.split("/")
    if parts and parts[-1] == "real_time":
        parts = parts[:-1]
    if len(parts) != 4 or parts[0] != "sched" or parts[3] not in IMPLS:
        return None
    return f"{parts[1]}/{parts[2]}", parts[3]


def value_of(rec):
    for field in ("ns_per_op", "bytes_per_op"):
        if field in rec:
            return float(rec[field])
    return None


# --- running ----------------------------------------------------------------

class Runner:
    """Runs one round of one program and returns [(row, impl, value)]."""

    def __init__(self, build, args, rows):
        self.bench = build / "bench"
        self.args = args
        self.rows = rows
        self.min_time = 0.1 if args.quick else 0.5
        self.context = {}  # Google Benchmark context of the last C++ run, per impl
        self.go = common.find_go()
        self.go_exe = None

    def cxx_exe(self, impl):
        name = {"goro": "goro_sched_bench", "fiber": "goro_fiber_bench"}[impl]
        exe = self.bench / name
        if not exe.is_file():
            raise Error(f"{exe} not found (build the {name} target first)")
        return exe

    def bench_rows(self, impl):
        return [k for k in self.rows if not k.startswith("parked_")
                and (k, impl) not in NOT_APPLICABLE]

    def run_cxx(self, impl):
        rows = self.bench_rows(impl)
        if not rows:
            return []
        exe, out = self.cxx_exe(impl), self.bench / f"sched_{impl}.json"
        names = "|".join(f"sched/{k}/{impl}" for k in rows)
        cmd = [exe, "--benchmark_format=json", f"--benchmark_out={out}",
               "--benchmark_out_format=json", "--benchmark_repetitions=1",
               "--benchmark_enable_random_interleaving=true",
               f"--benchmark_min_time={self.min_time}",
               f"--benchmark_filter=^({names})(/.*)?$"]
        run(cmd, timeout=TIMEOUT, stdout=subprocess.DEVNULL)
        try:
            doc = json.loads(Path(out).read_text())
        except (OSError, ValueError) as e:
            raise Error(f"cannot read C++ results {out}: {e}")
        self.context[impl] = doc.get("context", {})
        res = []
        for b in doc.get("benchmarks", []):
            parsed = parse_name(b.get("run_name", b.get("name", "")))
            if parsed and not b.get("error_occurred") and "ns_per_op" in b \
                    and b.get("run_type") != "aggregate":
                res.append((*parsed, float(b["ns_per_op"])))
        return res

    def build_go(self):
        if self.go_exe is None:
            self.go_exe = common.build_go(self.go, HERE / "go", self.bench / "sched_go",
                                          self.bench)
        return self.go_exe

    def run_go(self):
        rows = self.bench_rows("go")
        if not self.go or not rows:
            return []
        # The Go program filters on a substring of the full name, which
        # contains the row name: it runs at least the selected rows.
        cmd = [self.build_go(), "-filter", self.args.filter]
        cmd += ["-quick"] if self.args.quick else []
        out = common.run_jsonl(cmd, self.bench / "sched_go.jsonl", timeout=TIMEOUT)
        return self.read_jsonl(out, "go")

    def run_parked(self, impl):
        if not any(k.startswith("parked_") for k in self.rows):
            return []
        n = self.args.parked
        if impl == "go":
            if not self.go:
                return []
            cmd = [self.build_go(), "-parked", str(n)]
        else:
            cmd = [self.cxx_exe(impl), f"--parked={n}"]
        out = common.run_jsonl(cmd, self.bench / f"sched_parked_{impl}.jsonl",
                               timeout=TIMEOUT)
        return self.read_jsonl(out, impl)

    def read_jsonl(self, path, impl):
        try:
            recs = [json.loads(line) for line in Path(path).read_text().splitlines()
                    if line.strip()]
        except (OSError, ValueError) as e:
            raise Error(f"cannot read results {path}: {e}")
        res = []
        for rec in recs:
            parsed = parse_name(rec.get("name", ""))
            v = value_of(rec)
            if parsed and parsed[1] == impl and v is not None:
                res.append((*parsed, v))
        return res


def run_all(build, args):
    """-> (samples {(row, impl): [values]}, meta)."""
    rows = selected_rows(args)
    if not rows:
        raise Error(f"--filter {args.filter!r} matches no benchmark")
    runner = Runner(build, args, rows)
    build.joinpath("bench").mkdir(parents=True, exist_ok=True)
    if not runner.go:
        print("note: Go not found (set GO=/path/to/go); the Go column shows '-'",
              file=sys.stderr)
    reps = args.repetitions if args.repetitions else (1 if args.quick else 5)
    samples = {}
    for r in range(reps):
        order = IMPLS[r % 3:] + IMPLS[:r % 3]
        print(f"round {r + 1} of {reps}: {', '.join(order)}", file=sys.stderr)
        results = []
        for impl in order:
            results += runner.run_go() if impl == "go" else runner.run_cxx(impl)
        for impl in order:
            results += runner.run_parked(impl)
        for row, impl, v in results:
            if row in rows:
                samples.setdefault((row, impl), []).append(v)
    boost = runner.context.get("fiber", {})
    now = datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d %H:%M UTC")
    meta = {
        "host": common.host_line("scheduler benchmark", now),
        "cxx": common.cxx_compiler(build),
        "go": common.go_version(runner.go),
        "boost": boost.get("boost_version"),
        "boost_p2": boost.get("p2_scheduler"),
        "cpu_scaling": any(c.get("cpu_scaling_enabled") for c in runner.context.values()),
        "rounds": reps,
        "min_time": runner.min_time,
        "parked": args.parked,
        "rows": rows,
    }
    return samples, meta


def save_samples(path, samples, meta):
    doc = {"meta": meta,
           "samples": [{"row": k[0], "impl": k[1], "values": v} for k, v in samples.items()]}
    Path(path).write_text(json.dumps(doc, indent=1) + "\n")


def load_samples(path):
    try:
        doc = json.loads(Path(path).read_text())
        samples = {(s["row"], s["impl"]): [float(x) for x in s["values"]]
                   for s in doc["samples"]}
        return samples, doc["meta"]
    except (OSError, ValueError, KeyError, TypeError) as e:
        raise Error(f"cannot read samples {path}: {e}")


# --- report -----------------------------------------------------------------

def header(meta):
    if meta.get("boost"):
        boost = (f"{meta['boost'].replace('_', '.')} (1 worker: round_robin on one thread; "
                 f"2 workers: {meta.get('boost_p2')})")
    else:
        boost = "not run"
    runs = (f"medians of {meta['rounds']} interleaved round(s), "
            f"{meta['min_time']:g} s per benchmark per round")
    if any(k.startswith("parked_") for k in meta["rows"]):
        runs += f"; parked: {meta['parked']} goroutines/fibers"
    lines = [meta["host"],
             f"C++: {meta.get('cxx') or 'unknown'}; Go: {meta.get('go') or 'not available'}; "
             f"Boost.Fiber: {boost}",
             runs]
    if meta.get("cpu_scaling"):
        lines.append("note: CPU frequency scaling was enabled during the C++ runs")
    return lines


COLUMNS = ["benchmark", "what", "workers", "unit", "goro", "Go 1.19", "Boost.Fiber", "goro/Go"]


def medians(samples):
    return {k: statistics.median(v) for k, v in samples.items() if v}


def cell(med, row, impl, unit):
    """One value: bytes and times of 1000 ns or more without decimals."""
    if (row, impl) in NOT_APPLICABLE:
        return "n/a"
    v = med.get((row, impl))
    return fmt(v, ".0f" if unit.startswith("B/") or (v is not None and v >= 1000) else ".1f")


def rows(med, meta):
    for key, what, unit in ROWS:
        if key not in meta["rows"]:
            continue
        bench, workers = key.rsplit("/p", 1)
        yield [bench, what, workers, unit,
               cell(med, key, "goro", unit), cell(med, key, "go", unit),
               cell(med, key, "fiber", unit),
               fmt(ratio(med.get((key, "goro")), med.get((key, "go"))), ".2f")]


def targets(med, meta):
    out = []
    g = lambda key, impl="goro": med.get((key, impl)) if key in meta["rows"] else None

    def line(ok, label, detail=""):
        status = "n/a " if ok is None else ("PASS" if ok else "FAIL")
        return f"{status}  {label}" + (f": {detail}" if detail else "")

    # Every time (not the memory rows) at or below Go's.
    timed = [(k, g(k), g(k, "go")) for k, _, unit in ROWS
             if unit.startswith("ns/") and k in meta["rows"]]
    both = [(k, a, b) for k, a, b in timed if a is not None and b is not None]
    over = [(k, a / b) for k, a, b in both if a > b]
    label = "every goro time <= Go 1.19's"
    if not both:
        out.append(line(None, label))
    else:
        detail = f"{len(both) - len(over)} of {len(both)} rows"
        if over:
            detail += " (over: " + ", ".join(f"{k} {r:.2f}x" for k, r in over) + ")"
        out.append(line(not over, label, detail))

    def limit(key, lim, label, extra=""):
        v = g(key)
        if key not in meta["rows"] or v is None:
            out.append(line(None, label))
        else:
            out.append(line(v <= lim, label, f"{v:.1f} ns{extra}"))

    limit("pingpong/p1", 100, "ping-pong round trip on one worker <= 100 ns")
    limit("spawn_exit/p1", 150, "spawn+exit <= 150 ns (1 worker)")
    limit("spawn_exit/p2", 150, "spawn+exit <= 150 ns (2 workers)")
    raw = g("switch_raw/p1")
    limit("yield/p1", 20, "context switch (yield between 2 goroutines, 1 worker) <= 20 ns",
          f" per switch (raw register switch {raw:.1f} ns)" if raw is not None else "")

    label = "RSS per parked goroutine <= 2x Go's"
    a, b = g("parked_rss/p2"), g("parked_rss/p2", "go")
    r = ratio(a, b)
    if r is None:
        out.append(line(None, label))
    else:
        out.append(line(r <= 2.0, label, f"{r:.2f}x (goro {a:.0f} B, Go {b:.0f} B)"))
    return out


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--build-dir", required=True, type=Path, metavar="BUILD")
    ap.add_argument("--quick", action="store_true",
                    help="1 round (unless --repetitions), 0.1 s per benchmark")
    ap.add_argument("--repetitions", type=int, default=0, metavar="N",
                    help="interleaved rounds, median reported (default 5; 1 with --quick)")
    ap.add_argument("--filter", default="", metavar="SUBSTR",
                    help="only rows whose name (e.g. pingpong/p2) contains SUBSTR")
    ap.add_argument("--parked", type=int, default=PARKED_DEFAULT, metavar="N",
                    help=f"parked goroutines for the parked_* rows (default {PARKED_DEFAULT})")
    ap.add_argument("--samples-json", type=Path, metavar="FILE",
                    help="print the report from saved samples instead of running")
    ap.add_argument("--markdown", action="store_true", help="print a GitHub markdown table")
    args = ap.parse_args()
    if args.repetitions < 0 or args.parked <= 0:
        ap.error("--repetitions and --parked must be positive")
    build = args.build_dir.resolve()

    try:
        if args.samples_json:
            samples, meta = load_samples(args.samples_json)
            meta["rows"] = [k for k in meta.get("rows", ROW_KEYS) if args.filter in k]
        else:
            samples, meta = run_all(build, args)
            save_samples(build / "bench" / "sched_samples.json", samples, meta)
    except Error as e:
        print(f"error: {e}", file=sys.stderr)
        return 1

    med = medians(samples)
    head, body, tgt = header(meta), list(rows(med, meta)), targets(med, meta)
    if args.markdown:
        print("\n".join(f"{h}  " for h in head) + "\n")
        print("\n".join(common.render(COLUMNS, body, True, 4)) + "\n")
        print("Targets:\n\n```text\n" + "\n".join(tgt) + "\n```")
    else:
        print("\n".join(head) + "\n")
        print("\n".join(common.render(COLUMNS, body, False, 4)) + "\n")
        print("targets:\n" + "\n".join("  " + t for t in tgt))
    return 0


if __name__ == "__main__":
    sys.exit(main())
