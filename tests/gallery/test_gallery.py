"""The scenario gallery end to end (docs/gallery.md): each examples/<name>.cpp
run on its own (the runtime's message and exit code), under GDB and LLDB
(stopped by the plugins at the fatal error, before the process exits: the
tools' view of the bug), from a core taken at that stop, and in the viewer.

Run: /usr/bin/python3 -m pytest tests/gallery (needs ./goroscope build);
ctest runs it as `gallery` (label gallery).
"""

import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time

import pytest

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
sys.path[:0] = [os.path.join(ROOT, "tests", "gdb"), os.path.join(ROOT, "tests", "lldb")]
import gdbtest  # noqa: E402
import lldbtest  # noqa: E402

BUILD = os.environ.get("GOROSCOPE_BUILD", os.path.join(ROOT, "build"))
EXAMPLES = os.path.join(BUILD, "examples")
VIEW = os.path.join(BUILD, "bin", "goroscope-view")
RED = (230, 50, 50)  # the viewer's deadlock colour (tests/viewer/test_view.py)
OCCUPIED = (70, 190, 90)  # the map panel's occupied slot (tests/viewer/test_view.py)


def example(name):
    path = os.path.join(EXAMPLES, name)
    if not os.path.exists(path):
        raise FileNotFoundError(f"{path}: build the project first (./goroscope build)")
    return path


def line_of(name, text):
    with open(os.path.join(ROOT, "examples", name + ".cpp")) as f:
        for n, ln in enumerate(f, 1):
            if text in ln:
                return n
    raise AssertionError(f"{text!r} not in examples/{name}.cpp")


def run(name, *args):
    p = subprocess.run([example(name), *args], capture_output=True, text=True, timeout=120,
                       stdin=subprocess.DEVNULL)
    return p.returncode, p.stdout, p.stderr


# ---------------------------------------------------------------- the runtime


@pytest.mark.parametrize("name,op,other", [
    ("concurrent_map_writes", "write", "write"),
    ("shared_inner_map", "write", "write"),
    ("map_read_write", "read", "write"),
    ("map_iteration_write", "iteration", "write"),
])
def test_map_misuse_names_both_goroutines_and_where_they_were_created(name, op, other):
    what = {"write": "writes", "read": "read and map write",
            "iteration": "iteration and map write"}[op]
    code, out, err = run(name)
    assert code == 2, (code, err[-2000:])
    assert err.startswith(f"fatal error: concurrent map {what}\n"), err[:500]
    m1 = re.search(rf"^\tthis map {op}: goroutine (\d+) \(created by .* in goroutine 1 at "
                   rf"\S+/examples/{name}\.cpp:(\d+)\)$", err, re.M)
    m2 = re.search(rf"^\tconflicting map {other}: goroutine (\d+) \(created by .* in goroutine 1 "
                   rf"at \S+/examples/{name}\.cpp:(\d+)\)", err, re.M)
    assert m1 and m2, err[:1500]
    assert m1.group(1) != m2.group(1) and m1.group(2) != m2.group(2)
    creates = [n for n, ln in enumerate(open(os.path.join(ROOT, "examples", name + ".cpp")), 1)
               if "goro::go(" in ln]
    assert {int(m1.group(2)), int(m2.group(2))} == set(creates), (creates, err[:800])


@pytest.mark.parametrize("name,waits", [
    ("lock_order", [r"goroutine \d+ \[sync\.Mutex\.Lock\]:\ntransfer\(\.\.\.\)"] * 2
     + [r"goroutine 1 \[sync\.WaitGroup\.Wait\]:"]),
    ("self_request", [r"goroutine \d+ \[chan send\]:\nowner\(\.\.\.\)",
                      r"goroutine 1 \[chan receive\]:"]),
    ("waitgroup_missing_done", [r"goroutine 1 \[sync\.WaitGroup\.Wait\]:"]),
])
def test_all_goroutines_asleep(name, waits):
    code, out, err = run(name)
    assert code == 2, (code, err[-2000:])
    assert err.startswith("fatal error: all goroutines are asleep - deadlock!\n"), err[:500]
    for w in waits:
        assert re.search(w, err), (w, err[:2000])
    n = len(set(re.findall(r"^goroutine (\d+) \[", err, re.M)))
    assert n == {"lock_order": 3, "self_request": 2, "waitgroup_missing_done": 1}[name], err


