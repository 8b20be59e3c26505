// capture_ref.cpp — goroutines whose lambdas capture the locals of the
// function that starts them by reference ([&], [&, i]): a mutex, a
// WaitGroup, a condition variable and the data they guard. The function
// itself (refresh, a goroutine) waits for them, so the locals stay alive.
#include <map>
#include <string>

#include "corpus.h"

struct Cache {
  goro::Mutex mu;
  std::map<std::string, int> entries;
};

void refresh(Cache& cache, goro::Chan<int> started) {
  corpus::mark("refresh");
  goro::WaitGroup wg;
  goro::Mutex ready_mu;
  goro::Cond ready_cv(ready_mu);
  bool ready = false;
  int loaded = 0;
  for (int i = 0; i < 3; i++) {
    wg.add(1);
    goro::go([&, i] {  // @go writer
      corpus::mark("writer");
      std::lock_guard<goro::Mutex> lk(cache.mu);  // @park writer x3 fn=refresh
      cache.entries["shard" + std::to_string(i)] = i;
      loaded++;
      wg.done();
    });
  }
  goro::go([&] {  // @go publisher
    corpus::mark("publisher");
    ready_mu.lock();
    while (!ready) ready_cv.wait();  // @park publisher fn=refresh
    ready_mu.unlock();
    started.send(loaded);
  });
  wg.wait();  // @park refresh fn=refresh
  ready_mu.lock();
  ready = true;
  ready_cv.broadcast();
  ready_mu.unlock();
}

int main() {
  return goro::run([] {
    Cache cache;
    auto started = goro::make_chan<int>();
    cache.mu.lock();                             // held: the writers queue behind it
    goro::go([&] { refresh(cache, started); });  // @go refresh @call refresh 1
    corpus::settle();
    checkpoint();
    corpus::hold();
    return 0;
  });
}
