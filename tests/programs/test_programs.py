"""test_programs: the corpus of user programs (README.md here) in GDB, LLDB and the runtime's dump.

Every program in tests/programs/ parks goroutines at lines marked `// @park NAME`, created at
lines marked `// @go NAME`, and stops at checkpoint(). Each is built by two compilers at three
optimization levels (tests/programs/CMakeLists.txt: build/tests/programs/<variant>/<program>).
For each variant, each mode and each marked goroutine (the program prints which goid is which:
`corpus: goroutine GOID NAME`, so the mapping never depends on a symbolizer), the checks are:

  user   the `goroutines` line's User location is the @park line
  name   that line's function is the user's, qualified: it contains the marker's fn=, is not a
         bare `operator()` (nor an unnamed lambda), not goro::/std::, not a runtime file
  go     `goroutines -g` (the dump: `created by`) is at one of the NAME's @go lines
  stack  `goroutines -t 50` (the dump: its frames): the first frame in the program's sources is
         the @park line, the program frames below it follow the @call markers in order (a
         truncated listing is checked as far as it goes), every program frame is named as in
         `name`, and no frame down to the last program frame is at line 0
  bt     the same on the debugger's own backtrace in the goroutine's context
         (`goroutines -exec bt`)

Modes: gdb-live and lldb-live (stopped at checkpoint), gdb-core and lldb-core (a gcore core of
the GDB live session), runtime (the program held after checkpoint, GOROSCOPE_PROGRAM_HOLD=1,
gets SIGQUIT: user/name/go/stack on its goroutine dump; Go's "...additional frames elided..."
counts as a truncation, a silently shortened stack does not).

The matrix: CI (the default) runs every program on VARIANTS_CI x MODES_CI; GOROSCOPE_FULL=1
(./goroscope test --full) runs VARIANTS_ALL x MODES_ALL. Run by hand:

  python3 tests/programs/test_programs.py --matrix [--full] [--variants gcc-O2,clang-O3]
          [--modes gdb-live,runtime] [--programs recursion] [--examples 3]

prints the failure table, pass counts per mode x compiler x level, and examples of each kind of
failure with the text the tool printed; exit status 1 if any check fails.
"""

import collections
import concurrent.futures
import glob
import os
import re
import signal
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
sys.path.insert(0, os.path.join(ROOT, "tests", "gdb"))
sys.path.insert(0, os.path.join(ROOT, "tests", "lldb"))
import gdbtest  # noqa: E402
import lldbtest  # noqa: E402

BUILT = os.environ.get("GOROSCOPE_PROGRAMS", os.path.join(ROOT, "build", "tests", "programs"))

VARIANTS_ALL = ("gcc-O0", "gcc-O2", "gcc-O3", "clang-O0", "clang-O2", "clang-O3")
MODES_ALL = ("gdb-live", "gdb-core", "lldb-live", "lldb-core", "runtime")
CHECKS = ("user", "name", "go", "stack", "stack-names", "bt", "bt-names")
ABBREV = {"user": "u", "name": "n", "go": "g", "stack": "s", "stack-names": "S", "bt": "b",
          "bt-names": "B", "ERROR": "E"}
# CI: both compilers at -O2, g++ at -O0 (the debug build), clang at -O3; both debuggers live
# and the runtime's dump on all four, the core files on the two -O2 builds.
VARIANTS_CI = ("gcc-O0", "gcc-O2", "clang-O2", "clang-O3")
MODES_CI = ("gdb-live", "lldb-live", "runtime")
CORES_CI = ("gcc-O2", "clang-O2")

DEPTH = 50  # goroutines -t DEPTH
JOBS = int(os.environ.get("GOROSCOPE_PROGRAMS_JOBS", "2"))
CHECKPOINT_TIMEOUT = 30

# ---------------------------------------------------------------- markers


class Park:
    def __init__(self, name, file, line, count, fn):
        self.name, self.file, self.line, self.count, self.fn = name, file, line, count, fn
        self.go = set()    # {(file, line)} of the @go lines
        self.calls = []    # [(k, file, line, repeat)]

    def below(self):
        """The program frames expected under the park frame, innermost first."""
        out = []
        for _, f, ln, rep in sorted(self.calls):
            out += [(f, ln)] * rep
        return out


TOKEN = re.compile(r"@(park|go|call)\b([^@]*)")


def sources(program):
    return [program + ".cpp"] + sorted(os.path.basename(p) for p in
                                       glob.glob(os.path.join(HERE, program + "_*.cpp")))


def programs():
    """The programs: tests/programs/NAME.cpp, except NAME_PART.cpp files of another program."""
    names = sorted(os.path.basename(p)[:-4] for p in glob.glob(os.path.join(HERE, "*.cpp")))
    return [n for n in names if not any(n.startswith(o + "_") for o in names if o != n)]


