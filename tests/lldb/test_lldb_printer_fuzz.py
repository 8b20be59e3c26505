"""The LLDB summaries and synthetic children over corrupted cores (the twin of
tests/gdb/test_printer_fuzz.py, same cases): `p *g_ages` and `p *g_names` on
each damaged core in its own `lldb-16 -b`: never a Python traceback (LLDB
writes a provider's to stderr, checked too), never an empty `$N =` or a map
of len=N with no child and no marker, never a hang. A bad key is named by
the core's marker (`[<corrupt std::string: size=...>] = 8`); a bad
std::string value shows it as a string (`= "<corrupt std::string: ...>"`:
an LLDB child has no way to print unquoted text). About 50 s (64 cases).
Then the core with every G record 0xff bytes: `goroutines` and `thread list`.
"""

import os
import re
import tempfile

import pytest

import lldbtest

import corefile  # noqa: E402,I100  (tests/gdb, on the path through lldbtest)
import printerfuzz  # noqa: E402

PRINTS = [("ages", "p *g_ages"), ("names", "p *g_names")]
SHAPES = {"ages": printerfuzz.LLDB_MAP, "names": printerfuzz.LLDB_MAP, "stderr": None}


def session(binary, blocks, core):
    """The blocks, and the transcript outside them as "stderr" (where LLDB
    prints a formatter's exception)."""
    res, out = lldbtest.session(binary, blocks, mode="core", core=core)
    res["stderr"] = re.sub(r"^BEGIN (\S+)\n.*?^END \1$", "", out, flags=re.S | re.M)
    return res


@pytest.fixture(scope="module")
def strmap():
    with tempfile.TemporaryDirectory() as d:
        binary, core, desc = printerfuzz.pristine(d)
        yield binary, core, desc, d


def test_pristine_core_prints_both_maps(strmap):
    binary, core, _desc, _d = strmap
    res = session(binary, PRINTS, core)
    assert re.search(r"\$0 = map\[std::__cxx11::basic_string<char>\]int len=40 \{\n",
                     res["ages"]), res["ages"]
    kids = re.findall(r'^  \["([^"]*)"\] = (\d+)$', res["ages"], re.M)
    assert len(kids) == 40 and ("k8", "8") in kids, res["ages"]
    assert re.search(r'^  \["n1"\] = "value 1"$', res["names"], re.M), res["names"]
    for k, shape in SHAPES.items():
        assert not printerfuzz.problems(res[k], shape), res[k]


def test_corrupted_string_maps_print_or_say_corrupt(strmap):
    binary, core, desc, d = strmap
    results = printerfuzz.run_all(corefile.Core(core), desc, d,
                                  lambda path: session(binary, PRINTS, path))
    assert len(results) >= 10, "too few cases within PRINTER_FUZZ_BUDGET"
    fails, n = printerfuzz.failures(results, SHAPES)
    t = printerfuzz.tally(results, SHAPES)
    assert not fails, f"{n} bad prints of {t['prints']} ({t}):\n" + "\n".join(fails)
    assert sum("<corrupt " in r[k] for _s, _w, r in results for k in ("ages", "names")) >= 5


def test_garbage_g_records_are_corrupt_in_the_listing_and_no_threads(strmap):
    binary, core, desc, d = strmap
    path = printerfuzz.smash_g_chunks(corefile.Core(core), desc,
                                      os.path.join(d, "core.gff"))
    try:
        res = session(binary, [("g", "goroutines"), ("threads", "thread list"),
                               ("ages", "p *g_ages")], path)
    finally:
        os.unlink(path)
    s = res["g"]
    assert "18446744073709551615 -" not in s and "status4294967295" not in s, s
    assert len(re.findall(r"^  Goroutine \? - <corrupt G: goid=18446744073709551615 "
                          r"status=4294967295 @0x[0-9a-f]+>$", s, re.M)) == 10, s
    assert re.search(r"^\[0 goroutines, \d+ corrupt G records\]$", s, re.M), s
    # the OS plugin makes no thread of a garbage record
    assert "goroutine 18446744073709551615" not in res["threads"], res["threads"]
    assert "status4294967295" not in res["threads"], res["threads"]
    assert "Traceback" not in res["stderr"], res["stderr"]
    assert re.search(r"\$0 = map\[", res["ages"]), res["ages"]
