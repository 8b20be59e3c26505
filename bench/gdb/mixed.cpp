// mixed.cpp — bench/gdb's mixed shape (compare.py): N goroutines (argv[1],
// default 100000) parked in five different user functions, one fifth each,
// in the styles application code blocks in:
//   consume            a free function, in a range over a channel (chan receive)
//   Store::update      a member function in another file, on a held Mutex (sync.Mutex.Lock)
//   start_watchers     a lambda capturing a channel by value (chan receive)
//   relay<Job>         a function template, in a select over two channels (select)
//   start_tasks        a std::function, on a WaitGroup (sync.WaitGroup.Wait)
// The same program in Go is go/mixed. Stops at ready(), then releases
// everything and exits.
#include <atomic>
#include <cstdio>
#include <cstdlib>
#include <functional>

#include "goro/goro.h"
#include "mixed_store.h"

struct Job {
  int id;
  int64_t cost;
};

extern "C" __attribute__((noinline)) void ready() { std::printf("ready\n"); }

__attribute__((noinline)) void consume(goro::Chan<Job> jobs, std::atomic<int64_t>* cost,
                                       goro::WaitGroup* wg) {
  for (Job j : jobs) *cost += j.cost;  // parks: chan receive
  wg->done();
}

template <class T>
__attribute__((noinline)) void relay(goro::Chan<T> in, goro::Chan<T> out, goro::Chan<bool> quit,
                                     goro::WaitGroup* wg) {
  for (;;) {
    T v{};
    bool ok = false;
    if (goro::select(goro::recv(in, v, &ok), goro::recv_discard(quit)) == 1 || !ok) break;  // parks
    out.send(v);
  }
  wg->done();
}

__attribute__((noinline)) void start_watchers(int n, goro::Chan<int> done, goro::WaitGroup* wg) {
  for (int i = 0; i < n; i++) {
    goro::go([done, wg]() mutable {
      done.recv();  // parks: chan receive
      wg->done();
    });
  }
}

__attribute__((noinline)) void start_tasks(int n, goro::WaitGroup* gate, goro::WaitGroup* wg) {
  std::function<void()> task = [gate, wg] {
    gate->wait();  // parks: sync.WaitGroup.Wait
    wg->done();
  };
  for (int i = 0; i < n; i++) goro::go(task);
}

int main(int argc, char** argv) {
  const int n = argc > 1 ? std::atoi(argv[1]) : 100000;
  const int each = n / 5;
  return goro::run(goro::Config{2, 0}, [&] {
    auto jobs = goro::make_chan<Job>();
    auto in = goro::make_chan<Job>(), out = goro::make_chan<Job>(1);
    auto quit = goro::make_chan<bool>();
    auto done = goro::make_chan<int>();
    inventory::Store store;
    goro::WaitGroup gate, wg;
    std::atomic<int64_t> consumed{0};
    gate.add(1);
    store.hold();
    wg.add(n);
    for (int i = 0; i < n - 4 * each; i++) goro::go(consume, jobs, &consumed, &wg);
    for (int i = 0; i < each; i++) goro::go(&inventory::Store::update, &store, i, &wg);
    start_watchers(each, done, &wg);
    for (int i = 0; i < each; i++) goro::go(relay<Job>, in, out, quit, &wg);
    start_tasks(each, &gate, &wg);
    goro::sleep(std::chrono::milliseconds(500));
    ready();
    jobs.close();
    store.release();
    done.close();
    quit.close();
    gate.done();
    wg.wait();
    std::printf("consumed %lld, stored %lld\n", static_cast<long long>(consumed.load()),
                static_cast<long long>(store.total()));
    return 0;
  });
}
