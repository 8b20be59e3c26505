// concurrent_map_writes.cpp — gallery scenario 1: two goroutines write one map.
//
// The bug: `hits` is shared by two goroutines and nothing orders their
// writes. A Go map (and goro::Map) is not safe for concurrent use; instead of
// corrupting itself silently it checks, on every write, a flag the writer
// sets (hashWriting), and the second writer dies with Go's message:
//
//   fatal error: concurrent map writes
//
// goro names both goroutines and where each was created. Under a debugger the
// program stops at the error (goroscope_fatal) with the map still
// hashWriting: `gomap info hits` names the writer.
// The fix: examples/map_fixes.cpp.
#include <cstdint>
#include <cstdio>

#include "goro/debug.h"
#include "goro/goro.h"

// Each counter counts page views: the handlers run in parallel.
void count_views(goro::Map<int64_t, int64_t>* hits, int64_t first, goro::WaitGroup* wg) {
  for (int64_t i = 0; i < 50'000'000; i++) (*hits)[(first + i) % 4096] += 1;  // the race
  wg->done();
}

int main() {
  return goro::run(goro::Config{2, 0}, [] {
    goro::Map<int64_t, int64_t> hits;
    goro::debug::name(hits, "hits");
    goro::WaitGroup wg;
    wg.add(2);
    goro::go(count_views, &hits, 0, &wg);     // handler A
    goro::go(count_views, &hits, 1000, &wg);  // handler B
    wg.wait();
    std::printf("no race observed (%zu keys)\n", hits.size());  // not reached on 2 CPUs
    return 0;
  });
}
