"""The LLDB plugin end to end (lldb-16 -b transcripts): the commands, the
summaries and synthetic children, goroutines as LLDB threads (the
OperatingSystem plugin) on a live process, a gcore core file and
lldb-server; and parity with the GDB plugin on one core file.

Run: /usr/bin/python3 -m pytest tests/lldb (needs the fixtures built:
./goroscope build); ctest runs it as `lldb.plugin` (label lldb).
"""

import json
import os
import re
import sys
import tempfile

import pytest

import lldbtest

sys.path.insert(0, os.path.join(lldbtest.ROOT, "tests", "gdb"))
import gdbtest  # noqa: E402
from test_gdb import LINE, RECV, SEND, line_of  # noqa: E402  (one fixture vocabulary)

WORKERS = "goroutines -with userloc worker"

BLOCKS = [
    ("goroutines", "goroutines"),
    ("stacks", "goroutines -t 3 -with userloc worker"),
    ("labels", "goroutines -l -with label role=locker"),
    ("group", "goroutines -group userloc"),
    ("chan", "goroutines -chan jobs"),
    ("exec", "goroutines -with userloc worker -exec bt 9"),
    ("badflag", "goroutines -bogus"),
    ("threads", "thread list"),
    ("f1", "frame select 1"),
    ("vsessions", "frame variable sessions"),
    ("vgrowing", "frame variable growing"),
    ("vjobs", "frame variable jobs"),
    ("vmu", "frame variable mu"),
    ("vwg", "frame variable wg"),
    ("vrw", "frame variable rw"),
    ("vonce", "frame variable once"),
    ("vcond", "frame variable cond"),
    ("vsm", "frame variable sm"),
    ("psessions", "p sessions"),
    ("pptr", "p &sessions"),
    ("pjobs", "p jobs"),
    ("maxc", "settings set target.max-children-count 4"),
    ("vsessions4", "frame variable sessions"),
    ("info", "gomap info sessions"),
    ("infogrowing", "gomap info growing"),
    ("buckets", "gomap buckets growing --range 0:8"),
    ("findint", "gomap find sessions 42"),
    ("findstr", "gomap find growing key3"),
    ("findnone", "gomap find growing nokey"),
    ("nosuch", "gomap info nosuch"),
    ("gnone", "goroutine 999999"),
]


@pytest.fixture(scope="module")
def binary():
    return lldbtest.fixture("blocked")


@pytest.fixture(scope="module", params=["live", "core", "remote"])
def t(request, binary):
    if request.param == "core":
        with tempfile.TemporaryDirectory() as d:
            core = lldbtest.make_core(binary, d)
            res, out = lldbtest.session(binary, BLOCKS, mode="core", core=core)
    else:
        res, out = lldbtest.session(binary, BLOCKS, mode=request.param)
    if "goroutines" not in res:
        pytest.fail("no transcript:\n" + out[-3000:])
    res["_mode"] = request.param
    return res


def glines(text):
    return [m for m in (LINE.match(x) for x in text.splitlines()) if m]


def test_goroutines_lists_every_goroutine_as_gdb_does(t):
    gs = glines(t["goroutines"])
    assert len(gs) == 8 and t["goroutines"].rstrip().endswith("[8 goroutines]"), t["goroutines"]
    main = [m for m in gs if m.group(2) == "1"][0]
    assert main.group(1) == "*" and main.group(6) == "ready"
    assert re.search(r"\(thread \d+\)", main.group(8))
    assert sum(1 for m in gs if m.group(6) == "worker" and m.group(5) == str(RECV)) == 3
    assert all(re.search(r' [\d.]+(ms|s)\]( "[^"]*")?$', m.group(8)) for m in gs
               if m.group(2) != "1"), \
        "every waiting goroutine shows how long it has waited (a core: up to its mtime)"
    assert sum(1 for m in gs if m.group(8).endswith(' "sleeper"')) == 1, t["goroutines"]


def test_flags(t):
    assert t["stacks"].count("Goroutine") == 3 and "(truncated)" in t["stacks"]
    assert re.search(r'Goroutine \d+ .*\n\s+Labels: "role":"locker"', t["labels"]), t["labels"]
    assert re.search(rf"blocked\.cpp:{RECV} worker .*\n(\t.*\n){{3}}\tTotal: 3\n", t["group"]), t["group"]
    assert len(glines(t["chan"])) == 4, t["chan"]  # 3 workers and the select
    assert t["badflag"].strip().startswith("error: goroscope: ") and \
        len(t["badflag"].strip().splitlines()) == 1, t["badflag"]


