// debug_bench.cpp — the cost of goro::debug::snapshot (bench/debug).
//
//   snapshot_pause/N/R/S     N goroutines (1k, 10k, 100k) parked in a
//                            channel receive, 2 workers, no maps: the
//                            stop-the-world pause (stop request to restart:
//                            capture only), counter pause_us, and the whole
//                            call (symbolize + JSON) as the time. R: the
//                            referenced_by scan of every stack (0 off, 1 on;
//                            counters scan_us, its time after the pause, and
//                            stack_b, bytes scanned per goroutine).
//                            S: 0 all on one channel (every stack holds it:
//                            one target, N hits), 1 each on its own channel
//                            (N targets).
//   map_roundtrip/1000000    a named goro::Map<int64_t, int64_t> of 1M
//                            entries, all buckets (bucket_limit 0): write the
//                            snapshot (counter write_ms, pause_ms) and parse
//                            it back with RapidJSON (parse_ms); the time is
//                            both, and mb the JSON size.
// Targets (issue 4): pause <= 1 ms for 10k goroutines; round trip about 1 s.
#include <benchmark/benchmark.h>

#include <chrono>
#include <string>
#include <vector>

#include <rapidjson/document.h>

#include "goro/debug.h"
#include "goro/goro.h"

namespace {

void BM_snapshot_pause(benchmark::State& st) {
  const int n = static_cast<int>(st.range(0));
  const bool refs = st.range(1) != 0, own = st.range(2) != 0;
  goro::run(goro::Config{2, 0}, [&] {
    auto ch = goro::make_chan<int>();
    goro::WaitGroup started, exited;
    started.add(n);
    exited.add(n);
    std::vector<goro::Chan<int>> chans;
    for (int i = 0; i < n; i++) {
      if (own) chans.push_back(goro::make_chan<int>());
      goro::go([&, c = own ? chans.back() : ch]() mutable {
        started.done();
        c.recv_ok();
        exited.done();
      });
    }
    started.wait();
    goro::sleep(std::chrono::milliseconds(20));  // every one parked in recv
    goro::debug::SnapshotOptions o;
    o.maps = false;
    o.references = refs;
    double pause_ns = 0, bytes = 0, stack = 0, scan_ns = 0;
    int64_t iters = 0;
    for (auto _ : st) {
      goro::debug::SnapshotStats s{};
      std::string j = goro::debug::snapshot(o, &s);
      benchmark::DoNotOptimize(j.data());
      if (s.goroutines < static_cast<size_t>(n)) st.SkipWithError("goroutines missing");
      if (refs && !s.partial && j.find("\"referenced_by\"") == std::string::npos)
        st.SkipWithError("no referenced_by");  // (partial: a worker the OS did not run)
      pause_ns += static_cast<double>(s.pause_ns);
      bytes += static_cast<double>(s.bytes);
      stack += static_cast<double>(s.stack_bytes) / static_cast<double>(s.goroutines);
      scan_ns += static_cast<double>(s.scan_ns);
      iters++;
    }
    st.counters["pause_us"] = pause_ns / static_cast<double>(iters) / 1e3;
    st.counters["mb"] = bytes / static_cast<double>(iters) / 1e6;
    st.counters["stack_b"] = stack / static_cast<double>(iters);
    st.counters["scan_us"] = scan_ns / static_cast<double>(iters) / 1e3;
    ch.close();
    for (auto& c : chans) c.close();
    exited.wait();
  });
}
BENCHMARK(BM_snapshot_pause)
    ->ArgsProduct({{1000, 10000, 100000}, {0, 1}, {0, 1}})
    ->Unit(benchmark::kMillisecond)
    ->UseRealTime();

void BM_map_roundtrip(benchmark::State& st) {
  const int64_t n = st.range(0);
  goro::run(goro::Config{2, 0}, [&] {
    goro::Map<int64_t, int64_t> m;
    for (int64_t i = 0; i < n; i++) m[i] = i * 3;
    goro::debug::name(m, "big");
    goro::debug::SnapshotOptions o;
    o.bucket_limit = 0;
    o.frames = false;
    double write = 0, parse = 0, pause = 0, bytes = 0;
    int64_t iters = 0;
    for (auto _ : st) {
      auto t0 = std::chrono::steady_clock::now();
      goro::debug::SnapshotStats s{};
      std::string j = goro::debug::snapshot(o, &s);
      auto t1 = std::chrono::steady_clock::now();
      rapidjson::Document d;
      d.Parse(j.data(), j.size());
      auto t2 = std::chrono::steady_clock::now();
      if (d.HasParseError() || d["maps"][0]["count"].GetInt64() != n)
        st.SkipWithError("snapshot did not round-trip");
      write += std::chrono::duration<double>(t1 - t0).count();
      parse += std::chrono::duration<double>(t2 - t1).count();
      pause += static_cast<double>(s.pause_ns) / 1e9;
      bytes += static_cast<double>(j.size());
      iters++;
    }
    double k = static_cast<double>(iters);
    st.counters["write_ms"] = write / k * 1e3;
    st.counters["parse_ms"] = parse / k * 1e3;
    st.counters["pause_ms"] = pause / k * 1e3;
    st.counters["mb"] = bytes / k / 1e6;
  });
}
BENCHMARK(BM_map_roundtrip)
    ->Arg(1000000)
    ->Unit(benchmark::kMillisecond)
    ->UseRealTime()
    ->Iterations(3);

}  // namespace

BENCHMARK_MAIN();