def markers(program):
    """{NAME: Park} from the program's sources; raises on a malformed or incomplete marker."""
    parks, gos, calls = {}, [], []
    for src in sources(program):
        with open(os.path.join(HERE, src)) as f:
            for n, text in enumerate(f, 1):
                if "//" not in text:
                    continue
                for kind, args in TOKEN.findall(text.split("//", 1)[1]):
                    a = args.split()
                    if kind == "park":
                        count = int(a[1][1:]) if len(a) > 1 and re.fullmatch(r"x\d+", a[1]) else 1
                        fn = [x[3:] for x in a if x.startswith("fn=")]
                        if not fn:
                            raise ValueError(f"{src}:{n}: @park {a[0]} without fn=")
                        parks[a[0]] = Park(a[0], src, n, count, fn[0])
                    elif kind == "go":
                        gos += [(x, src, n) for x in a]
                    else:
                        rep = int(a[2][1:]) if len(a) > 2 else 1
                        calls.append((a[0], int(a[1]), src, n, rep))
    for name, src, n in gos:
        parks[name].go.add((src, n))
    for name, k, src, n, rep in calls:
        parks[name].calls.append((k, src, n, rep))
    for p in parks.values():
        if not p.go:
            raise ValueError(f"{program}: @park {p.name} has no @go line")
    return parks


# ---------------------------------------------------------------- parsing the tools' text

MARK_LINE = re.compile(r"^corpus: goroutine (\d+) (\S+)$", re.M)
GLINE = re.compile(r"^[ *] Goroutine (\d+) - (?:User|Go): (.*?):(\d+) (.*) \(0x[0-9a-f]+\)"
                   r"(?: \[.*\]| \(thread \d+\))?(?: \"[^\"]*\")?$")
GHEAD = re.compile(r"^[ *] Goroutine (\d+) - ", re.M)
TFRAME = re.compile(r"^\t\d+  0x[0-9a-f]+ in (.*)\n\t    at (.*):(\d+)$", re.M)
GDB_BT = re.compile(r"^#\d+\s+(?:0x[0-9a-f]+ in )?(.*?)(?: at (\S+):(\d+)| from \S+)?$")
LLDB_BT = re.compile(r"^\s*\*?\s*frame #\d+: 0x[0-9a-f]+ [^`]*`(.*?)"
                     r"(?: at ([^:\s]+):(\d+)(?::\d+)?)?(?: \[artificial\])?$")
RUNTIME_DIRS = (os.path.join(ROOT, "runtime") + "/", "/usr/include/")


def marks_of(text):
    return {int(g): name for g, name in MARK_LINE.findall(text)}


def strip_args(s):
    """`f(int) const` -> `f`, `X::operator()(...)` -> `X::operator()`: drops one trailing
    parenthesized group (and a `const` after it)."""
    s = s.strip()
    if s.endswith(" const"):
        s = s[:-6]
    if not s.endswith(")"):
        return s
    depth = 0
    for i in range(len(s) - 1, -1, -1):
        depth += {")": 1, "(": -1}.get(s[i], 0)
        if depth == 0:
            head = s[:i].rstrip()
            if head.endswith("operator"):
                # `operator()` itself, or LLDB's `operator(__closure=...)`
                return head + "()"
            return head
    return s


def listing(text):
    """{goid: (function, file, line)} of a goroutines listing (-u or -g)."""
    out = {}
    for line in text.splitlines():
        m = GLINE.match(line)
        if m:
            out[int(m.group(1))] = (m.group(4), m.group(2), int(m.group(3)))
    return out


def sections(text):
    """{goid: the lines under its header} of `goroutines -t` / `goroutines -exec CMD`."""
    out = {}
    heads = list(GHEAD.finditer(text))
    for i, m in enumerate(heads):
        end = heads[i + 1].start() if i + 1 < len(heads) else len(text)
        body = text[m.start():end].split("\n", 1)
        out[int(m.group(1))] = body[1] if len(body) > 1 else ""
    return out


def tstack(body):
    """Frames [(function, file, line)] of one `goroutines -t` section; truncated?"""
    return ([(f, file, int(ln)) for f, file, ln in TFRAME.findall(body)],
            "(truncated)" in body)


def btstack(body, debugger):
    frames = []
    rx = GDB_BT if debugger == "gdb" else LLDB_BT
    for line in body.splitlines():
        if debugger == "gdb" and not line.startswith("#"):
            continue
        if debugger == "lldb" and "frame #" not in line:
            continue
        m = rx.match(line)
        if not m:
            frames.append((line.strip(), "?", 0))
            continue
        fn = m.group(1)
        if debugger == "lldb":
            fn = fn.split(" [inlined] ")[-1]
            fn = re.sub(r" \+ \d+$", "", fn)
        frames.append((strip_args(fn), m.group(2) or "?", int(m.group(3) or 0)))
    return frames, False


DUMP_HEAD = re.compile(r"^goroutine (\d+)(?: \"[^\"]*\")? \[", re.M)