def test_exec_runs_bt_on_each_goroutines_own_stack(t):
    s = t["exec"]
    assert s.count("Goroutine ") == 3, s
    assert len(re.findall(rf"worker\(.*\) at blocked\.cpp:{RECV}", s)) == 3, s


def test_os_plugin_goroutines_are_threads(t):
    """thread list: one thread per parked goroutine, named with its wait
    reason; the running goroutine stays on its OS thread: as many
    goroutines in all as `goroutines` lists."""
    names = re.findall(r"name = 'goroutine (\d+)(?: \"[^\"]*\")? \[([^\]]+)\]'", t["threads"])
    assert re.search(r"name = 'goroutine \d+ \"sleeper\" \[sleep\]'", t["threads"]), \
        t["threads"]
    assert len(names) == 7, t["threads"]
    running = len([m for m in glines(t["goroutines"]) if "(thread " in m.group(8)])
    assert len(names) + running == len(glines(t["goroutines"]))
    assert sorted(r for _, r in names) == sorted(["chan receive"] * 3 + [
        "sync.Mutex.Lock", "select", "sync.WaitGroup.Wait", "sleep"])


def test_summaries_and_synthetic_children(t):
    assert re.search(r"sessions = map\[long int\]long int len=100 \{", t["vsessions"]), \
        t["vsessions"]
    assert re.search(r"growing = map\[std::__cxx11::basic_string<char>\]int len=\d+ "
                     r"\(growing\)", t["vgrowing"]), t["vgrowing"]
    assert re.search(r'^  \["key3"\] = 3$', t["vgrowing"], re.M), t["vgrowing"]
    assert re.search(r"jobs = chan int len=0 cap=0 recvq=\[\d+ \d+ \d+ \d+\] sendq=\[\]",
                     t["vjobs"]), t["vjobs"]
    assert re.search(r"mu = sync\.Mutex locked by goroutine 1, waiters \[\d+\]", t["vmu"])
    assert re.search(r"wg = sync\.WaitGroup counter=1 waiters=1 \[\d+\]", t["vwg"])
    assert "rw = sync.RWMutex readers=2, read-locked by [1]" in t["vrw"], t["vrw"]
    assert "once = sync.Once done" in t["vonce"]
    assert "cond = sync.Cond no waiters" in t["vcond"]
    assert "sm = sync.Map read=0 dirty=3 misses=2 amended=true" in t["vsm"]
    # `p` (expression results: copies without a load address, but the summary
    # is computed from the object the expression named)
    assert re.search(r"\$\d+ = map\[long int\]long int len=100 \{", t["psessions"]), t["psessions"]
    assert len(re.findall(r"^  \[(\d+)\] = (\d+)$", t["psessions"], re.M)) == 100
    assert re.search(r"\*\) \$\d+ = 0x[0-9a-f]+ map\[long int\]long int len=100$", t["pptr"], re.M)
    assert re.search(r"\$\d+ = chan int len=0 cap=0", t["pjobs"]), t["pjobs"]
    # target.max-children-count 4: four entries, then LLDB's "..."
    kids = re.findall(r"^  \[(\d+)\] = (\d+)$", t["vsessions4"], re.M)
    assert len(kids) == 4 and all(int(v) == int(k) ** 2 for k, v in kids), t["vsessions4"]
    assert "..." in t["vsessions4"]


def test_gomap(t):
    assert re.search(r"^map\[long int\]long int at 0x[0-9a-f]+\n  count      100\n", t["info"],
                     re.M), t["info"]
    assert re.search(r"evacuation \d+/\d+ old buckets \(\d+%\), doubling", t["infogrowing"])
    assert re.search(r"^bucket 0 ", t["buckets"], re.M), t["buckets"]
    assert re.search(r"^key 42: hash 0x[0-9a-f]+, tophash 0x[0-9a-f]+\n.*\n  found: bucket \d+, "
                     r"slot \d", t["findint"], re.M), t["findint"]
    assert "found: " in t["findstr"], t["findstr"]
    assert "not found" in t["findnone"], t["findnone"]
    assert t["nosuch"].strip() == ("error: goroscope: use of undeclared identifier 'nosuch' "
                                   "(and no map is named 'nosuch')"), t["nosuch"]
    assert t["gnone"].strip() == "error: goroscope: no goroutine 999999"