@pytest.mark.parametrize("arg,msg", [("send", "send on closed channel"),
                                     ("close", "close of closed channel")])
def test_closed_channel_panics_with_gos_message(arg, msg):
    code, out, err = run("closed_channel", arg)
    assert code == 2 and err.startswith(f"panic: {msg}\n"), (code, err[:500])
    assert "not reached" not in out


# ---------------------------------------------------------------- the debuggers

MAPS = {"concurrent_map_writes": "hits", "map_read_write": "config",
        "map_iteration_write": "gauges", "shared_inner_map": "alice"}
MESSAGES = {"concurrent_map_writes": "fatal error: concurrent map writes",
            "map_read_write": "fatal error: concurrent map read and map write",
            "map_iteration_write": "fatal error: concurrent map iteration and map write",
            "shared_inner_map": "fatal error: concurrent map writes",
            "lock_order": "fatal error: all goroutines are asleep - deadlock!",
            "self_request": "fatal error: all goroutines are asleep - deadlock!",
            "waitgroup_missing_done": "fatal error: all goroutines are asleep - deadlock!"}


def blocks_for(name):
    b = [("group", "goroutines -group userloc"), ("deadlocks", "deadlocks")]
    if name in MAPS:
        b.append(("map", f"gomap info {MAPS[name]}"))
    return b


def sessions(name):
    """{debugger/mode: (blocks, transcript)} at the fatal stop: GDB and LLDB
    live, then both on a core written at GDB's stop."""
    out = {}
    b = example(name)
    with tempfile.TemporaryDirectory() as d:
        core = os.path.join(d, "core")
        snap = os.path.join(d, "s.json")
        out["gdb"] = gdbtest.session(b, blocks_for(name) + [
            ("snap", f"goroscope snapshot {snap}"), ("gcore", f"gcore {core}")], mode="fatal")
        out["lldb"] = lldbtest.session(b, blocks_for(name), mode="fatal")
        if os.path.exists(core):
            out["gdb-core"] = gdbtest.session(b, blocks_for(name), mode="core", core=core)
            out["lldb-core"] = lldbtest.session(b, blocks_for(name), mode="core", core=core)
        if os.path.exists(snap):
            with open(snap) as f:
                out["snapshot"] = json.load(f)
            if os.path.exists(VIEW):
                p = subprocess.run([VIEW, "--describe", snap], capture_output=True, text=True,
                                   timeout=60)
                out["describe"] = p.stdout if p.returncode == 0 else p.stderr
            if os.path.exists(VIEW) and shutil.which("xvfb-run") and name in MAPS:
                png = os.path.join(d, "m.png")
                p = subprocess.run(["xvfb-run", "-a", "-s", "-screen 0 1200x800x24", VIEW,
                                    "--size", "1200x800", "--screenshot", png, "--panel", "map",
                                    "--map", MAPS[name], snap], capture_output=True, text=True,
                                   timeout=120, stdin=subprocess.DEVNULL)
                if p.returncode == 0:
                    from PIL import Image

                    img = Image.open(png).convert("RGB")
                    out["occupied"] = sum(1 for c in img.getdata() if c == OCCUPIED)
            if os.path.exists(VIEW) and shutil.which("xvfb-run"):
                png = os.path.join(d, "g.png")
                p = subprocess.run(["xvfb-run", "-a", "-s", "-screen 0 1200x800x24", VIEW,
                                    "--size", "1200x800", "--screenshot", png, "--panel",
                                    "goroutines", snap], capture_output=True, text=True,
                                   timeout=120, stdin=subprocess.DEVNULL)
                if p.returncode == 0:
                    from PIL import Image

                    img = Image.open(png).convert("RGB")
                    out["red"] = sum(1 for c in img.getdata() if c == RED)
    return out


