"""The command layer (python/goroscope/commands) without a debugger, pwndbg's
way: every command runs against an ImageDebugger, a Debugger over a recorded
memory image (images/*.json.gz) whose verbs are stubs that record what they
were asked. Checks what both adapters inherit: parsing and its one-line
errors, help texts, completion, settings, expressions' fallback to debug
names, and that each command prints what the lower layers print.
"""

import os
import re
import sys

import pytest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "python"))

import coreops  # noqa: E402
import imageutil  # noqa: E402
from goroscope import commands, settings  # noqa: E402
from goroscope.debugger import Value  # noqa: E402
from goroscope.errors import GoroscopeError  # noqa: E402
from imageutil import ImageDebugger  # noqa: E402


@pytest.fixture(scope="module")
def doc():
    return imageutil.load("blocked")


@pytest.fixture
def dbg(doc):
    return ImageDebugger(doc)


def run(dbg, line):
    name, _, rest = line.partition(" ")
    path = [name]
    cmd = commands.resolve(path, dbg.name)
    if cmd.subcommands and rest.split()[:1] and cmd.sub(rest.split()[0], dbg.name):
        sub, _, rest = rest.partition(" ")
        path.append(sub)
    return "\n".join(commands.execute(dbg, path, rest))


def test_goroutines_prints_what_the_core_prints(dbg, doc, monkeypatch):
    monkeypatch.setattr(os, "getcwd", lambda: doc["cwd"])
    assert run(dbg, "goroutines") == doc["outputs"]["goroutines (fast)"]
    for flags in ("-t 4", "-r", "-g", "-s", "-l", "-group userloc", "-group label role",
                  "-with label role=locker", "-without running", "-with name sleep",
                  "-group name"):
        assert run(dbg, "goroutines " + flags) == doc["outputs"][flags], flags


def test_exec_runs_the_raw_command_in_each_listed_goroutine(dbg):
    out = run(dbg, 'goroutines -with userloc worker -exec print "a  b"')
    assert [c for _, c in dbg.calls] == ['print "a  b"'] * 3  # the tail untouched
    assert out.count("Goroutine ") == 3


def test_goroutine_selects_runs_and_clears(dbg):
    goid = int(run(dbg, "goroutines -with userloc worker").split()[1])
    assert run(dbg, f"goroutine {goid}") == f"[Switching to goroutine {goid}]"
    assert run(dbg, "goroutine").startswith(f"* Goroutine {goid} - User: ")
    assert run(dbg, f"goroutine {goid} frame 1") == f"(frame 1 in {goid})"
    dbg.exprs["$g"] = Value("int", "integer", goid, None)
    assert run(dbg, "goroutine $g bt") == f"(bt in {goid})"  # an expression, in both debuggers
    assert run(dbg, "goroutine clear") == "goroutine selection cleared"
    assert run(dbg, "goroutine").startswith("no goroutine selected")
    for bad, msg in (("goroutine 999999", "no goroutine 999999"),
                     ("goroutine nosuch", "'nosuch' is not a goroutine id")):
        with pytest.raises(GoroscopeError, match=msg):
            run(dbg, bad)


def test_names_stand_in_for_expressions_in_every_command(dbg):
    """`-chan NAME` and `gomap info NAME` fall back to debug names (GDB did not for -chan)."""
    assert run(dbg, "goroutines -chan jobs").endswith("[4 goroutines]")
    assert run(dbg, "gomap info sessions").split("\n")[1] == "  count      100"
    with pytest.raises(GoroscopeError, match=r"No symbol \"nosuch\" in current context "
                                             r"\(and no map is named 'nosuch'\)"):
        run(dbg, "gomap info nosuch")
    dbg.exprs["i"] = Value("int", "other", None, 0x1000)
    with pytest.raises(GoroscopeError, match="i is a int, not a goro map"):
        run(dbg, "gomap info i")