def dump_of(text):
    """{goid: (frames [(function, file, line)], created (file, line) or None, elided)}."""
    out = {}
    heads = list(DUMP_HEAD.finditer(text))
    for i, m in enumerate(heads):
        end = heads[i + 1].start() if i + 1 < len(heads) else len(text)
        lines = text[m.start():end].splitlines()[1:]
        frames, created, elided = [], None, False
        j = 0
        while j < len(lines):
            ln = lines[j]
            if ln.startswith("...additional frames elided..."):
                elided = True
            elif ln and not ln.startswith("\t") and j + 1 < len(lines) and \
                    lines[j + 1].startswith("\t"):
                loc = re.match(r"\t(.*):(\d+)(?: \+0x[0-9a-f]+)?$", lines[j + 1])
                file, line = (loc.group(1), int(loc.group(2))) if loc else (lines[j + 1].strip(), 0)
                if ln.startswith("created by "):
                    created = (file, line)
                else:
                    frames.append((ln[:-5] if ln.endswith("(...)") else strip_args(ln), file, line))
                j += 1
            j += 1
        out[int(m.group(1))] = (frames, created, elided)
    return out


# ---------------------------------------------------------------- the checks

def name_problem(fn, park=None):
    """Why fn is not an acceptable name for a user frame, or None."""
    f = strip_args(fn) if fn else ""
    if not f or f in ("?", "??"):
        return "no name"
    if f == "operator()" or f.startswith(("operator()", "{lambda", "'lambda'", "$_", "<lambda")):
        return "bare operator()/lambda"
    if f.startswith(("goro::", "goro_", "std::", "__gnu_cxx::", "_FUN", "__invoke")):
        return "runtime/library name"
    if park is not None and park.fn not in f:
        return f"lacks {park.fn!r}"
    return None


def at(file, line):
    return f"{os.path.basename(file)}:{line}"


def check_stack(frames, truncated, park, srcs, what):
    """(location problems, name problems) of a stack (see the module doc)."""
    prog = [i for i, (_, f, _) in enumerate(frames) if os.path.basename(f) in srcs]
    if not prog:
        top = "; ".join(f"{fn} {at(f, ln)}" for fn, f, ln in frames[:8])
        return [f"{what}: no program frame (top: {top})"], []
    probs, names = [], []
    first = frames[prog[0]]
    if (os.path.basename(first[1]), first[2]) != (park.file, park.line):
        probs.append(f"{what}: first program frame {first[0]} at {at(first[1], first[2])}, "
                     f"want {park.file}:{park.line}")
    for i, (fn, f, ln) in enumerate(frames[:prog[-1] + 1]):
        if ln == 0:
            probs.append(f"{what}: frame {i} {fn} at {at(f, ln)}")
            break
    want = park.below()
    got = [(os.path.basename(frames[i][1]), frames[i][2]) for i in prog[1:]]
    if truncated:
        n = min(len(want), len(got))
        want, got = want[:n], got[:n]
    if got[:len(want)] != want:
        k = next((i for i, (a, b) in enumerate(zip(got, want)) if a != b), min(len(got), len(want)))
        g = f"{got[k][0]}:{got[k][1]}" if k < len(got) else "nothing"
        after = prog[k]  # the last program frame that matched
        there = "; ".join(f"{fn} {at(f, ln)}" for fn, f, ln in frames[after + 1:after + 3])
        probs.append(f"{what}: program frame {k + 1} below the park is {g}, want "
                     f"{want[k][0]}:{want[k][1]} ({len(got)} program frames below, want "
                     f"{len(want)}; frames after frame {after}: {there or 'none'})")
    for i in prog:
        why = name_problem(frames[i][0], park if i == prog[0] else None)
        if why:
            names.append(f"{what}: frame {i} {frames[i][0]!r} at "
                         f"{at(frames[i][1], frames[i][2])}: {why}")
            break
    return probs, names


def check_goroutine(res, park, goid, srcs):
    """{check: [problems]} for one goroutine; res holds what a mode produced (see run_mode)."""
    out = {}
    u = res["u"].get(goid)
    if u is None:
        out["user"] = out["name"] = [f"goroutine {goid} not listed"]
    else:
        fn, f, ln = u
        out["user"] = [] if (os.path.basename(f), ln) == (park.file, park.line) else \
            [f"User: {at(f, ln)} {fn}"]
        why = name_problem(fn, park)
        out["name"] = [f"User: {fn!r}: {why}"] if why else []
    g = res["g"].get(goid)
    if g is None:
        out["go"] = [f"goroutine {goid} not listed by -g"]
    else:
        fn, f, ln = g
        out["go"] = [] if (os.path.basename(f), ln) in park.go else [f"Go: {at(f, ln)} {fn}"]
    for key, check, parse in (("t", "stack", tstack),
                              ("bt", "bt", lambda b: btstack(b, res["debugger"]))):
        body = res[key].get(goid)
        if body is None:
            out[check] = out[check + "-names"] = [f"goroutine {goid} not in the {key} block"]
        else:
            out[check], out[check + "-names"] = check_stack(*parse(body), park, srcs, key)
    return out


