"""The GDB plugin end to end: every command and printer on the `blocked`
fixture, on a live process, a gcore core file and through gdbserver.

Run: /usr/bin/python3 -m pytest tests/gdb (needs the fixtures built:
./goroscope build); ctest runs it as `gdb.plugin` (label gdb).
"""

import os
import re
import tempfile

import pytest

import gdbtest

def line_of(fixture, text):
    """The 1-based line of the first line of fixtures/FIXTURE.cpp containing text."""
    with open(f"{gdbtest.ROOT}/tests/gdb/fixtures/{fixture}.cpp") as f:
        for n, ln in enumerate(f, 1):
            if text in ln:
                return n
    raise AssertionError(f"{text!r} not in {fixture}.cpp")


RECV = line_of("blocked", "jobs.recv();")
SEND = line_of("deadlock", "result.send(42);")

SETW = ("python import gdb, goroscope_gdb.state as s; rt = s.runtime(); "
        "gdb.set_convenience_variable('w', min(g.goid for a, g in rt.all_g() "
        "if rt.reason_name(g.waitreason) == 'chan receive' and g.atomicstatus == rt.waiting))")

BLOCKS = [
    ("byname", "gomap info sessions"),  # frame 0 (ready): no local `sessions`: the debug name
    ("frame1", "frame 1"),
    ("goroutines", "goroutines"),
    ("stacks", "goroutines -t 3 -with userloc worker"),
    ("labels", "goroutines -l -with label role=locker"),
    ("group", "goroutines -group userloc"),
    ("grouplabel", "goroutines -group label role"),
    ("named", "goroutines -with name sleep"),
    ("groupname", "goroutines -group name"),
    ("chan", "goroutines -chan jobs"),
    ("running", "goroutines -with running"),
    ("goloc", "goroutines -g -with goloc blocked.cpp"),
    ("startloc", "goroutines -s -with startloc worker"),
    ("exec", "goroutines -with userloc worker -exec bt -3"),
    ("badflag", "goroutines -bogus"),
    ("setw", SETW),
    ("gbt", "goroutine $w bt"),
    ("gsel", "goroutine $w"),
    ("gframe", "python f = gdb.newest_frame(); exec(\"while f is not None and f.name() != "
               "'worker': f = f.older()\"); f.select(); gdb.execute('frame')"),
    ("gargs", "info args"),
    ("gshow", "goroutine"),
    ("gclear", "goroutine clear"),
    ("gmain", "goroutine 1 bt 1"),
    ("gnone", "goroutine 999999"),
    ("frame1b", "frame 1"),
    ("psessions", "print sessions"),
    ("pgrowing", "print growing"),
    ("pjobs", "print jobs"),
    ("pmu", "print mu"),
    ("pwg", "print wg"),
    ("prw", "print rw"),
    ("ponce", "print once"),
    ("pcond", "print cond"),
    ("psm", "print sm"),
    ("elements", "with print elements 4 -- print sessions"),
    ("info", "gomap info sessions"),
    ("infogrowing", "gomap info growing"),
    ("buckets", "gomap buckets growing --range 0:8"),
    ("oldbuckets", "gomap buckets growing --old"),
    ("findint", "gomap find sessions 42"),
    ("findstr", "gomap find growing key3"),
    ("findnone", "gomap find growing nokey"),
    ("nosuch", "gomap info nosuch"),
]


@pytest.fixture(scope="module")
def binary():
    return gdbtest.fixture("blocked")


@pytest.fixture(scope="module", params=["live", "core", "remote"])
def t(request, binary):
    if request.param == "core":
        with tempfile.TemporaryDirectory() as d:
            core = gdbtest.make_core(binary, d)
            res, out = gdbtest.session(binary, BLOCKS, mode="core", core=core)
    else:
        res, out = gdbtest.session(binary, BLOCKS, mode=request.param)
    if "goroutines" not in res:
        pytest.fail("no transcript:\n" + out[-3000:])
    res["_mode"] = request.param
    return res


