"""printerfuzz: corrupted cores of string-keyed maps, for the printer fuzz tests.

The GDB and LLDB twins (tests/gdb/test_printer_fuzz.py,
tests/lldb/test_lldb_printer_fuzz.py) share this: the `strmap` fixture's
gcore core, a description of where its two maps keep their buckets and
strings (read once by the plugin's core on the pristine core), and a
seeded mutation per case that damages bucket memory the way a crashed
program's core may hold it: random bytes; 8-byte words set to 0, all ones,
their own address, an address elsewhere, a random value; a std::string's
size or data pointer made absurd; a whole bucket of garbage (every slot
"live"); an overflow pointer into nowhere or back to its own bucket. Each
case is printed by the debugger (`print *g_ages`, `print *g_names`) in its
own batch process with a timeout, and `problems` says what a user must never
see: a Python exception or traceback, an empty result, a debugger error
instead of a map, a text that is neither a map nor a `<corrupt ...>` marker.

CASES (env PRINTER_FUZZ_CASES) cases per debugger, JOBS processes at a
time, no case started after BUDGET seconds (a slow host runs fewer).
"""

import concurrent.futures
import json
import os
import random
import re
import struct
import subprocess
import tempfile
import time

import gdbtest

CASES = int(os.environ.get("PRINTER_FUZZ_CASES", "64"))
BUDGET = float(os.environ.get("PRINTER_FUZZ_BUDGET", "240"))  # seconds
SEED = 0x5EED0000
JOBS = 2
MAPS = ("g_ages", "g_names")

DESCRIBE = r'''
python
import json
import gdb
import goroscope_gdb.state as s
from goroscope import maps
rt = s.runtime()
out = {}
for name in %(maps)r:
    h = maps.header(rt, int(gdb.parse_and_eval(name)))
    t = h.type
    buckets = []
    for arr, nb in ((h.buckets, 1 << h.B), (h.oldbuckets, 1 << h.oldB if h.growing else 0)):
        for i in range(nb):
            buckets += [b for b, _raw in maps.chain(rt, t, arr + i * t.bucketsize)]
    strings = []
    for sl in maps.entries(rt, h):
        strings.append(sl.key_addr)
        if t.elemkind == "std_string":
            strings.append(sl.elem_addr)
    out[name] = {"buckets": buckets, "bucketsize": t.bucketsize, "keysoff": t.keysoff,
                 "keysize": t.keysize, "elemsoff": t.elemsoff, "elemsize": t.elemsize,
                 "overflowoff": t.overflowoff, "strings": strings,
                 "data": [rt.u(a, 8) for a in strings]}
table = rt.mem.read(rt.sched_field("allgchunks"), 8 * rt.sched_field("nallgchunks"))
out["gchunks"] = [[int.from_bytes(table[i:i + 8], "little"), rt.gsize * rt.chunk]
                  for i in range(0, len(table), 8)]
gdb.write("DESC " + json.dumps(out) + "\n")
end
'''


def pristine(directory):
    """(binary, core path, description) of the strmap fixture stopped at ready()."""
    binary = gdbtest.fixture("strmap")
    core = gdbtest.make_core(binary, directory)
    with tempfile.NamedTemporaryFile("w", suffix=".gdb", delete=False) as f:
        f.write(DESCRIBE % {"maps": MAPS})
        script = f.name
    try:
        p = subprocess.run(["gdb", "-nx", "-batch", "-ex", f"source {gdbtest.PLUGIN}",
                            "-ex", f"core-file {core}", "-x", script, binary],
                           capture_output=True, text=True, timeout=gdbtest.TIMEOUT,
                           stdin=subprocess.DEVNULL)
    finally:
        os.unlink(script)
    m = re.search(r"^DESC (.*)$", p.stdout, re.M)
    if not m:
        raise RuntimeError("describing the strmap core failed:\n" + (p.stdout + p.stderr)[-3000:])
    return binary, core, json.loads(m.group(1))


def mutate(rng, core, desc):
    """A damaged copy of core (a corefile.Core) and what was done to it."""
    c = core.copy()
    m = desc[rng.choice(MAPS)]
    bs = m["bucketsize"]
    buckets = m["buckets"]
    kind = rng.randrange(7)
    what = []
    if kind == 0:  # random bytes anywhere in the buckets
        for _ in range(rng.randint(1, 24)):
            a = rng.choice(buckets) + rng.randrange(bs)
            c.write(a, bytes([rng.randrange(256)]))
        what.append("random bytes")
    elif kind == 1:  # 8-byte words: 0, ~0, self, elsewhere, random
        for _ in range(rng.randint(1, 8)):
            b = rng.choice(buckets)
            a = b + (rng.randrange(bs - 7) & ~7)
            v = rng.choice([0, (1 << 64) - 1, a, rng.choice(buckets) + 8, rng.getrandbits(64),
                            rng.getrandbits(48), 1 << 40])
            c.write(a, struct.pack("<Q", v))
        what.append("words")
    elif kind == 2:  # a std::string's size absurd (or just past the 1 MiB check)
        for _ in range(rng.randint(1, 4)):
            a = rng.choice(m["strings"])
            v = rng.choice([(1 << 64) - 1, 1 << 63, (1 << 20) + 1, 1 << 32, rng.getrandbits(64)])
            c.write(a + 8, struct.pack("<Q", v))
        what.append("string size")
    elif kind == 3:  # a std::string's data pointer: null, unmapped, odd, random
        for _ in range(rng.randint(1, 4)):
            a = rng.choice(m["strings"])
            v = rng.choice([0, 8, 0xdead0000, (1 << 64) - 16, rng.getrandbits(64),
                            rng.choice(m["data"]) + rng.randrange(1, 64)])
            c.write(a, struct.pack("<Q", v))
        what.append("string pointer")
    elif kind == 4:  # a whole bucket of garbage: every slot live
        b = rng.choice(buckets)
        fill = rng.choice([b"\xff" * bs, bytes(rng.getrandbits(8) for _ in range(bs))])
        c.write(b, fill)
        what.append("garbage bucket")
    elif kind == 5:  # overflow pointers: into nowhere, to itself, to another bucket
        for _ in range(rng.randint(1, 3)):
            b = rng.choice(buckets)
            v = rng.choice([b, rng.choice(buckets), 0xdead0000, (1 << 64) - 1,
                            rng.getrandbits(64)])
            c.write(b + m["overflowoff"], struct.pack("<Q", v))
        what.append("overflow pointer")
    else:  # a mix: all of the string damage and random bytes at once
        for a in rng.sample(m["strings"], min(6, len(m["strings"]))):
            c.write(a + rng.choice([0, 8]), struct.pack("<Q", rng.getrandbits(64)))
        for _ in range(8):
            c.write(rng.choice(buckets) + rng.randrange(bs), bytes([rng.randrange(256)]))
        what.append("mixed")
    return c, ", ".join(what)