# `gw` = `goroutine W`, W the lowest goroutine parked in a channel receive
# (goids differ from run to run).
ALIAS_GW = ("script import goroscope_lldb.state as s; rt = s.runtime(lldb.debugger); "
            "w = min(g.goid for a, g in rt.all_g() if g.atomicstatus == rt.waiting and "
            "rt.reason_name(g.waitreason) == 'chan receive'); "
            "lldb.debugger.HandleCommand('command alias gw goroutine %d' % w)")


@pytest.mark.parametrize("mode", ["live", "core", "remote"])
def test_goroutine_id_cmd_and_thread_select_walk_a_parked_goroutine(binary, mode):
    """`goroutine ID bt`, and `goroutine ID` + `bt` / `frame variable`: the
    stack of a goroutine parked in a channel receive reaches worker()."""
    blocks = [("alias", ALIAS_GW), ("gbt", "gw bt 9"), ("gsel", "gw"), ("bt", "bt"),
              ("fr", "frame select 5"), ("fv", "frame variable done"), ("gshow", "goroutine"),
              ("star", "goroutines -with userloc worker"), ("starfast", "goroutines"),
              ("gclear", "goroutine clear"), ("gshow2", "goroutine"),
              ("gmain", "goroutine 1"), ("gmainbt", "goroutine 1 bt 1"), ("gall", "gw bt")]
    with tempfile.TemporaryDirectory() as d:
        core = lldbtest.make_core(binary, d) if mode == "core" else None
        res, out = lldbtest.session(binary, blocks, mode=mode, core=core)
    gbt = res.get("gbt", "")
    assert re.search(r"thread #\d+, name = 'goroutine \d+ \[chan receive\]'", gbt), out[-3000:]
    assert re.search(rf"worker\(.*\) at blocked\.cpp:{RECV}", gbt), gbt
    assert "[Switching to goroutine" in res["gsel"], res["gsel"]
    assert re.search(r"\* thread #\d+, name = 'goroutine \d+ \[chan receive\]'", res["bt"])
    assert re.search(rf"worker\(.*\) at blocked\.cpp:{RECV}", res["bt"]), res["bt"]
    assert re.search(r"done = 0x[0-9a-f]+ sync\.WaitGroup counter=7 waiters=0", res["fv"]), \
        res["fv"]
    w = int(re.match(rf"\* Goroutine (\d+) - User: \S+blocked\.cpp:{RECV} worker",
                     res["gshow"]).group(1))
    # `*` marks the selected goroutine (a goroutine thread), in both listing paths
    for k in ("star", "starfast"):
        stars = [m.group(2) for m in glines(res[k]) if m.group(1) == "*"]
        assert stars == [str(w)], res[k]
    assert res["gclear"].startswith("[Switching to thread "), res["gclear"]
    assert res["gshow2"].strip() == "no goroutine selected (the threads' own stacks are shown)"
    # a running goroutine is its worker's OS thread
    assert res["gmain"].startswith("[Switching to goroutine 1]") and "ready" in res["gmain"]
    assert "ready" in res["gmainbt"], res["gmainbt"]
    # the G record's summary, on the goroutine entry's argument
    assert re.search(r"gp=goroutine \d+ \[waiting: chan receive\] created by goroutine 1\)",
                     res["gall"]), res["gall"]


# `gw frame select K`, K the number `gw bt` gives worker's frame
SELECT_WORKER = (
    "script import re; ci = lldb.debugger.GetCommandInterpreter(); "
    "r = lldb.SBCommandReturnObject(); ci.HandleCommand('gw bt 20', r); "
    "k = re.search(r'frame #(\\d+): \\S+ \\S+`worker\\(jobs=', r.GetOutput()).group(1); "
    "print('worker is frame', k); lldb.debugger.HandleCommand('gw frame select ' + k)")


GNU_NAMES = ("script from goroscope_lldb.target import gnu_style as g; "
             "print('gnu: ' + ' | '.join(g(n) for n in (\"f()::'lambda0'(int)::operator()\", "
             "'std::vector<std::vector<int>>', 'operator>>(X)')))")


