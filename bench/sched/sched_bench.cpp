// sched_bench.cpp — what the goro scheduler's primitives cost: spawning,
// channels, select, Mutex/RWMutex, context switches and parked goroutines.
// Go 1.19 runs the same loops in bench/sched/go, Boost.Fiber in
// fiber_bench.cpp; bench/sched/compare.py runs all three and prints one table.
//
// Benchmarks (sched/<bench>/p<W>/goro, W = maxprocs of the goro::run it runs
// in; the user counter ns_per_op is nanoseconds per operation, the unit of
// Go's ns/op divided by the operations in one iteration):
//
//   spawn_exit        go f() where f calls wg.done(); kSpawnBatch spawns,
//                     then wg.wait(), per iteration. Per spawn.
//   pingpong          main sends on an unbuffered channel, an echo goroutine
//                     sends it back on another. Per round trip. With two
//                     workers the scheduler may keep both goroutines on one
//                     (so may Go's): what is measured is what it does.
//   chan_spsc         one producer goroutine sends kMsgBatch ints into a
//                     channel of capacity 1024, main receives them. Per message.
//   chan_mpmc         4 producers, 4 consumers, kMsgBatch messages. Per message.
//   select_ready      select over two receive cases on buffered channels that
//                     always hold a value; the value taken is sent back so
//                     both stay ready. Per select (+ the refill send).
//   select_closed     select over two closed channels: always ready, no data.
//                     Per select, nothing else.
//   mutex_uncontended lock+unlock by one goroutine.
//   mutex_contended   4 goroutines, kLockBatch lock; counter++; unlock in all.
//   rwmutex_readmostly 4 goroutines, kLockBatch operations in all; every
//                     kWriteEvery-th of each goroutine is lock/unlock, the
//                     others rlock/runlock. Per operation.
//   yield             goro::yield() in a loop in two goroutines on one worker.
//                     Per yield, i.e. per switch from one goroutine to the
//                     other (through the worker's scheduler loop).
//   switch_raw        the runtime's register switch alone (goro_gogo_switch,
//                     asm_amd64.S) between two bare contexts on one thread,
//                     no scheduler. Per switch (an iteration is there and back).
//
// Every benchmark runs its loop inside goro::run with an explicit maxprocs,
// the Google Benchmark state loop on the main goroutine. Time is wall-clock
// (UseRealTime): the CPU time of one thread means nothing once goroutines run
// on two workers (and the main goroutine may move between them). Goroutines
// are started and waited for inside the timed loop, exactly as the Go program
// does, so both sides pay for the same things.
//
// `goro_sched_bench --parked[=N]` instead measures N (default 1000000)
// parked goroutines on 2 workers, in a fresh process: VmRSS and VmPTE
// (/proc/self/status) before, then N goroutines that each call started.done()
// and block receiving from one shared unbuffered channel; after
// started.wait(), VmRSS/VmPTE again; then close(ch) releases them all and
// exited.wait(). It prints JSON lines {"name": "sched/parked_<what>/p2/goro",
// "ns_per_op" | "bytes_per_op": x}: create (per goroutine, spawn until all
// have started), release (per goroutine, close until all have exited), rss
// and pte (bytes per goroutine). vm.max_map_count (65530 here) is the
// runtime's business: stacks beyond its guard-page budget go unguarded
// (runtime/src/stack.cpp).
#include <benchmark/benchmark.h>

#include <atomic>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>

#include "sched_common.h"

#include "goro/goro.h"

// The runtime's context switch (runtime/src/asm_amd64.S): saves the callee-
// saved registers in *from and resumes *to. Declared here, not in a public
// header: switch_raw is the one benchmark that uses it.
extern "C" void goro_gogo_switch(goro::detail::gobuf* from, const goro::detail::gobuf* to);

