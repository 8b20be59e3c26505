"""goroscope-view end to end, under Xvfb: screenshots checked for content.

* Map panel: a crafted snapshot with a known number of slots in each tophash
  state; the pixels of each state's colour, less the legend's, divided by
  one slot's area, give back the slot counts.
* Goroutines panel: a deadlock draws red edges; a snapshot without one
  draws none.
* A malformed snapshot is refused with its reason (exit status 1), at once
  when nothing else can arrive.
* --listen takes a push from the plugins' code, also past 32 idle connections.
* Live: against the demo program's endpoint, every panel renders, and the
  demo's lock-order deadlock is drawn in red.
Run: /usr/bin/python3 -m pytest tests/viewer (ctest: viewer.screenshots).
"""

import json
import os
import shutil
import signal
import subprocess
import tempfile
import time

import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
BIN = os.environ.get("GOROSCOPE_BIN", os.path.join(ROOT, "build", "bin"))
VIEW = os.path.join(BIN, "goroscope-view")
DEMO = os.path.join(BIN, "goroscope-demo")

# The Map panel's slot colours (ui/view.cpp: slot_colour).
COLOURS = {"emptyRest": (48, 48, 54), "emptyOne": (110, 110, 120), "occupied": (70, 190, 90),
           "evacuatedX": (70, 130, 230), "evacuatedY": (170, 90, 220),
           "evacuatedEmpty": (40, 170, 170)}
STATE_OF = {0: "emptyRest", 1: "emptyOne", 2: "evacuatedX", 3: "evacuatedY", 4: "evacuatedEmpty"}
RED = (230, 50, 50)

pytestmark = pytest.mark.skipif(not shutil.which("xvfb-run") or not os.path.exists(VIEW),
                                reason="needs xvfb-run and build/bin/goroscope-view")


# Xvfb -noreset: without it, the server resets when the viewer (its last
# client) leaves and signals xvfb-run again (SIGUSR1) while xvfb-run cleans
# up; now and then that makes its `rm` look failed, and it exits 5 leaving its
# Xvfb running (3 of 80 quick runs, two at a time; 0 of 100 with -noreset).
XVFB = ["xvfb-run", "-a", "-s", "-screen 0 1200x800x24 -noreset"]


def shoot(args, out, timeout=60):
    p = subprocess.run(XVFB + [VIEW, "--size", "1200x800", "--screenshot", out] + args,
                       capture_output=True, text=True, timeout=timeout, stdin=subprocess.DEVNULL)
    return p


def pixels(path):
    from PIL import Image

    img = Image.open(path).convert("RGB")
    counts = {}
    for c in img.getdata():
        counts[c] = counts.get(c, 0) + 1
    return counts


def base_snapshot():
    return {"format": "goroscope-snapshot", "version": 1,
            "producer": {"name": "test", "pid": 1},
            "time": {"wall_ns": 1, "monotonic_ns": 1},
            "world": {"running": True, "stopped": True, "partial": False, "pause_ns": 0,
                      "workers": 1, "running_workers": [], "main_goid": 1},
            "goroutines": [], "objects": [], "maps": []}


def bucket(addr, tophash):
    keys = [str(i) if t >= 5 else None for i, t in enumerate(tophash)]
    return {"addr": hex(addr), "tophash": tophash, "keys": keys, "elems": keys,
            "overflow": "0x0"}


def crafted_map():
    # 4 new buckets and 2 old ones (growing): every state but emptyOne appears.
    new = [[5, 6, 7, 0, 0, 0, 0, 0], [9, 9, 0, 0, 0, 0, 0, 0], [5, 0, 0, 0, 0, 0, 0, 0],
           [8, 8, 8, 8, 8, 0, 0, 0]]
    old = [[2, 3, 2, 4, 3, 2, 4, 4], [5, 5, 5, 0, 0, 0, 0, 0]]
    arr = lambda bs, base, old: {  # noqa: E731
        "addr": hex(base), "nbuckets": len(bs), "first": 0, "count": len(bs),
        "truncated_chain": False,
        "chains": [dict({"index": i, "buckets": [bucket(base + 0x100 * i, t)]},
                        **({"evacuated": 1 < t[0] < 5} if old else {})) for i, t in enumerate(bs)]}
    m = {"addr": "0x1000", "name": "crafted", "count": 14, "B": 2, "flags": 0, "flag_names": [],
         "noverflow": 0, "hash0": 1, "nevacuate": 1, "growing": True, "load_factor": 3.5,
         "writer": {"kind": "none", "id": 0},
         "type": {"key": "long", "elem": "long", "keykind": "int64", "elemkind": "int64",
                  "keysize": 8, "elemsize": 8, "bucketsize": 144, "keysoff": 8, "elemsoff": 72,
                  "overflowoff": 136, "indirectkey": False, "indirectelem": False},
         "buckets_omitted": False, "buckets": arr(new, 0x10000, False),
         "oldbuckets": arr(old, 0x20000, True)}
    counts = {}
    for t in sum(new + old, []):
        st = STATE_OF.get(t, "occupied")
        counts[st] = counts.get(st, 0) + 1
    return m, counts