def check_dump(dump, park, goid, srcs):
    d = dump.get(goid)
    if d is None:
        return {c: [f"goroutine {goid} not in the dump"]
                for c in ("user", "name", "go", "stack", "stack-names")}
    frames, created, elided = d
    out = {}
    if not frames:
        out["user"] = out["name"] = ["no frames"]
    else:
        fn, f, ln = frames[0]
        out["user"] = [] if (os.path.basename(f), ln) == (park.file, park.line) else \
            [f"first frame {fn} at {at(f, ln)}"]
        why = name_problem(fn, park)
        out["name"] = [f"first frame {fn!r}: {why}"] if why else []
    out["go"] = ["no `created by`"] if created is None else \
        [] if (os.path.basename(created[0]), created[1]) in park.go else \
        [f"created by ... at {at(*created)}"]
    out["stack"], out["stack-names"] = check_stack(frames, elided, park, srcs, "dump")
    return out


# ---------------------------------------------------------------- running

BLOCKS = [("u", "goroutines"), ("g", "goroutines -g"), ("t", f"goroutines -t {DEPTH}"),
          ("bt", "goroutines -exec bt")]


def debugger_session(mode, binary, core=None, gcore=None):
    """Returns ({u, g, t, bt, debugger}, marks, transcript)."""
    debugger, how = mode.split("-")
    mod = gdbtest if debugger == "gdb" else lldbtest
    blocks = list(BLOCKS) + ([("gcore", f"gcore {gcore}")] if gcore else [])
    res, out = mod.session(binary, blocks, mode="core" if how == "core" else "live", core=core,
                           stop="checkpoint")
    missing = [name for name, _ in BLOCKS if name not in res]
    if missing:
        raise RuntimeError(f"{mode}: no {'/'.join(missing)} block in the transcript:\n"
                           + out[-3000:])
    return ({"u": listing(res["u"]), "g": listing(res["g"]), "t": sections(res["t"]),
             "bt": sections(res["bt"]), "debugger": debugger}, marks_of(out), out)


def runtime_dump(binary):
    """Runs the program held after checkpoint, SIGQUITs it: (dump text, marks)."""
    env = dict(os.environ, GOROSCOPE_PROGRAM_HOLD="1")
    p = subprocess.Popen([binary], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                         env=env, stdin=subprocess.DEVNULL)
    seen = []
    try:
        deadline = time.monotonic() + CHECKPOINT_TIMEOUT
        while time.monotonic() < deadline:
            line = p.stdout.readline()
            if not line:
                break
            seen.append(line)
            if line.startswith("corpus: checkpoint"):
                break
        else:
            raise RuntimeError("no checkpoint within %ds" % CHECKPOINT_TIMEOUT)
        time.sleep(0.3)  # main parks in hold()
        p.send_signal(signal.SIGQUIT)
        out, err = p.communicate(timeout=60)
    finally:
        if p.poll() is None:
            p.kill()  # our own child, by PID
            p.wait()
    if p.returncode != 2 or "SIGQUIT: quit" not in err:
        raise RuntimeError(f"exit status {p.returncode}, stderr:\n{err[-3000:]}")
    return err, marks_of("".join(seen) + out)


def binary_of(variant, program):
    return os.path.join(BUILT, variant, program)


def run_unit(program, variant, modes):
    """All modes of one program built one way: [(mode, check, park, goid, problems)] plus a
    list of (mode, error) for sessions that did not run."""
    parks = markers(program)
    srcs = set(sources(program))
    binary = binary_of(variant, program)
    results, errors = [], []

    def judge(mode, marks, check):
        by_name = collections.Counter(marks.values())
        for p in parks.values():
            if by_name[p.name] != p.count:
                errors.append((mode, f"{p.name}: {by_name[p.name]} marked goroutine(s), "
                                     f"want {p.count}"))
        for goid, name in sorted(marks.items()):
            if name not in parks:
                errors.append((mode, f"mark {name!r} has no @park"))
                continue
            for c, probs in check(parks[name], goid).items():
                results.append((mode, c, name, goid, probs))

    with tempfile.TemporaryDirectory(prefix="goroscope-programs-") as tmp:
        core = os.path.join(tmp, "core")
        want_core = any(m.endswith("-core") for m in modes)
        live_marks = {}
        for mode in ("gdb-live", "lldb-live", "gdb-core", "lldb-core", "runtime"):
            if mode not in modes and not (mode == "gdb-live" and want_core):
                continue
            try:
                if mode == "runtime":
                    text, marks = runtime_dump(binary)
                    dump = dump_of(text)
                    judge(mode, marks, lambda p, g: check_dump(dump, p, g, srcs))
                    continue
                if mode.endswith("-core"):
                    if not os.path.exists(core):
                        errors.append((mode, "no core file (gcore failed)"))
                        continue
                    res, _, _ = debugger_session(mode, binary, core=core)
                    marks = live_marks
                else:
                    gc = core if (mode == "gdb-live" and want_core) else None
                    res, marks, _ = debugger_session(mode, binary, gcore=gc)
                    if mode == "gdb-live":
                        live_marks = marks
                        if mode not in modes:
                            continue
                judge(mode, marks, lambda p, g, r=res: check_goroutine(r, p, g, srcs))
            except (RuntimeError, subprocess.TimeoutExpired, OSError) as e:
                errors.append((mode, f"{type(e).__name__}: {e}"))
    return results, errors


