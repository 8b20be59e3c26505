// fiber_bench.cpp — the loops of sched_bench.cpp with Boost.Fiber (Debian's
// libboost-fiber-dev, Boost 1.74), the third column of bench/sched/compare.py.
//
// Each benchmark is sched_bench.cpp's, statement for statement, with
// goroutines replaced by fibers (sched/<bench>/p<W>/fiber, counter
// ns_per_op; see sched_bench.cpp for what each one measures):
//
//   goro                       Boost.Fiber
//   goro::go(f)                boost::fibers::fiber(std::allocator_arg, stack, f).detach()
//   make_chan<int>()           boost::fibers::unbuffered_channel<int>
//   make_chan<int>(1024)       boost::fibers::buffered_channel<int>(1024): the capacity
//                              must be a power of 2 and the channel holds capacity-1
//                              values, so 1023 here
//   ch.close(), range over ch  close(), pop() until channel_op_status::closed
//   goro::Mutex                boost::fibers::mutex
//   goro::WaitGroup            WaitGroup below: a counter, boost::fibers::mutex and
//                              condition_variable (Boost.Fiber has no wait group)
//   goro::yield()              boost::this_fiber::yield()
//   goro_gogo_switch           boost::context::fiber::resume() (Boost.Context's
//                              fcontext switch, which Boost.Fiber is built on)
//
// Not in Boost.Fiber, so not measured (compare.py prints "n/a"): select and
// an RWMutex.
//
// Stacks: 64 KiB, goro's default size, from Boost's pooled_fixedsize_stack
// (a boost::pool of fixed-size blocks: stacks are reused, as goro's and Go's
// are), one pool shared by all fibers behind a std::mutex, since the pool is
// not thread-safe and work_stealing moves fibers between threads. Rejected:
// fixedsize_stack, Boost's default (malloc/free per fiber): when a batch of
// fibers ends glibc trims the heap, and the next batch page-faults fresh
// stacks: spawn_exit measured 2.7 us per fiber that way, mostly brk and page
// faults, which is glibc's cost more than Boost.Fiber's. Boost's default
// size (128 KiB, at glibc's mmap threshold) would also mean one mmap per
// fiber, and 1M parked fibers would need more mappings than vm.max_map_count.
//
// Workers. One worker (p1): the benchmark thread itself, with Boost.Fiber's
// default round_robin scheduler; the state loop runs in the thread's main
// fiber. Two workers (p2): a pool of two threads using the work_stealing
// algorithm (Boost's multi-thread scheduler; fibers migrate between the two),
// the state loop running in the main fiber of the first. work_stealing
// registers its threads once per process (a static table sized by the first
// thread count), so the pool is made once and lives until exit; between
// benchmarks both threads block in a std::condition_variable, outside the
// fiber scheduler, so they do not spin while the p1 benchmarks run. During a
// p2 benchmark idle pool threads spin looking for work (work_stealing with
// suspend=false, Boost's default: with suspend=true an idle thread sleeps
// until one of *its* fibers is woken from another thread, so it would never
// steal new work, and p2 would be p1).
//
// `goro_fiber_bench --parked[=N]`: N fibers blocked on one unbuffered_channel
// on the two-thread pool, measured as sched_bench.cpp's --parked does.
#include <benchmark/benchmark.h>
#include <boost/context/fiber.hpp>
#include <boost/fiber/all.hpp>
#include <boost/version.hpp>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "sched_common.h"

namespace {

namespace fibers = boost::fibers;

constexpr int kSpawnBatch = 1000;  // fibers per spawn_exit iteration
constexpr int kMsgBatch = 10000;   // messages per chan_spsc / chan_mpmc iteration
constexpr int kLockBatch = 10000;  // operations per contended-lock iteration (all fibers)
constexpr int kGoroutines = 4;     // producers, consumers or lockers
constexpr int kChanCap = 1024;     // buffered_channel capacity (holds kChanCap - 1)
constexpr std::size_t kStackSize = 64 * 1024;
static_assert(kMsgBatch % kGoroutines == 0 && kLockBatch % kGoroutines == 0,
              "each fiber gets an equal share, so all of them end");

void set_rate(benchmark::State& st, double ops_per_iter) {
  st.counters["ns_per_op"] =
      benchmark::Counter(ops_per_iter * 1e-9, benchmark::Counter::kIsIterationInvariantRate |
                                                  benchmark::Counter::kInvert);
}

// PooledStack is a StackAllocator handing out kStackSize stacks from one
// process-wide pooled_fixedsize_stack under a mutex (see the file comment).
// Copies are one pointer: each fiber keeps a copy to free its stack with.
class PooledStack {
 public:
  boost::context::stack_context allocate() {
    std::lock_guard<std::mutex> lk(s_->mu);
    return s_->pool.allocate();
  }
  void deallocate(boost::context::stack_context& sctx) noexcept {
    std::lock_guard<std::mutex> lk(s_->mu);
    s_->pool.deallocate(sctx);
  }

