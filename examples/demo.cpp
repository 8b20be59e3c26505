// demo.cpp — the program `./goroscope demo` runs and shows in goroscope-view.
//
// Three things worth looking at, with the live endpoint on (GORO_DEBUG, or
// --serve ADDR):
//   * "sessions": a goro::Map filled by 4 goroutines (under a Mutex) a few
//     hundred keys a second, so it grows and evacuates while you watch;
//   * back-pressure: 6 producers blocked sending on a full buffered
//     channel "work" whose only consumer is stuck on a Mutex ("stuck");
//   * a lock-order deadlock: two goroutines each holding one of "a", "b"
//     and waiting for the other.
// Runs for --seconds N (default 60), then returns: goroutines still blocked
// are abandoned, as in Go when main returns.
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>

#include "goro/debug.h"
#include "goro/goro.h"

int main(int argc, char** argv) {
  int seconds = 60;
  std::string serve;
  for (int i = 1; i + 1 < argc; i += 2) {
    if (std::strcmp(argv[i], "--seconds") == 0) seconds = std::atoi(argv[i + 1]);
    if (std::strcmp(argv[i], "--serve") == 0) serve = argv[i + 1];
  }
  goro::run([&] {
    if (!serve.empty()) {
      std::string err;
      if (!goro::debug::serve(serve, &err)) std::fprintf(stderr, "demo: %s\n", err.c_str());
    }
    if (std::string a = goro::debug::serving_address(); !a.empty())
      std::printf("demo: serving snapshots on %s for %d s\n", a.c_str(), seconds);
    std::fflush(stdout);

    // The growing map.
    auto* sessions = new goro::Map<int64_t, int64_t>;
    auto* mu = new goro::Mutex;
    goro::debug::name(*sessions, "sessions");
    goro::debug::name(*mu, "sessions.mu");
    for (int w = 0; w < 4; w++)
      goro::go([sessions, mu, w] {
        goro::set_labels({{"role", "filler"}});
        for (int64_t i = w;; i += 4) {
          {
            std::lock_guard<goro::Mutex> g(*mu);
            (*sessions)[i] = i * i;
            if (sessions->size() > 300000) sessions->erase(i - 200000);
          }
          goro::sleep(std::chrono::milliseconds(8));
        }
      });

    // Back-pressure: producers on a full channel, the consumer stuck on a mutex.
    auto work = goro::make_chan<int>(8);
    auto* stuck = new goro::Mutex;
    goro::debug::name(work, "work");
    goro::debug::name(*stuck, "stuck");
    stuck->lock();  // main holds it for the whole run
    goro::go([work, stuck]() mutable {
      goro::set_name("consumer");
      for (;;) {
        int job = work.recv();
        std::lock_guard<goro::Mutex> g(*stuck);  // never acquired
        (void)job;
      }
    });
    for (int p = 0; p < 6; p++)
      goro::go([work, p]() mutable {
        goro::set_labels({{"role", "producer"}});
        for (int j = 0;; j++) work.send(p * 1000 + j);
      });

    // A lock-order inversion.
    auto* a = new goro::Mutex;
    auto* b = new goro::Mutex;
    goro::debug::name(*a, "a");
    goro::debug::name(*b, "b");
    auto* both = new goro::WaitGroup;
    both->add(2);
    goro::go([a, b, both] {
      a->lock();
      both->done();
      both->wait();
      b->lock();
    });
    goro::go([a, b, both] {
      b->lock();
      both->done();
      both->wait();
      a->lock();
    });

    goro::sleep(std::chrono::seconds(seconds));
    std::printf("demo: done\n");
    std::fflush(stdout);
    std::_Exit(0);  // the blocked goroutines are the point: leave without unwinding them
  });
  return 0;
}