_SESSIONS = {}


def stopped_at(name):
    """sessions(name), once per test run (several tests read each)."""
    if name not in _SESSIONS:
        _SESSIONS[name] = sessions(name)
    return name, _SESSIONS[name]


DEADLOCKS = ["lock_order", "self_request", "waitgroup_missing_done"]


@pytest.mark.parametrize("name", sorted(MESSAGES))
def test_the_debuggers_stop_at_the_fatal_error(name):
    name, s = stopped_at(name)
    for k in ("gdb", "lldb"):
        res, text = s[k]
        assert f"goroscope: stopped at {MESSAGES[name]}" in text, (k, text[-3000:])
    assert "gdb-core" in s, s["gdb"][1][-2000:]


@pytest.mark.parametrize("name", sorted(MAPS))
def test_map_scenarios_show_the_writer_in_gomap_info(name):
    name, s = stopped_at(name)
    for k in ("gdb", "lldb", "gdb-core", "lldb-core"):
        res, text = s[k]
        m = res.get("map", "")
        # (the other goroutine runs on until the debugger has stopped every
        # thread, so whether it is inside a write at the stop is a race: the
        # runtime's message, printed just before, names both goroutines)
        assert re.search(r"^map\[long int\]long int at 0x[0-9a-f]+\n  count      \d+\n", m, re.M), \
            (k, m)
        assert re.search(r"^  flags      0x[0-9a-f]+ ", m, re.M), (k, m)
        g = res["group"]
        loops = re.findall(rf"^\./examples/{name}\.cpp:(\d+) ", g, re.M)
        assert len(loops) >= 2, (k, g)  # both goroutines, at their loops (and main)
        # a goroutine stopped inside the map's code is shown at its user
        # frame, the caller, even mid-prologue (its thread is unwound by the
        # debugger's CFI unwinder, not by the frame-pointer chain). (One that
        # has left its user function, on its way out, has no user frame.)
        assert not re.search(r"^\S*/include/goro/map\.h:", g, re.M), (k, g)


@pytest.mark.parametrize("name", DEADLOCKS)
def test_deadlock_scenarios_in_deadlocks(name):
    name, s = stopped_at(name)
    for k in ("gdb", "lldb", "gdb-core", "lldb-core"):
        res, text = s[k]
        d = res.get("deadlocks", "")
        if name == "lock_order":
            m = re.search(r'^deadlock: goroutine (\d+) \[sync\.Mutex\.Lock\] waits on sync\.Mutex '
                          r'"(alice|bob)" 0x[0-9a-f]+, held by goroutine (\d+) \[sync\.Mutex\.Lock\]'
                          r' waits on sync\.Mutex "(alice|bob)" 0x[0-9a-f]+, held by goroutine \1$',
                          d, re.M)
            assert m and m.group(2) != m.group(4), (k, d)
        elif name == "self_request":
            # the owner waits to send on the channel only it receives from
            assert re.search(r'^goroutine (\d+) \[chan send\]: chan "requests" 0x[0-9a-f]+: its '
                             r'other users \[1\] are blocked too\n\tgoroutine \1 \[chan send\]:\n'
                             r'\towner\(\.\.\.\)\n\t\t\S+/examples/self_request\.cpp:'
                             + str(line_of("self_request", "asked of itself")), d, re.M), (k, d)
        else:
            assert re.search(r'goroutine 1 \[sync\.WaitGroup\.Wait\].*WaitGroup "pending"', d), \
                (k, d)
    # GDB and LLDB agree on the core
    assert s["gdb-core"][0]["deadlocks"] == s["lldb-core"][0]["deadlocks"]