def test_map_panel_pixels_match_the_slot_states():
    m, want = crafted_map()
    doc = base_snapshot()
    doc["maps"] = [m]
    with tempfile.TemporaryDirectory() as d:
        path = f"{d}/s.json"
        json.dump(doc, open(path, "w"))
        p = shoot(["--panel", "map", path], f"{d}/map.png")
        assert p.returncode == 0, p.stderr
        px = pixels(f"{d}/map.png")
    legend = px.get(COLOURS["emptyOne"], 0)  # emptyOne is only in the legend
    assert want.get("emptyOne", 0) == 0 and 0 < legend < 400
    area = (px.get(COLOURS["occupied"], 0) - legend) / want["occupied"]
    assert area > 50, "slots too small to count"
    for st, n in want.items():
        got = (px.get(COLOURS[st], 0) - legend) / area
        assert abs(got - n) <= 0.25, (st, n, got)


def deadlock_snapshot(with_cycle):
    doc = base_snapshot()
    gs = []
    for goid, holds, wants in ((5, "0xa0", "0xb0"), (6, "0xb0", "0xa0")):
        gs.append({"goid": goid, "status": "waiting", "wait_reason": "sync.Mutex.Lock",
                   "waiting_ns": 10**9, "created_ns_ago": 2 * 10**9, "worker": -1,
                   "current": False, "stack_unavailable": False, "name": "", "labels": {},
                   "parent": 1, "start": None, "created_by": None,
                   "stack": {"lo": "0x0", "hi": "0x0", "sp": "0x0", "pc": "0x0", "bp": "0x0"},
                   "waiting_on": [{"object": wants, "kind": "mutex", "op": "lock",
                                   "select": False}], "frames": []})
    doc["goroutines"] = gs
    owner = {"0xa0": 5, "0xb0": 6 if with_cycle else 0}
    doc["objects"] = [{"addr": a, "kind": "mutex", "name": n, "type": "", "state": 1,
                       "locked": True, "starving": False, "owner": owner[a], "waiters": []}
                      for a, n in (("0xa0", "a"), ("0xb0", "b"))]
    return doc


@pytest.mark.parametrize("cycle", [True, False])
def test_goroutines_panel_draws_a_deadlock_in_red(cycle):
    with tempfile.TemporaryDirectory() as d:
        path = f"{d}/s.json"
        json.dump(deadlock_snapshot(cycle), open(path, "w"))
        p = shoot(["--panel", "goroutines", path], f"{d}/g.png")
        assert p.returncode == 0, p.stderr
        red = pixels(f"{d}/g.png").get(RED, 0)
    if cycle:
        assert red > 500, red
    else:
        assert red == 0, red


def test_a_malformed_snapshot_is_refused_with_its_reason():
    doc = base_snapshot()
    doc["goroutines"] = [{"goid": "seven"}]
    with tempfile.TemporaryDirectory() as d:
        path = f"{d}/bad.json"
        json.dump(doc, open(path, "w"))
        p = shoot(["--timeout", "3", path], f"{d}/x.png")
    assert p.returncode == 1
    assert "the snapshot was refused: goroutines[0].goid: not a non-negative integer" in p.stderr


@pytest.mark.parametrize("what", ["malformed", "missing"])
def test_a_refused_file_exits_at_once(what):
    """The only source, a file, is refused: nothing else can arrive, so the
    viewer exits with the reason at once, not when --timeout 30 is up."""
    doc = base_snapshot()
    doc["goroutines"] = [{"goid": "seven"}]
    with tempfile.TemporaryDirectory() as d:
        path = f"{d}/bad.json"
        if what == "malformed":
            json.dump(doc, open(path, "w"))
        t0 = time.monotonic()
        p = shoot(["--timeout", "30", path], f"{d}/x.png")
        secs = time.monotonic() - t0
    reason = ("goroutines[0].goid: not a non-negative integer" if what == "malformed"
              else "cannot open: No such file or directory")
    assert secs < 2, f"took {secs:.1f} s"
    assert p.returncode == 1
    assert f"the snapshot was refused: {reason} (file {path})" in p.stderr, p.stderr


def test_a_socket_nobody_listens_on_is_named_with_the_reason():
    """--connect to a socket that does not exist: the timeout says why, not
    only that no snapshot came."""
    with tempfile.TemporaryDirectory() as d:
        p = shoot(["--connect", f"unix:{d}/nosuch.sock", "--timeout", "2"], f"{d}/x.png")
    assert p.returncode == 1
    assert "no snapshot arrived in time" in p.stderr and "nosuch.sock" in p.stderr and \
        "No such file or directory" in p.stderr, p.stderr


