// map_growth.cpp — gallery scenario 12: a map growing and evacuating.
//
// Not a bug: how a Go map grows. Steady inserts into `m` pass the load
// factor 6.5: the bucket array doubles (growth starts), and each later write
// evacuates old buckets to the new array, X (same index) or Y (index + 2^B),
// until the old array is released. Then insert/delete churn piles up
// overflow buckets without growing the count: a same-size growth compacts
// them. Under a debugger: break at grow_start() and `gomap watch m --grow
// --evacuated` stops at each step; the viewer's timeline replays them from
// the snapshots pushed at each stop (`goroscope set auto-push on`).
#include <cstdint>
#include <cstdio>

#include "goro/debug.h"
#include "goro/goro.h"

extern "C" [[gnu::noinline]] void grow_start() { std::printf("inserting\n"); }
extern "C" [[gnu::noinline]] void churn_start() { std::printf("churning\n"); }
extern "C" [[gnu::noinline]] void checkpoint() { std::printf("checkpoint\n"); }

int main() {
  return goro::run([] {
    goro::Map<int64_t, int64_t> m;
    goro::debug::name(m, "m");
    for (int64_t i = 0; i < 8; i++) m[i] = i;
    grow_start();
    for (int64_t i = 8; i < 400; i++) m[i] = i;  // growths: B 0 -> 1 -> ... -> 6
    churn_start();
    for (int64_t i = 400; i < 200'000; i++) {  // a sliding window of 400 keys
      m[i] = i;
      m.erase(i - 400);
    }
    checkpoint();
    std::printf("%zu keys\n", m.size());
    return 0;
  });
}