LINE = re.compile(r"^([* ]) Goroutine (\d+) - (\w+): (\S+):(\d+) (.*) \((0x[0-9a-f]+)\)(.*)$")


def lines(text):
    return [m for m in (LINE.match(x) for x in text.splitlines()) if m]


def test_goroutines_lists_every_goroutine_with_location_and_wait(t):
    gs = lines(t["goroutines"])
    assert len(gs) == 8, t["goroutines"]
    assert t["goroutines"].rstrip().endswith("[8 goroutines]")
    main = [m for m in gs if m.group(2) == "1"][0]
    assert main.group(1) == ("*" if t["_mode"] != "core" else "*")
    assert main.group(6) == "ready" and re.search(r"\(thread \d+\)", main.group(8))
    tail = {m.group(6): m.group(8) for m in gs}
    reasons = [re.search(r'\[([^\]]*?)(?: [\d.]+(?:ns|µs|ms|s|m\S*|h\S*))?\]( "[^"]*")?$',
                         m.group(8))
               for m in gs if m.group(2) != "1"]
    got = sorted(r.group(1) for r in reasons if r)
    assert got == sorted(["chan receive"] * 3 + ["sync.Mutex.Lock", "select",
                                                 "sync.WaitGroup.Wait", "sleep"]), t["goroutines"]
    assert sum(1 for m in gs if m.group(6) == "worker" and m.group(4).endswith("blocked.cpp")
               and m.group(5) == str(RECV)) == 3
    assert all(re.search(r' [\d.]+(ms|s)\]( "[^"]*")?$', m.group(8)) for m in gs
               if m.group(2) != "1"), "every waiting goroutine shows how long it has waited"
    assert "lambda" in " ".join(tail)


def test_stack_depth_and_truncation(t):
    s = t["stacks"]
    assert s.count("Goroutine") == 3 and "(truncated)" in s
    assert re.search(r"\t0  0x[0-9a-f]{16} in goro::detail::", s)
    assert re.search(r"\t    at \S+proc\.cpp:\d+", s)


def test_names_in_lines_filters_and_groups(t):
    """goro::set_name's name ends its goroutine's line, `-with name` filters
    on it and `-group name` groups by it (unnamed goroutines: `name=`)."""
    named = [m for m in lines(t["goroutines"]) if m.group(8).endswith(' "sleeper"')]
    assert len(named) == 1 and "[sleep " in named[0].group(8), t["goroutines"]
    f = lines(t["named"])
    assert len(f) == 1 and f[0].group(2) == named[0].group(2), t["named"]
    assert t["named"].rstrip().endswith("[1 goroutines]")
    assert re.search(r'^name=sleeper\n.*"sleeper"\n\tTotal: 1$', t["groupname"], re.M), \
        t["groupname"]
    assert re.search(r"^name=\n(.*\n){5}\tTotal: 7$", t["groupname"], re.M), t["groupname"]


def test_labels_filter(t):
    s = t["labels"]
    assert len(lines(s)) == 1 and "sync.Mutex.Lock" in s
    assert '\tLabels: "role":"locker"' in s
    assert s.rstrip().endswith("[1 goroutines]")


def test_groups(t):
    s = t["group"]
    assert re.search(rf"^\S+blocked\.cpp:{RECV} worker \(0x[0-9a-f]+\)\n(\t  Goroutine .*\n){{3}}\tTotal: 3$",
                     s, re.M), s
    g = t["grouplabel"]
    assert re.search(r"^role=\n(\t. Goroutine .*\n){5}\tTotal: 7$", g, re.M), g
    assert re.search(r"^role=locker\n\t  Goroutine .*sync\.Mutex\.Lock.*\n\tTotal: 1$", g, re.M)


