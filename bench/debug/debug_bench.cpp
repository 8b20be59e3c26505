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
//                            snapshot (counter write_ms; pause_ms, the longest
//                            stop, and stops: the map is copied in slices) and parse
//                            it back with RapidJSON (parse_ms); the time is
//                            both, and mb the JSON size.
//   endpoint_stream/N        a client streaming whole-map snapshots of an
//                            N-entry map at 60 Hz: the program's goroutine
//                            round trips a second with it / without it
//                            (counter ratio; see the function's comment).
// Targets (issue 4): pause <= 1 ms for 10k goroutines; round trip about 1 s.
// (issue 18): every stop <= 1 ms for a 1M-entry map; ratio near 1.
#include <benchmark/benchmark.h>

#include <poll.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cstring>
#include <string>
#include <thread>
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
    double write = 0, parse = 0, pause = 0, bytes = 0, stops = 0, first = 0, slow = 0;
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
      pause += static_cast<double>(s.max_pause_ns) / 1e9;
      stops += s.stops;
      slow += s.slow_stops;
      first += static_cast<double>(s.pause_ns) / 1e9;
      bytes += static_cast<double>(j.size());
      iters++;
    }
    double k = static_cast<double>(iters);
    st.counters["write_ms"] = write / k * 1e3;
    st.counters["parse_ms"] = parse / k * 1e3;
    st.counters["pause_ms"] = pause / k * 1e3;
    st.counters["mb"] = bytes / k / 1e6;
    st.counters["stops"] = stops / k;
    st.counters["first_ms"] = first / k * 1e3;
    st.counters["over_1ms"] = slow / k;
  });
}
BENCHMARK(BM_map_roundtrip)
    ->Arg(1000000)
    ->Unit(benchmark::kMillisecond)
    ->UseRealTime()
    ->Iterations(3);

// endpoint_stream/N: what a client streaming whole-map snapshots at 60 Hz
// costs the program. Two goroutines ping-pong over a channel on 2 workers
// beside a named map of N entries; the round trips per second are counted
// in 1 s phases, alternately without and with a client thread that streams
// {"cmd":"stream","hz":60,"bucket_limit":0} from the live endpoint and
// reads everything. Counters: ratio (with / without, the mean of 3 pairs),
// with_rps, without_rps, snaps (snapshots the client received a second).
void BM_endpoint_stream(benchmark::State& st) {
  const int64_t n = st.range(0);
  std::string path = "/tmp/goro-bench-ep-" + std::to_string(getpid()) + ".sock";
  std::string err;
  if (!goro::debug::serve("unix:" + path, &err)) {
    st.SkipWithError(err.c_str());
    return;
  }
  double with = 0, without = 0, snaps = 0;
  goro::run(goro::Config{2, 0}, [&] {
    goro::Map<int64_t, int64_t> m;
    for (int64_t i = 0; i < n; i++) m[i] = i;
    goro::debug::name(m, "big");
    auto ping = goro::make_chan<int>(), pong = goro::make_chan<int>();
    std::atomic<bool> quit{false};
    goro::WaitGroup wg;
    wg.add(1);
    goro::go([&] {
      while (ping.recv() >= 0) pong.send(1);
      wg.done();
    });
    auto phase = [&](bool client) {
      std::atomic<bool> stop{false};
      std::atomic<int> got{0};
      std::thread t;
      if (client)
        t = std::thread([&] {
          int fd = socket(AF_UNIX, SOCK_STREAM, 0);
          sockaddr_un sun{};
          sun.sun_family = AF_UNIX;
          std::memcpy(sun.sun_path, path.c_str(), path.size() + 1);
          if (connect(fd, reinterpret_cast<sockaddr*>(&sun), sizeof sun) < 0) return;
          std::string req = "{\"cmd\":\"stream\",\"hz\":60,\"bucket_limit\":0}\n";
          (void)!send(fd, req.data(), req.size(), MSG_NOSIGNAL);
          char buf[1 << 16];
          while (!stop) {
            pollfd p{fd, POLLIN, 0};
            if (poll(&p, 1, 50) <= 0) continue;
            ssize_t k = recv(fd, buf, sizeof buf, 0);
            if (k <= 0) break;
            for (ssize_t i = 0; i < k; i++) got += buf[i] == '\n';
          }
          close(fd);
        });
      int64_t trips = 0;
      auto t0 = std::chrono::steady_clock::now();
      while (std::chrono::steady_clock::now() - t0 < std::chrono::seconds(1)) {
        for (int i = 0; i < 64; i++) {
          ping.send(1);
          pong.recv();
        }
        trips += 64;
      }
      double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
      stop = true;
      if (t.joinable()) t.join();
      snaps += got;
      return static_cast<double>(trips) / secs;
    };
    for (auto _ : st) {
      for (int pair = 0; pair < 3; pair++) {
        without += phase(false);
        with += phase(true);
      }
    }
    quit = true;
    ping.send(-1);
    wg.wait();
  });
  goro::debug::stop_serving();
  double k = 3.0 * static_cast<double>(st.iterations());
  st.counters["with_rps"] = with / k;
  st.counters["without_rps"] = without / k;
  st.counters["ratio"] = with / without;
  st.counters["snaps"] = snaps / k;
}
BENCHMARK(BM_endpoint_stream)
    ->Arg(200000)
    ->Arg(1000000)
    ->Unit(benchmark::kMillisecond)
    ->UseRealTime()
    ->Iterations(1);

}  // namespace

BENCHMARK_MAIN();