@pytest.mark.parametrize("name", sorted(MESSAGES))
def test_the_viewer_shows_each_scenario(name):
    """The viewer's model on the snapshot taken at the stop (`--describe`:
    what the goroutine panel draws), and the map panel for map scenarios."""
    name, s = stopped_at(name)
    if "describe" not in s:
        pytest.skip("needs the viewer")
    d = s["describe"]
    if name in MAPS:
        # the map panel draws the map's occupied slots (pixels of their
        # colour; the race is found at a random size: a CI run stopped at a
        # map drawn in 100 such pixels, most runs over 1000)
        if "occupied" in s:
            assert s["occupied"] > 0, s["occupied"]
        assert re.search(r"^G\d+ goroutine \d+ \[running\] .*examples/" + name, d, re.M), d
    elif name == "lock_order":
        assert "1 deadlock cycle(s), 1 goroutine(s) that no other goroutine can wake" in d, d
        assert len(re.findall(r"transfer\(\.\.\.\) .* -> lock O\d+ \(in cycle\)", d)) == 2, d
        assert len(re.findall(r'sync\.Mutex "(alice|bob)" .* -> held by G\d+ \(in cycle\)', d)) == 2
    elif name == "self_request":
        assert "0 deadlock cycle(s), 2 goroutine(s) that no other goroutine can wake" in d, d
        assert re.search(r"\[chan send\] owner\(\.\.\.\) .* -> send (O\d+) LEAK$", d, re.M), d
    elif name == "waitgroup_missing_done":
        assert re.search(r'\[sync\.WaitGroup\.Wait\] .* -> wait (O\d+) LEAK\n(.*\n)*\1 '
                         r'sync\.WaitGroup "pending" counter=1', d), d


def test_the_viewer_draws_the_lock_cycle_red():
    name, s = stopped_at("lock_order")
    if "red" not in s:
        pytest.skip("needs the viewer and xvfb-run")
    assert s["red"] > 500, s["red"]


# ---------------------------------------------------------------- checkpoint scenarios
# Programs that do not die: each calls checkpoint() at the moment worth
# looking at; the debuggers break there.


def at_checkpoint(name, blocks, viewer=False):
    b = example(name)
    out = {}
    with tempfile.TemporaryDirectory() as d:
        core, snap = os.path.join(d, "core"), os.path.join(d, "s.json")
        out["gdb"] = gdbtest.session(b, blocks + [("snap", f"goroscope snapshot {snap}"),
                                                  ("gcore", f"gcore {core}")], stop="checkpoint")
        out["lldb"] = lldbtest.session(b, blocks, stop="checkpoint")
        assert os.path.exists(core), out["gdb"][1][-3000:]
        out["gdb-core"] = gdbtest.session(b, blocks, mode="core", core=core)
        out["lldb-core"] = lldbtest.session(b, blocks, mode="core", core=core)
        if viewer and os.path.exists(VIEW):
            p = subprocess.run([VIEW, "--describe", snap], capture_output=True, text=True,
                               timeout=60)
            assert p.returncode == 0, p.stderr
            out["describe"] = p.stdout
    return out


def each(out, block):
    for k in ("gdb", "lldb", "gdb-core", "lldb-core"):
        res, text = out[k]
        assert block in res, (k, text[-3000:])
        yield k, res[block]