@pytest.mark.parametrize("mode", ["live", "core"])
def test_goroutine_bt_numbers_select_lldbs_frame(binary, mode):
    """`goroutine N bt` numbers goroscope's frames (inlined calls LLDB lacks
    included); `goroutine N frame select K` selects LLDB's frame for K."""
    blocks = [("alias", ALIAS_GW), ("sel", SELECT_WORKER), ("gnu", GNU_NAMES)]
    with tempfile.TemporaryDirectory() as d:
        core = lldbtest.make_core(binary, d) if mode == "core" else None
        res, out = lldbtest.session(binary, blocks, mode=mode, core=core)
    assert "sel" in res, out[-3000:]
    sel = out[out.index("END alias"):]  # (a script's output reaches the transcript only)
    assert "worker is frame" in out, out[-3000:]
    assert re.search(rf"frame #\d+: 0x[0-9a-f]+ \S+`worker\(jobs=.* at blocked\.cpp:{RECV}",
                     sel), sel
    assert re.search(rf"-> {RECV}\s", sel), sel
    # LLDB's demangler spellings (clang builds) become GDB's and the runtime's
    assert "gnu: f()::{lambda(int)#2}::operator() | std::vector<std::vector<int> > | " \
           "operator>>(X)" in out, out[-2000:]


def test_deadlocks():
    b = lldbtest.fixture("deadlock")
    res, out = lldbtest.session(b, [("deadlocks", "deadlocks")])
    s = res.get("deadlocks", "")
    assert re.search(r'^deadlock: goroutine (\d+) \[sync\.Mutex\.Lock\] waits on sync\.Mutex '
                     r'"(a|b)" 0x[0-9a-f]+, held by goroutine (\d+)', s, re.M), out[-3000:]
    assert re.search(rf"^\tgoroutine \d+ \[chan send\]:\n\tmain::.*\(\.\.\.\)\n\t\t\S+deadlock"
                     rf"\.cpp:{SEND}$", s, re.M), s


@pytest.mark.parametrize("how", ["twice", "initfile+cli"])
def test_plugin_loads_once_and_silently_with_pythonpath_set(binary, how, tmp_path):
    """PYTHONPATH holding python/ once broke the plugin (its entry file had the
    core package's name), and a second import (~/.lldbinit, then `./goroscope
    lldb`) failed; now every way of loading it twice installs it once."""
    import subprocess

    init = tmp_path / "lldbinit"
    init.write_text(f"command script import {lldbtest.PLUGIN}\n")
    first = {"twice": ["-o", f"command script import {lldbtest.PLUGIN}"],
             "initfile+cli": ["-S", str(init)]}[how]
    p = subprocess.run(
        [lldbtest.LLDB, "-b", "--no-lldbinit"] + first + [
            "-o", f"command script import {os.path.relpath(lldbtest.PLUGIN)}",
            "-o", "script import goroscope_lldb; print('registrations', "
                  "list(goroscope_lldb.registrations.values()))",
            "-o", f"target create {binary}", "-o", "b ready", "-o", "run", "-o", "goroutines",
            "-o", "target stop-hook list", "-o", "breakpoint list -b", "-o", "process kill"],
        capture_output=True, text=True, timeout=lldbtest.TIMEOUT, stdin=subprocess.DEVNULL,
        env=dict(os.environ, PYTHONPATH=os.path.join(lldbtest.ROOT, "python"),
                 LLDB_DEBUGSERVER_PATH=lldbtest.SERVER))
    assert "registrations [1]" in p.stdout, p.stdout + p.stderr
    assert "[8 goroutines]" in p.stdout, p.stdout[-3000:]
    assert p.stdout.count("Class:goroscope_lldb.commands.StopHook") == 1, p.stdout[-3000:]
    assert p.stdout.count("name = 'goroscope_fatal'") == 1, p.stdout[-3000:]
    assert p.stderr.strip() == "", p.stderr
    assert "error:" not in p.stdout, p.stdout[-3000:]


def test_lldb_completes_subcommands_natively(binary):
    """The containers: `gomap <TAB>`, `goroscope s<TAB>` (flags need LLDB 20's
    completion hook for Python commands; GDB completes them, test_gdb)."""
    res, out = lldbtest.session(binary, [
        ("c1", "script m = lldb.SBStringList(); lldb.debugger.GetCommandInterpreter()"
               ".HandleCompletion('gomap ', 6, 0, -1, m); "
               "print(sorted(m.GetStringAtIndex(i) for i in range(1, m.GetSize())))"),
        ("c2", "script m = lldb.SBStringList(); lldb.debugger.GetCommandInterpreter()"
               ".HandleCompletion('goroscope s', 11, 0, -1, m); "
               "print(sorted(m.GetStringAtIndex(i) for i in range(1, m.GetSize())))"),
    ], mode="none")
    # (`script print` writes to LLDB's stdout: the transcript, not the block)
    assert "['buckets', 'find', 'info', 'watch']\n" in out, out[-3000:]
    assert "['set', 'show', 'snapshot']\n" in out, out[-3000:]