def matrix(full=None):
    """[(variant, modes)] of the CI or the full matrix."""
    if full is None:
        full = os.environ.get("GOROSCOPE_FULL") == "1"
    if full:
        return [(v, MODES_ALL) for v in VARIANTS_ALL]
    return [(v, MODES_CI + (("gdb-core", "lldb-core") if v in CORES_CI else ()))
            for v in VARIANTS_CI]


def run_matrix(plan, progs=None, jobs=JOBS):
    """{(program, variant): (results, errors)} over the plan, `jobs` units at a time."""
    progs = progs or programs()
    units = [(p, v, m) for v, m in plan for p in progs]
    if any(v not in VARIANTS_CI and not os.path.exists(binary_of(v, p)) for p, v, _ in units):
        # the full matrix's extra builds are not in `all` (CMakeLists.txt)
        build = os.path.dirname(os.path.dirname(BUILT))
        subprocess.run(["cmake", "--build", build, "--target", "programs_full"], check=True)
    for p, v, _ in units:
        if not os.path.exists(binary_of(v, p)):
            raise FileNotFoundError(f"{binary_of(v, p)}: build the project first "
                                    "(./goroscope build)")
    out = {}
    with concurrent.futures.ThreadPoolExecutor(jobs) as ex:
        futs = {ex.submit(run_unit, p, v, m): (p, v) for p, v, m in units}
        for f in concurrent.futures.as_completed(futs):
            out[futs[f]] = f.result()
    return out


# ---------------------------------------------------------------- reporting

def report(out, examples=3):
    """(text, failures): the failure table, pass counts, examples of each failure kind."""
    cells = collections.defaultdict(collections.Counter)  # (program, variant, mode) -> fails
    checked = collections.Counter()                       # (program, variant, mode)
    kinds = collections.defaultdict(list)                 # (mode, check) -> [example]
    per = collections.defaultdict(lambda: [0, 0])         # (mode, variant) -> [pass, total]
    bycheck = collections.defaultdict(lambda: [0, 0])     # (check, mode) -> [fail, total]
    failures = 0
    for (prog, variant), (results, errors) in sorted(out.items()):
        for mode, check, name, goid, probs in results:
            checked[(prog, variant, mode)] += 1
            per[(mode, variant)][1] += 1
            bycheck[(check, mode)][1] += 1
            if probs:
                failures += 1
                cells[(prog, variant, mode)][check] += 1
                bycheck[(check, mode)][0] += 1
                kinds[(mode, check)].append(f"{prog} {variant} @park {name} (goroutine {goid}): "
                                            + " | ".join(probs))
            else:
                per[(mode, variant)][0] += 1
        for mode, err in errors:
            failures += 1
            cells[(prog, variant, mode)]["ERROR"] += 1
            kinds[(mode, "ERROR")].append(f"{prog} {variant}: {err[:1500]}")
    modes = [m for m in MODES_ALL if any(k[2] == m for k in list(checked) + list(cells))]
    variants = [v for v in VARIANTS_ALL if any(k[1] == v for k in list(checked) + list(cells))]
    w = max([len(p) for p, _ in out] + [7])
    cw = 16
    lines = ["Failing goroutines per check (u user, n name, g go, s stack, S stack-names, "
             "b bt, B bt-names, E session error; . all pass):",
             f"{'program':{w}} {'variant':8} " + " ".join(f"{m:{cw}}" for m in modes)]
    for prog, variant in sorted(out):
        row = []
        for m in modes:
            c = cells.get((prog, variant, m))
            if c:
                row.append(" ".join(f"{ABBREV[k]}{c[k]}" for k in CHECKS + ("ERROR",) if c[k]))
            else:
                row.append("." if checked[(prog, variant, m)] else "-")
        if any(r not in (".", "-") for r in row):
            lines.append(f"{prog:{w}} {variant:8} " + " ".join(f"{r:{cw}}" for r in row))
    if not failures:
        lines.append("(none)")
    lines += ["", "Failing/checked goroutines per check and mode:",
              f"{'check':12} " + " ".join(f"{m:>10}" for m in modes)]
    for c in CHECKS:
        cols = [bycheck.get((c, m)) for m in modes]
        if any(cols):
            lines.append(f"{c:12} " + " ".join(f"{(f'{x[0]}/{x[1]}' if x else '-'):>10}"
                                               for x in cols))
    lines += ["", "Passing goroutine checks per mode x variant (pass/total):",
              f"{'mode':9} " + " ".join(f"{v:>11}" for v in variants) + f" {'total':>11}"]
    for mode in modes:
        ps = [per.get((mode, v)) for v in variants]
        tot = [sum(p[0] for p in ps if p), sum(p[1] for p in ps if p)]
        lines.append(f"{mode:9} " + " ".join(f"{(f'{p[0]}/{p[1]}' if p else '-'):>11}" for p in ps)
                     + f" {f'{tot[0]}/{tot[1]}':>11}")
    if kinds and examples:
        lines += ["", f"Examples (at most {examples} per mode and check):"]
        for (mode, check), ex in sorted(kinds.items()):
            lines.append(f"[{mode} {check}] {len(ex)} failing")
            seen = set()
            for e in ex:  # one example per program first
                if e.split()[0] not in seen and len(seen) < examples:
                    seen.add(e.split()[0])
                    lines.append("    " + e)
    return "\n".join(lines), failures