def test_rwmutex_writer_waits_behind_a_long_read():
    code, stdout, err = run("rwmutex_starved_writer")
    assert code == 0 and "done" in stdout, err
    out = at_checkpoint("rwmutex_starved_writer", [("group", "goroutines -group userloc"),
                                                   ("deadlocks", "deadlocks")], viewer=True)
    for k, d in each(out, "deadlocks"):  # slow, not stuck: the readers will leave
        assert d.startswith("no deadlock"), (k, d)
    if "describe" in out:
        d = out["describe"]
        assert "0 deadlock cycle(s), 0 goroutine(s) that no other goroutine can wake" in d, d
        assert re.search(r"\[sync\.RWMutex\.Lock\] update_price\(\.\.\.\) .* -> lock (O\d+)\n", d), d
        assert re.search(r"^G\d+ x4 \[sync\.RWMutex\.RLock\] lookup\(\.\.\.\) .* -> rlock O\d+$",
                         d, re.M), d
    for k, g in each(out, "group"):
        assert re.search(r"update_price .*\n\t  Goroutine \d+ .*\[sync\.RWMutex\.Lock [\d.]+ms\]",
                         g), (k, g)
        assert re.search(r"lookup .*\n(\t  Goroutine \d+ .*\[sync\.RWMutex\.RLock .*\n){4}"
                         r"\tTotal: 4", g), (k, g)
        assert re.search(r"export_all .*\n\t  Goroutine \d+ .*\[sleep ", g), (k, g)


def test_timeout_leak_is_reported_by_the_leak_check_and_deadlocks():
    code, stdout, err = run("timeout_leak")
    assert code == 1 and "fetch: timed out" in stdout, (code, stdout, err)
    send = line_of("timeout_leak", "blocks forever after the timeout")
    assert re.search(rf"^found unexpected goroutines:\n\ngoroutine \d+ \[chan send\]:\n"
                     rf"fetch\(int\*\)::\{{lambda\(\)#1\}}::operator\(\)\(\.\.\.\)\n"
                     rf"\t\S+/examples/timeout_leak\.cpp:{send} ", err, re.M), err
    out = at_checkpoint("timeout_leak", [("deadlocks", "deadlocks")], viewer=True)
    for k, d in each(out, "deadlocks"):
        assert re.search(rf"^1 goroutine that no other goroutine can wake:\ngoroutine (\d+) "
                         rf"\[chan send\]: chan 0x[0-9a-f]+: no other goroutine references it\n"
                         rf"\tgoroutine \1 \[chan send\]:\n\t.*\n\t\t\S+/timeout_leak\.cpp:{send}$",
                         d, re.M), (k, d)
    if "describe" in out:
        assert re.search(r"^G\d+ goroutine \d+ \[chan send\] .* -> send O\d+ LEAK$",
                         out["describe"], re.M), out["describe"]


def test_backpressure_folds_the_producers_and_shows_the_cause():
    code, stdout, err = run("backpressure")
    assert code == 0 and "queue 4/4" in stdout, (code, stdout, err)
    out = at_checkpoint("backpressure", [("group", "goroutines -group userloc")], viewer=True)
    for k, g in each(out, "group"):
        assert re.search(r"produce .*\n(\t  Goroutine \d+ .*\[chan send .*\n){5}\tTotal: 6", g), \
            (k, g)
        assert re.search(r"consume .*\n\t  Goroutine \d+ .*\[sync\.Mutex\.Lock ", g), (k, g)
    if "describe" in out:
        d = out["describe"]
        m = re.search(r"^G\d+ x6 \[chan send\] produce\(\.\.\.\) .* -> send (O\d+)$", d, re.M)
        assert m, d  # one node for the six producers
        assert re.search(rf"^{m.group(1)} chan \"work\" len=4 cap=4", d, re.M), d
        assert re.search(r"\[sync\.Mutex\.Lock\] consume\(\.\.\.\) .* -> lock (O\d+)", d), d