def test_commands_without_a_process_say_so(binary):
    res, out = lldbtest.session(binary, [("g", "goroutines"), ("m", "gomap info sessions")],
                                mode="none")
    for k in ("g", "m"):
        assert res[k].strip() == ("error: goroscope: the program is not running: run it, "
                                  "attach to a process or load a core file"), res[k]


def parity_blocks(goid, snap_dir):
    """Every command and flag (goid: a goroutine parked in a channel receive;
    snap_dir: where each debugger writes its snapshots, then compared)."""
    g = "goroutines"
    return [
        ("plain", g), ("u", f"{g} -u"), ("r", f"{g} -r"), ("gloc", f"{g} -g"), ("s", f"{g} -s"),
        ("t", f"{g} -t"), ("t2", f"{g} -t 2"), ("t50", f"{g} -t 50"), ("l", f"{g} -l"),
        ("wuser", f"{g} -with userloc worker"), ("wcur", f"{g} -w curloc proc.cpp"),
        ("wgo", f"{g} -with goloc blocked.cpp"), ("wstart", f"{g} -with startloc worker"),
        ("wlabel", f"{g} -with label role=locker"), ("wrun", f"{g} -with running"),
        ("wouser", f"{g} -without user"), ("wo", f"{g} -wo userloc worker -l"),
        ("guser", f"{g} -group userloc"), ("gcur", f"{g} -group curloc"),
        ("ggo", f"{g} -group goloc"), ("gstart", f"{g} -group startloc"),
        ("grun", f"{g} -group running"), ("gu", f"{g} -group user"),
        ("glabel", f"{g} -group label role"), ("chan", f"{g} -chan jobs"),
        ("wname", f"{g} -with name sleep"), ("gname", f"{g} -group name"),
        ("exec", f"{g} -with userloc worker -exec bt 1"),
        ("badflag", f"{g} -bogus"), ("badfilter", f"{g} -with nope"),
        ("gsel", f"goroutine {goid}"), ("gshow", "goroutine"), ("gbt", f"goroutine {goid} bt 12"),
        ("gclear", "goroutine clear"), ("gshow2", "goroutine"), ("gnone", "goroutine 999999"),
        ("gbad", "goroutine nosuch"), ("gexpr", f"goroutine {goid}+0 goroutine"),
        ("info", "gomap info sessions"), ("infogrowing", "gomap info growing"),
        ("buckets", "gomap buckets growing"), ("bold", "gomap buckets growing --old"),
        ("brange", "gomap buckets sessions --range 2:4"), ("find", "gomap find growing key3"),
        ("findint", "gomap find sessions 42"), ("findnone", "gomap find growing nokey"),
        ("nosuch", "gomap info nosuch"), ("gomap", "gomap"),
        ("watchlist", "gomap watch --list"), ("watch", "gomap watch sessions --grow"),
        ("watchlist2", "gomap watch --list"), ("watchclear", "gomap watch --clear"),
        ("deadlocks", "deadlocks"),
        ("show", "goroscope show print-limit"), ("set", "goroscope set print-limit 2"),
        ("show2", "goroscope show print-limit"), ("bucketsset", "gomap buckets growing"),
        ("badset", "goroscope set auto-push maybe"),
        ("snap", f"goroscope snapshot {snap_dir}/full.json"),
        ("snapflags", f"goroscope snapshot {snap_dir}/small.json --no-frames --map sessions "
                      f"--buckets 2"),
        ("view", f"goroscope view unix:{snap_dir}/none.sock"),
    ]


