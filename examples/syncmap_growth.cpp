// syncmap_growth.cpp — gallery scenario 13: a SyncMap that only grows.
//
// The bug: a session cache keyed by request id (always new) in a
// goro::SyncMap (Go's sync.Map), never deleted. sync.Map is built for keys
// written once and read many times; with ever-new keys every store goes to
// the dirty map, loads of new keys miss the read-only map, and the misses
// promote dirty to read again and again, copying it. Memory only grows. At
// checkpoint() the printers show `read`, `dirty`, `misses` and `amended`.
// The fix: a plain map under a Mutex with expiry, or delete what you store.
#include <cstdint>
#include <cstdio>

#include "goro/debug.h"
#include "goro/goro.h"

extern "C" [[gnu::noinline]] void checkpoint() { std::printf("checkpoint\n"); }

int main() {
  return goro::run([] {
    goro::SyncMap<int64_t, int64_t> sessions;
    goro::debug::name(sessions, "sessions");
    for (int64_t request = 0; request < 5000; request++) {
      sessions.store(request, request * 7);  // a new key every time
      (void)sessions.load(request);          // read back at once: a miss while dirty
    }
    checkpoint();
    int64_t n = 0;
    sessions.range([&](int64_t, int64_t) { return ++n, true; });
    std::printf("%lld sessions, none ever deleted\n", static_cast<long long>(n));
    return 0;
  });
}
