// map_read_write.cpp — gallery scenario 2: a reader and a writer on one map.
//
// The bug: a config cache is refreshed by one goroutine while request
// handlers read it. Reads are not writes, but a read during a write can see
// a half-moved entry; Go's map checks the writer's flag on every read too:
//
//   fatal error: concurrent map read and map write
//
// Under a debugger the program stops at the error with `gomap info config`
// naming the writer. The fix: examples/map_fixes.cpp (RWMutex).
#include <cstdint>
#include <cstdio>

#include "goro/debug.h"
#include "goro/goro.h"

using Config = goro::Map<int64_t, int64_t>;

void refresh(Config* config, goro::WaitGroup* wg) {
  for (int64_t v = 0; v < 50'000'000; v++) (*config)[v % 1024] = v;  // the writer
  wg->done();
}

void serve(Config* config, goro::WaitGroup* wg) {
  int64_t sum = 0;
  for (int64_t i = 0; i < 50'000'000; i++) sum += config->get(i % 1024).first;  // a reader
  std::printf("served (%lld)\n", static_cast<long long>(sum));
  wg->done();
}

int main() {
  return goro::run(goro::Config{2, 0}, [] {
    Config config;
    goro::debug::name(config, "config");
    goro::WaitGroup wg;
    wg.add(2);
    goro::go(refresh, &config, &wg);
    goro::go(serve, &config, &wg);
    wg.wait();
    return 0;
  });
}