def test_syncmap_only_grows():
    """The printers show read, dirty, misses and amended (GDB: `print`, LLDB:
    `frame variable`), live and from a core."""
    code, stdout, err = run("syncmap_growth")
    assert code == 0 and "5000 sessions, none ever deleted" in stdout, (code, stdout, err)
    b = example("syncmap_growth")
    with tempfile.TemporaryDirectory() as d:
        core = os.path.join(d, "core")
        g = gdbtest.session(b, [("f", "frame 1"), ("p", "print sessions"),
                                ("gcore", f"gcore {core}")], stop="checkpoint")
        gc = gdbtest.session(b, [("f", "frame 1"), ("p", "print sessions")], mode="core",
                             core=core)
        lc = lldbtest.session(b, [("up", "up"), ("p", "frame variable sessions")], mode="core",
                              core=core)
    pat = r"sync\.Map read=(\d+) dirty=(\d+) misses=(\d+) amended=(true|false)"
    for k, (res, text) in (("gdb", g), ("gdb-core", gc), ("lldb-core", lc)):
        m = re.search(pat, res.get("p", ""))
        assert m, (k, text[-3000:])
        read, dirty = int(m.group(1)), int(m.group(2))
        assert max(read, dirty) == 5000, (k, m.group(0))  # every session ever stored
    assert re.search(pat, gc[0]["p"]).group(0) == re.search(pat, lc[0]["p"]).group(0)


@pytest.mark.skipif(not gdbtest.hw_watchpoints_fire(), reason=gdbtest.NO_HW_WATCH)
def test_map_growth_watch_stops_at_each_growth_step_then_a_same_size_grow():
    code, stdout, err = run("map_growth")
    assert code == 0 and "400 keys" in stdout, (code, stdout, err)
    b = example("map_growth")
    blocks = [("arm", "gomap watch m --grow --evacuated")] + \
        [(f"c{i}", "continue") for i in range(14)]
    for sess in (gdbtest.session(b, blocks, stop="grow_start"),
                 lldbtest.session(b, blocks, stop="grow_start")):
        res, text = sess
        steps = re.findall(r"gomap watch --(grow: growth started \((B \d+ -> \d+|same-size grow)\)"
                           r"|evacuated: evacuation done)", text)
        kinds = [g[1] or "evacuated" for g in steps]
        # B 0->1 ... 5->6, each followed by its evacuation, then same-size grows
        assert kinds[:12:2] == [f"B {i} -> {i + 1}" for i in range(6)], (kinds, text[-3000:])
        assert all(k == "evacuated" for k in kinds[1:12:2]), kinds
        # then the churn: overflow buckets pile up until a same-size growth
        assert kinds[12:14] == ["same-size grow", "evacuated"], kinds


@pytest.mark.parametrize("arg,msg", [("send", "send on closed channel"),
                                     ("close", "close of closed channel")])
def test_the_debuggers_stop_at_an_unrecovered_panic(arg, msg):
    b = example("closed_channel")
    blocks = [("g", "goroutines")]
    for res, text in (gdbtest.session(b, blocks, mode="fatal", args=[arg]),
                      lldbtest.session(b, blocks, mode="fatal", args=[arg])):
        assert f"goroscope: stopped at panic: {msg}" in text, text[-3000:]
        # the panicking goroutine, at its user frame (unwound through
        # libstdc++'s __cxa_throw by the debugger: no frame pointers there)
        assert re.search(r"^\* Goroutine \d+ - User: \./examples/closed_channel\.cpp:\d+ ",
                         res["g"], re.M), res["g"]