# ---------------------------------------------------------------- pytest


def test_markers():
    """Every program's markers are complete (a @park has fn= and a @go line; counts parse)."""
    progs = programs()
    assert len(progs) >= 12, progs
    for p in progs:
        assert markers(p), f"{p}: no @park marker"


# The checks against text with the failures seen in issue 16 (and passing text), so that a
# pass of test_programs is a pass of these checks, not of a parser that matched nothing.
PARK = Park("audit", "std_function.cpp", 22, 1, "start_audit")
PARK.go.add(("std_function.cpp", 16))
SRCS = {"std_function.cpp"}
GOOD_U = ("  Goroutine 17 - User: /src/tests/programs/std_function.cpp:22 start_audit(goro::Chan<"
          "std::string>, std::string)::{lambda()#1}::operator() (0x55555555ba8d) [chan send 1s]")
GOOD_G = ("  Goroutine 17 - Go: /src/tests/programs/std_function.cpp:16 spawn (0x55555555b810) "
          "[chan send 1s]")
GOOD_T = GOOD_U + """
\t0  0x0000555555562a60 in goro::detail::gopark
\t    at /src/runtime/src/proc.cpp:1076
\t1  0x000055555555ba8d in goro::Chan<int>::send
\t    at /src/runtime/include/goro/chan.h:150
\t2  0x000055555555ba8d in start_audit(goro::Chan<std::string>, std::string)::{lambda()#1}::operator()
\t    at /src/tests/programs/std_function.cpp:22
\t3  0x000055555555c8ae in goro::detail::closure<std::function<void ()>>::entry
\t    at /src/runtime/include/goro/sched.h:122
"""
GOOD_GDB_BT = GOOD_U + """
#0  checkpoint () at /src/tests/programs/corpus.h:33
#1  0x0000555555562a60 in goro::detail::gopark (unlockf=0x0, reason=...) at /src/runtime/src/proc.cpp:1076
#2  0x000055555555ba8d in start_audit(goro::Chan<std::string>, std::string)::{lambda()#1}::operator()() const (__closure=0x7ffff0000c40) at /src/tests/programs/std_function.cpp:22
#3  0x000055555555c8ae in goro::detail::closure<std::function<void ()>>::entry(goro::detail::G*) (gp=0x5555555c5dc0) at /src/runtime/include/goro/sched.h:122
"""
GOOD_LLDB_BT = GOOD_U + """
* thread #3, name = 'goroutine 17 [chan send]'
  * frame #0: 0x0000555555562a60 prog`goro::detail::gopark(bool (*)(goro::detail::G*, void*), void*, goro::detail::waitReason) at proc.h:150:36
    frame #1: 0x000055555555ba8d prog`std::_Function_handler<void ()>::_M_invoke(std::_Any_data const&) [inlined] start_audit(goro::Chan<std::string>, std::string)::$_0::operator()(this=0x1) const at std_function.cpp:22:9
    frame #2: 0x000055555555c8ad prog`spawn(std::function<void ()>)::$_0::operator()() const at std_function.cpp:16:3 [artificial]
    frame #3: 0x000055555555c8ae prog`goro::detail::closure<std::function<void ()>>::entry(gp=goroutine 17) at sched.h:122:15
"""
GOOD_DUMP = """goroutine 17 [chan send]:
start_audit(goro::Chan<std::string>, std::string)::{lambda()#1}::operator()(...)
\t/src/tests/programs/std_function.cpp:22
created by spawn in goroutine 1
\t/src/tests/programs/std_function.cpp:16 +0x70
"""


def fake(u=GOOD_U, g=GOOD_G, t=GOOD_T, bt=GOOD_GDB_BT, debugger="gdb"):
    return {"u": listing(u), "g": listing(g), "t": sections(t), "bt": sections(bt),
            "debugger": debugger}


def failing(res):
    return sorted(c for c, probs in check_goroutine(res, PARK, 17, SRCS).items() if probs)


def test_checks_pass_good_text():
    assert failing(fake()) == []
    assert failing(fake(bt=GOOD_LLDB_BT, debugger="lldb")) == []
    assert [c for c, p in check_dump(dump_of(GOOD_DUMP), PARK, 17, SRCS).items() if p] == []


