"""The GDB printers and the listing over corrupted cores (issue 18: printers
never trace back).

printerfuzz damages the strmap fixture's core PRINTER_FUZZ_CASES ways;
`print *g_ages` (goro::Map<std::string, int>) and `print *g_names`
(goro::Map<std::string, std::string>) run on each in its own `gdb -batch`,
stderr merged in (where GDB reports a printer's Python exception): never an
exception or traceback, never an empty `$N =` or child, never a hang; a map
whose bad keys and values are the core's markers (`<corrupt std::string:
size=...>`), or a marker for the whole map. About 40 s (64 cases, 2 at a time).
Then the same core with every G record 0xff bytes: `goroutines` lists
`<corrupt G: ...>` lines, no goroutine 18446744073709551615.
"""

import os
import re
import tempfile

import pytest

import corefile
import gdbtest
import printerfuzz

PRINTS = [("ages", "print *g_ages"), ("names", "print *g_names")]
SHAPES = {"ages": printerfuzz.GDB_MAP, "names": printerfuzz.GDB_MAP}


def session(binary, blocks, core):
    return gdbtest.session(binary, blocks, mode="core", core=core, merge_stderr=True)


@pytest.fixture(scope="module")
def strmap():
    with tempfile.TemporaryDirectory() as d:
        binary, core, desc = printerfuzz.pristine(d)
        yield binary, core, desc, d


def test_pristine_core_prints_both_maps(strmap):
    binary, core, _desc, _d = strmap
    res, out = session(binary, PRINTS, core)
    assert res["ages"].startswith("$1 = map[std::__cxx11::basic_string<char>]int len=40 = {[\""), \
        out[-2000:]
    assert res["ages"].count("] = ") == 40 and '["k8"] = 8' in res["ages"]
    assert '["a long key that lives on the heap #15"] = 15' in res["ages"]
    assert res["names"].count("] = ") == 20, res["names"]
    assert '["n1"] = "value 1"' in res["names"], res["names"]
    for k, shape in SHAPES.items():
        assert not printerfuzz.problems(res[k], shape), res[k]


def test_corrupted_string_maps_print_or_say_corrupt(strmap):
    binary, core, desc, d = strmap
    results = printerfuzz.run_all(corefile.Core(core), desc, d,
                                  lambda path: session(binary, PRINTS, path)[0])
    assert len(results) >= 10, "too few cases within PRINTER_FUZZ_BUDGET"
    fails, n = printerfuzz.failures(results, SHAPES)
    t = printerfuzz.tally(results, SHAPES)
    assert not fails, f"{n} bad prints of {t['prints']} ({t}):\n" + "\n".join(fails)
    # the damage shows: markers in some prints (not only plausible garbage)
    assert sum("<corrupt " in r[k] for _s, _w, r in results for k in SHAPES) >= 5


def test_garbage_g_records_are_corrupt_in_the_listing(strmap):
    binary, core, desc, d = strmap
    path = printerfuzz.smash_g_chunks(corefile.Core(core), desc,
                                      os.path.join(d, "core.gff"))
    try:
        res, out = session(binary, [("g", "goroutines"), ("t", "goroutines -t 2"),
                                    ("group", "goroutines -group userloc"),
                                    ("ages", "print *g_ages")], path)
    finally:
        os.unlink(path)
    for k in ("g", "t"):
        s = res[k]
        assert "18446744073709551615 -" not in s and "status4294967295" not in s, s
        assert len(re.findall(r"^  Goroutine \? - <corrupt G: goid=18446744073709551615 "
                              r"status=4294967295 @0x[0-9a-f]+>$", s, re.M)) == 10, s
        m = re.search(r"^  \((\d+) more corrupt G records\)\n\[0 goroutines, (\d+) corrupt G "
                      r"records\]$", s, re.M)
        assert m and int(m.group(1)) + 10 == int(m.group(2)), s
    assert res["group"].startswith("<corrupt G records>\n"), res["group"]
    assert "Python Exception" not in out and "Traceback" not in out, out[-3000:]
    assert res["ages"].startswith("$1 = map["), res["ages"]  # (maps do not need the Gs)