 private:
  struct Shared {
    std::mutex mu;
    // Blocks of at most 1024 stacks (64 MiB): boost::pool doubles its block
    // size, and one block for 1M parked fibers would be a single 32 GiB
    // malloc, beyond what the kernel's overcommit heuristic grants here.
    fibers::pooled_fixedsize_stack pool{kStackSize, 32, 1024};
  };
  static Shared* shared() {
    static Shared* s = new Shared;  // never freed: fibers may outlive main's locals
    return s;
  }
  Shared* s_ = shared();
};

// fiber starts f on a fiber with a pooled kStackSize stack (the caller joins
// or detaches it); go starts a detached one, as goro::go does.
template <class F>
fibers::fiber fiber(F&& f) {
  return fibers::fiber(std::allocator_arg, PooledStack{}, std::forward<F>(f));
}
template <class F>
void go(F&& f) {
  fiber(std::forward<F>(f)).detach();
}

// WaitGroup is Go's sync.WaitGroup (add, done, wait) for fibers of any
// thread. done() is one atomic decrement unless it releases the waiters.
class WaitGroup {
 public:
  void add(int n) { n_.fetch_add(n, std::memory_order_relaxed); }
  void done() {
    if (n_.fetch_sub(1, std::memory_order_acq_rel) == 1) {
      std::lock_guard<fibers::mutex> lk(mu_);
      cv_.notify_all();
    }
  }
  void wait() {
    std::unique_lock<fibers::mutex> lk(mu_);
    cv_.wait(lk, [this] { return n_.load(std::memory_order_acquire) == 0; });
  }

 private:
  std::atomic<int64_t> n_{0};
  fibers::mutex mu_;
  fibers::condition_variable cv_;
};

// Pool is the two-worker scheduler: run(job) runs job in the main fiber of
// thread 0 while thread 1 takes part in work stealing, and returns when job
// has returned. See the file comment. A Pool is never destroyed (pool()
// leaks it; its threads are blocked in cv_ when the process exits): ending
// the threads, i.e. tearing down their work_stealing schedulers, hung at
// exit, one thread's dispatcher spinning forever for fibers that had run on
// the other (the symptom of boostorg/fiber#210).
class Pool {
 public:
  static constexpr int kThreads = 2;

  Pool() {
    for (int i = 0; i < kThreads; i++) threads_.emplace_back([this, i] { loop(i); });
  }
  ~Pool() = delete;

  void run(const std::function<void()>& job) {
    std::unique_lock<std::mutex> lk(m_);
    job_ = &job;
    epoch_++;
    cv_.notify_all();
    cv_.wait(lk, [this] { return finished_ == epoch_; });
  }

 private:
  void loop(int id) {
    fibers::use_scheduling_algorithm<fibers::algo::work_stealing>(kThreads);
    uint64_t seen = 0;
    for (;;) {
      const std::function<void()>* job;
      {
        std::unique_lock<std::mutex> lk(m_);
        cv_.wait(lk, [&] { return epoch_ != seen; });
        seen = epoch_;
        job = job_;
      }
      if (id == 0) {
        (*job)();
        {
          std::lock_guard<fibers::mutex> lk(fm_);
          jobdone_ = seen;
        }
        fcv_.notify_all();
        {
          std::lock_guard<std::mutex> lk(m_);
          finished_ = seen;
        }
        cv_.notify_all();
      } else {
        // Wait inside the fiber scheduler, so this thread steals fibers.
        std::unique_lock<fibers::mutex> lk(fm_);
        fcv_.wait(lk, [&] { return jobdone_ == seen; });
      }
    }
  }

