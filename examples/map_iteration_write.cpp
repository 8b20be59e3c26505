// map_iteration_write.cpp — gallery scenario 3: ranging over a map while
// another goroutine writes it.
//
// The bug: a metrics exporter walks `gauges` to print them while the
// collector keeps updating it. An iterator holds a position in the buckets;
// a write can grow the map and move entries under it. Go's map flags
// iteration (the `iterator` flag) and checks hashWriting at every step:
//
//   fatal error: concurrent map iteration and map write
//
// The fix: examples/map_fixes.cpp (iterate under the lock, or over a copy).
#include <cstdint>
#include <cstdio>

#include "goro/debug.h"
#include "goro/goro.h"

using Gauges = goro::Map<int64_t, int64_t>;

void collect(Gauges* gauges, goro::WaitGroup* wg) {
  for (int64_t v = 0; v < 50'000'000; v++) (*gauges)[v % 2048] = v;  // the writer
  wg->done();
}

void export_all(Gauges* gauges, goro::WaitGroup* wg) {
  int64_t total = 0;
  for (int round = 0; round < 100'000; round++)
    for (auto&& [name, value] : *gauges) total += name ^ value;  // the iteration
  std::printf("exported (%lld)\n", static_cast<long long>(total));
  wg->done();
}

int main() {
  return goro::run(goro::Config{2, 0}, [] {
    Gauges gauges;
    goro::debug::name(gauges, "gauges");
    for (int64_t i = 0; i < 2048; i++) gauges[i] = 0;
    goro::WaitGroup wg;
    wg.add(2);
    goro::go(collect, &gauges, &wg);
    goro::go(export_all, &gauges, &wg);
    wg.wait();
    return 0;
  });
}
