"""Helpers shared by the bench/<name>/compare.py reports.

Each compare.py runs (or reads) a C++ Google Benchmark binary from
BUILD/bench and a Go 1.19 program from its go/ directory, then prints one
table and a targets block. What they share lives here: running commands,
finding and building the Go side, describing the machine and the compilers,
and rendering a plain-text or markdown table.

A compare.py imports this module by path (it is run as a script, so bench/
is not on sys.path):

    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
    sys.dont_write_bytecode = True   # no bench/__pycache__ in the source tree
    import common
"""

import glob
import os
import re
import shutil
import subprocess
import sys
import threading
from pathlib import Path

GO_CANDIDATES = [os.environ.get("GO", ""), "/usr/lib/go-1.19/bin/go", "go"]


class Error(Exception):
    """A real failure (missing binary, a run failing): compare.py exits 1."""


def run(cmd, timeout=None, **kw):
    """Runs cmd (echoed to stderr); Error if it exits nonzero or runs for
    more than timeout seconds."""
    print("running:", " ".join(str(c) for c in cmd), file=sys.stderr)
    try:
        res = subprocess.run(cmd, timeout=timeout, **kw)
    except subprocess.TimeoutExpired:
        raise Error(f"{Path(cmd[0]).name} did not finish in {timeout} s (killed)")
    if res.returncode != 0:
        raise Error(f"{Path(cmd[0]).name} exited with status {res.returncode}")
    return res


def run_jsonl(cmd, out, echo=True, timeout=None):
    """Runs cmd, copying its stdout (JSON lines) to the file out and, if
    echo, to stderr as it comes; Error if it exits nonzero or runs for more
    than timeout seconds."""
    print("running:", " ".join(map(str, cmd)), file=sys.stderr)
    with open(out, "w") as f, subprocess.Popen(cmd, stdout=subprocess.PIPE,
                                               text=True) as p:
        killed = threading.Event()

        def kill():
            killed.set()
            p.kill()
        timer = threading.Timer(timeout, kill) if timeout else None
        if timer:
            timer.start()
        try:
            for line in p.stdout:
                f.write(line)
                if echo:
                    print("  " + line.rstrip(), file=sys.stderr)
        finally:
            if timer:
                timer.cancel()
    if killed.is_set():
        raise Error(f"{Path(cmd[0]).name} did not finish in {timeout} s (killed)")
    if p.returncode != 0:
        raise Error(f"{Path(cmd[0]).name} exited with status {p.returncode}")
    return out


# --- Go side ----------------------------------------------------------------

def find_go():
    """The go command: $GO, Debian's Go 1.19, or go on PATH (None if none)."""
    for c in GO_CANDIDATES:
        path = shutil.which(c) if c else None
        if path:
            return path
    return None


def which(cmd):
    return shutil.which(cmd)


def go_version(go):
    if not go:
        return None
    res = subprocess.run([go, "env", "GOVERSION"], capture_output=True, text=True)
    return res.stdout.strip() or None


def build_go(go, src, exe, bench_dir):
    """Builds the Go program in src into exe, with its caches under
    bench_dir (BUILD/bench), offline and with the local toolchain only."""
    env = dict(os.environ, GOFLAGS="-mod=mod", GO111MODULE="on",
               GOTOOLCHAIN="local", GOCACHE=str(bench_dir / "go-cache"),
               GOPATH=str(bench_dir / "go-path"))
    run([go, "build", "-o", str(exe), "."], cwd=src, env=env)
    return exe


# --- machine and compilers --------------------------------------------------

def cxx_compiler(build):
    """'GNU 12.2.0 (/usr/bin/g++, RelWithDebInfo)' from BUILD's CMake cache."""
    cache = build / "CMakeCache.txt"
    if not cache.is_file():
        return None
    m = re.search(r"^CMAKE_CXX_COMPILER:\w+=(.*)$", cache.read_text(), re.M)
    if not m:
        return None
    compiler, version = m.group(1).strip(), None
    for f in glob.glob(str(build / "CMakeFiles" / "*" / "CMakeCXXCompiler.cmake")):
        text = Path(f).read_text()
        ident = re.search(r'CMAKE_CXX_COMPILER_ID "(.*)"', text)
        ver = re.search(r'CMAKE_CXX_COMPILER_VERSION "(.*)"', text)
        if ident and ver:
            version = f"{ident.group(1)} {ver.group(1)}"
    if not version:
        try:
            res = subprocess.run([compiler, "--version"], capture_output=True, text=True)
            version = res.stdout.splitlines()[0] if res.stdout else None
        except OSError:
            pass
    btype = re.search(r"^CMAKE_BUILD_TYPE:\w+=(.*)$", cache.read_text(), re.M)
    btype = f", {btype.group(1)}" if btype and btype.group(1) else ""
    return f"{version or '?'} ({compiler}{btype})"


def cpu_model():
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return "unknown CPU"


def host_line(title, now):
    """'<title>, <now>, host <name>, <CPU model>, <n> CPUs'."""
    return (f"{title}, {now}, host {os.uname().nodename}, "
            f"{cpu_model()}, {os.cpu_count()} CPUs")


# --- numbers and tables -----------------------------------------------------

def ratio(a, b):
    return a / b if a is not None and b is not None and b > 0 else None


def fmt(x, spec):
    return "-" if x is None else format(x, spec)


def render(columns, body, markdown, nleft):
    """Lines of a table: the first nleft columns left-aligned, the others
    right-aligned; markdown gives a GitHub table."""
    if markdown:
        out = ["| " + " | ".join(columns) + " |",
               "|" + "|".join(":---" if i < nleft else "---:"
                              for i in range(len(columns))) + "|"]
        return out + ["| " + " | ".join(r) + " |" for r in body]
    widths = [max(len(r[i]) for r in [columns] + body) for i in range(len(columns))]
    line = lambda r: "  ".join(c.ljust(w) if i < nleft else c.rjust(w)
                               for i, (c, w) in enumerate(zip(r, widths)))
    return [line(columns), "  ".join("-" * w for w in widths)] + [line(r) for r in body]
