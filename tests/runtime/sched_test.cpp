// sched_test.cpp — goroutines, the scheduler, the G record, timers.
#include <sys/resource.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "proc.h"
#include "sched_fixture.h"

namespace {

using goro::detail::G;
using namespace std::chrono_literals;

class SchedTest : public goro_test::Sched {};
GORO_INSTANTIATE_SCHED(SchedTest);

TEST_P(SchedTest, RunReturnsMainsResult) {
  int r = goro::run(goro::Config{GetParam(), 0}, [] { return goro::goid() > 0 ? 42 : -1; });
  EXPECT_EQ(r, 42);
  std::string s = goro::run(goro::Config{GetParam(), 0}, [] { return std::string("main"); });
  EXPECT_EQ(s, "main");
  EXPECT_EQ(goro::goid(), 0u) << "outside run() nothing is a goroutine";
}

TEST_P(SchedTest, ManyGoroutinesYieldAndFinish) {
  run([] {
    std::atomic<int> done{0};
    constexpr int kN = goro_test::kManyGoroutines;
    auto wait = goro::make_chan<int>(kN);
    for (int i = 0; i < kN; i++) {
      goro::go([&done, wait]() mutable {
        for (int k = 0; k < 5; k++) goro::yield();
        done.fetch_add(1);
        wait.send(1);
      });
    }
    for (int i = 0; i < kN; i++) wait.recv();
    EXPECT_EQ(done.load(), kN);
  });
}

TEST_P(SchedTest, GoPassesArgumentsByValue) {
  run([] {
    auto out = goro::make_chan<std::string>(1);
    std::string s = "hello";
    goro::go([](std::string a, int n, goro::Chan<std::string> c) { c.send(a + std::to_string(n)); },
             s, 7, out);
    s = "changed";
    EXPECT_EQ(out.recv(), "hello7");
  });
}

TEST_P(SchedTest, GoidsAreNeverReused) {
  run([] {
    std::set<uint64_t> seen;
    uint64_t me = goro::goid();
    auto ids = goro::make_chan<uint64_t>();
    for (int i = 0; i < 300; i++) {
      goro::go([ids]() mutable { ids.send(goro::goid()); });
      uint64_t id = ids.recv();
      EXPECT_NE(id, me);
      EXPECT_GT(id, 0u);
      EXPECT_TRUE(seen.insert(id).second) << "goid reused: " << id;
    }
  });
}

TEST_P(SchedTest, FanOutTree) {
  // Each goroutine starts two children until depth 10: 2^11-1 goroutines.
  run([] {
    std::atomic<int> n{0};
    auto done = goro::make_chan<int>(4096);
    struct Tree {
      static void grow(int depth, std::atomic<int>* n, goro::Chan<int> done) {
        n->fetch_add(1);
        if (depth > 0) {
          goro::go(grow, depth - 1, n, done);
          goro::go(grow, depth - 1, n, done);
        }
        done.send(1);
      }
    };
    goro::go(Tree::grow, 10, &n, done);
    for (int i = 0; i < 2047; i++) done.recv();
    EXPECT_EQ(n.load(), 2047);
  });
}

TEST_P(SchedTest, WorkSpreadsOverWorkers) {
  if (GetParam() == 1) GTEST_SKIP() << "one worker";
  run([] {
    // CPU-bound goroutines that yield: with several workers, thieves take
    // some of them.
    std::atomic<uint64_t> seen_mask{0};
    auto done = goro::make_chan<int>(64);
    for (int i = 0; i < 64; i++) {
      goro::go([&seen_mask, done]() mutable {
        for (int k = 0; k < 200; k++) {
          volatile uint64_t x = 0;
          for (int j = 0; j < 2000; j++) x = x + j;
          seen_mask.fetch_or(uint64_t{1} << goro::detail::getg()->m);
          goro::yield();
        }
        done.send(1);
      });
    }
    for (int i = 0; i < 64; i++) done.recv();
    EXPECT_GT(__builtin_popcountll(seen_mask.load()), 1);
  });
}

double cpu_seconds() {
  rusage ru;
  getrusage(RUSAGE_SELF, &ru);
  return ru.ru_utime.tv_sec + ru.ru_stime.tv_sec +
         (ru.ru_utime.tv_usec + ru.ru_stime.tv_usec) / 1e6;
}

TEST_P(SchedTest, IdleWorkersDoNotBurnCpu) {
  run([] {
    double before = cpu_seconds();
    auto t0 = std::chrono::steady_clock::now();
    goro::sleep(300ms);
    double used = cpu_seconds() - before;
    EXPECT_GE(std::chrono::steady_clock::now() - t0, 300ms);
    EXPECT_LT(used, 0.06) << "CPU seconds burnt while every goroutine slept";
  });
}

TEST_P(SchedTest, SleepAndTimers) {
  run([] {
    auto t0 = std::chrono::steady_clock::now();
    goro::sleep(20ms);
    EXPECT_GE(std::chrono::steady_clock::now() - t0, 20ms);

    // Many sleepers: each wakes no earlier than its own deadline. (Their
    // order is not checked: timers due in one batch are readied together
    // and may run in any order, as in Go.)
    auto late = goro::make_chan<int64_t>(10);
    for (int i = 9; i >= 0; i--)
      goro::go([i, late]() mutable {
        auto d = std::chrono::milliseconds(5 + 3 * i);
        auto start = std::chrono::steady_clock::now();
        goro::sleep(d);
        late.send((std::chrono::steady_clock::now() - start - d).count());
      });
    for (int i = 0; i < 10; i++) EXPECT_GE(late.recv(), 0);

    auto a = goro::after(10ms);
    goro::Time fired = a.recv();
    EXPECT_GE(fired - t0, 30ms);

    goro::Timer stopped(50ms);
    EXPECT_TRUE(stopped.stop());
    EXPECT_FALSE(stopped.stop());
    goro::sleep(60ms);
    EXPECT_EQ(stopped.c().len(), 0u);

    // Ticks keep to the period's grid: a late tick does not shift the
    // later ones, so only the span is bounded below.
    goro::Ticker tick(5ms);
    goro::Time first = tick.c().recv(), last = first;
    for (int i = 0; i < 5; i++) {
      goro::Time t = tick.c().recv();
      EXPECT_GT(t, last);
      last = t;
    }
    EXPECT_GE(last - first, 20ms);  // 5 more ticks: at least 4 full periods apart
    tick.stop();
    // Go: time.NewTicker(0) and negative intervals panic
    for (std::chrono::nanoseconds d : {0ns, -1000000ns}) {
      try {
        goro::Ticker bad(d);
        ADD_FAILURE() << "Ticker(" << d.count() << "ns) did not panic";
      } catch (const goro::Panic& p) {
        EXPECT_STREQ(p.what(), "non-positive interval for NewTicker");
      }
    }
  });
}

TEST_P(SchedTest, TimersFireWhileGoroutinesPingPong) {
  // Two goroutines bouncing a value on one worker must not starve timers.
  run([] {
    auto a = goro::make_chan<int>(), b = goro::make_chan<int>();
    auto finished = goro::make_chan<int>();
    std::atomic<bool> stop{false};
    goro::go([&stop, a, b]() mutable {
      while (!stop.load()) {
        a.send(1);
        b.recv();
      }
      a.close();
    });
    goro::go([a, b, finished]() mutable {
      for (int v : a) {
        (void)v;
        b.send(1);
      }
      finished.close();
    });
    goro::sleep(20ms);
    stop.store(true);
    finished.recv();  // `stop` lives on this stack: outlast its readers
  });
}

TEST_P(SchedTest, GRecordDescribesAParkedGoroutine) {
  run([] {
    auto ch = goro::make_chan<int>();
    auto ready = goro::make_chan<uint64_t>(1);
    uint64_t parent = goro::goid();
    goro::go([ch, ready]() mutable {
      goro::set_name("receiver");
      goro::set_labels({{"role", "test"}, {"k", "v"}});
      ready.send(goro::goid());
      ch.recv();
    });
    uint64_t id = ready.recv();
    G* gp = goro::detail::findg(id);
    ASSERT_NE(gp, nullptr);
    while (gp->atomicstatus.load() != goro::detail::_Gwaiting ||
           gp->waitreason != goro::detail::waitReason::chanReceive)
      goro::yield();
    EXPECT_EQ(gp->goid, id);
    EXPECT_EQ(gp->parentGoid, parent);
    EXPECT_STREQ(gp->name, "receiver");
    ASSERT_NE(gp->labels, nullptr);
    EXPECT_STREQ(gp->labels, "role=test");
    EXPECT_STREQ(gp->labels + 10, "k=v");
    EXPECT_STREQ(goro::detail::to_string(gp->waitreason), "chan receive");
    EXPECT_GT(gp->waitsince, 0);
    EXPECT_LE(gp->waitsince, goro::detail::nanotime());
    ASSERT_NE(gp->waiting, nullptr);
    EXPECT_EQ(gp->waiting->c, ch.raw());
    EXPECT_EQ(gp->waiting->g, gp);
    EXPECT_EQ(gp->waiting->kind, goro::detail::objkind::chan);
    EXPECT_EQ(gp->m, -1);
    EXPECT_GE(gp->sched.sp, gp->stack.lo);
    EXPECT_LT(gp->sched.sp, gp->stack.hi);
    EXPECT_NE(gp->gopc, 0u);
    EXPECT_NE(gp->startpc, 0u);
    // The creation site and start function symbolize to this test.
    EXPECT_NE(
        goro::detail::symbolize_pc(gp->gopc, nullptr).find("GRecordDescribesAParkedGoroutine"),
        std::string::npos)
        << goro::detail::symbolize_pc(gp->gopc, nullptr);
    // The waiting goroutine is in the channel's receive queue.
    EXPECT_EQ(ch.raw()->recvq.first, gp->waiting);
    ch.send(1);
  });
}

TEST_P(SchedTest, GRecordOfTheRunningGoroutine) {
  run([] {
    G* gp = goro::detail::getg();
    int local = 0;
    EXPECT_EQ(gp->atomicstatus.load(), goro::detail::_Grunning);
    EXPECT_GE(gp->m, 0);
    EXPECT_GT(reinterpret_cast<uintptr_t>(&local), gp->stack.lo);
    EXPECT_LT(reinterpret_cast<uintptr_t>(&local), gp->stack.hi);
    EXPECT_EQ(goro::detail::findg(gp->goid), gp);
    EXPECT_EQ(goro::detail::findg(gp->goid + 1000000), nullptr);
    EXPECT_EQ(goro::num_goroutine(), 1);
  });
}

TEST_P(SchedTest, RegistryLookupByGoidUnderChurn) {
  // Spawn and end goroutines while looking up the live ones: goidx must
  // always find exactly the live goroutines (backward-shift deletion).
  run([] {
    std::vector<uint64_t> live;
    std::vector<goro::Chan<int>> stops;
    auto ids = goro::make_chan<uint64_t>(1);
    for (int round = 0; round < 2000; round++) {
      auto stop = goro::make_chan<int>();
      goro::go([ids, stop]() mutable {
        ids.send(goro::goid());
        stop.recv();
      });
      live.push_back(ids.recv());
      stops.push_back(stop);
      if (round % 3 == 2) {  // end one from the middle
        size_t k = (round * 7919) % live.size();
        uint64_t id = live[k];
        stops[k].close();
        while (goro::detail::findg(id)) goro::yield();
        live.erase(live.begin() + k);
        stops.erase(stops.begin() + k);
      }
    }
    for (uint64_t id : live) {
      G* gp = goro::detail::findg(id);
      ASSERT_NE(gp, nullptr) << id;
      EXPECT_EQ(gp->goid, id);
    }
    for (auto& s : stops) s.close();
    while (goro::num_goroutine() > 1) goro::yield();
  });
}

TEST_P(SchedTest, ExceptionsInsideAGoroutineUnwindNormally) {
  run([] {
    auto out = goro::make_chan<std::string>(1);
    goro::go([out]() mutable {
      try {
        auto ch = goro::make_chan<int>();
        ch.close();
        ch.send(1);
      } catch (const goro::Panic& p) {
        out.send(p.what());
      }
    });
    EXPECT_EQ(out.recv(), "send on closed channel");
  });
}

TEST_P(SchedTest, DeepButBoundedRecursionFitsTheStack) {
  run([] {
    struct R {
      static int depth(int n) {
        volatile char pad[256];
        pad[0] = static_cast<char>(n);
        return n == 0 ? pad[0] : depth(n - 1) + 1;
      }
    };
    auto out = goro::make_chan<int>(1);
    goro::go([out]() mutable { out.send(R::depth(100)); });  // ~30 KiB of a 128 KiB stack
    EXPECT_EQ(out.recv(), 100);
  });
}

TEST(SchedScale, HundredThousandParkedGoroutines) {
  // 1M is the benchmark's job (bench/sched); CI checks 100k, past the
  // guard-page budget (~24k stacks), so unguarded stacks are exercised.
  goro::run(goro::Config{2, 0}, [] {
#if GORO_TSAN
    constexpr int kN = 2000;  // TSan maps a shadow stack per fiber: ~65k mappings cap it
#else
    constexpr int kN = 100000;
#endif
    auto gate = goro::make_chan<int>();
    auto done = goro::make_chan<int>(kN);
    for (int i = 0; i < kN; i++)
      goro::go([gate, done]() mutable {
        gate.recv();
        done.send(1);
      });
    while (goro::num_goroutine() < kN + 1) goro::yield();
    gate.close();
    for (int i = 0; i < kN; i++) done.recv();
    auto leaks = goro::testing::verify_none();
    EXPECT_TRUE(leaks) << leaks;
  });
}

TEST(SchedRun, RunCanBeCalledAgainWithOtherSettings) {
  for (int n : {1, 3, 2}) {
    int got = goro::run(goro::Config{n, 32 * 1024}, [] {
      EXPECT_EQ(goro::detail::getg()->stack.hi - goro::detail::getg()->stack.lo, 8u << 20)
          << "the main goroutine has a thread-sized stack";
      auto size = goro::make_chan<uintptr_t>(1);
      goro::go([size]() mutable {
        size.send(goro::detail::getg()->stack.hi - goro::detail::getg()->stack.lo);
      });
      EXPECT_EQ(size.recv(), 32u * 1024);
      return goro::maxprocs();
    });
    EXPECT_EQ(got, n);
  }
}

TEST(SchedRun, GRecordsAreNotHandedOutTwiceAcrossRuns) {
  // Regression: the end of a run put every record of the last chunk on the
  // free list, also those not handed out yet, and the next chunk allocation
  // handed them out again (found by bench/sched).
  auto spawn_live = [](int n) {
    goro::run(goro::Config{2, 0}, [n] {
      auto gate = goro::make_chan<int>();
      auto done = goro::make_chan<int>(n);
      for (int i = 0; i < n; i++)
        goro::go([gate, done]() mutable {
          gate.recv();
          done.send(1);
        });
      while (goro::num_goroutine() < n + 1) goro::yield();
      std::set<uint64_t> ids;
      goro::detail::forEachG([&](G* g) {
        if (uint64_t id = goro::detail::goidof(g)) {
          EXPECT_TRUE(ids.insert(id).second) << "goid " << id << " twice";
        }
      });
      EXPECT_EQ(ids.size(), static_cast<size_t>(n + 1));
      gate.close();
      for (int i = 0; i < n; i++) done.recv();
    });
  };
  spawn_live(10);
  spawn_live(3 * static_cast<int>(goro::detail::kGChunk));
  spawn_live(7 * static_cast<int>(goro::detail::kGChunk));
}

TEST(SchedRun, LeftoverGoroutinesAreAbandonedWhenMainReturns) {
  goro::run(goro::Config{2, 0}, [] {
    // Abandoned goroutines are not unwound: they must own nothing, and the
    // channel they wait on must outlive them (never destroyed here: it is
    // reachable from a static, so leak checkers do not count it).
    static auto* never = new goro::Chan<int>(goro::make_chan<int>());
    for (int i = 0; i < 10; i++) goro::go([] { never->recv(); });
    while (goro::num_goroutine() < 11) goro::yield();
  });
  EXPECT_EQ(goro::num_goroutine(), 0);
  goro::run([] { EXPECT_EQ(goro::num_goroutine(), 1); });
}

}  // namespace