def test_parse_errors_are_one_line_with_the_synopsis():
    d = ImageDebugger(imageutil.load("blocked"))
    for line, msg in (
            ("goroutines -bogus", "unrecognized arguments: -bogus; usage: goroutines [-u|-r|"),
            ("goroutines -with nope", "unknown filter 'nope'"),
            ("goroutines -with userloc", "filter 'userloc' takes 1 argument"),
            ("goroutines -group label", "-group label takes one KEY"),
            ("goroutines -t x", "argument -t: invalid int value: 'x'"),
            ("goroutines -exec", "-exec needs a command"),
            ("gomap", "gomap info|buckets|find|watch"),
            ("gomap bogus", "unknown subcommand 'bogus'"),
            ("gomap info", "the following arguments are required: EXPR; usage: gomap info EXPR"),
            ("gomap buckets sessions --range x", "bad range 'x'"),
            ("gomap find sessions", "usage: gomap find EXPR KEY"),
            ("gomap watch", "usage: gomap watch EXPR"),
            ("gomap watch --list x", "--list and --clear take nothing else"),
            ("deadlocks x", "unrecognized arguments: x; usage: deadlocks"),
            ("goroscope snapshot", "usage: goroscope snapshot FILE"),
            ("goroscope snapshot f --buckets many", "invalid int value: 'many'"),
            ("goroscope set nosuch 1", "no setting 'nosuch'"),
            ("goroscope set auto-push maybe", "on or off, not 'maybe'"),
            ("goroscope set print-limit -3", "must be 0 or more"),
            ("goroscope os-plugin on", "unknown subcommand 'os-plugin'"),  # LLDB only
            ("goroutines -with userloc 'a", "cannot split the arguments"),
    ):
        with pytest.raises(GoroscopeError) as e:
            run(d, line)
        text = str(e.value)
        assert msg in text and "\n" not in text, (line, text)
        assert commands.error_text(e.value) == "goroscope: " + text


def test_an_unexpected_exception_is_one_line_too():
    assert commands.error_text(KeyError("x")) == (
        "goroscope: internal error: KeyError: 'x' (GOROSCOPE_DEBUG=1 shows the traceback)")


def test_settings_are_declared_once_and_typed(dbg):
    names = [s.name for s in settings.declared("gdb")]
    assert names == ["print-limit", "bucket-limit", "viewer", "auto-push", "stop-on-fatal"]
    assert "os-plugin-limit" in [s.name for s in settings.declared("lldb")]
    run(dbg, "goroscope set print-limit 3")
    assert run(dbg, "goroscope show print-limit") == "goroscope print-limit is 3."
    assert "(buckets 0..2 of 8; --range 3:67 for more)" in run(dbg, "gomap buckets growing")
    run(dbg, "goroscope set auto-push on")
    assert run(dbg, "goroscope show auto-push") == "goroscope auto-push is on."
    seen = []
    dbg.settings.on_change = lambda n, v: seen.append((n, v))
    run(dbg, "goroscope set bucket-limit 0x10")
    assert seen == [("bucket-limit", 16)]


def test_lldb_has_os_plugin_and_its_limit(doc):
    d = ImageDebugger(doc, name="lldb")
    assert run(d, "goroscope os-plugin limit 5").startswith("goroscope OS plugin: at most 5")
    assert d.settings["os-plugin-limit"] == 5
    with pytest.raises(GoroscopeError, match="usage: goroscope os-plugin on|off|limit N"):
        run(d, "goroscope os-plugin limit")


def test_every_help_is_for_users(dbg):
    """Synopsis, flags, an example; no module notes (LLDB showed "This module is pure...")."""
    def walk(cs):
        for c in cs:
            yield c
            yield from walk(c.subcommands)

    for c in walk(commands.REGISTRY):
        assert c.summary and c.summary[0].isupper() and c.summary.endswith("."), c.name
        assert c.help.startswith("Usage: "), c.name
        assert "\nExample: " in c.help, c.name
        assert "module" not in c.help.lower() and "adapter" not in c.help.lower(), c.name
        for line in c.help.split("\n"):
            assert len(line) <= 79, (c.name, line)  # (LLDB rewraps longer lines)


@pytest.mark.parametrize("text,want", [
    ("-w", (["-w", "-with", "-without", "-wo"], None)),
    ("-with ", (["curloc", "goloc", "label", "name", "running", "startloc", "user", "userloc"],
                None)),
    ("-with use", (["user", "userloc"], None)),
    ("-with userloc ", ([], None)),
    ("-group l", (["label"], None)),
    ("-chan ", ([], "expression")),
    ("-t ", ([], None)),
    ("-l -g", (["-g", "-group"], None)),
    ("-exec b", ([], "command")),
])
def test_completion_of_goroutines(text, want):
    assert commands.complete(commands.resolve(["goroutines"], "gdb"), "gdb", text) == want


@pytest.mark.parametrize("cmd,text,want", [
    ("gomap", "", (["buckets", "find", "info", "watch"], None)),
    ("gomap", "b", (["buckets"], None)),
    ("gomap", "info ", ([], "expression")),
    ("gomap", "buckets m --", (["--old", "--range"], None)),
    ("gomap", "watch m --", (["--clear", "--evacuated", "--grow", "--key", "--list",
                              "--writing"], None)),
    ("goroscope", "", (["set", "show", "snapshot", "view"], None)),
    ("goroscope", "snapshot ", ([], "filename")),
    ("goroscope", "snapshot f --", (["--buckets", "--map", "--no-frames"], None)),
    ("goroscope", "set auto", (["auto-push"], None)),
    ("goroscope", "show ", (["auto-push", "bucket-limit", "print-limit", "stop-on-fatal",
                             "viewer"], None)),
])
def test_completion_of_subcommands_flags_and_values(cmd, text, want):
    assert commands.complete(commands.resolve([cmd], "gdb"), "gdb", text) == want


