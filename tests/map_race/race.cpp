// race.cpp — one racy run of a map misuse shape, for test_map_race.py.
//
//   race KEY KEYS WRITERS WORKERS SPAWN [OP]
//     KEY      int | string            the map's key type (elements are int)
//     KEYS     keys each writer inserts (its own range), then erases
//     WRITERS  how many goroutines (or threads) write the one map unlocked
//     WORKERS  goro worker threads (Go's GOMAXPROCS)
//     SPAWN    go | thread             goroutines, or std::threads outside goro
//     OP       insert | mixed          mixed: insert, then erase every other key
//
// Every writer waits at a start line so that they overlap. The outcome is
// the program's: "fatal error: ..." on stderr and exit 2 when the runtime
// noticed, exit 0 when the writers happened not to overlap in a way the
// detector sees (Go's detector is best-effort too); anything else -- a
// signal, an abort, a nonzero exit without a report -- is the silent death
// that must never happen (issue 18). go/main.go is the same in Go 1.19.
#include <goro/goro.h>

#include <atomic>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <thread>
#include <vector>

namespace {

std::atomic<int> ready{0};

template <class K>
K key(long i) {
  if constexpr (std::is_same_v<K, std::string>)
    return "key-" + std::to_string(i) + "-padding-past-sso";
  else
    return static_cast<K>(i);
}

template <class K>
void writer(goro::Map<K, int>& m, int id, int writers, long keys, bool mixed) {
  ready.fetch_add(1);
  while (ready.load() < writers) {
  }
  long base = id * keys;
  for (long i = 0; i < keys; i++) m[key<K>(base + i)] = static_cast<int>(i);
  if (mixed)
    for (long i = 0; i < keys; i += 2) m.erase(key<K>(base + i));
}

template <class K>
int shape(long keys, int writers, int workers, bool threads, bool mixed) {
  goro::Map<K, int> m;
  if (threads) {
    std::vector<std::thread> ts;
    for (int w = 0; w < writers; w++)
      ts.emplace_back([&, w] { writer<K>(m, w, writers, keys, mixed); });
    for (auto& t : ts) t.join();
  } else {
    goro::Config cfg;
    cfg.maxprocs = workers;
    goro::run(cfg, [&] {
      goro::WaitGroup wg;
      wg.add(writers);
      for (int w = 0; w < writers; w++)
        goro::go([&, w] {
          writer<K>(m, w, writers, keys, mixed);
          wg.done();
        });
      wg.wait();
    });
  }
  std::printf("len %zu\n", m.size());
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 6) {
    std::fprintf(stderr, "usage: race int|string KEYS WRITERS WORKERS go|thread [insert|mixed]\n");
    return 64;
  }
  bool str = std::strcmp(argv[1], "string") == 0;
  long keys = std::atol(argv[2]);
  int writers = std::atoi(argv[3]), workers = std::atoi(argv[4]);
  bool threads = std::strcmp(argv[5], "thread") == 0;
  bool mixed = argc > 6 && std::strcmp(argv[6], "mixed") == 0;
  return str ? shape<std::string>(keys, writers, workers, threads, mixed)
             : shape<long>(keys, writers, workers, threads, mixed);
}
