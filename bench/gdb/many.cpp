// many.cpp — the GDB plugin benchmark's target (bench/gdb/compare.py):
// N goroutines (argv[1], default 100000) blocked in a channel receive, and
// a named goro::Map<int64_t, int64_t> "big" of M entries (argv[2], default
// 1000000); stops at ready(), then releases everything and exits.
#include <cstdio>
#include <cstdlib>

#include "goro/debug.h"
#include "goro/goro.h"

extern "C" __attribute__((noinline)) void ready() { std::printf("ready\n"); }

__attribute__((noinline)) void worker(goro::Chan<int> ch, goro::WaitGroup* wg) {
  ch.recv();
  wg->done();
}

int main(int argc, char** argv) {
  const int n = argc > 1 ? std::atoi(argv[1]) : 100000;
  const int64_t m = argc > 2 ? std::atoll(argv[2]) : 1000000;
  return goro::run(goro::Config{2, 0}, [&] {
    goro::Map<int64_t, int64_t> big;
    for (int64_t i = 0; i < m; i++) big[i] = i;
    goro::debug::name(big, "big");
    auto ch = goro::make_chan<int>();
    goro::WaitGroup wg;
    wg.add(n);
    for (int i = 0; i < n; i++) goro::go(worker, ch, &wg);
    goro::sleep(std::chrono::milliseconds(500));
    ready();
    ch.close();
    wg.wait();
    return 0;
  });
}