def test_checks_catch_issue_16_failures():
    # GDB: a bare operator() user frame
    bare = GOOD_U.replace("start_audit(goro::Chan<std::string>, std::string)::{lambda()#1}::", "")
    assert failing(fake(u=bare)) == ["name"]
    # LLDB: the runtime's gopark as the user frame
    gopark = ("  Goroutine 17 - User: /src/runtime/src/proc.cpp:579 goro::detail::gopark "
              "(0x555555562a60) [sync.WaitGroup.Wait 114ms]")
    assert failing(fake(u=gopark)) == ["name", "user"]
    # the creation site at file.cpp:0 (GDB) or inside goro's sched.h (LLDB)
    for where in ("std_function.cpp:0", "../runtime/include/goro/sched.h:154"):
        assert failing(fake(g=GOOD_G.replace("std_function.cpp:16", where))) == ["go"]
    # GDB bt: the lambda at file.cpp:0
    bt0 = GOOD_GDB_BT.replace("std_function.cpp:22", "std_function.cpp:0")
    assert failing(fake(bt=bt0)) == ["bt"]
    # GDB bt: a bare `operator() (__closure=...)`; LLDB: `operator(__closure=...)`
    bare_bt = re.sub(r"in start_audit\(.*?\)::\{lambda\(\)#1\}::operator\(\)\(\) const",
                     "in operator()", GOOD_GDB_BT)
    assert failing(fake(bt=bare_bt)) == ["bt-names"]
    lldb_bare = GOOD_LLDB_BT.replace(
        "start_audit(goro::Chan<std::string>, std::string)::$_0::operator()(this=0x1) const",
        "operator(__closure=0x1)")
    assert failing(fake(bt=lldb_bare, debugger="lldb")) == ["bt-names"]
    # LLDB bt: the lambda's inlined frame lost, its line given to std::_Function_handler
    lost = GOOD_LLDB_BT.replace(
        "[inlined] start_audit(goro::Chan<std::string>, std::string)::$_0::operator()(this=0x1) "
        "const ", "")
    assert failing(fake(bt=lost, debugger="lldb")) == ["bt-names"]
    # -t: the user frame one line off
    assert failing(fake(t=GOOD_T.replace("std_function.cpp:22\n", "std_function.cpp:21\n"))) == \
        ["stack"]
    # the runtime's dump: a bare operator()(...), and `created by` in goro's header
    d = dump_of(GOOD_DUMP.replace("start_audit(goro::Chan<std::string>, std::string)::"
                                  "{lambda()#1}::", ""))
    assert sorted(c for c, p in check_dump(d, PARK, 17, SRCS).items() if p) == \
        ["name", "stack-names"]
    d = dump_of(GOOD_DUMP.replace("/src/tests/programs/std_function.cpp:16",
                                  "/src/runtime/include/goro/sched.h:154"))
    assert [c for c, p in check_dump(d, PARK, 17, SRCS).items() if p] == ["go"]


def test_lldb_tail_call_frames():
    """LLDB's `[artificial]` frames (tail calls rebuilt from DWARF call sites) are frames."""
    frames, _ = btstack(sections(GOOD_LLDB_BT)[17], "lldb")
    assert frames[2] == ("spawn(std::function<void ()>)::$_0::operator()", "std_function.cpp", 16)


def test_checks_follow_calls_and_truncation():
    p = Park("walker", "recursion.cpp", 32, 1, "walk")
    p.go.add(("recursion.cpp", 59))
    p.calls = [(1, "recursion.cpp", 36, 3), (2, "recursion.cpp", 61, 1)]
    fr = [("walk", "recursion.cpp", 32)] + [("walk", "recursion.cpp", 36)] * 3 + \
        [("main::{lambda()#1}::operator()", "recursion.cpp", 61)]
    assert check_stack(fr, False, p, {"recursion.cpp"}, "t") == ([], [])
    short = fr[:3] + fr[4:]  # a recursive frame missing
    assert check_stack(short, False, p, {"recursion.cpp"}, "t")[0]
    assert check_stack(fr[:3], True, p, {"recursion.cpp"}, "t") == ([], [])  # truncated: ok
    assert check_stack(fr[:3], False, p, {"recursion.cpp"}, "t")[0]  # silently short: not ok


KNOWN = os.path.join(HERE, "known_failures.txt")


def cells_of(out):
    """{(program, variant, mode): Counter(check letter: failing goroutines)}."""
    cells = collections.defaultdict(collections.Counter)
    for (prog, variant), (results, errors) in out.items():
        for mode, check, _name, _goid, probs in results:
            if probs:
                cells[(prog, variant, mode)][ABBREV[check]] += 1
        for mode, _err in errors:
            cells[(prog, variant, mode)]["E"] += 1
    return cells


def known_failures(path=KNOWN):
    """known_failures.txt: {(program, variant, mode): (Counter(letter: n), reason)}.
    A `[reason] text` line names the reason of the cells below it; a cell is
    `program variant mode L1 L2...` in the table's letters (B4: 4 goroutines)."""
    known, reason = {}, None
    for ln in open(path):
        ln = ln.split("#", 1)[0].strip()
        if not ln:
            continue
        if ln.startswith("["):
            reason = ln[1:ln.index("]")]
            continue
        prog, variant, mode, *checks = ln.split()
        c = collections.Counter({x[0]: int(x[1:]) for x in checks})
        if (prog, variant, mode) in known:
            raise ValueError(f"{path}: {prog} {variant} {mode} listed twice")
        known[(prog, variant, mode)] = (c, reason)
    return known


