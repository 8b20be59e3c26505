"""gdbtest: batch GDB transcripts for the plugin tests (Go's runtime-gdb_test.go style).

session() runs `gdb -nx -batch` on a fixture with a small driver that, for
each (name, command) block, prints `BEGIN name`, runs the command the way
the user would (its output and any error message, which GDB prints as
"goroscope: ..."), then `END name`; the transcript is split into blocks
that the tests match with regexes. Modes: live (break at ready(), run),
fatal (run until the plugin stops at goroscope_fatal), core (a gcore core
file), remote (gdbserver on 127.0.0.1), attach (a running process, left
running).
"""

import functools
import os
import re
import socket
import subprocess
import tempfile
import time

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
PLUGIN = os.path.join(ROOT, "gdb_plugin", "goroscope-gdb.py")
FIXTURES = os.environ.get("GOROSCOPE_FIXTURES", os.path.join(ROOT, "build", "tests", "gdb"))
TIMEOUT = 120

DRIVER = r'''
import gdb, json, sys
blocks = json.load(open(%(blocks)r))
for name, cmd in blocks:
    gdb.write("BEGIN %%s\n" %% name)
    try:
        gdb.execute(cmd, from_tty=False)
    except gdb.error as e:
        gdb.write("%%s\n" %% e)
    except KeyboardInterrupt:
        gdb.write("interrupted\n")
    gdb.write("END %%s\n" %% name)
gdb.flush()
'''


def fixture(name):
    path = os.path.join(FIXTURES, "gdb_fixture_" + name)
    if not os.path.exists(path):
        raise FileNotFoundError(f"{path}: build the project first (./goroscope build)")
    return path


# Why the watchpoint tests skip on hosts whose debug registers do not fire.
NO_HW_WATCH = ("hardware watchpoints do not fire on this host (a VM without working debug "
               "registers: GDB arms them and the write goes unreported)")

PROBE_C = r"""
volatile long x;
int main(void) { for (long i = 1; i <= 3; i++) x = i; return 0; }
"""


@functools.lru_cache(maxsize=None)
def hw_watchpoints_fire():
    """Does a hardware watchpoint report a plain store here? `gomap watch`
    (GDB and LLDB alike) is built on them; some VMs (2026-12-01's host: a
    PVM guest on AMD EPYC) accept the debug registers and never trigger."""
    with tempfile.TemporaryDirectory() as d:
        src, exe = os.path.join(d, "probe.c"), os.path.join(d, "probe")
        with open(src, "w") as f:
            f.write(PROBE_C)
        subprocess.run(["cc", "-g", "-O0", src, "-o", exe], check=True, timeout=TIMEOUT)
        p = subprocess.run(["gdb", "-nx", "-batch", "-ex", "break main", "-ex", "run",
                            "-ex", "watch x", "-ex", "continue", exe],
                           capture_output=True, text=True, timeout=TIMEOUT,
                           stdin=subprocess.DEVNULL)
        return "New value = 1" in p.stdout


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def session(binary, blocks, mode="live", core=None, setup=(), stop="ready", env=None, args=(),
            merge_stderr=False, pid=None):
    """Run the blocks; returns ({name: text}, whole transcript). merge_stderr:
    GDB's (and the program's) stderr into the transcript in order, as a
    terminal shows it (examples/gallery.py)."""
    prog_args = list(args)
    with tempfile.TemporaryDirectory() as tmp:
        bpath = os.path.join(tmp, "blocks.json")
        import json

        with open(bpath, "w") as f:
            json.dump(list(blocks), f)
        dpath = os.path.join(tmp, "driver.py")
        with open(dpath, "w") as f:
            f.write(DRIVER % {"blocks": bpath})
        pre = ["set pagination off", "set width 0", "set confirm off",
               "set print thread-events off", f"source {PLUGIN}"]
        args = ["gdb", "-nx", "-batch"]
        for c in pre:
            args += ["-ex", c]
        server = None
        if mode == "core":
            args += ["-ex", f"core-file {core}"]
        elif mode == "live":
            args += ["-ex", f"break {stop}", "-ex", "run"]
        elif mode == "fatal":  # run until the plugin stops it at a fatal error
            args += ["-ex", "run"]
        elif mode == "attach":  # a running process (pid); GDB detaches when it exits
            args += ["-ex", f"attach {pid}"]
        elif mode == "remote":
            port = free_port()
            server = subprocess.Popen(["gdbserver", "--once", f"127.0.0.1:{port}", binary],
                                      stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
            time.sleep(0.3)
            args += ["-ex", f"target remote 127.0.0.1:{port}", "-ex", f"break {stop}",
                     "-ex", "continue"]
        for c in setup:
            args += ["-ex", c]
        args += ["-x", dpath, "--args", binary, *prog_args]
        try:
            p = subprocess.run(args, stdout=subprocess.PIPE,
                               stderr=subprocess.STDOUT if merge_stderr else subprocess.PIPE,
                               text=True, timeout=TIMEOUT, env=dict(os.environ, **(env or {})),
                               stdin=subprocess.DEVNULL)
        finally:
            if server is not None:
                try:
                    server.wait(timeout=20)
                except subprocess.TimeoutExpired:
                    server.kill()  # our own child, by PID
                    server.wait()
        out = p.stdout
        res = {}
        for m in re.finditer(r"^BEGIN (\S+)\n(.*?)^END \1$", out, re.S | re.M):
            res[m.group(1)] = m.group(2)
        return res, out + (p.stderr or "")


def make_core(binary, directory, stop="ready"):
    """A gcore core file of binary stopped at `stop`; returns its path."""
    core = os.path.join(directory, "core")
    res, out = session(binary, [("gcore", f"gcore {core}")], stop=stop)
    if not os.path.exists(core):
        raise RuntimeError("gcore failed:\n" + out[-2000:])
    return core


class ViewerStub:
    """A stand-in for `goroscope-view --listen unix:PATH`: accepts up to n
    connections and keeps the first line (one snapshot) of each, in got."""

    def __init__(self, path, n, timeout=60):
        import threading

        self.got = []
        self.srv = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self.srv.bind(path)
        self.srv.listen(8)
        self.srv.settimeout(timeout)
        self.th = threading.Thread(target=self._serve, args=(n,), daemon=True)
        self.th.start()

    def _serve(self, n):
        try:
            while len(self.got) < n:
                c, _ = self.srv.accept()
                with c, c.makefile("rb") as f:
                    self.got.append(f.readline())
        except OSError:
            pass

    def close(self):
        self.th.join(30)
        self.srv.close()

