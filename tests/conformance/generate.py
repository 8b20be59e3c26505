#!/usr/bin/env python3
"""generate.py OUTDIR: the corpus's large cases, too big to store (5 MB
each), written deterministically with their expectations (README.md). The
build runs it (tests/conformance/CMakeLists.txt: build/tests/conformance/),
and both engines read what it wrote there.

  fanin_10k_leak      10,000 goroutines sending on one unbuffered channel that
                      only they and main reference; main waits on a WaitGroup
                      nobody else references: all 10,001 can never run again
  fanin_10k_live      the same, main running: nothing stuck
  fanin_10k_runtime   the leak without referenced_by (references unknown): still
                      all stuck, since nobody can run (R8)
  lock_chain_10k      goroutine i waits on a Mutex held by goroutine i+1, for
                      10,000 goroutines; the last one blocks on a nil channel:
                      all stuck, no cycle (a recursive search would overflow)
  lock_ring_10k       the same chain closed into one ring: one 10,000-long cycle

Each goroutine has one frame; the senders share theirs, so the viewer folds
them into one group. The expectations follow from the construction, not from
either engine.
"""

import json
import os
import sys

N = 10_000
CHAN, WG, MUTEX0 = 0x10000, 0x20000, 0x1000000


def goroutine(goid, status, reason, waits, function, pc):
    return {"goid": goid, "status": status, "wait_reason": reason,
            "waiting_ns": 1_000_000 if status == "waiting" else 0, "created_ns_ago": 2_000_000_000,
            "worker": 0 if status == "running" else -1, "current": False,
            "stack_unavailable": False, "name": "", "labels": {}, "parent": 0 if goid == 1 else 1,
            "start": None, "created_by": None,
            "stack": {"lo": "0x0", "hi": "0x0", "sp": "0x0", "pc": "0x0", "bp": "0x0"},
            "waiting_on": [{"object": hex(a), "kind": k, "op": op, "select": False}
                           for a, k, op in waits],
            "frames": [{"function": function, "file": "generated.cpp", "line": 1, "pc": hex(pc),
                        "inlined": False, "runtime": False}]}


def document(gs, objs):
    return {"format": "goroscope-snapshot", "version": 1,
            "producer": {"name": "tests/conformance/generate.py", "pid": 1, "layout_version": 1},
            "time": {"wall_ns": 1767225600000000000, "monotonic_ns": 91234567890},
            "world": {"running": True, "stopped": True, "partial": False, "pause_ns": 0,
                      "workers": 2, "running_workers": [], "main_goid": 1},
            "goroutines": gs, "objects": objs, "maps": []}


def fanin(main_runs, refs):
    senders = list(range(2, N + 2))
    main = goroutine(1, "running", "", [], "main(...)", 0x401000) if main_runs else \
        goroutine(1, "waiting", "sync.WaitGroup.Wait", [(WG, "waitgroup", "wait")], "main(...)",
                  0x401000)
    gs = [main] + [goroutine(g, "waiting", "chan send", [(CHAN, "chan", "send")], "produce(...)",
                             0x402000) for g in senders]
    ch = {"addr": hex(CHAN), "kind": "chan", "name": "results", "type": "i", "qcount": 0,
          "dataqsiz": 0, "closed": False, "elemsize": 4, "sendx": 0, "recvx": 0, "refs": N + 1,
          "recvq": [], "sendq": senders}
    wg = {"addr": hex(WG), "kind": "waitgroup", "name": "done", "type": "", "counter": 1,
          "waiters": 0 if main_runs else 1, "waiting": [] if main_runs else [1]}
    if refs:
        ch["referenced_by"] = [1] + senders
        wg["referenced_by"] = [1]
    return document(gs, [ch, wg])


def chain(ring):
    last = N + 1
    gs, objs = [goroutine(1, "running", "", [], "main(...)", 0x401000)], []
    for g in range(2, last + 1):
        m = MUTEX0 + 0x40 * g
        owner = g + 1 if g < last else (2 if ring else 0)
        if g == last and not ring:
            gs.append(goroutine(g, "waiting", "chan receive (nil chan)", [], "stuck(...)",
                                0x403000))
            continue
        gs.append(goroutine(g, "waiting", "sync.Mutex.Lock", [(m, "mutex", "lock")],
                            "take(...)", 0x404000))
        objs.append({"addr": hex(m), "kind": "mutex", "name": "", "type": "", "state": 1,
                     "locked": True, "starving": False, "owner": owner, "waiters": [g]})
    gs.reverse()  # the holder of each lock before its waiter: the worst order for a fixpoint
    return document(gs, objs)


def verdict(cycles, unwakeable, why):
    return {"cycles": cycles, "unwakeable": unwakeable,
            "leaked": sorted({g for c in cycles for g in c} | set(unwakeable)), "why": why}


ALL = list(range(1, N + 2))
CASES = {
    "fanin_10k_leak": (lambda: fanin(False, True),
                       verdict([], ALL, "every sender's partners are blocked; main's WaitGroup "
                                        "has no other user")),
    "fanin_10k_live": (lambda: fanin(True, True),
                       verdict([], [], "main runs and references the channel (R7)")),
    "fanin_10k_runtime": (lambda: fanin(False, False),
                          verdict([], ALL, "nobody can run (R8)")),
    "lock_chain_10k": (lambda: chain(False),
                       verdict([], list(range(2, N + 2)), "the chain ends on a nil channel")),
    "lock_ring_10k": (lambda: chain(True),
                      verdict([list(range(2, N + 2))], [], "one ring of 10,000 locks")),
}


def write_all(outdir):
    os.makedirs(outdir, exist_ok=True)
    for name, (make, expect) in CASES.items():
        for suffix, doc in ((".json", make()), (".expect.json", expect)):
            path = os.path.join(outdir, name + suffix)
            with open(path + ".tmp", "w") as f:
                json.dump(doc, f, separators=(",", ":"))
                f.write("\n")
            os.replace(path + ".tmp", path)


if __name__ == "__main__":
    if len(sys.argv) != 2:
        print(__doc__, file=sys.stderr)
        sys.exit(2)
    write_all(sys.argv[1])
