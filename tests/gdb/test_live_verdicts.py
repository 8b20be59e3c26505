"""test_live_verdicts: the runtime's own snapshot finds the leaks GDB finds (issue 16, part 3).

For every gallery scenario (examples/gallery.py) and every corpus program (tests/programs), one
program state is snapshotted twice: by the runtime (goro's capture and its stack scan for
`referenced_by`, runtime/src/capture.cpp) and by the GDB plugin (python/goroscope/snapshot.py).
The deadlock verdicts of both documents (deadlock.from_snapshot: cycles, goroutines nothing can
wake, leaked) must be equal, and so must each waited-on object's `referenced_by`.

How the one state is held for both:

  corpus    the program parks its goroutines, prints `corpus: checkpoint` and holds
            (GOROSCOPE_PROGRAM_HOLD=1: main sleeps) with GORO_DEBUG=unix:SOCK: the live
            endpoint answers a snapshot request (a real stop-the-world, as goroscope-view
            --connect gets it), then GDB attaches to the same process and writes its snapshot.
  gallery   GDB stops the scenario at its moment, as the gallery does (the fatal-error stop, or
            a breakpoint: checkpoint(), grow_start()) and writes its snapshot; then, with
            scheduler-locking on, it calls goroscope_snapshot_stopped($rsp) (goro/debug_abi.h):
            the runtime's snapshot code on the very state GDB stopped, with the debugger's stop
            in place of the runtime's stop-the-world. The endpoint itself cannot be asked there:
            at a fatal error the process is dying with its workers frozen, and at a breakpoint
            resuming any thread would let timers fire (the exporter's 300 ms sleep, the
            auditor's 400 ms) and the state move on before the endpoint answered.

Run: /usr/bin/python3 -m pytest tests/gdb/test_live_verdicts.py (needs ./goroscope build; the
corpus cases skip if the corpus is not built, -DGORO_TEST_PROGRAMS=OFF; GOROSCOPE_VERDICTS_VARIANT
picks its build, gcc-O2 by default: every variant passes); ctest runs it as `gdb.live_verdicts`
(label gdb).
"""

import json
import os
import select
import socket
import subprocess
import sys
import tempfile
import time

import pytest

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
sys.path[:0] = [HERE, os.path.join(ROOT, "examples"), os.path.join(ROOT, "python")]
import gallery  # noqa: E402
import gdbtest  # noqa: E402
from goroscope import deadlock  # noqa: E402

BUILD = os.environ.get("GOROSCOPE_BUILD", os.path.join(ROOT, "build"))
PROGRAMS = os.environ.get("GOROSCOPE_PROGRAMS", os.path.join(BUILD, "tests", "programs"))
CORPUS = ("capture_ref", "capture_value", "exceptions", "from_thread", "functor", "member_fn",
          "nested_lambda", "pipeline", "recursion", "shared_lib", "spawn_tree", "std_function",
          "templates")
# The corpus build a user's -O2 program is closest to (any of tests/programs' variants).
VARIANT = os.environ.get("GOROSCOPE_VERDICTS_VARIANT", "gcc-O2")
NO_MAP = "no-such-map"  # `goroscope snapshot --map NAME`: maps as headers only
TIMEOUT = 60

# The runtime's snapshot of the stop GDB is at (after the plugin's: the call writes below sp).
RUNTIME_SNAPSHOT = ("python import gdb; sp = int(gdb.newest_frame().read_register('rsp')); "
                    "open({path!r}, 'w').write(gdb.parse_and_eval("
                    "'(const char*)goroscope_snapshot_stopped(%d)' % sp).string())")


def verdict(doc):
    v = deadlock.from_snapshot(doc).verdict
    return {"cycles": v.cycles, "unwakeable": v.unwakeable, "leaked": sorted(v.leaked)}


def referenced_by(doc):
    """{(addr, kind): referenced_by} of the objects some goroutine waits on."""
    waited = {w["object"] for g in doc["goroutines"] for w in g["waiting_on"]}
    return {(o["addr"], o["kind"]): o.get("referenced_by") for o in doc["objects"]
            if o["addr"] in waited}


def compare(runtime, gdb, what):
    assert runtime["producer"]["name"] == "goro-runtime", what
    assert gdb["producer"]["name"] == "goroscope-gdb", what
    rg = {g["goid"]: (g["status"], g["wait_reason"]) for g in runtime["goroutines"]}
    gg = {g["goid"]: (g["status"], g["wait_reason"]) for g in gdb["goroutines"]}
    assert sorted(rg) == sorted(gg), (what, rg, gg)
    rr, gr = referenced_by(runtime), referenced_by(gdb)
    assert rr == gr, (what, "referenced_by differs", rr, gr)
    assert all(r is not None for r in rr.values()), (what, "referenced_by unknown", rr)
    assert verdict(runtime) == verdict(gdb), (what, verdict(runtime), verdict(gdb))
    return verdict(runtime)


# ---------------------------------------------------------------- the gallery