namespace {

constexpr int kSpawnBatch = 1000;  // goroutines per spawn_exit iteration
constexpr int kMsgBatch = 10000;   // messages per chan_spsc / chan_mpmc iteration
constexpr int kLockBatch = 10000;  // operations per contended-lock iteration (all goroutines)
constexpr int kGoroutines = 4;     // producers, consumers or lockers
constexpr int kChanCap = 1024;     // buffered channels' capacity
constexpr int kWriteEvery = 100;   // rwmutex_readmostly: 1 write per 100 operations
static_assert(kMsgBatch % kGoroutines == 0 && kLockBatch % kGoroutines == 0,
              "each goroutine gets an equal share, so all of them end");

// set_rate reports ns_per_op: wall time / (iterations * ops per iteration).
void set_rate(benchmark::State& st, double ops_per_iter) {
  st.counters["ns_per_op"] =
      benchmark::Counter(ops_per_iter * 1e-9, benchmark::Counter::kIsIterationInvariantRate |
                                                  benchmark::Counter::kInvert);
}

goro::Config procs(int n) { return goro::Config{n, 0}; }

void BM_spawn_exit(benchmark::State& st, int p) {
  goro::run(procs(p), [&] {
    goro::WaitGroup wg;
    for (auto _ : st) {
      for (int i = 0; i < kSpawnBatch; i++) {
        wg.add(1);
        goro::go([&wg] { wg.done(); });
      }
      wg.wait();
    }
  });
  set_rate(st, kSpawnBatch);
}

void BM_pingpong(benchmark::State& st, int p) {
  goro::run(procs(p), [&] {
    auto ping = goro::make_chan<int>(), pong = goro::make_chan<int>();
    goro::WaitGroup wg;
    wg.add(1);
    goro::go([&] {
      for (int v : ping) pong.send(v);
      wg.done();
    });
    int i = 0;
    for (auto _ : st) {
      ping.send(i++);
      benchmark::DoNotOptimize(pong.recv());
    }
    ping.close();
    wg.wait();
  });
  set_rate(st, 1);
}

void BM_chan_spsc(benchmark::State& st, int p) {
  goro::run(procs(p), [&] {
    auto ch = goro::make_chan<int>(kChanCap);
    goro::WaitGroup wg;
    int64_t sum = 0;
    for (auto _ : st) {
      wg.add(1);
      goro::go([&] {
        for (int i = 0; i < kMsgBatch; i++) ch.send(i);
        wg.done();
      });
      for (int i = 0; i < kMsgBatch; i++) sum += ch.recv();
      wg.wait();
    }
    benchmark::DoNotOptimize(sum);
  });
  set_rate(st, kMsgBatch);
}

void BM_chan_mpmc(benchmark::State& st, int p) {
  goro::run(procs(p), [&] {
    auto ch = goro::make_chan<int>(kChanCap);
    goro::WaitGroup wg;
    std::atomic<int64_t> sum{0};
    for (auto _ : st) {
      wg.add(2 * kGoroutines);
      for (int g = 0; g < kGoroutines; g++) {
        goro::go([&] {
          for (int i = 0; i < kMsgBatch / kGoroutines; i++) ch.send(i);
          wg.done();
        });
      }
      for (int g = 0; g < kGoroutines; g++) {
        goro::go([&] {
          int64_t s = 0;
          for (int i = 0; i < kMsgBatch / kGoroutines; i++) s += ch.recv();
          sum.fetch_add(s, std::memory_order_relaxed);
          wg.done();
        });
      }
      wg.wait();
    }
    benchmark::DoNotOptimize(sum.load());
  });
  set_rate(st, kMsgBatch);
}

void BM_select_ready(benchmark::State& st, int p) {
  goro::run(procs(p), [&] {
    auto a = goro::make_chan<int>(1), b = goro::make_chan<int>(1);
    a.send(0);
    b.send(1);
    int v = 0;
    for (auto _ : st) {
      if (goro::select(goro::recv(a, v), goro::recv(b, v)) == 0)
        a.send(v);
      else
        b.send(v);
    }
    benchmark::DoNotOptimize(v);
  });
  set_rate(st, 1);
}

void BM_select_closed(benchmark::State& st, int p) {
  goro::run(procs(p), [&] {
    auto a = goro::make_chan<int>(), b = goro::make_chan<int>();
    a.close();
    b.close();
    int v = 0, n = 0;
    bool ok = false;
    for (auto _ : st) n += goro::select(goro::recv(a, v, &ok), goro::recv(b, v, &ok));
    benchmark::DoNotOptimize(n);
    benchmark::DoNotOptimize(ok);
  });
  set_rate(st, 1);
}

void BM_mutex_uncontended(benchmark::State& st, int p) {
  goro::run(procs(p), [&] {
    goro::Mutex mu;
    for (auto _ : st) {
      mu.lock();
      mu.unlock();
    }
  });
  set_rate(st, 1);
}

void BM_mutex_contended(benchmark::State& st, int p) {
  goro::run(procs(p), [&] {
    goro::Mutex mu;
    goro::WaitGroup wg;
    int64_t counter = 0;  // guarded by mu
    for (auto _ : st) {
      wg.add(kGoroutines);
      for (int g = 0; g < kGoroutines; g++) {
        goro::go([&] {
          for (int i = 0; i < kLockBatch / kGoroutines; i++) {
            mu.lock();
            counter++;
            mu.unlock();
          }
          wg.done();
        });
      }
      wg.wait();
    }
    benchmark::DoNotOptimize(counter);
  });
  set_rate(st, kLockBatch);
}

void BM_rwmutex_readmostly(benchmark::State& st, int p) {
  goro::run(procs(p), [&] {
    goro::RWMutex rw;
    goro::WaitGroup wg;
    int64_t counter = 0;  // guarded by rw
    std::atomic<int64_t> seen{0};
    for (auto _ : st) {
      wg.add(kGoroutines);
      for (int g = 0; g < kGoroutines; g++) {
        goro::go([&] {
          int64_t s = 0;
          for (int i = 0; i < kLockBatch / kGoroutines; i++) {
            if (i % kWriteEvery == kWriteEvery - 1) {
              rw.lock();
              counter++;
              rw.unlock();
            } else {
              rw.rlock();
              s += counter;
              rw.runlock();
            }
          }
          seen.fetch_add(s, std::memory_order_relaxed);
          wg.done();
        });
      }
      wg.wait();
    }
    benchmark::DoNotOptimize(seen.load());
  });
  set_rate(st, kLockBatch);
}

void BM_yield(benchmark::State& st, int p) {
  goro::run(procs(p), [&] {
    std::atomic<bool> stop{false};
    goro::WaitGroup wg;
    wg.add(1);
    goro::go([&] {
      while (!stop.load(std::memory_order_relaxed)) goro::yield();
      wg.done();
    });
    for (auto _ : st) goro::yield();
    stop.store(true, std::memory_order_relaxed);
    wg.wait();
  });
  set_rate(st, 2);  // per iteration: main's yield and the other goroutine's
}

// switch_raw: two bare contexts on the benchmark thread. `other` runs
// raw_entry on a stack of its own and switches straight back every time it
// is resumed.
struct {
  goro::detail::gobuf main, other;
} raw;

[[noreturn]] void raw_entry() {
  for (;;) goro_gogo_switch(&raw.other, &raw.main);
}

void BM_switch_raw(benchmark::State& st) {
  constexpr std::size_t kStack = 64 * 1024;
  void* mem = std::aligned_alloc(64, kStack);
  if (!mem) {
    st.SkipWithError("out of memory");
    return;
  }
  // Enter raw_entry as if called: rsp = 8 mod 16, a (null) return address
  // at [rsp], frame-pointer chain ending at 0.
  uintptr_t top = (reinterpret_cast<uintptr_t>(mem) + kStack) & ~uintptr_t{15};
  top -= 8;
  *reinterpret_cast<uint64_t*>(top) = 0;
  raw.other = {};
  raw.other.sp = top;
  raw.other.pc = reinterpret_cast<uint64_t>(&raw_entry);
  for (auto _ : st) goro_gogo_switch(&raw.main, &raw.other);
  std::free(mem);  // `other` is parked for good: abandon it
  set_rate(st, 2);
}

// ---- --parked: N goroutines blocked on one channel ----

int parked_main(long n) {
  using clock = std::chrono::steady_clock;
  long rss0 = 0, pte0 = 0, rss1 = 0, pte1 = 0;
  clock::duration create{}, release{};
  goro::run(procs(2), [&] {
    auto ch = goro::make_chan<int>();
    goro::WaitGroup started, exited;
    rss0 = parked::status_kb("VmRSS");
    pte0 = parked::status_kb("VmPTE");
    auto t0 = clock::now();
    started.add(static_cast<int>(n));
    exited.add(static_cast<int>(n));
    for (long i = 0; i < n; i++) {
      goro::go([&] {
        started.done();
        ch.recv();
        exited.done();
      });
    }
    started.wait();
    auto t1 = clock::now();
    rss1 = parked::status_kb("VmRSS");
    pte1 = parked::status_kb("VmPTE");
    auto t2 = clock::now();
    ch.close();
    exited.wait();
    create = t1 - t0;
    release = clock::now() - t2;
  });
  return parked::report("goro", n, {create, release, rss0, rss1, pte0, pte1});
}

// warm_up runs once before the benchmarks: a goro::run in which
// kWarmGoroutines goroutines exist at once, so that every later run finds
// all the G records and stacks it needs (at most ~1100 at a time:
// spawn_exit's batch, plus the dead ones parked in the two workers' free
// lists) on the free lists: first-use allocation stays out of the first
// benchmark. (It also hid a runtime bug, G records handed out twice after a
// run, until that was fixed: SchedRun.GRecordsAreNotHandedOutTwiceAcrossRuns.)
constexpr int kWarmGoroutines = 2048;

void warm_up() {
  goro::run(procs(2), [] {
    auto release = goro::make_chan<int>();
    goro::WaitGroup wg;
    wg.add(kWarmGoroutines - 1);  // + main: kWarmGoroutines G records
    for (int i = 1; i < kWarmGoroutines; i++) {
      goro::go([&] {
        release.recv();
        wg.done();
      });
    }
    release.close();
    wg.wait();
  });
}

void add(const char* bench, int p, void (*fn)(benchmark::State&, int)) {
  add_bench("goro", bench, p, fn);
}

}  // namespace

int main(int argc, char** argv) {
  if (long n = parked::parked_arg(argc, argv)) return n < 0 ? 2 : parked_main(n);
  add("spawn_exit", 1, BM_spawn_exit);
  add("spawn_exit", 2, BM_spawn_exit);
  add("pingpong", 1, BM_pingpong);
  add("pingpong", 2, BM_pingpong);
  add("chan_spsc", 1, BM_chan_spsc);
  add("chan_spsc", 2, BM_chan_spsc);
  add("chan_mpmc", 2, BM_chan_mpmc);
  add("select_ready", 1, BM_select_ready);
  add("select_closed", 1, BM_select_closed);
  add("mutex_uncontended", 1, BM_mutex_uncontended);
  add("mutex_contended", 2, BM_mutex_contended);
  add("rwmutex_readmostly", 2, BM_rwmutex_readmostly);
  add("yield", 1, BM_yield);
  benchmark::RegisterBenchmark("sched/switch_raw/p1/goro", BM_switch_raw)->UseRealTime();
  benchmark::Initialize(&argc, argv);
  if (benchmark::ReportUnrecognizedArguments(argc, argv)) return 1;
  warm_up();
  benchmark::RunSpecifiedBenchmarks();
  benchmark::Shutdown();
  return 0;
}