def test_chan_filter_lists_its_waiters(t):
    s = t["chan"]
    assert len(lines(s)) == 4, s  # 3 workers and the select
    assert s.count("[chan receive") == 3 and s.count("[select") == 1


def test_running_goloc_startloc(t):
    assert len(lines(t["running"])) == 1 and "(thread " in t["running"]
    assert len(lines(t["goloc"])) == 7 and " - Go: " in t["goloc"]  # not main: no go() call
    st = lines(t["startloc"])
    assert len(st) == 3 and all(m.group(3) == "Start" for m in st), t["startloc"]


def test_exec_runs_in_each_goroutine(t):
    s = t["exec"]
    assert s.count("Goroutine") == 3
    assert s.count("in goro::detail::closure<") == 3 or s.count("goro_goexit_entry") == 3, s


def test_errors_are_one_line(t):
    assert t["badflag"].strip() == "goroscope: unrecognized arguments: -bogus; " + \
        "usage: goroutines [-u|-r|-g|-s] [-t [DEPTH]] [-l] [-with|-w FILTER] " + \
        "[-without|-wo FILTER] [-group GROUP] [-chan EXPR] [-exec CMD...]"
    assert t["gnone"].strip() == "goroscope: no goroutine 999999"
    assert t["nosuch"].strip().startswith("goroscope: No symbol \"nosuch\"")
    for k, v in t.items():
        assert "Traceback" not in str(v), k


def test_goroutine_selects_a_parked_goroutine_through_the_unwinder(t):
    bt = t["gbt"]
    assert re.search(r"#\d+ .*goro::detail::gopark", bt), bt
    assert re.search(rf"#\d+ +(0x[0-9a-f]+ in )?worker \(jobs=.*\) at \S+blocked\.cpp:{RECV}", bt), bt
    assert "goro_goexit_entry" in bt
    assert t["gsel"].startswith("[Switching to goroutine ")
    assert "worker" in t["gframe"]
    assert re.search(r"^jobs = ", t["gargs"], re.M) and re.search(r"^done = ", t["gargs"], re.M)
    assert re.match(rf"\* Goroutine \d+ - User: \S+blocked\.cpp:{RECV} worker", t["gshow"]), \
        t["gshow"]
    assert "cleared" in t["gclear"]
    assert "ready" in t["gmain"]


def test_printers(t):
    assert re.match(r"\$\d+ = map\[long int\]long int len=100 = \{\[\d+\] = \d+", t["psessions"])
    assert t["psessions"].count("] = ") == 100 or "..." in t["psessions"]
    assert re.match(r'\$\d+ = map\[std::[^]]+\]int len=27 \(growing\) = \{\["key\d+"\] = \d+',
                    t["pgrowing"]), t["pgrowing"]
    assert t["pgrowing"].count('"key') == 27  # growth-correct: each live entry once
    assert re.match(r"\$\d+ = chan int len=0 cap=0 recvq=\[\d+ \d+ \d+ \d+\] sendq=\[\]",
                    t["pjobs"]), t["pjobs"]
    assert re.match(r"\$\d+ = sync\.Mutex locked by goroutine 1, waiters \[\d+\]", t["pmu"])
    assert re.match(r"\$\d+ = sync\.WaitGroup counter=1 waiters=1 \[\d+\]", t["pwg"])
    # main read-locked it twice: the runtime records it as the reader (G.rlocked)
    assert re.match(r"\$\d+ = sync\.RWMutex readers=2, read-locked by \[1\]$", t["prw"].strip()), \
        t["prw"]
    assert re.match(r"\$\d+ = sync\.Once done$", t["ponce"].strip()), t["ponce"]
    assert re.match(r"\$\d+ = sync\.Cond no waiters$", t["pcond"].strip()), t["pcond"]
    assert re.match(r"\$\d+ = sync\.Map read=\d+ dirty=(nil|\d+) misses=\d+ amended=(true|false)$",
                    t["psm"].strip()), t["psm"]
    # GDB counts a map's keys and values as elements: 4 elements = 2 entries.
    assert t["elements"].count("] = ") == 2 and "..." in t["elements"]