# Where the two debuggers differ by nature, the test compares what is left
# (each entry says why):
DIFFERENT = {
    # the debugger's own backtrace format (GDB `#1 0x... in f (...) at file:line`,
    # LLDB `frame #1: 0x... prog`f(...) at file:line:col`): the goroutine lines
    # are compared, each goroutine's backtrace must be there
    "exec": "goroutine lines", "gbt": "nonempty",
    # -t's default depth (10) counts the runtime's frames, of which LLDB 16 sees
    # fewer (below): the goroutine lines are compared (-t 2 and -t 50 in full)
    "t": "goroutine lines",
    # selecting: GDB shows the goroutine's frame #1 (its unwinder), LLDB the
    # goroutine thread's status (the OS plugin): the first line is compared
    "gsel": "first line",
    # clearing: GDB ends the unwinder's selection, LLDB selects the thread that stopped
    "gclear": "nonempty",
    # the debugger's expression error ("No symbol "nosuch" in current context" /
    # "use of undeclared identifier 'nosuch'"), then the same fallback
    "nosuch": "after expression error",
    # `gomap` alone: GDB runs the prefix command (our usage line), LLDB's
    # container prints its own help listing the same subcommands
    "gomap": "subcommands",
    # watchpoint numbers: GDB numbers them with breakpoints, LLDB apart
    "watch": "numbers", "watchlist2": "numbers",
    # the snapshot file's size: the producer's name differs by one letter
    "snap": "numbers", "snapflags": "numbers",
}
# GDB announces a watchpoint it creates ("Hardware watchpoint 2: *(unsigned
# long *) 0x..."), LLDB does not: that line is dropped.
# Everywhere: LLDB prefixes a command's error with "error: ", GDB does not.
# Where runtime frames show (-r, -t, -group curloc): LLDB 16 finds no DWARF
# function at some runtime addresses (gopark's switch: `image lookup -v`
# lists no Function or Blocks there), so it misses the inlined levels GDB
# shows inside the runtime (gogo, mcall), and it places some inlined
# libstdc++ call sites a line apart (std::__invoke_impl, invoke.h:60 vs 61):
# the runtime's and the C++ library's frames are dropped from stacks and the
# runtime's names from locations; every user frame and its file:line is compared.
RUNTIME_FRAMES = {"r", "t", "t2", "t50", "gcur"}

DUR = re.compile(r" \d+(\.\d+)?(ns|us|µs|ms|s|m|h)\]")
RT_LOC = re.compile(r"(\./runtime/\S+:\d+) .*? (\(0x[0-9a-f]+\))")
FRAME = re.compile(r"^(\t+)\d+  0x[0-9a-f]+ in (.*)\n\t+    at (\S+)$", re.M)


def user_stack_frames(text):
    """-t stacks without the runtime's frames (and so without frame numbers)."""
    def one(m):
        if m.group(2).startswith(("goro::", "std::")) or m.group(3).startswith("./runtime/"):
            return "\x00"
        return f"{m.group(1)}{m.group(2)} at {m.group(3)}"

    return FRAME.sub(one, text).replace("\x00\n", "")


def normalize(name, text, live):
    text = re.sub(r"^error: ", "", text, flags=re.M)
    text = re.sub(r"^Hardware watchpoint \d+: .*\n", "", text, flags=re.M)
    if live:  # each debugger attached at its own moment: waits differ
        text = DUR.sub(" DUR]", text)
    if name in RUNTIME_FRAMES:
        text = user_stack_frames(RT_LOC.sub(r"\1 \2", text))
    how = DIFFERENT.get(name)
    if how == "goroutine lines":
        return "\n".join(x for x in text.split("\n") if LINE.match(x))
    if how == "nonempty":
        return bool(text.strip())
    if how == "first line":
        return text.split("\n")[0]
    if how == "after expression error":
        return text.split("(and no map", 1)[-1]
    if how == "subcommands":
        return sorted(set(re.findall(r"\b(info|buckets|find|watch)\b", text)))
    if how == "numbers":
        return re.sub(r"\d+", "N", text)
    return text


def run_both(binary, mode, directory, core=None, pid=None):
    """Both debuggers on one stopped state; returns ({gdb, lldb} blocks, snapshot docs)."""
    probe, pout = gdbtest.session(binary, [("w", WORKERS)], mode=mode, core=core, pid=pid)
    goid = int(glines(probe.get("w", ""))[0].group(2)) if glines(probe.get("w", "")) else 0
    assert goid, pout[-3000:]
    blocks = parity_blocks(goid, directory)
    res, docs = {}, {}
    for name, mod in (("gdb", gdbtest), ("lldb", lldbtest)):
        r, out = mod.session(binary, blocks, mode=mode, core=core, pid=pid)
        missing = [n for n, _ in blocks if n not in r]
        assert not missing, f"{name}: {missing}\n{out[-3000:]}"
        res[name] = r
        docs[name] = {}
        for k in ("full", "small"):
            with open(f"{directory}/{k}.json") as f:
                docs[name][k] = json.load(f)
            os.unlink(f"{directory}/{k}.json")
    return res, docs