def test_lldb_completes_its_own_subcommands():
    got, _ = commands.complete(commands.resolve(["goroscope"], "lldb"), "lldb", "")
    assert "os-plugin" in got


def test_snapshot_through_the_command_names_its_producer(dbg, tmp_path):
    out = run(dbg, f"goroscope snapshot {tmp_path}/s.json --no-frames --map sessions")
    assert out.startswith("snapshot of 8 goroutines, ") and out.endswith(" bytes)")
    import json

    d = json.loads((tmp_path / "s.json").read_text())
    assert d["producer"]["name"] == "goroscope-test" and d["producer"]["pid"] == 4242
    assert [m.get("buckets_omitted", False) for m in d["maps"]] == [True, False]
    assert all(not g.get("frames") for g in d["goroutines"])


def test_coreops_flags_parse_through_the_command_parser():
    """coreops (the replay and the fuzz test) parse with the command's own parser."""
    assert coreops.goroutines_cmd.parse_flags(["-group", "label", "role"]).group_label == "role"


def test_lldb_bt_is_the_cores_walk_in_lldbs_format(dbg):
    """LLDB (own_bt False): `goroutine N bt [N | -c N]` and `goroutines -exec bt`
    print goroscope's frames; other forms (`thread backtrace`, `bt all`) and
    other commands still go to the debugger."""
    dbg.own_bt = False
    goid = int(run(dbg, "goroutines -with userloc worker").split()[1])
    out = run(dbg, f"goroutine {goid} bt").split("\n")
    assert out[0] == f"goroutine {goid} [chan receive]", out
    assert out[1].startswith("  * frame #0: 0x"), out
    assert [ln for ln in out if re.search(
        r"frame #\d+: 0x[0-9a-f]{16} worker\(goro::Chan<int>, goro::WaitGroup\*\) at "
        r"blocked\.cpp:\d+$", ln)], out
    assert any("[inlined] goro::Chan<int>::recv_ok() at chan.h:" in ln for ln in out), out
    assert not dbg.calls
    assert run(dbg, f"goroutine {goid} bt 2").split("\n")[1:] == out[1:3] + ["    (truncated)"]
    assert run(dbg, f"goroutine {goid} bt -c 2") == run(dbg, f"goroutine {goid} bt 2")
    listed = run(dbg, "goroutines -with userloc worker -exec bt 2").split("\n")
    assert listed[0].startswith("  Goroutine ") and listed[1].startswith("  * frame #0: "), listed
    assert run(dbg, f"goroutine {goid} thread backtrace") == f"(thread backtrace in {goid})"
    assert run(dbg, f"goroutine {goid} bt all") == f"(bt all in {goid})"


class _Text:
    """A Target of code bytes at fixed addresses and the functions holding them."""

    def __init__(self, code, funcs):
        self.code, self.funcs = code, funcs  # {addr: bytes}, [(start, end)]

    def read(self, addr, size):
        for base, data in self.code.items():
            if base <= addr and addr + size <= base + len(data):
                return data[addr - base:addr - base + size]
        from goroscope.errors import MemoryReadError

        raise MemoryReadError(addr, size)

    def function_range(self, pc):
        return next(((s, e) for s, e in self.funcs if s <= pc < e), None)

    def symbolize(self, pc):
        return []


def _rel(frm, to):
    return (to - frm).to_bytes(4, "little", signed=True)


@pytest.mark.parametrize("jumps, call_target, want", [
    ([0x2010], 0x2000, {0: [0x2010]}),   # caller called F; F's one `jmp G` handed over
    ([0x2010, 0x2020], 0x2000, {}),      # two jumps to G in F: ambiguous
    ([], 0x2000, {}),                    # no jump to G in F
    ([0x2010], 0x3000, {}),              # the caller called G itself: no tail call
])
def test_tail_calls_are_the_one_jump_to_the_callee(jumps, call_target, want):
    from goroscope.stacks import Symbolizer

    caller = bytearray(b"\x90" * 0x40)
    caller[0x0b:0x10] = b"\xe8" + _rel(0x1010, call_target)  # call; returns to 0x1010
    f = bytearray(b"\x90" * 0x40)
    for j in jumps:
        f[j - 0x2000:j - 0x2000 + 5] = b"\xe9" + _rel(j + 5, 0x3000)
    sym = Symbolizer(_Text({0x1000: bytes(caller), 0x2000: bytes(f)},
                           [(0x1000, 0x1040), (0x2000, 0x2040), (0x3000, 0x3040)]))
    # frame 0 runs G (returns to 0x3020), frame 1 is the caller's return address
    assert sym.tail_calls([0x3020, 0x1010]) == want


