// sched_common.h — what the goro and Boost.Fiber benchmark programs share,
// so that both name, register and report their measurements identically
// (bench/sched/compare.py reads them): benchmark registration, the
// `--parked[=N]` argument, the memory probe and the parked JSON report.
#pragma once

#include <benchmark/benchmark.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>

namespace parked {

// status_kb reads a "Name:   N kB" line of /proc/self/status (-1 if absent).
inline long status_kb(const char* field) {
  FILE* f = std::fopen("/proc/self/status", "r");
  if (!f) return -1;
  char line[256];
  long kb = -1;
  std::size_t n = std::strlen(field);
  while (std::fgets(line, sizeof line, f)) {
    if (std::strncmp(line, field, n) == 0 && line[n] == ':') {
      kb = std::strtol(line + n + 1, nullptr, 10);
      break;
    }
  }
  std::fclose(f);
  return kb;
}

// Result is one measurement over n goroutines (or fibers).
struct Result {
  std::chrono::steady_clock::duration create, release;
  long rss0, rss1, pte0, pte1;  // kB before creating / with all of them parked
};

// report prints the four JSON lines for implementation `impl` ("goro",
// "fiber"); returns the process exit status (1 if /proc could not be read).
inline int report(const char* impl, long n, const Result& r) {
  auto ns = [&](std::chrono::steady_clock::duration d) {
    return static_cast<double>(std::chrono::duration_cast<std::chrono::nanoseconds>(d).count()) /
           static_cast<double>(n);
  };
  auto bytes = [&](long kb0, long kb1) {
    return static_cast<double>(kb1 - kb0) * 1024.0 / static_cast<double>(n);
  };
  std::printf("{\"name\": \"sched/parked_create/p2/%s\", \"ns_per_op\": %.2f, \"n\": %ld}\n", impl,
              ns(r.create), n);
  std::printf("{\"name\": \"sched/parked_release/p2/%s\", \"ns_per_op\": %.2f, \"n\": %ld}\n", impl,
              ns(r.release), n);
  std::printf("{\"name\": \"sched/parked_rss/p2/%s\", \"bytes_per_op\": %.1f, \"n\": %ld}\n", impl,
              bytes(r.rss0, r.rss1), n);
  std::printf("{\"name\": \"sched/parked_pte/p2/%s\", \"bytes_per_op\": %.1f, \"n\": %ld}\n", impl,
              bytes(r.pte0, r.pte1), n);
  return r.rss0 < 0 || r.rss1 < 0 ? 1 : 0;
}

// parked_arg returns N for `--parked[=N]` (default 1000000), 0 if argv has
// no such argument, and -1 (after printing the usage) if N is out of range.
inline long parked_arg(int argc, char** argv) {
  if (argc < 2 || std::strncmp(argv[1], "--parked", 8) != 0) return 0;
  long n = argv[1][8] == '=' ? std::strtol(argv[1] + 9, nullptr, 10) : 1000000;
  if (n <= 0 || n > (1L << 30)) {
    std::fprintf(stderr, "usage: %s --parked[=N]  (0 < N <= 2^30)\n", argv[0]);
    return -1;
  }
  return n;
}

}  // namespace parked

// add registers fn(st, p) as "sched/<bench>/p<p>/<impl>", timed in wall clock.
inline void add_bench(const char* impl, const char* bench, int p,
                      void (*fn)(benchmark::State&, int)) {
  std::string name = std::string("sched/") + bench + "/p" + std::to_string(p) + "/" + impl;
  benchmark::RegisterBenchmark(name.c_str(), [fn, p](benchmark::State& st) {
    fn(st, p);
  })->UseRealTime();
}