def user_frames_only(doc):
    """The document without the runtime's own frames: LLDB 16 finds no DWARF
    function at some runtime addresses (gopark's: `image lookup -v` lists no
    Function or Blocks there), so the inlined levels GDB shows inside the
    runtime (gogo, mcall) are invisible to it. Every user frame is the same."""
    for g in doc["goroutines"]:
        g["frames"] = [f for f in g.get("frames", []) if not f.get("runtime")]
    return doc


def comparable(doc, live):
    doc = user_frames_only(doc)
    doc["producer"].pop("name")
    if live:  # (times: each debugger attached at its own moment)
        doc.pop("time")
        for g in doc["goroutines"]:
            g.pop("waiting_ns", None)
            g.pop("created_ns_ago", None)
    return doc


@pytest.fixture(scope="module")
def held():
    """The blocked fixture, held after ready() (GOROSCOPE_FIXTURE_HOLD) for
    the two debuggers to attach to in turn; killed (our child) at the end."""
    import subprocess

    p = subprocess.Popen([lldbtest.fixture("blocked")], stdout=subprocess.PIPE, text=True,
                         env=dict(os.environ, GOROSCOPE_FIXTURE_HOLD="1"))
    try:
        assert p.stdout.readline().strip() == "ready"
        yield p.pid
    finally:
        p.kill()
        p.wait()


@pytest.mark.parametrize("mode", ["core", "attach"])
def test_parity_every_command_and_flag(mode, held, tmp_path):
    """One stopped state, both debuggers: the same text for every command and
    flag (except DIFFERENT, compared as it says), and equal snapshots (apart
    from the producer's name and the runtime's internal frames)."""
    b = lldbtest.fixture("blocked")
    core = lldbtest.make_core(b, str(tmp_path)) if mode == "core" else None
    res, docs = run_both(b, mode, str(tmp_path), core=core,
                         pid=held if mode == "attach" else None)
    live = mode == "attach"
    bad = []
    for name, cmd in parity_blocks(0, str(tmp_path)):
        g, ll = res["gdb"][name], res["lldb"][name]
        if normalize(name, g, live) != normalize(name, ll, live) or \
                not g.strip() and name not in ("set",):
            bad.append(f"{name} ({cmd}):\nGDB:\n{g}\nLLDB:\n{ll}")
    assert not bad, f"{len(bad)} blocks differ:\n" + "\n".join(bad)
    # the exceptions still say what they must, in both
    for k in ("gdb", "lldb"):
        r = res[k]
        assert len(r["exec"].strip().split("\n")) >= 6, r["exec"]  # 3 lines + 3 backtraces
        assert re.search(rf"worker.*blocked\.cpp:{RECV}", r["gbt"]), r["gbt"]
        assert r["gsel"].startswith("[Switching to goroutine "), r["gsel"]
        # an expression for the id (both debuggers evaluate it), and a goroscope
        # command run in that goroutine's context sees it selected
        assert re.match(r"\* Goroutine \d+ - User: \S+blocked\.cpp:\d+ worker", r["gexpr"]), \
            r["gexpr"]
        if live:
            assert "gomap watch --grow: hardware watchpoint " in r["watch"], r["watch"]
        else:
            assert "a core file cannot run" in r["watch"], r["watch"]
    assert res["gdb"]["gomap"].startswith("goroscope: gomap info|buckets|find|watch")
    assert res["gdb"]["badflag"].startswith("goroscope: unrecognized arguments: -bogus; usage: ")
    assert "(buckets 0..1 of " in res["gdb"]["bucketsset"]  # the setting took effect
    for k in ("full", "small"):
        a, c = (comparable(docs[d][k], live) for d in ("gdb", "lldb"))
        assert a == c, k
    assert all(m.get("buckets_omitted") for m in docs["gdb"]["small"]["maps"]
               if m["name"] != "sessions")