def cases(n=None):
    """(seed, rng) of each case: the same cases for both debuggers."""
    for k in range(CASES if n is None else n):
        yield SEED + k, random.Random(SEED + k)


def run_all(core, desc, tmp, run_one, n=None):
    """run_one(core path) -> {block: text} over every case's damaged core, JOBS
    at a time (a case past its debugger's timeout is a hang); returns
    [(seed, what, blocks or None for a hang)] of the cases started within BUDGET."""
    deadline = time.monotonic() + BUDGET

    def one(seed, rng):
        if time.monotonic() > deadline:
            return None
        c, what = mutate(rng, core, desc)
        path = os.path.join(tmp, f"core.{seed:x}")
        c.save(path)
        try:
            return seed, what, run_one(path)
        except subprocess.TimeoutExpired:
            return seed, what, None
        finally:
            os.unlink(path)

    with concurrent.futures.ThreadPoolExecutor(JOBS) as ex:
        futs = [ex.submit(one, seed, rng) for seed, rng in cases(n)]
        return [r for r in (f.result() for f in futs) if r is not None]


def smash_g_chunks(core, desc, path):
    """core (a corefile.Core) with every G record all 0xff bytes, saved at path."""
    c = core.copy()
    for base, size in desc["gchunks"]:
        if base:
            c.write(base, b"\xff" * size)
    c.save(path)
    return path


# What a print must never show, in either debugger.
NEVER = ("Python Exception", "Traceback", "OverflowError", "<error:", "error: ",
         "Summary Unavailable")

GDB_MAP = re.compile(r"^\$\d+ = (map\[.*\].* len=\d+( \(growing\))?( <(corrupt|unreadable) "
                     r"[^>]*>)?( = \{.*\})?|<(corrupt|unreadable) [^>]*>)$", re.S)
LLDB_MAP = re.compile(r"^\([^\n]*\) \$\d+ = (map\[.*\].* len=\d+( \(growing\))?( <(corrupt|"
                      r"unreadable) [^>]*>)?( \{\n.*\n?\})?|<(corrupt|unreadable) [^>]*>)$",
                      re.S)


def problems(text, shape):
    """What is wrong with one print's output (a block of the transcript).
    shape None: a block that is not a print (LLDB's stderr, where it writes
    a formatter's Python exception): only NEVER is checked."""
    if text is None:
        return ["hang"]
    out = []
    s = text.strip()
    for bad in NEVER:
        if bad in s:
            out.append(f"shows {bad!r}")
    if shape is None:
        return out
    if re.match(r"^(\([^\n]*\) )?\$\d+ =\s*$", s) or not s:
        out.append("empty result")
    elif not shape.match(s):
        out.append("neither a map nor a <corrupt ...> marker")
    elif re.search(r" len=[1-9]\d*( \(growing\))?$", s):
        out.append("empty result: entries, but no child and no marker")
    if re.search(r"(\[\] = |\] = [,}]|^  \[[^\n]*\] = $)", s, re.M):
        out.append("an empty key or value")
    return out


def classify(ps):
    """One print's worst problem: hang, traceback, empty, empty child, other, or None."""
    if not ps:
        return None
    if "hang" in ps:
        return "hang"
    if any("Python" in p or "Traceback" in p or "Error'" in p for p in ps):
        return "traceback"
    if any(p.startswith("empty result") for p in ps):
        return "empty"
    if "an empty key or value" in ps:
        return "empty child"
    return "other"


def tally(results, blocks):
    """{problem: number of prints} over every print (blocks: {name: shape})."""
    t = dict.fromkeys(("prints", "traceback", "empty", "empty child", "other", "hang"), 0)
    for _seed, _what, res in results:
        for name, shape in blocks.items():
            if shape is not None:
                t["prints"] += 1
            c = classify(["hang"] if res is None else problems(res.get(name), shape))
            if c == "traceback" and shape is None:
                # (LLDB's stderr: the case's prints, one of which raised)
                t["traceback"] += 1
            elif c and shape is not None:
                t[c] += 1
    return t


def failures(results, blocks, limit=10):
    out = []
    for seed, what, res in results:
        for name, shape in blocks.items():
            ps = ["hang"] if res is None else problems(res.get(name), shape)
            if ps:
                text = "" if res is None else (res.get(name) or "(no block)")
                out.append(f"seed {seed:#x} ({what}) {name}: {'; '.join(ps)}\n"
                           f"    {text.strip()[:400]!r}")
    return out[:limit], len(out)