def test_gomap_info(t):
    for key in ("info", "byname"):
        s = t[key]
        assert "count      100" in s and "B          4 (16 buckets)" in s, s
        assert "oldbuckets 0x0 (not growing)" in s
        assert re.search(r"chains     \d+ buckets? with no overflow bucket", s), s
    g = t["infogrowing"]
    assert re.search(r"evacuation \d+/\d+ old buckets \(\d+%\), doubling", g), g
    assert "old chains" in g


def test_gomap_buckets(t):
    s = t["buckets"]
    assert re.search(r"^bucket 0 @0x[0-9a-f]+$", s, re.M)
    assert re.search(r"^  tophash( (emptyRest|emptyOne|0x[0-9a-f]{2})){8}$", s, re.M)
    assert re.search(r'^  \[\d\] 0x[0-9a-f]{2} "key\d+": \d+$', s, re.M)
    o = t["oldbuckets"]
    assert re.search(r"^old bucket 0 @0x[0-9a-f]+ evacuated$", o, re.M), o
    assert re.search(r"tophash( (evacuatedX|evacuatedY|evacuatedEmpty))+", o)
    assert re.search(r"^old bucket \d+ @0x[0-9a-f]+ not evacuated$", o, re.M)


def test_gomap_find(t):
    assert re.search(r"key 42: hash 0x[0-9a-f]{16}, tophash 0x[0-9a-f]{2}\n  bucket \d+ of 16",
                     t["findint"])
    assert re.search(r"found: bucket \d+, slot \d, key at 0x", t["findint"])
    assert re.search(r"key 'key3'.*\n  bucket \d+ of 8.*\n  old bucket \d+ of 4: ", t["findstr"])
    assert "found: " in t["findstr"]
    assert "not found" in t["findnone"]


@pytest.fixture(scope="module", params=["live", "core", "remote"])
def dl(request):
    b = gdbtest.fixture("deadlock")
    blocks = [("deadlocks", "deadlocks"), ("goroutines", "goroutines")]
    if request.param == "core":
        with tempfile.TemporaryDirectory() as d:
            res, out = gdbtest.session(b, blocks, mode="core", core=gdbtest.make_core(b, d))
    else:
        res, out = gdbtest.session(b, blocks, mode=request.param)
    assert "deadlocks" in res, out[-3000:]
    return res


def test_deadlocks_prints_the_lock_cycle_and_the_leak(dl):
    s = dl["deadlocks"]
    m = re.search(r'^deadlock: goroutine (\d+) \[sync\.Mutex\.Lock\] waits on sync\.Mutex "(a|b)" '
                  r'0x[0-9a-f]+, held by goroutine (\d+) \[sync\.Mutex\.Lock\] waits on '
                  r'sync\.Mutex "(a|b)" 0x[0-9a-f]+, held by goroutine \1$', s, re.M)
    assert m and m.group(2) != m.group(4), s
    assert re.search(r"^1 goroutine that no other goroutine can wake:\n"
                     r"goroutine \d+ \[chan send\]: chan 0x[0-9a-f]+: no other goroutine "
                     r"references it$", s, re.M), s
    assert re.search(rf"^\tgoroutine \d+ \[chan send\]:\n\tmain::.*\(\.\.\.\)\n\t\t\S+deadlock\.cpp:{SEND}$",
                     s, re.M), s
    assert s.count("created by ") == 3
    assert "chan receive" not in s  # main holds `wake`: that goroutine can still be woken