@pytest.mark.skipif(not gdbtest.hw_watchpoints_fire(), reason=gdbtest.NO_HW_WATCH)
@pytest.mark.parametrize("mode", ["live", "remote"])
def test_gomap_watch_through_sb_watchpoints(mode):
    """The GDB test's scenario: each watch stops at its event only (LLDB prints
    the message with the stop, after its "Watchpoint N hit" lines)."""
    b = lldbtest.fixture("grow")
    res, out = lldbtest.session(b, mode=mode, blocks=[
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
    assert "gomap watch --grow: hardware watchpoint" in res.get("arm", ""), out[-3000:]
    # the stop's message precedes the block of the `continue` that stopped
    grow = out.index("BEGIN c1")
    assert re.search(r"gomap watch --grow: growth started \(B 0 -> 1\): buckets 0x[0-9a-f]+, "
                     r"oldbuckets 0x[0-9a-f]+ \(1 to evacuate\), count 8\nBEGIN c1", out), \
        out[:grow][-1500:]
    assert re.search(r"gomap watch --evacuated: evacuation done: oldbuckets 0x[0-9a-f]+ "
                     r"released; B=1 \(2 buckets\), count \d+\nBEGIN c2", out), out[-3000:]
    assert "oldbuckets 0x0 (not growing)" in res["info"]
    assert res["clear"].strip() == "2 map watchpoint(s) deleted"
    hops = re.findall(r"gomap watch --key 5: evacuation \([XY]\) moves it from old bucket "
                      r"(\d+) slot \d to bucket (\d+) slot \d; watch re-armed there", out)
    assert len(hops) >= 3, out[-4000:]
    for (a, b), (c, _) in zip(hops, hops[1:]):
        assert b == c, hops
    assert re.search(r"gomap watch --writing: goroutine 1 sets hashWriting \(a write begins\)"
                     r"\nBEGIN w1", out), out[-3000:]
    assert res["toomany"].strip().startswith(
        "error: goroscope: gomap watch needs 4 hardware watchpoint(s) and 1 is in use: "
        "x86-64 has 4 debug registers"), res["toomany"]
    assert "gomap watch --writing on map 0x" in res["list"]


def test_view_settings_and_auto_push_reach_a_listening_viewer():
    b = lldbtest.fixture("blocked")
    with tempfile.TemporaryDirectory() as d:
        path = os.path.join(d, "view.sock")
        stub = gdbtest.ViewerStub(path, 2)
        res, out = lldbtest.session(b, [
            ("view", f"goroscope view unix:{path}"),
            ("set", f"goroscope set viewer unix:{path}"),
            ("auto", "goroscope set auto-push on"),
            ("show", "goroscope show auto-push"),
            ("next", "next"),
            ("noview", f"goroscope view unix:{d}/none.sock"),
            ("badset", "goroscope set auto-push maybe"),
        ])
        stub.close()
        got = stub.got
    assert res["view"].strip() == f"snapshot pushed to unix:{path}", out[-2000:]
    assert res["show"].strip() == "goroscope auto-push is on."
    assert len(got) == 2, out[-2000:]  # `goroscope view`, then the stop after `next`
    for line in got:
        doc = json.loads(line)
        assert doc["format"] == "goroscope-snapshot" and len(doc["goroutines"]) == 8
        assert doc["producer"]["name"] == "goroscope-lldb"
    assert res["noview"].strip().startswith(
        f"error: goroscope: no viewer listening on unix:{d}/none.sock")
    assert res["badset"].strip() == "error: goroscope: goroscope set auto-push: on or off, not 'maybe'"


def test_after_a_crash_the_commands_show_what_every_goroutine_was_doing(binary):
    """lldb -b with -k: the commands after the program's crash (main's SIGSEGV
    right after ready(), everything else still blocked)."""
    res, out = lldbtest.session(binary, [("goroutines", "goroutines"), ("threads", "thread list"),
                                         ("deadlocks", "deadlocks")], mode="crash",
                                env={"GOROSCOPE_FIXTURE_CRASH": "1"})
    assert "stop reason = signal SIGSEGV" in out, out[-3000:]
    gs = glines(res.get("goroutines", ""))
    assert len(gs) == 8, out[-3000:]
    main = [m for m in gs if m.group(2) == "1"][0]
    assert main.group(5) == str(line_of("blocked", "// the crash")), main.group(0)
    assert sum(1 for m in gs if m.group(6) == "worker" and m.group(5) == str(RECV)) == 3
    assert len(re.findall(r"name = 'goroutine \d+ (\"sleeper\" )?\[", res["threads"])) == 7, \
        res["threads"]
    assert res["deadlocks"].strip().startswith("no deadlock"), res["deadlocks"]