def test_runtime_snapshot_needs_the_debugger_entry():
    """goroscope_snapshot_stopped is what GDB calls: it must be in every program."""
    p = subprocess.run(["nm", os.path.join(BUILD, "examples", "lock_order")],
                       capture_output=True, text=True, timeout=TIMEOUT)
    assert " T goroscope_snapshot_stopped" in p.stdout


@pytest.mark.parametrize("name", [s.name for s in gallery.SCENARIOS])
def test_gallery_scenario(name):
    s = gallery.BY_NAME[name]
    binary = os.path.join(BUILD, "examples", name)
    if not os.path.exists(binary):
        raise FileNotFoundError(f"{binary}: build the project first (./goroscope build)")
    with tempfile.TemporaryDirectory() as d:
        mine, theirs = os.path.join(d, "gdb.json"), os.path.join(d, "runtime.json")
        res, out = gdbtest.session(
            binary, [("snap", f"goroscope snapshot {mine} --no-frames --map {NO_MAP}"),
                     ("lock", "set scheduler-locking on"),
                     ("rt", RUNTIME_SNAPSHOT.format(path=theirs))],
            mode="fatal" if s.stop is gallery.FATAL else "live", stop=s.stop or "ready",
            args=s.args)
        assert os.path.exists(mine) and os.path.exists(theirs), (res, out[-3000:])
        with open(mine) as f:
            gdb = json.load(f)
        with open(theirs) as f:
            runtime = json.load(f)
    got = compare(runtime, gdb, name)
    # The stop is the scenario's: the verdict has the shape a person decided from the rules
    # (tests/conformance; goids may differ from run to run).
    with open(os.path.join(ROOT, "tests", "conformance", f"gallery_{name}_gdb.expect.json")) as f:
        want = json.load(f)
    shape = lambda v: ([len(c) for c in v["cycles"]], len(v["unwakeable"]))  # noqa: E731
    assert shape(got) == shape(want), (name, got, want)


# ---------------------------------------------------------------- the corpus


def endpoint_snapshot(path, deadline):
    """One snapshot from the live endpoint at unix:path (docs/snapshot-format.md, Endpoint)."""
    while True:
        try:
            s = socket.socket(socket.AF_UNIX)
            s.settimeout(TIMEOUT)
            s.connect(path)
            break
        except OSError:
            s.close()
            if time.monotonic() > deadline:
                raise
            time.sleep(0.05)
    with s:
        s.sendall(b'{"cmd":"snapshot","frames":false,"maps":false}\n')
        buf = b""
        while not buf.endswith(b"\n"):
            chunk = s.recv(1 << 20)
            if not chunk:
                break
            buf += chunk
    return json.loads(buf)


def held(binary, sock):
    """The corpus program started and held after its checkpoint, its endpoint at unix:sock."""
    env = dict(os.environ, GOROSCOPE_PROGRAM_HOLD="1", GORO_DEBUG=f"unix:{sock}")
    p = subprocess.Popen([binary], stdout=subprocess.PIPE, stderr=subprocess.DEVNULL,
                         stdin=subprocess.DEVNULL, env=env, cwd=os.path.dirname(binary))
    out, deadline = b"", time.monotonic() + TIMEOUT
    while b"corpus: checkpoint\n" not in out:
        left = deadline - time.monotonic()
        if left <= 0 or p.poll() is not None:
            p.kill()
            p.wait()
            raise AssertionError(f"{binary}: no checkpoint: {out.decode()[-2000:]}")
        if select.select([p.stdout], [], [], left)[0]:
            out += os.read(p.stdout.fileno(), 65536)
    return p


@pytest.mark.parametrize("program", CORPUS)
def test_corpus_program(program):
    binary = os.path.join(PROGRAMS, VARIANT, program)
    if not os.path.exists(binary):
        pytest.skip(f"{binary}: not built (-DGORO_TEST_PROGRAMS=OFF?)")
    with tempfile.TemporaryDirectory() as d:
        sock, mine = os.path.join(d, "endpoint.sock"), os.path.join(d, "gdb.json")
        p = held(binary, sock)
        try:
            deadline = time.monotonic() + TIMEOUT
            while True:  # until main sleeps in hold() (it prints the checkpoint first)
                live = endpoint_snapshot(sock, deadline)
                main = [g for g in live["goroutines"] if g["goid"] == live["world"]["main_goid"]]
                if main and main[0]["wait_reason"] == "sleep" or time.monotonic() > deadline:
                    break
                time.sleep(0.05)
            res, out = gdbtest.session(
                binary, [("snap", f"goroscope snapshot {mine} --no-frames --map {NO_MAP}")],
                mode="attach", pid=p.pid)
            assert os.path.exists(mine), (res, out[-3000:])
            with open(mine) as f:
                gdb = json.load(f)
        finally:
            p.kill()  # our own child, by PID
            p.wait()
    assert not live["world"]["partial"], program
    compare(live, gdb, program)
