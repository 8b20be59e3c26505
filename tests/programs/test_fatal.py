"""test_fatal: a fatal map race in a user's -O2 program, at the fatal stop.

fatal/map_race.cpp (built by CMakeLists.txt with the project's compiler at
-O2 -g): two writers race on a map until the runtime reports "concurrent map
writes" and the plugins stop the program at goroscope_fatal. Both goroutines
must be listed at the user's write line: the dying one (its report path is in
the cold part of writer, where GDB's blocks lose inline levels: addr2line
names it) and the other one, frozen by freeze_others wherever it was (inside
libc's memcpy or malloc: reserved names are never a user's frame).
"""

import os
import re
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
sys.path.insert(0, os.path.join(ROOT, "tests", "gdb"))
sys.path.insert(0, os.path.join(ROOT, "tests", "lldb"))
import gdbtest  # noqa: E402
import lldbtest  # noqa: E402

BUILT = os.environ.get("GOROSCOPE_PROGRAMS", os.path.join(ROOT, "build", "tests", "programs"))
SRC = os.path.join(HERE, "fatal", "map_race.cpp")
WRITE = next(i for i, ln in enumerate(open(SRC), 1) if "// @write" in ln)
RUNS = 3


def writers(text):
    return re.findall(r"^([* ]) Goroutine (\d+) - User: (\S+):(\d+) (\S+) .*\(thread \d+\)",
                      text, re.M)


def check(res, out, debugger):
    assert "concurrent map writes" in out, out[-3000:]
    text = res.get("g", "")
    ws = writers(text)
    assert len(ws) == 2, (debugger, out[-3000:])
    for star, goid, file, line, fn in ws:
        assert file.endswith("map_race.cpp") and int(line) == WRITE and fn == "writer", \
            (debugger, goid, file, line, fn, text[-3000:])
    assert sorted(w[0] for w in ws) == [" ", "*"], (debugger, ws)  # the dying one selected


def test_both_writers_at_the_write_line_in_gdb():
    for _ in range(RUNS):
        res, out = gdbtest.session(os.path.join(BUILT, "map_race"), [("g", "goroutines")],
                                   mode="fatal", merge_stderr=True)
        check(res, out, "gdb")


def test_both_writers_at_the_write_line_in_lldb():
    for _ in range(RUNS):
        res, out = lldbtest.session(os.path.join(BUILT, "map_race"), [("g", "goroutines")],
                                    mode="fatal")
        check(res, out, "lldb")