def test_the_gallery_command_makes_a_transcript_and_a_screenshot():
    """examples/gallery.py run: what `./goroscope demo NAME` and
    `./goroscope gallery` (docs/gallery.md) are made of."""
    if not (os.path.exists(VIEW) and shutil.which("xvfb-run")):
        pytest.skip("needs the viewer and xvfb-run")
    with tempfile.TemporaryDirectory() as d:
        p = subprocess.run([sys.executable, os.path.join(ROOT, "examples", "gallery.py"), "run",
                            "lock_order", d], capture_output=True, text=True, timeout=300,
                           env=dict(os.environ, GOROSCOPE_BUILD=BUILD))
        assert p.returncode == 0, p.stderr[-2000:]
        assert "(gdb) deadlocks\ndeadlock: goroutine" in p.stdout, p.stdout[-2000:]
        assert "fatal error: all goroutines are asleep - deadlock!" in p.stdout
        from PIL import Image

        img = Image.open(os.path.join(d, "lock_order.png")).convert("RGB")
        assert sum(1 for c in img.getdata() if c == RED) > 500
    p = subprocess.run([sys.executable, os.path.join(ROOT, "examples", "gallery.py"), "list"],
                       capture_output=True, text=True, timeout=60)
    names = re.findall(r"^\s*\d+\. (\w+) ", p.stdout, re.M)
    assert len(names) == 14 and all(os.path.exists(os.path.join(EXAMPLES, n)) for n in names)
    with open(os.path.join(ROOT, "docs", "gallery.md")) as f:
        doc = f.read()
    for n in names:  # docs/gallery.md is up to date with the table
        assert "## " + str(names.index(n) + 1) + f". {n}\n" in doc, n
        assert f"images/gallery/{n}.png" in doc, n
        assert os.path.exists(os.path.join(ROOT, "docs", "images", "gallery", n + ".png")), n


@pytest.mark.skipif(not gdbtest.hw_watchpoints_fire(), reason=gdbtest.NO_HW_WATCH)
def test_map_growth_each_watch_stop_feeds_the_viewers_timeline():
    """`goroscope set auto-push on` (LLDB; GDB: `set goroscope auto-push on`):
    each `gomap watch` stop pushes a snapshot; goroscope-view --listen keeps
    them all in its timeline, to replay growth and evacuation step by step."""
    if not (os.path.exists(VIEW) and shutil.which("xvfb-run")):
        pytest.skip("needs the viewer and xvfb-run")
    b = example("map_growth")
    steps = 6  # the stop at grow_start is not pushed (auto-push is set after it)
    for dbg, setp in ((gdbtest, "set goroscope"), (lldbtest, "goroscope set")):
        with tempfile.TemporaryDirectory() as d:
            sock = os.path.join(d, "view.sock")
            png = os.path.join(d, "m.png")
            view = subprocess.Popen(
                ["xvfb-run", "-a", "-s", "-screen 0 1200x800x24", VIEW, "--size", "1200x800",
                 "--listen", f"unix:{sock}", "--screenshot", png, "--snapshots", str(steps),
                 "--panel", "map", "--map", "m", "--timeout", "120"],
                stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                stdin=subprocess.DEVNULL)
            try:
                for _ in range(100):
                    if os.path.exists(sock):
                        break
                    time.sleep(0.1)
                res, text = dbg.session(b, [
                    ("v", f"{setp} viewer unix:{sock}"), ("a", f"{setp} auto-push on"),
                    ("arm", "gomap watch m --grow --evacuated")] +
                    [(f"c{i}", "continue") for i in range(steps)], stop="grow_start")
                out, err = view.communicate(timeout=150)
            finally:
                if view.poll() is None:
                    view.kill()  # our own child, by PID
                    view.wait()
            assert view.returncode == 0, (err, text[-2000:])
            assert f"{steps} snapshot(s) received, {steps} kept in the timeline" in out, out
            # every step's map is in the timeline: B 1, 1, 2, 2, 3, 3 (growth start, done)
            assert text.count("gomap watch --grow: growth started") == steps // 2, text[-3000:]


def test_the_fix_with_an_owner_goroutine_under_the_debuggers():
    """Scenario 4's third fix at its checkpoint: one goroutine owns the map
    and waits for requests; nothing is stuck."""
    out = at_checkpoint("map_fixes", [("info", "gomap info owned"), ("deadlocks", "deadlocks")],
                        viewer=True)
    for k, i in each(out, "info"):
        assert re.search(r"^  count      1$", i, re.M), (k, i)
    for k, d in each(out, "deadlocks"):
        assert d.startswith("no deadlock"), (k, d)
    if "describe" in out:
        assert re.search(r'\[chan receive\] WithOwner::.* -> recv (O\d+)\n(.*\n)*\1 chan '
                         r'"requests"', out["describe"]), out["describe"]