  std::vector<std::thread> threads_;
  std::mutex m_;  // guards job_, epoch_, finished_
  std::condition_variable cv_;
  const std::function<void()>* job_ = nullptr;
  uint64_t epoch_ = 0;     // jobs handed out
  uint64_t finished_ = 0;  // jobs done
  fibers::mutex fm_;       // guards jobdone_ (fiber side, thread 1's wait)
  fibers::condition_variable fcv_;
  uint64_t jobdone_ = 0;
};

Pool& pool() {
  static Pool* p = new Pool;
  return *p;
}

// on runs body with p workers: p == 1 on this thread (round_robin), p == 2
// on the work-stealing pool.
void on(int p, const std::function<void()>& body) {
  if (p == 1)
    body();
  else
    pool().run(body);
}

void BM_spawn_exit(benchmark::State& st, int p) {
  on(p, [&] {
    WaitGroup wg;
    for (auto _ : st) {
      for (int i = 0; i < kSpawnBatch; i++) {
        wg.add(1);
        go([&wg] { wg.done(); });
      }
      wg.wait();
    }
  });
  set_rate(st, kSpawnBatch);
}

void BM_pingpong(benchmark::State& st, int p) {
  on(p, [&] {
    fibers::unbuffered_channel<int> ping, pong;
    WaitGroup wg;
    wg.add(1);
    go([&] {
      int v;
      while (ping.pop(v) == fibers::channel_op_status::success) pong.push(v);
      wg.done();
    });
    int i = 0;
    for (auto _ : st) {
      ping.push(i++);
      int v;
      pong.pop(v);
      benchmark::DoNotOptimize(v);
    }
    ping.close();
    wg.wait();
  });
  set_rate(st, 1);
}

void BM_chan_spsc(benchmark::State& st, int p) {
  on(p, [&] {
    fibers::buffered_channel<int> ch(kChanCap);
    WaitGroup wg;
    int64_t sum = 0;
    for (auto _ : st) {
      wg.add(1);
      go([&] {
        for (int i = 0; i < kMsgBatch; i++) ch.push(i);
        wg.done();
      });
      for (int i = 0; i < kMsgBatch; i++) sum += ch.value_pop();
      wg.wait();
    }
    benchmark::DoNotOptimize(sum);
  });
  set_rate(st, kMsgBatch);
}

void BM_chan_mpmc(benchmark::State& st, int p) {
  on(p, [&] {
    fibers::buffered_channel<int> ch(kChanCap);
    WaitGroup wg;
    std::atomic<int64_t> sum{0};
    for (auto _ : st) {
      wg.add(2 * kGoroutines);
      for (int g = 0; g < kGoroutines; g++) {
        go([&] {
          for (int i = 0; i < kMsgBatch / kGoroutines; i++) ch.push(i);
          wg.done();
        });
      }
      for (int g = 0; g < kGoroutines; g++) {
        go([&] {
          int64_t s = 0;
          for (int i = 0; i < kMsgBatch / kGoroutines; i++) s += ch.value_pop();
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

void BM_mutex_uncontended(benchmark::State& st, int p) {
  on(p, [&] {
    fibers::mutex mu;
    for (auto _ : st) {
      mu.lock();
      mu.unlock();
    }
  });
  set_rate(st, 1);
}

void BM_mutex_contended(benchmark::State& st, int p) {
  on(p, [&] {
    fibers::mutex mu;
    WaitGroup wg;
    int64_t counter = 0;  // guarded by mu
    for (auto _ : st) {
      wg.add(kGoroutines);
      for (int g = 0; g < kGoroutines; g++) {
        go([&] {
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

void BM_yield(benchmark::State& st, int p) {
  on(p, [&] {
    std::atomic<bool> stop{false};
    WaitGroup wg;
    wg.add(1);
    go([&] {
      while (!stop.load(std::memory_order_relaxed)) boost::this_fiber::yield();
      wg.done();
    });
    for (auto _ : st) boost::this_fiber::yield();
    stop.store(true, std::memory_order_relaxed);
    wg.wait();
  });
  set_rate(st, 2);  // per iteration: the main fiber's yield and the other fiber's
}

// switch_raw: a Boost.Context fiber that resumes its caller every time it
// is resumed; one iteration is there and back.
void BM_switch_raw(benchmark::State& st) {
  namespace ctx = boost::context;
  ctx::fiber f{std::allocator_arg, ctx::fixedsize_stack(kStackSize), [](ctx::fiber&& caller) {
                 for (;;) caller = std::move(caller).resume();
                 return std::move(caller);
               }};
  for (auto _ : st) f = std::move(f).resume();
  set_rate(st, 2);
}  // ~fiber unwinds the parked fiber's stack

// ---- --parked ----

int parked_main(long n) {
  using clock = std::chrono::steady_clock;
  long rss0 = 0, pte0 = 0, rss1 = 0, pte1 = 0;
  clock::duration create{}, release{};
  on(2, [&] {
    fibers::unbuffered_channel<int> ch;
    WaitGroup started, exited;
    rss0 = parked::status_kb("VmRSS");
    pte0 = parked::status_kb("VmPTE");
    auto t0 = clock::now();
    started.add(static_cast<int>(n));
    exited.add(static_cast<int>(n));
    for (long i = 0; i < n; i++) {
      go([&] {
        started.done();
        int v;
        ch.pop(v);
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
  return parked::report("fiber", n, {create, release, rss0, rss1, pte0, pte1});
}

void add(const char* bench, int p, void (*fn)(benchmark::State&, int)) {
  add_bench("fiber", bench, p, fn);
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
  add("mutex_uncontended", 1, BM_mutex_uncontended);
  add("mutex_contended", 2, BM_mutex_contended);
  add("yield", 1, BM_yield);
  benchmark::RegisterBenchmark("sched/switch_raw/p1/fiber", BM_switch_raw)->UseRealTime();
  benchmark::AddCustomContext("boost_version", BOOST_LIB_VERSION);
  benchmark::AddCustomContext("p2_scheduler", "boost::fibers::algo::work_stealing(2)");
  benchmark::Initialize(&argc, argv);
  if (benchmark::ReportUnrecognizedArguments(argc, argv)) return 1;
  benchmark::RunSpecifiedBenchmarks();
  benchmark::Shutdown();
  return 0;
}
