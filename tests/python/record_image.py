"""record_image: run inside GDB (tests/python/record.sh) at a fixture's stop;
records every byte the core reads into images/NAME.json.gz with the
symbols, threads and symbolized frames it used, and the core's outputs.

    gdb -nx -batch -ex 'source gdb_plugin/goroscope-gdb.py' -ex 'break ready' -ex run \\
        -ex 'python import sys; sys.argv = ["x", "OUT"]' -x tests/python/record_image.py PROG
"""

import gzip
import json
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import coreops  # noqa: E402
import goroscope_gdb.state as state  # noqa: E402
from goroscope.target import RecordingTarget  # noqa: E402

rec = RecordingTarget(state.DBG)
outputs = coreops.exercise(rec)
now = rec.now_ns()
doc = {
    "regions": {f"{a:#x}": d.hex() for a, d in rec.regions().items()},
    "symbols": rec.symbols,
    "threads": [{"num": t.num, "tid": t.tid, "regs": t.regs} for t in rec.threads()],
    "selected": rec.selected_thread(),
    "frames": {f"{pc:#x}": [f.__dict__ for f in fs] for pc, fs in rec.frames.items()},
    "now": now,
    "cwd": os.getcwd(),
    "outputs": outputs,
}
with gzip.open(sys.argv[1], "wt") as f:
    json.dump(doc, f)
print("recorded", len(doc["regions"]), "regions,", sum(len(v) // 2 for v in
                                                       doc["regions"].values()), "bytes")
