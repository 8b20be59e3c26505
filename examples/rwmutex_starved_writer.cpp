// rwmutex_starved_writer.cpp — gallery scenario 5: a writer waits behind a
// long read.
//
// The bug: the exporter holds the read lock of `catalog` for a whole slow
// iteration (here: a 300 ms walk). The price updater needs the write lock
// and waits for it all that time; and since Go's RWMutex prefers a waiting
// writer, every reader arriving after it queues too (sync.RWMutex.RLock):
// one slow reader stalls everybody. At checkpoint() `goroutines -group`
// shows the writer on sync.RWMutex.Lock, the readers queued behind it, and
// the exporter inside its read section.
// The fix: copy under the read lock, iterate the copy after RUnlock; or
// shard the data.
#include <chrono>
#include <cstdint>
#include <cstdio>

#include "goro/debug.h"
#include "goro/goro.h"

extern "C" [[gnu::noinline]] void checkpoint() { std::printf("checkpoint\n"); }

using namespace std::chrono_literals;

struct Catalog {
  goro::RWMutex rw;
  goro::Map<int64_t, int64_t> prices;
};

void export_all(Catalog* c) {
  c->rw.rlock();
  for (auto&& [item, price] : c->prices) {
    (void)item;
    (void)price;
  }
  goro::sleep(300ms);  // the slow part, still holding the read lock
  c->rw.runlock();
}

void update_price(Catalog* c) {
  c->rw.lock();  // waits for the exporter
  c->prices[7] += 1;
  c->rw.unlock();
}

void lookup(Catalog* c, int64_t item) {
  c->rw.rlock();  // queues behind the waiting writer
  (void)c->prices.get(item);
  c->rw.runlock();
}

int main() {
  return goro::run([] {
    Catalog c;
    goro::debug::name(c.rw, "catalog");
    for (int64_t i = 0; i < 1000; i++) c.prices[i] = i;
    goro::WaitGroup wg;
    wg.add(6);
    goro::go([&] { export_all(&c), wg.done(); });
    goro::sleep(10ms);
    goro::go([&] { update_price(&c), wg.done(); });
    goro::sleep(10ms);
    for (int64_t i = 0; i < 4; i++) goro::go([&c, &wg, i] { lookup(&c, i), wg.done(); });
    goro::sleep(50ms);
    checkpoint();  // the writer and four readers wait; the exporter sleeps holding the lock
    wg.wait();
    std::printf("done\n");
    return 0;
  });
}
