"""The `goroscope` script's commands that are not builds: `doctor`, the
`gdb|lldb [OPTIONS --] PROG [ARGS]` syntax, LLDB sessions fed on stdin,
and the messages that point at the right command."""

import os
import re
import stat
import subprocess
import sys

import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
sys.path.insert(0, os.path.join(ROOT, "tests", "gdb"))
import gdbtest  # noqa: E402

SCRIPT = os.path.join(ROOT, "goroscope")
CHECKS = ["packages", "gdb", "ptrace", "auto-load", "watchpoints", "lldb", "lldb-server",
          "display"]


def run(*args, env=None, timeout=120):
    return subprocess.run([SCRIPT, *args], capture_output=True, text=True, timeout=timeout,
                          stdin=subprocess.DEVNULL, env=dict(os.environ, **(env or {})), cwd=ROOT)


def doctor_lines(out):
    lines = out.rstrip("\n").split("\n")
    checks = [re.match(r"^(OK|FAIL) +(\S+) +(\S.*)$", ln) for ln in lines[:-1]]
    assert all(checks), out
    return {m.group(2): (m.group(1), m.group(3)) for m in checks}, lines[-1]


def test_help_lists_the_commands_and_the_debugger_syntax():
    p = run("help")
    assert p.returncode == 0
    for want in ("gdb [OPTIONS --] PROG [ARGS..]", "lldb [OPTIONS --] PROG [ARGS..]",
                 "  doctor ", "demo NAME | --list"):
        assert want in p.stdout, (want, p.stdout)


def test_doctor_prints_one_line_per_check_and_the_fix_for_each_failure():
    p = run("doctor")
    got, last = doctor_lines(p.stdout)
    assert list(got) == CHECKS, p.stdout
    fails = [name for name, (status, _) in got.items() if status == "FAIL"]
    assert all("fix: " in got[name][1] for name in fails), p.stdout
    assert p.returncode == (1 if fails else 0), (p.returncode, p.stdout, p.stderr)
    assert last == (f"goroscope doctor: {len(fails)} problem(s)" if fails
                    else "goroscope doctor: all checks passed")
    # the same verdict as the probe the watchpoint tests skip on
    assert (got["watchpoints"][0] == "OK") == gdbtest.hw_watchpoints_fire(), p.stdout
    assert got["packages"][0] == "OK", p.stdout  # (the suite needs them all)


def test_doctor_says_why_watchpoints_do_not_fire(tmp_path):
    """A host whose debug registers accept a watchpoint and never report the
    store (this project's 2026-12-01 VM): a GDB that behaves so."""
    fake = tmp_path / "gdb"
    fake.write_text("#!/bin/sh\n"
                    "case \"$*\" in\n"
                    "  *\"watch x\"*) printf 'Breakpoint 1, main () at probe.c:3\\n"
                    "Hardware watchpoint 2: x\\n[Inferior 1 (process 1) exited normally]\\n' ;;\n"
                    "  *) exec /usr/bin/gdb \"$@\" ;;\n"
                    "esac\n")
    fake.chmod(fake.stat().st_mode | stat.S_IXUSR)
    p = run("doctor", env={"PATH": f"{tmp_path}:{os.environ['PATH']}"})
    got, _ = doctor_lines(p.stdout)
    status, text = got["watchpoints"]
    assert status == "FAIL" and "do not fire" in text and "went unreported" in text, text
    assert "fix: " in text and p.returncode == 1


def test_doctor_leaves_home_alone_and_its_safe_path_fix_works(tmp_path):
    home = tmp_path / "home"
    home.mkdir()
    p = run("doctor", env={"HOME": str(home), "XDG_CONFIG_HOME": str(home / ".config")})
    got, _ = doctor_lines(p.stdout)
    status, text = got["auto-load"]
    if status == "FAIL":  # (unless GDB's system-wide safe-path holds the checkout)
        m = re.search(r"fix: echo '(.*)' >> (\S+)$", text)
        assert m and m.group(2) == str(home / ".gdbinit"), text
        (home / ".gdbinit").write_text(m.group(1) + "\n")
        got, _ = doctor_lines(run("doctor", env={"HOME": str(home)}).stdout)
        assert got["auto-load"][0] == "OK", got["auto-load"]
    assert sorted(os.listdir(home)) == ([".gdbinit"] if status == "FAIL" else [])


