"""Fuzz: the core over >= 10k corrupted memory images never raises anything
but its own one-line errors, and never hangs.

Each case takes a recorded image (images/*.json.gz), corrupts it with a
seeded RNG: random bytes; 8-byte words set to 0, to all ones, to their own
address (cyclic lists and overflow chains), to an address inside another
region (pointer confusion); targeted garbage in the map headers (B=73,
negative counts, wild bucket pointers) and in the scheduler (chunk counts);
whole regions dropped or truncated (reads that fail) — then runs every
decoding path (coreops.exercise). Allowed: success, or GoroscopeError
(Corrupt, MemoryReadError) turned into a message. A case over the time
limit is a hang. FUZZ_CASES overrides the count; a failure prints its seed.
"""

import os
import random
import signal
import struct
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "python"))

import coreops  # noqa: E402
import imageutil  # noqa: E402
from goroscope import layout  # noqa: E402

CASES = int(os.environ.get("FUZZ_CASES", "10000"))
LIMIT_S = 10


class Hang(Exception):
    pass


def on_alarm(*_):
    raise Hang()


def map_headers(doc, regions):
    """Addresses of the named maps' hmaps and of sched (targets for garbage)."""
    t = imageutil.target(doc, regions)
    try:
        L = layout.find(t)
        out = [L.glob("sched")]
        from goroscope.runtime import Runtime

        rt = Runtime(t)
        out += [o["addr"] for o in rt.named_objects()]
        return L, out
    except Exception:  # noqa: BLE001 - the pristine image decodes; this is setup
        return None, []


def mutate(rng, regions, L, targets):
    regs = dict(regions)
    bases = sorted(regs)
    kind = rng.randrange(6)
    if kind == 0:  # random bytes
        for _ in range(rng.randint(1, 16)):
            b = rng.choice(bases)
            buf = bytearray(regs[b])
            i = rng.randrange(len(buf))
            buf[i] = rng.randrange(256)
            regs[b] = bytes(buf)
    elif kind == 1:  # pointer-sized words: 0, ~0, self, elsewhere
        for _ in range(rng.randint(1, 8)):
            b = rng.choice(bases)
            buf = bytearray(regs[b])
            if len(buf) < 8:
                continue
            i = rng.randrange(0, len(buf) - 7) & ~7
            other = rng.choice(bases)
            v = rng.choice([0, (1 << 64) - 1, b + i, other + rng.randrange(len(regs[other])),
                            rng.getrandbits(64)])
            buf[i:i + 8] = struct.pack("<Q", v)
            regs[b] = bytes(buf)
    elif kind == 2 and L is not None and targets:  # targeted header garbage
        a = rng.choice(targets)
        for b in bases:
            if b <= a < b + len(regs[b]):
                buf = bytearray(regs[b])
                off = a - b + rng.choice([0, 8, 16, 18, 20, 24, 32, 40, 56, 120, 128])
                if off + 8 <= len(buf):
                    v = rng.choice([73, 255, (1 << 63), (1 << 64) - 1, 0, 1 << 40, a])
                    buf[off:off + 8] = struct.pack("<Q", v)
                regs[b] = bytes(buf)
    elif kind == 3:  # a region vanishes (unmapped, not in the core)
        if len(bases) > 1:
            del regs[rng.choice(bases[1:])]
    elif kind == 4:  # a region is cut short
        b = rng.choice(bases)
        regs[b] = regs[b][:rng.randrange(1, len(regs[b]) + 1)]
    else:  # overflow-chain / list cycles: point a word at its own region's start
        for _ in range(rng.randint(1, 4)):
            b = rng.choice(bases)
            buf = bytearray(regs[b])
            if len(buf) >= 8:
                i = rng.randrange(0, len(buf) - 7) & ~7
                buf[i:i + 8] = struct.pack("<Q", b + (rng.randrange(len(buf)) & ~7))
                regs[b] = bytes(buf)
    return regs


def load_images():
    """(doc, regions, layout, garbage targets) of each recorded image."""
    images = []
    for name in ("blocked", "deadlock"):
        doc = imageutil.load(name)
        regions = {int(a, 16): bytes.fromhex(d) for a, d in doc["regions"].items()}
        L, targets = map_headers(doc, regions)
        images.append((doc, regions, L, targets))
    return images


def test_corrupted_images_never_raise_nor_hang():
    signal.signal(signal.SIGALRM, on_alarm)
    images = load_images()
    failures = []
    t0 = time.monotonic()
    for case in range(CASES):
        seed = 0x60A05C0 + case
        rng = random.Random(seed)
        doc, regions, L, targets = images[case % len(images)]
        regs = mutate(rng, regions, L, targets)
        signal.alarm(LIMIT_S)
        try:
            coreops.exercise(imageutil.target(doc, regs))
        except Hang:
            failures.append(f"seed {seed:#x}: hang (> {LIMIT_S} s)")
        except Exception as e:  # noqa: BLE001 - what the test looks for
            failures.append(f"seed {seed:#x}: {type(e).__name__}: {e}")
        finally:
            signal.alarm(0)
        if len(failures) >= 10:
            break
    elapsed = time.monotonic() - t0
    assert not failures, f"{len(failures)} failing cases of {case + 1} ({elapsed:.0f} s):\n" + \
        "\n".join(failures)


COMMAND_CASES = int(os.environ.get("FUZZ_COMMAND_CASES", "400"))
COMMAND_LINES = [
    "goroutines", "goroutines -t 5", "goroutines -r -l", "goroutines -group userloc",
    "goroutines -with label role=locker", "goroutines -chan jobs",
    "goroutines -with userloc worker -exec bt", "goroutine 1", "goroutine 2 bt",
    "gomap info sessions", "gomap buckets growing --old", "gomap buckets sessions --range 0:4",
    "gomap find growing key3", "gomap find sessions 42", "deadlocks",
    "goroscope snapshot /dev/null --buckets 8",
]


def test_every_command_on_corrupted_images_prints_or_says_one_line():
    """The command layer over corrupted images (a core of a crashed program):
    each command prints, or fails with its one-line GoroscopeError; never
    another exception (which the adapters would report as an internal error)."""
    from goroscope import commands

    signal.signal(signal.SIGALRM, on_alarm)
    images = load_images()
    failures = []
    for case in range(COMMAND_CASES):
        seed = 0xC0DE000 + case
        rng = random.Random(seed)
        doc, regions, L, targets = images[case % len(images)]
        dbg = imageutil.ImageDebugger(doc, regions=mutate(rng, regions, L, targets))
        for line in COMMAND_LINES:
            name, _, rest = line.partition(" ")
            path = [name]
            if name in ("gomap", "goroscope"):
                sub, _, rest = rest.partition(" ")
                path.append(sub)
            signal.alarm(LIMIT_S)
            try:
                for _ in commands.execute(dbg, path, rest):
                    pass
            except commands.GoroscopeError as e:
                if "\n" in str(e):
                    failures.append(f"seed {seed:#x} `{line}`: a multi-line error: {e!r}")
            except Hang:
                failures.append(f"seed {seed:#x} `{line}`: hang (> {LIMIT_S} s)")
            except Exception as e:  # noqa: BLE001 - what the test looks for
                failures.append(f"seed {seed:#x} `{line}`: {type(e).__name__}: {e}")
            finally:
                signal.alarm(0)
        if len(failures) >= 10:
            break
    assert not failures, "\n".join(failures)