def test_autoload_through_debug_gdb_scripts():
    import subprocess

    b = gdbtest.fixture("blocked")
    p = subprocess.run(["gdb", "-nx", "-batch", "-iex", f"add-auto-load-safe-path {b}",
                        "-ex", "info auto-load python-scripts",
                        "-ex", "python print('loaded', getattr(gdb, 'goroscope_loaded', False))",
                        b], capture_output=True, text=True, timeout=60, stdin=subprocess.DEVNULL)
    assert re.search(r"^Yes\s+gdb\.inlined-script", p.stdout, re.M), p.stdout + p.stderr
    assert "loaded True" in p.stdout


@pytest.mark.parametrize("how", ["twice", "initfile+cli", "autoload+cli"])
def test_plugin_loads_once_and_silently_with_pythonpath_set(how, tmp_path):
    """PYTHONPATH holding python/ (the core package) once broke the plugin, whose
    entry file had the core package's name; loading it twice must do nothing."""
    import subprocess

    b = gdbtest.fixture("blocked")
    init = tmp_path / "gdbinit"
    init.write_text(f"source {gdbtest.PLUGIN}\n")
    src = ["-ex", f"source {os.path.relpath(gdbtest.PLUGIN)}"]
    quiet = ["-iex", "set auto-load python-scripts off"]  # (else GDB warns: not our output)
    first = {"twice": quiet + ["-ex", f"source {gdbtest.PLUGIN}"],
             "initfile+cli": quiet + ["-x", str(init)],
             "autoload+cli": ["-iex", f"add-auto-load-safe-path {b}"]}[how]
    p = subprocess.run(["gdb", "-nx", "-batch"] + first + src + [
        "-ex", "python import goroscope_gdb; print('registrations', goroscope_gdb.registrations)",
        "-ex", "break ready", "-ex", "run", "-ex", "goroutines", "-ex", "kill", b],
        capture_output=True, text=True, timeout=120, stdin=subprocess.DEVNULL,
        env=dict(os.environ, PYTHONPATH=os.path.join(gdbtest.ROOT, "python")))
    assert "registrations 1" in p.stdout, p.stdout + p.stderr
    assert "[8 goroutines]" in p.stdout, p.stdout + p.stderr
    assert p.stderr.strip() == "", p.stderr


def test_tab_completion_comes_from_the_parsers():
    """GDB's `complete` (what TAB shows): subcommands, flags, a flag's values,
    settings; expressions and file names through GDB's own completers."""
    import subprocess

    b = gdbtest.fixture("blocked")
    cases = {"goroutines -w": ["-w", "-with", "-without", "-wo"],
             "goroutines -group ": ["curloc", "goloc", "label", "name", "running", "startloc",
                                    "user", "userloc"],
             "goroutines -with use": ["user", "userloc"],
             "gomap ": ["buckets", "find", "info", "watch"],
             "gomap buckets m --": ["--old", "--range"],
             "goroscope set auto": ["auto-push"],
             "goroscope snapshot f --": ["--buckets", "--map", "--no-frames"],
             "goroutines -chan read": ["ready"],  # an expression: GDB's symbol completer
             }
    args = ["gdb", "-nx", "-batch", "-iex", "set auto-load python-scripts off",
            "-ex", f"source {gdbtest.PLUGIN}"]
    for text in cases:
        args += ["-ex", f"echo BEGIN {text}\\n", "-ex", f"complete {text}"]
    p = subprocess.run(args + [b], capture_output=True, text=True, timeout=60,
                       stdin=subprocess.DEVNULL)
    got = {}
    for block in p.stdout.split("BEGIN ")[1:]:
        head, _, body = block.partition("\n")
        got[head] = [ln for ln in body.split("\n") if ln]
    for text, want in cases.items():
        stem = text.rsplit(" ", 1)[0] + " " if not text.endswith(" ") else text
        assert [x[len(stem):] for x in got.get(text, []) if x.startswith(stem)] == want or \
            (want == ["ready"] and any(x.endswith(" ready") for x in got.get(text, []))), \
            (text, got.get(text), p.stderr)