def test_demo_with_an_unknown_scenario_says_how_to_list_them():
    p = run("demo", "nosuch", timeout=60)  # (before any build)
    assert p.returncode != 0
    assert "unknown scenario 'nosuch'" in p.stderr and "./goroscope demo --list" in p.stderr, \
        p.stderr


def test_demo_without_a_display_renders_every_panel_even_when_short():
    """`demo --seconds 2` with no display: the program outlives the screenshots
    (it ran out before the third one did, and the demo failed)."""
    env = {k: v for k, v in os.environ.items() if k not in ("DISPLAY", "WAYLAND_DISPLAY")}
    p = subprocess.run([SCRIPT, "demo", "--seconds", "2"], capture_output=True, text=True,
                       timeout=600, stdin=subprocess.DEVNULL, env=env, cwd=ROOT)
    assert p.returncode == 0, p.stdout[-2000:] + p.stderr[-2000:]
    shots = re.findall(r"^  (\S+\.png)$", p.stdout, re.M)
    assert [os.path.basename(s) for s in shots] == ["map.png", "goroutines.png", "table.png"], \
        p.stdout
    assert all(os.path.getsize(s) > 0 for s in shots)


def test_gdb_takes_its_options_before_a_double_dash():
    b = gdbtest.fixture("blocked")
    p = run("gdb", "-batch", "-ex", "goroscope show", "-ex", "show args", "--", b, "a1", "b 2")
    assert "goroscope print-limit is" in p.stdout, p.stdout + p.stderr
    assert 'started is "a1 b\\ 2".' in p.stdout, p.stdout
    # after PROG, options are the program's
    p = run("gdb", "-batch", "-ex", "show args", "--", b, "-ex", "x")
    assert 'started is "-ex x".' in p.stdout, p.stdout + p.stderr
    p = run("gdb", "-batch", b)
    assert p.returncode != 0 and "end the debugger's options with '--'" in p.stderr, p.stderr


def test_relative_paths_mean_the_callers_directory(tmp_path):
    """A program, a -x script and a core given relative to where the user
    typed the command (the wrapper works in its checkout, the debuggers in
    the caller's directory)."""
    b = gdbtest.fixture("blocked")
    os.symlink(b, tmp_path / "prog")
    (tmp_path / "cmds.gdb").write_text("echo from-script\\n\n")
    for dbg, opts in (("gdb", ["-batch", "-x", "cmds.gdb"]),
                      ("lldb", ["-b", "-o", "target list"])):
        p = subprocess.run([SCRIPT, dbg, *opts, "--", "./prog"], capture_output=True, text=True,
                           timeout=120, stdin=subprocess.DEVNULL, cwd=tmp_path)
        assert p.returncode == 0, (dbg, p.stdout + p.stderr)
        want = "from-script" if dbg == "gdb" else "prog"
        assert want in p.stdout and "No such file" not in p.stdout + p.stderr, \
            (dbg, p.stdout + p.stderr)


def test_lldb_takes_its_options_before_a_double_dash():
    b = gdbtest.fixture("blocked")
    p = run("lldb", "-b", "-o", "goroscope show", "-o", "settings show target.run-args", "--",
            b, "a1", "b 2")
    assert "goroscope print-limit is" in p.stdout, p.stdout + p.stderr
    assert '[0]: "a1"' in p.stdout and '[1]: "b 2"' in p.stdout, p.stdout
    p = run("lldb", "-p", "1", "2")
    assert p.returncode != 0 and "-p takes one PID" in p.stderr, p.stderr


def test_lldb_fed_on_stdin_keeps_its_commands():
    """LLDB forwards its stdin to a running program: piped commands after
    `run` were the program's, and the session ended. They stay LLDB's."""
    b = gdbtest.fixture("blocked")
    p = subprocess.run([SCRIPT, "lldb", b], input="b ready\nrun\ngoroutines\nkill\n",
                       capture_output=True, text=True, timeout=120, cwd=ROOT)
    assert "[8 goroutines]" in p.stdout, p.stdout[-3000:] + p.stderr[-2000:]
    assert "exited with status = 9" in p.stdout  # `kill` ran too