def compare_known(out, known):
    """(new, fixed): failures not in the list (each a line), and listed ones
    that now pass (the list should shrink with them)."""
    cells = cells_of(out)
    ran = {(p, v, m) for (p, v), (results, errors) in out.items()
           for m in {r[0] for r in results} | {e[0] for e in errors}}
    new, fixed = [], []
    for key in sorted(ran):
        got, (want, reason) = cells.get(key, collections.Counter()), known.get(
            key, (collections.Counter(), None))
        for letter in sorted(set(got) | set(want)):
            if got[letter] > want[letter]:
                new.append(f"{' '.join(key)} {letter}{got[letter]} (known: {want[letter]})")
            elif got[letter] < want[letter]:
                fixed.append(f"{' '.join(key)} {letter}{got[letter]} (known: "
                             f"{want[letter]}, {reason})")
    return new, fixed


def write_known(out, path=KNOWN):
    """Rewrites the cells of the run's matrix in known_failures.txt from out,
    keeping each cell's reason (new cells go under `[unexplained]`, for a
    person to explain) and the cells of variants the run did not cover."""
    known = known_failures(path)
    ran = {(p, v) for p, v in out}
    keep = {k: v for k, v in known.items() if (k[0], k[1]) not in ran}
    for key, c in cells_of(out).items():
        keep[key] = (c, known.get(key, (None, "unexplained"))[1])
    header = [ln for ln in open(path) if ln.startswith("#")]
    reasons = {}
    for ln in open(path):
        if ln.startswith("["):
            reasons[ln[1:ln.index("]")]] = ln.rstrip("\n")
    with open(path, "w") as f:
        f.writelines(header)
        for reason in sorted({r for _, r in keep.values()}):
            f.write("\n" + reasons.get(reason, f"[{reason}] (explain)") + "\n")
            for key in sorted(k for k, (_, r) in keep.items() if r == reason):
                c = keep[key][0]
                f.write(" ".join(key) + " " + " ".join(f"{x}{c[x]}" for x in sorted(c)) + "\n")


def test_known_failures_are_tested_for():
    """The list's every cell parses, has a reason, and is a real matrix cell."""
    for (prog, variant, mode), (c, reason) in known_failures().items():
        assert reason and prog in programs() and variant in VARIANTS_ALL and mode in MODES_ALL
        assert set(c) <= set(ABBREV.values()), c


def test_programs():
    """The matrix (CI's, or the full one with GOROSCOPE_FULL=1); prints the table (pytest -s).
    Fails on any failing check beyond known_failures.txt (each listed with
    its reason); listed cells that now pass are printed to be removed."""
    out = run_matrix(matrix())
    text, failures = report(out)
    print("\n" + text)
    new, fixed = compare_known(out, known_failures())
    if fixed:
        print("\nknown failures that now pass (remove them from known_failures.txt):\n  "
              + "\n  ".join(fixed))
    assert not new, f"{len(new)} new failing cells (the table above):\n  " + "\n  ".join(new)


# ---------------------------------------------------------------- command line

def main(argv):
    import argparse

    ap = argparse.ArgumentParser(description="Run the corpus matrix and print its table.")
    ap.add_argument("--matrix", action="store_true", help="(the default action)")
    ap.add_argument("--full", action="store_true", help="every variant and mode")
    ap.add_argument("--variants", help="comma-separated, e.g. gcc-O2,clang-O3")
    ap.add_argument("--modes", help="comma-separated, e.g. gdb-live,runtime")
    ap.add_argument("--programs", help="comma-separated program names")
    ap.add_argument("--jobs", type=int, default=JOBS)
    ap.add_argument("--examples", type=int, default=3)
    ap.add_argument("--write-known", action="store_true",
                    help="rewrite known_failures.txt's cells from this run (reasons kept)")
    a = ap.parse_args(argv)
    plan = matrix(a.full or None)
    if a.variants:
        vs = a.variants.split(",")
        plan = [(v, m) for v, m in matrix(True) if v in vs]
    if a.modes:
        ms = tuple(a.modes.split(","))
        plan = [(v, ms) for v, _ in plan]
    start = time.monotonic()
    out = run_matrix(plan, a.programs.split(",") if a.programs else None, a.jobs)
    text, failures = report(out, a.examples)
    print(text)
    print(f"\n{len(out)} program builds, {failures} failing checks, "
          f"{time.monotonic() - start:.0f}s")
    new, fixed = compare_known(out, known_failures())
    for title, lines in (("new failures", new), ("known failures that now pass", fixed)):
        if lines:
            print(f"\n{title} (known_failures.txt):\n  " + "\n  ".join(lines))
    if a.write_known:
        write_known(out)
    return 1 if new else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