def test_commands_without_a_process_say_so():
    b = gdbtest.fixture("blocked")
    res, out = gdbtest.session(b, [("g", "goroutines"), ("m", "gomap info sessions"),
                                   ("d", "deadlocks")], mode="none")
    for k in ("g", "m", "d"):
        assert res[k].strip() == ("goroscope: the program is not running: run it, attach to a "
                                  "process or load a core file"), res[k]


def test_snapshot_equals_the_runtimes_own_snapshot_of_the_same_state():
    """The plugin and the runtime write the same document for one state
    (apart from producer, times and the symbolizer's names)."""
    import json

    import jsonschema

    b = gdbtest.fixture("blocked")
    with tempfile.TemporaryDirectory() as d:
        mine, theirs = f"{d}/gdb.json", f"{d}/runtime.json"
        res, out = gdbtest.session(b, [("snap", f"goroscope snapshot {mine} --buckets 0")],
                                   env={"GOROSCOPE_SELF_SNAPSHOT": theirs})
        assert "written to" in res.get("snap", ""), out[-2000:]
        a, r = json.load(open(mine)), json.load(open(theirs))
    schema = json.load(open(f"{gdbtest.ROOT}/docs/snapshot.schema.json"))
    jsonschema.Draft4Validator(schema).validate(a)
    assert a["producer"]["name"] == "goroscope-gdb"
    assert a["world"]["main_goid"] == r["world"]["main_goid"] == 1
    assert a["world"]["workers"] == r["world"]["workers"]
    ga = {g["goid"]: g for g in a["goroutines"]}
    gr = {g["goid"]: g for g in r["goroutines"]}
    assert sorted(ga) == sorted(gr)
    for goid, x in gr.items():
        y = ga[goid]
        for k in ("status", "wait_reason", "parent", "name", "labels", "stack", "waiting_on",
                  "worker"):
            assert y[k] == x[k], (goid, k, y[k], x[k])
        assert (y["start"] or {}).get("pc") == (x["start"] or {}).get("pc"), goid
        for k in ("pc", "goroutine", "line"):
            assert (y["created_by"] or {}).get(k) == (x["created_by"] or {}).get(k), (goid, k)
        if x["status"] == "waiting":  # the same return addresses, frame by frame
            pcs = lambda g: [f["pc"] for f in g["frames"]]  # noqa: E731
            dedup = lambda p: [v for i, v in enumerate(p) if i == 0 or p[i - 1] != v]  # noqa: E731
            assert dedup(pcs(y)) == dedup(pcs(x)), goid
    # Both scan every stack for who references each waited-on object (main's
    # too: the runtime's from its snapshot() call, GDB's from ready()).
    assert all("referenced_by" in o for o in a["objects"] + r["objects"] if o["addr"] in
               {w["object"] for g in a["goroutines"] for w in g["waiting_on"]})
    oa = {(o["addr"], o["kind"]): o for o in a["objects"]}
    orr = {(o["addr"], o["kind"]): o for o in r["objects"]}
    assert oa == orr
    ma = {m["name"]: m for m in a["maps"]}
    mr = {m["name"]: m for m in r["maps"]}
    assert ma == mr


def test_view_and_auto_push_reach_a_listening_viewer():
    import json
    import os

    b = gdbtest.fixture("blocked")
    with tempfile.TemporaryDirectory() as d:
        path = os.path.join(d, "view.sock")
        stub = gdbtest.ViewerStub(path, 2)
        res, out = gdbtest.session(b, [
            ("view", f"goroscope view unix:{path}"),
            ("set", f"set goroscope viewer unix:{path}"),
            ("auto", "set goroscope auto-push on"),
            ("show", "show goroscope auto-push"),
            ("next", "next"),
            ("noview", f"goroscope view unix:{d}/none.sock"),
        ])
        stub.close()
        got = stub.got
    assert res["view"].strip() == f"snapshot pushed to unix:{path}", out[-2000:]
    assert res["show"].strip() == "goroscope auto-push is on."
    assert len(got) == 2, out[-2000:]  # `goroscope view`, then the stop after `next`
    for line in got:
        doc = json.loads(line)
        assert doc["format"] == "goroscope-snapshot" and len(doc["goroutines"]) == 8
    assert res["noview"].strip().startswith(f"goroscope: no viewer listening on unix:{d}/none.sock")


