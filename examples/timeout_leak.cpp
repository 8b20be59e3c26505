// timeout_leak.cpp — gallery scenario 6: a request with a timeout leaks its
// worker.
//
// The bug: fetch() starts a worker that sends its result on an unbuffered
// channel, and waits for it or a timeout. On timeout fetch() returns, and
// nobody will ever receive: the worker blocks forever in `chan send` (a
// goroutine leak; in a server, one per slow request). `deadlocks` says
// nothing can wake it; the leak check (goro::testing::verify_none, after
// goleak) reports it with its stack.
// The fix: a buffered channel of capacity 1, so the late send completes.
#include <chrono>
#include <cstdio>

#include "goro/debug.h"
#include "goro/goro.h"
#include "goro/testing.h"

extern "C" [[gnu::noinline]] void checkpoint() { std::printf("checkpoint\n"); }

using namespace std::chrono_literals;

int slow_backend() {
  goro::sleep(50ms);
  return 42;
}

bool fetch(int* out) {
  auto result = goro::make_chan<int>();  // the bug: unbuffered
  goro::go([result]() mutable {
    result.send(slow_backend());  // blocks forever after the timeout
  });
  int v = 0;
  auto timeout = goro::after(10ms);
  goro::Time t;
  int chosen = goro::select(goro::recv(result, v), goro::recv(timeout, t));
  if (chosen == 0) *out = v;
  return chosen == 0;
}

int main() {
  return goro::run([] {
    auto opts = {goro::testing::ignore_current()};
    int v;
    std::printf("fetch: %s\n", fetch(&v) ? "ok" : "timed out");
    goro::sleep(100ms);  // the worker has finished its work and waits to send
    checkpoint();
    auto leaks = goro::testing::verify_none(opts);
    if (!leaks) {
      std::fprintf(stderr, "%s", leaks.report().c_str());
      return 1;
    }
    return 0;
  });
}