@pytest.mark.skipif(not os.path.exists(DEMO), reason="needs build/bin/goroscope-demo")
def test_live_against_the_demo_program():
    with tempfile.TemporaryDirectory() as d:
        sock = f"{d}/demo.sock"
        demo = subprocess.Popen([DEMO, "--seconds", "20"], env=dict(os.environ,
                                GORO_DEBUG=f"unix:{sock}"), stdout=subprocess.DEVNULL,
                                stderr=subprocess.DEVNULL)
        try:
            for _ in range(100):
                if os.path.exists(sock):
                    break
                time.sleep(0.1)
            for panel in ("map", "goroutines", "table"):
                p = shoot(["--connect", f"unix:{sock}", "--panel", panel, "--map", "sessions",
                           "--frames", "20"], f"{d}/{panel}.png")
                assert p.returncode == 0, (panel, p.stderr)
            assert pixels(f"{d}/goroutines.png").get(RED, 0) > 500  # the demo's deadlock
            assert pixels(f"{d}/map.png").get(COLOURS["occupied"], 0) > 1000
        finally:
            demo.kill()  # our own child, by PID (it ends by itself after 20 s anyway)
            demo.wait()


def viewer_bg(args, out):
    # its own process group: stop_bg ends xvfb-run, its Xvfb and the viewer together
    return subprocess.Popen(XVFB + [VIEW, "--size", "1200x800", "--screenshot", out,
                                    "--timeout", "30"] + args,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            stdin=subprocess.DEVNULL, start_new_session=True)


def stop_bg(v):
    """Ends a viewer_bg that has not exited: the group of our own child, by its id."""
    if v.poll() is None:
        os.killpg(v.pid, signal.SIGKILL)
        v.wait()


def test_listen_receives_a_snapshot_pushed_by_the_plugins():
    import sys

    sys.path.insert(0, os.path.join(ROOT, "python"))
    from goroscope import push

    with tempfile.TemporaryDirectory() as d:
        addr = f"unix:{d}/view.sock"
        v = viewer_bg(["--listen", addr, "--panel", "goroutines"], f"{d}/g.png")
        try:
            for _ in range(100):
                if os.path.exists(f"{d}/view.sock"):
                    break
                time.sleep(0.1)
            push.send(addr, json.dumps(deadlock_snapshot(True)))
            out, err = v.communicate(timeout=60)
        finally:
            stop_bg(v)
        assert v.returncode == 0, err
        assert pixels(f"{d}/g.png").get(RED, 0) > 500


def test_listen_takes_a_push_past_idle_connections():
    """32 connections that say nothing (a stuck pusher, a port scanner) do not
    hold up the plugin's push: the old listener read one connection at a
    time, and connecting at all failed past its backlog of 16."""
    import socket
    import sys

    sys.path.insert(0, os.path.join(ROOT, "python"))
    from goroscope import push

    with tempfile.TemporaryDirectory() as d:
        addr = f"unix:{d}/view.sock"
        v = viewer_bg(["--listen", addr, "--panel", "goroutines"], f"{d}/g.png")
        idle = []
        try:
            for _ in range(100):
                if os.path.exists(f"{d}/view.sock"):
                    break
                time.sleep(0.1)
            for _ in range(32):
                s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
                idle.append(s)
                s.settimeout(2)
                s.connect(f"{d}/view.sock")
            t0 = time.monotonic()
            push.send(addr, json.dumps(deadlock_snapshot(True)))
            out, err = v.communicate(timeout=60)
            secs = time.monotonic() - t0
        finally:
            for s in idle:
                s.close()
            stop_bg(v)
        assert v.returncode == 0, err
        assert secs < 5, f"the screenshot came {secs:.1f} s after the push"
        assert pixels(f"{d}/g.png").get(RED, 0) > 500


@pytest.mark.skipif(not os.path.exists(DEMO), reason="needs build/bin/goroscope-demo")
def test_the_viewer_reconnects_when_the_program_comes_back():
    with tempfile.TemporaryDirectory() as d:
        sock = f"{d}/demo.sock"
        v = viewer_bg(["--connect", f"unix:{sock}", "--frames", "10"], f"{d}/m.png")
        time.sleep(1.5)  # the viewer is retrying: nothing listens yet
        demo = subprocess.Popen([DEMO, "--seconds", "15"], env=dict(os.environ,
                                GORO_DEBUG=f"unix:{sock}"), stdout=subprocess.DEVNULL,
                                stderr=subprocess.DEVNULL)
        try:
            out, err = v.communicate(timeout=60)
        finally:
            stop_bg(v)
            if demo.poll() is None:
                demo.kill()  # our own child, by PID
            demo.wait()
        assert v.returncode == 0, err
