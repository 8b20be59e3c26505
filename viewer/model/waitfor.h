// waitfor.h — which goroutines of a snapshot can never run again: the
// deadlock cycles, and the goroutines that no other goroutine can wake.
// No ImGui.
//
// The rules are written once, in docs/deadlock-rules.md (R1-R9 below are
// its numbers), and implemented twice: here, for the viewer, and in
// python/goroscope/deadlock.py, for the debuggers' `deadlocks`.
// tests/conformance holds the snapshots on which both must give the
// expected verdict (tests/viewer/waitfor_test.cpp runs them here).
//
// Goroutine by goroutine, never by the goroutine panel's groups: members of
// one group can differ (one holds the mutex the others wait on; each waits
// on its own channel and only some channels have a live partner), so the
// graph (graph.h) marks its groups from this verdict instead of analysing
// them.
//
// Inputs, all from the snapshot: each goroutine's status, wait_reason and
// waiting_on; each object's kind, its holders (holders()), who references it
// (`referenced_by`: the runtime and the debugger plugins write it from their
// stack scans; a snapshot whose scan could not be done omits it, and then it
// is unknown), a channel's `closed` and handle count `refs`.
//
// Cost: the fixpoint (R9) is a work list. Each goroutine that can run is
// visited once and re-checks only the objects it holds or references (and,
// the first time, those nobody is known to reference), so the analysis is
// linear in goroutines + waits + holders + references; the lists by index
// are two flat arrays each, not a vector per goroutine. Cycles: Tarjan's
// strongly connected components, iterative (a 100k-long chain of lock waits
// would overflow a recursive one). Measured on bench/viewer's 100k blocked
// goroutines (g++ -O2, AMD EPYC guest, best of 30-40 runs, noisy host):
//
//   analyze                          13-15 ms
//   build_graph, with analyze        50-58 ms
//   build_graph before (the groups'  46-51 ms
//     own fixpoint, no analyze)
//
// Rejected: a vector per goroutine for its holdings and references (one
// allocation each; analyze took 19-25 ms) and re-reading `closed` from the
// object's fields at each check (Object::get is a linear search: 30% of the
// time).
#pragma once

#include <cstdint>
#include <vector>

#include "snapshot.h"

namespace goroscope::view {

// Verdict is the analysis' result. Every goroutine in it is blocked for good.
struct Verdict {
  std::vector<std::vector<uint64_t>> cycles;  // each deadlock's goroutines, ascending; by first
  std::vector<uint64_t> unwakeable;           // in no cycle, and nothing can wake them; ascending
  std::vector<uint64_t> leaked;  // can never run again: cycles' and unwakeable; ascending
};

// Rules selects the rules. The defaults are docs/deadlock-rules.md's; each
// other setting is an alternative that document rejects, kept so that the
// conformance test can show that the corpus tells it apart.
struct Rules {
  bool nil_forever = true;     // R2. false: a nil-channel op or empty select is like any wait
  bool every_holder = true;    // R5. false: a lock wait fires when any one holder can run
  bool once_holds = true;      // R5. false: a Once being run is held by nobody
  bool handles = true;         // R7. false: a channel's handles beyond its referencers are ignored
  bool unknown_anyone = true;  // R8. false: an object nobody is known to reference wakes nobody
};

// holders returns the goroutines holding a lock, from its fields: a Mutex's
// owner; an RWMutex's writer (unless it still waits for the readers to
// leave: writerWaiting) and its recorded readers (readLockers); a Once's
// runner until it is done. Other kinds: none.
std::vector<uint64_t> holders(const Object& o);

// analyze applies the rules to a parsed snapshot (its lookups built).
Verdict analyze(const Snapshot& s, const Rules& rules = {});

}  // namespace goroscope::view
