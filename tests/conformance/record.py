#!/usr/bin/env python3
"""record.py: re-record the corpus's real snapshots (README.md). Needs the
project built (./goroscope build) and GDB.

    record.py gallery [NAME...]   each gallery scenario (examples/gallery.py) at its stop:
                                  gallery_NAME_gdb.json, the GDB plugin's snapshot (maps:
                                  headers only), and gallery_NAME_runtime.json, the same
                                  without referenced_by
    record.py fixtures            tests/gdb's fixtures at ready(): fixture_blocked_gdb.json
                                  and fixture_blocked_runtime.json (the runtime's own snapshot
                                  of the same state), fixture_deadlock_gdb.json
    record.py demo                examples/demo.cpp's own snapshot over its live endpoint,
                                  once its deadlock and back-pressure have formed: demo_runtime.json

It never writes the expectations (*.expect.json): a person decides those, by
the rules of docs/deadlock-rules.md, and checks what the engines say.
"""

import json
import os
import socket
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
BUILD = os.environ.get("GOROSCOPE_BUILD", os.path.join(ROOT, "build"))
sys.path[:0] = [os.path.join(ROOT, "examples"), os.path.join(ROOT, "tests", "gdb")]
NO_MAP = "no-such-map"  # `goroscope snapshot --map NAME`: other maps' headers only


def write(name, doc):
    with open(os.path.join(HERE, name + ".json"), "w") as f:
        json.dump(doc, f, separators=(",", ":"))
        f.write("\n")
    print(f"record: {name}.json", file=sys.stderr)


def without_refs(doc):
    """A debugger's snapshot without referenced_by: nobody says who references what."""
    doc = json.loads(json.dumps(doc))
    doc["producer"]["name"] += " (referenced_by dropped)"
    for o in doc["objects"]:
        o.pop("referenced_by", None)
    return doc


def gallery(names):
    import gallery as g
    import gdbtest

    for name in names or [s.name for s in g.SCENARIOS]:
        s = g.BY_NAME[name]
        with tempfile.TemporaryDirectory() as d:
            snap = os.path.join(d, "s.json")
            # (the maps' headers only: their buckets say nothing to the rules)
            res, out = gdbtest.session(
                os.path.join(BUILD, "examples", name),
                [("snap", f"goroscope snapshot {snap} --map {NO_MAP}")],
                mode="fatal" if s.stop is g.FATAL else "live", stop=s.stop or "ready",
                args=s.args)
            if not os.path.exists(snap):
                raise SystemExit(f"record: {name}: no snapshot\n{out[-2000:]}")
            with open(snap) as f:
                doc = json.load(f)
        write(f"gallery_{name}_gdb", doc)
        write(f"gallery_{name}_runtime", without_refs(doc))


def fixtures():
    import gdbtest

    with tempfile.TemporaryDirectory() as d:
        mine, theirs = os.path.join(d, "gdb.json"), os.path.join(d, "runtime.json")
        gdbtest.session(gdbtest.fixture("blocked"),
                        [("snap", f"goroscope snapshot {mine} --buckets 0")],
                        env={"GOROSCOPE_SELF_SNAPSHOT": theirs})
        write("fixture_blocked_gdb", json.load(open(mine)))
        write("fixture_blocked_runtime", json.load(open(theirs)))
        gdbtest.session(gdbtest.fixture("deadlock"), [("snap", f"goroscope snapshot {mine}")])
        write("fixture_deadlock_gdb", json.load(open(mine)))


def demo():
    with tempfile.TemporaryDirectory() as d:
        path = os.path.join(d, "demo.sock")
        p = subprocess.Popen([os.path.join(BUILD, "bin", "goroscope-demo"), "--seconds", "20"],
                             env=dict(os.environ, GORO_DEBUG=f"unix:{path}"),
                             stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        try:
            doc = None
            for _ in range(100):  # until both lock-order goroutines and the 6 producers block
                time.sleep(0.1)
                if not os.path.exists(path):
                    continue
                s = socket.socket(socket.AF_UNIX)
                s.connect(path)
                s.sendall(b'{"cmd":"snapshot","maps":false}\n')
                buf = b""
                while not buf.endswith(b"\n"):
                    buf += s.recv(1 << 20)
                s.close()
                doc = json.loads(buf)
                reasons = [g["wait_reason"] for g in doc["goroutines"]]
                if reasons.count("sync.Mutex.Lock") >= 3 and reasons.count("chan send") >= 6:
                    break
            write("demo_runtime", doc)
        finally:
            p.kill()
            p.wait()


def main(argv):
    if argv[:1] == ["gallery"]:
        gallery(argv[1:])
    elif argv == ["fixtures"]:
        fixtures()
    elif argv == ["demo"]:
        demo()
    else:
        print(__doc__, file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