def _smash_g_records(doc, fill=None, one=None):
    """The image's regions with its G chunks overwritten: every byte `fill`,
    or (one=(index, field, value)) one field of one live record."""
    from goroscope.runtime import Runtime

    regions = {int(a, 16): bytes.fromhex(d) for a, d in doc["regions"].items()}
    rt = Runtime(imageutil.target(doc, regions))
    table = rt.mem.read(rt.sched_field("allgchunks"), 8 * rt.sched_field("nallgchunks"))
    bases = [int.from_bytes(table[i:i + 8], "little") for i in range(0, len(table), 8)]
    live = [a for a, _g in rt.all_g()]
    for r in sorted(regions):
        buf = bytearray(regions[r])
        for b in bases:
            lo, hi = max(b, r), min(b + rt.gsize * rt.chunk, r + len(buf))
            if fill is not None and lo < hi:
                buf[lo - r:hi - r] = bytes([fill]) * (hi - lo)
        if one is not None:
            k, field, value = one
            a = live[k] + rt.L.off("G." + field)
            n = rt.L.fsize("G." + field)
            if r <= a < r + len(buf):
                buf[a - r:a - r + n] = value.to_bytes(n, "little")
        regions[r] = bytes(buf)
    return regions


def test_garbage_g_records_are_listed_corrupt_never_as_goroutines(doc):
    """A core whose G chunk is all 0xff bytes (issue 18): no goroutine
    18446744073709551615 in `status4294967295`, but `<corrupt G: ...>` lines
    (at most 10, then how many more) and the count in the listing's last
    line; the other commands see no goroutine at all."""
    dbg = ImageDebugger(doc, regions=_smash_g_records(doc, fill=0xFF))
    bad = re.compile(r"^\t?  Goroutine \? - <corrupt G: goid=18446744073709551615 "
                     r"status=4294967295 @0x[0-9a-f]+>$")
    for flags in ("", "-t 2", "-r", "-l", "-s"):
        out = run(dbg, ("goroutines " + flags).strip())
        lines = out.splitlines()
        assert sum(1 for ln in lines if bad.match(ln)) == 10, (flags, out)
        assert lines[-2:] == ["  (246 more corrupt G records)",
                              "[0 goroutines, 256 corrupt G records]"], (flags, out)
        assert "status4294967295" not in out and "Goroutine 18446744073709551615" not in out
    for flags in ("-group userloc", "-group label role"):
        out = run(dbg, "goroutines " + flags)
        assert out.startswith("<corrupt G records>\n\t  Goroutine ? - <corrupt G: "), out
        assert out.endswith("\t  (246 more corrupt G records)\n\tTotal: 256"), out
    assert run(dbg, "goroutines -with running") == "[0 goroutines]"
    assert "18446744073709551615" not in run(dbg, "deadlocks")


def test_one_garbage_g_record_among_live_goroutines(doc):
    """One record's status smashed, one record's goid: both `<corrupt G>`
    (the goid as read), the other six goroutines as they were; the G
    printers' line says the same."""
    from goroscope import objects
    from goroscope.runtime import Runtime

    plain = ImageDebugger(doc)
    before = run(plain, "goroutines").splitlines()
    regs = _smash_g_records(doc, one=(3, "atomicstatus", 0x1234))
    regs2 = _smash_g_records({**doc, "regions": {f"{a:x}": d.hex() for a, d in regs.items()}},
                             one=(5, "goid", 1 << 60))
    dbg = ImageDebugger(doc, regions=regs2)
    out = run(dbg, "goroutines").splitlines()
    assert out[-1] == "[6 goroutines, 2 corrupt G records]", out
    corrupt = [ln for ln in out if "<corrupt G: " in ln]
    assert len(corrupt) == 2, out
    assert any(re.search(r"goid=\d+ status=4660 @0x", ln) for ln in corrupt), corrupt
    assert any(re.search(r"goid=1152921504606846976 status=(waiting|runnable|running) @0x", ln)
               for ln in corrupt), corrupt
    assert len([ln for ln in out if ln in before]) == 6, (before, out)
    rt = Runtime(imageutil.target(doc, regs2))
    lines = [objects.g_summary(rt, g, a) for a, g in rt.all_g(include_dead=True) if g.goid]
    assert sum(1 for s in lines if s.startswith("<corrupt G: ")) == 2, lines