@pytest.mark.skipif(not gdbtest.hw_watchpoints_fire(), reason=gdbtest.NO_HW_WATCH)
@pytest.mark.parametrize("mode", ["live", "remote"])  # (a core cannot run)
def test_gomap_watch_grow_evacuated_writing_and_key(mode):
    b = gdbtest.fixture("grow")
    res, out = gdbtest.session(b, mode=mode, blocks=[
        ("arm", "gomap watch m --grow --evacuated"),
        ("c1", "continue"), ("c2", "continue"), ("info", "gomap info m"),
        ("clear", "gomap watch --clear"),
        ("key", "gomap watch m --key 5"),
        ("k1", "continue"), ("k2", "continue"), ("k3", "continue"), ("k4", "continue"),
        ("clear2", "gomap watch --clear"),
        ("writing", "gomap watch m --writing"),
        ("w1", "continue"),
        ("toomany", "gomap watch m --grow --evacuated --key 3"),
        ("list", "gomap watch --list"),
    ])
    assert "gomap watch --grow: hardware watchpoint" in res["arm"], out[-3000:]
    assert re.search(r"gomap watch --grow: growth started \(B 0 -> 1\): buckets 0x[0-9a-f]+, "
                     r"oldbuckets 0x[0-9a-f]+ \(1 to evacuate\), count 8", res["c1"]), res["c1"]
    assert re.search(r"gomap watch --evacuated: evacuation done: oldbuckets 0x[0-9a-f]+ "
                     r"released; B=1 \(2 buckets\)", res["c2"]), res["c2"]
    assert "oldbuckets 0x0 (not growing)" in res["info"]
    assert res["clear"].strip() == "2 map watchpoint(s) deleted"
    moves = res["k1"] + res["k2"] + res["k3"] + res["k4"]
    hops = re.findall(r"gomap watch --key 5: evacuation \([XY]\) moves it from old bucket "
                      r"(\d+) slot \d to bucket (\d+) slot \d; watch re-armed there", moves)
    assert len(hops) >= 3, moves  # it follows the key through successive growths
    for (a, b), (c, _) in zip(hops, hops[1:]):
        assert b == c, hops  # each hop starts in the bucket where the last one landed
    assert re.search(r"gomap watch --writing: goroutine 1 sets hashWriting", res["w1"]), res["w1"]
    assert re.match(r"goroscope: gomap watch needs 4 hardware watchpoint\(s\) and 1 is in use: "
                    r"x86-64 has 4 debug registers", res["toomany"].strip()), res["toomany"]
    assert "gomap watch --writing on map 0x" in res["list"]


def test_snapshot_says_who_references_each_waited_on_object():
    import json

    b = gdbtest.fixture("deadlock")
    with tempfile.TemporaryDirectory() as d:
        res, out = gdbtest.session(b, [("snap", f"goroscope snapshot {d}/s.json"),
                                       ("gs", "goroutines")])
        doc = json.load(open(f"{d}/s.json"))
    waits = {g["goid"]: g["waiting_on"] for g in doc["goroutines"]}
    chans = {o["addr"]: o for o in doc["objects"] if o["kind"] == "chan"}
    sender = [gid for gid, w in waits.items() if w and w[0]["op"] == "send"][0]
    receiver = [gid for gid, w in waits.items() if w and w[0]["op"] == "recv"][0]
    leaked = chans[waits[sender][0]["object"]]
    assert leaked["referenced_by"] == [sender]  # nobody else has that channel
    held = chans[waits[receiver][0]["object"]]
    assert 1 in held["referenced_by"]  # main holds `wake`
