// sync_test.cpp — goro's sync package: Mutex, RWMutex, WaitGroup, Once, Cond
// (Go's mutex_test.go, rwmutex_test.go, waitgroup_test.go, once_test.go,
// cond_test.go in spirit), what a blocked goroutine shows tools, Go's fatal
// errors and panics, and short stress runs. Every TEST_P runs over 1, 2, 4
// and 8 workers and checks for leaked goroutines (sched_fixture.h).
#include <atomic>
#include <chrono>
#include <cstdint>
#include <memory>
#include <mutex>
#include <shared_mutex>
#include <string>
#include <thread>
#include <vector>

#include "goro/sync.h"
#include "proc.h"
#include "sched_fixture.h"

namespace {

using goro::SyncDebugAccess;
using goro::detail::G;
using goro::detail::objkind;
using goro::detail::waitReason;
using namespace std::chrono_literals;

class SyncTest : public goro_test::Sched {};
GORO_INSTANTIATE_SCHED(SyncTest);

// parked_on returns goroutine id's G if it is parked with reason r on
// object obj (its first sudog's c), else null. Reading the G's wait fields
// is safe only while the goroutine cannot be woken (the caller ensures it).
G* parked_on(uint64_t id, waitReason r, const void* obj) {
  G* gp = goro::detail::findg(id);
  if (!gp || gp->atomicstatus.load() != goro::detail::_Gwaiting) return nullptr;
  if (gp->waitreason != r || !gp->waiting || gp->waiting->c != obj) return nullptr;
  return gp;
}

// wait_parked yields until goroutine id is parked with reason r on obj.
G* wait_parked(uint64_t id, waitReason r, const void* obj) {
  for (;;) {
    if (G* gp = parked_on(id, r, obj)) return gp;
    goro::yield();
  }
}

// spawn starts f in a goroutine counted by wg (add before, done after).
template <class F>
void spawn(goro::WaitGroup& wg, F f) {
  wg.add(1);
  goro::go([&wg, f]() mutable {
    f();
    wg.done();
  });
}

// ---------------------------------------------------------------- Mutex

TEST_P(SyncTest, MutexExcludesUnderContention) {
  run([] {
    goro::Mutex mu;
    goro::WaitGroup wg;
    int64_t counter = 0;  // plain: only mu makes the increments safe
    constexpr int kG = 16, kN = 2000;
    for (int i = 0; i < kG; i++)
      spawn(wg, [&] {
        for (int j = 0; j < kN; j++) {
          mu.lock();
          counter++;
          if (j % 64 == 0) goro::yield();  // hold it across a switch now and then
          mu.unlock();
        }
      });
    wg.wait();
    EXPECT_EQ(counter, int64_t{kG} * kN);
    EXPECT_EQ(SyncDebugAccess::state(mu), 0) << "unlocked, no waiters, not starving";
    EXPECT_EQ(SyncDebugAccess::nwait(mu), 0u);
  });
}

TEST_P(SyncTest, MutexRecordsOwnerGoid) {
  run([] {
    goro::Mutex mu;
    EXPECT_EQ(SyncDebugAccess::owner(mu), 0u);
    mu.lock();
    EXPECT_EQ(SyncDebugAccess::owner(mu), goro::goid());
    EXPECT_NE(goro::goid(), 0u);
    mu.unlock();
    EXPECT_EQ(SyncDebugAccess::owner(mu), 0u);

    // Held by another goroutine: its goid, seen from here.
    auto held = goro::make_chan<uint64_t>();
    auto release = goro::make_chan<int>();
    goro::go([&, held, release]() mutable {
      mu.lock();
      held.send(goro::goid());
      release.recv();
      mu.unlock();
      held.send(0);
    });
    uint64_t holder = held.recv();
    EXPECT_EQ(SyncDebugAccess::owner(mu), holder);
    EXPECT_FALSE(mu.try_lock());
    release.send(1);
    held.recv();
    EXPECT_EQ(SyncDebugAccess::owner(mu), 0u);

    // A plain thread holds it as "no goroutine" (0).
    std::thread([&] {
      mu.lock();
      EXPECT_EQ(SyncDebugAccess::owner(mu), 0u);
      mu.unlock();
    }).join();
  });
}

TEST_P(SyncTest, MutexTryLockAndStdLockGuards) {
  run([] {
    goro::Mutex mu;
    EXPECT_TRUE(mu.try_lock());
    EXPECT_FALSE(mu.try_lock());
    EXPECT_EQ(SyncDebugAccess::owner(mu), goro::goid());
    mu.unlock();
    {
      std::lock_guard<goro::Mutex> lk(mu);
      EXPECT_FALSE(mu.try_lock());
    }
    EXPECT_TRUE(mu.try_lock());
    mu.unlock();
    {
      std::unique_lock<goro::Mutex> lk(mu, std::try_to_lock);
      EXPECT_TRUE(lk.owns_lock());
      lk.unlock();
      EXPECT_TRUE(mu.try_lock());
      mu.unlock();
    }
    goro::Mutex a, b;
    {
      std::scoped_lock lk(a, b);
      EXPECT_FALSE(a.try_lock());
      EXPECT_FALSE(b.try_lock());
    }
    EXPECT_EQ(SyncDebugAccess::state(a), 0);
    EXPECT_EQ(SyncDebugAccess::state(b), 0);
  });
}

// A goroutine blocked in lock() is visible to tools: _Gwaiting, waitreason
// sync.Mutex.Lock, one sudog naming the Mutex, queued in the Mutex itself.
TEST_P(SyncTest, MutexWaiterVisibleToTools) {
  run([] {
    goro::Mutex mu;
    goro::WaitGroup wg;
    std::atomic<uint64_t> id{0};
    mu.lock();
    int64_t before = goro::detail::nanotime();
    spawn(wg, [&] {
      id = goro::goid();
      mu.lock();
      mu.unlock();
    });
    while (id.load() == 0) goro::yield();
    G* gp = wait_parked(id, waitReason::syncMutexLock, &mu);
    EXPECT_EQ(gp->atomicstatus.load(), goro::detail::_Gwaiting);
    EXPECT_STREQ(goro::detail::to_string(gp->waitreason), "sync.Mutex.Lock");
    goro::detail::sudog* sg = gp->waiting;
    EXPECT_EQ(sg->g, gp);
    EXPECT_EQ(sg->kind, objkind::mutex);
    EXPECT_EQ(sg->c, &mu);
    EXPECT_FALSE(sg->isRead);
    EXPECT_EQ(sg->waitlink, nullptr);
    EXPECT_GE(sg->acquiretime, before);
    // waitsince is read from the coarse clock: a tick (4 ms) behind, up to
    // ~8 ms measured with tickless idle CPUs.
    EXPECT_GE(gp->waitsince + 20'000'000, sg->acquiretime);
    EXPECT_EQ(SyncDebugAccess::nwait(mu), 1u);
    EXPECT_EQ(SyncDebugAccess::state(mu) >> goro::detail::mutexWaiterShift, 1);
    EXPECT_TRUE(SyncDebugAccess::state(mu) & goro::detail::mutexLocked);
    EXPECT_EQ(SyncDebugAccess::owner(mu), goro::goid());
    mu.unlock();
    wg.wait();
    EXPECT_EQ(SyncDebugAccess::nwait(mu), 0u);
  });
}

// Starvation mode (Go's TestMutexFairness, made deterministic): a waiter
// blocked for more than 1 ms that loses the race for the lock to a running
// goroutine switches the mutex to starvation mode; the next unlock hands
// the mutex straight to it, so a goroutine that relocks at once comes after.
TEST_P(SyncTest, MutexStarvationModeHandsOffToLongWaiter) {
  run([] {
    // The barging step (unlock, then lock again before the woken waiter
    // runs) is certain on one worker; with more, another worker may run the
    // waiter first. Retry until the barge happens (measured: at the first
    // attempt in 100 runs of each worker count).
    for (int attempt = 0; attempt < 50; attempt++) {
      goro::Mutex mu;
      goro::WaitGroup wg;
      std::atomic<uint64_t> id{0};
      std::vector<int> order;  // guarded by mu: 0 = main, 1 = waiter
      mu.lock();
      spawn(wg, [&] {
        id = goro::goid();
        mu.lock();
        order.push_back(1);
        mu.unlock();
      });
      while (id.load() == 0) goro::yield();
      wait_parked(id, waitReason::syncMutexLock, &mu);
      goro::sleep(3ms);  // the waiter has now waited > starvationThresholdNs
      mu.unlock();       // normal mode: wakes the waiter, which must compete...
      mu.lock();         // ...with us, running: we usually win (barging)
      bool barged = order.empty();
      order.push_back(0);
      if (!barged) {  // the waiter ran first: no starvation to see
        mu.unlock();
        wg.wait();
        continue;
      }
      // The waiter wakes, finds the mutex held, and having waited > 1 ms
      // sets mutexStarving and re-queues at the front.
      while (!(SyncDebugAccess::state(mu) & goro::detail::mutexStarving)) goro::yield();
      wait_parked(id, waitReason::syncMutexLock, &mu);  // queued again (sets state first)
      EXPECT_EQ(SyncDebugAccess::nwait(mu), 1u);
      mu.unlock();          // starvation mode: hands off to the waiter and yields
      if (mu.try_lock()) {  // only once the waiter has been and gone
        EXPECT_EQ(order.size(), 2u) << "try_lock took a mutex handed off to a waiter";
        mu.unlock();
      }
      mu.lock();  // queues behind the waiter if it has not run yet
      order.push_back(0);
      mu.unlock();
      wg.wait();
      ASSERT_EQ(order.size(), 3u);
      EXPECT_EQ(order[0], 0);
      EXPECT_EQ(order[1], 1) << "the starving waiter gets the mutex next";
      EXPECT_EQ(order[2], 0);
      EXPECT_EQ(SyncDebugAccess::state(mu), 0) << "last waiter left starvation mode";
      return;
    }
    ADD_FAILURE() << "the waiter always ran before the unlocker could relock";
  });
}

// Go's TestMutexFairness: a goroutine that locks and unlocks in a loop must
// not starve another that locks once in a while.
TEST_P(SyncTest, MutexFairness) {
  run([] {
    goro::Mutex mu;
    std::atomic<bool> stop{false};
    goro::WaitGroup wg;
    spawn(wg, [&] {
      while (!stop.load()) {
        mu.lock();
        goro::sleep(100us);  // holds it most of the time
        mu.unlock();
        if (GetParam() == 1) goro::yield();  // cooperative: let the other one in
      }
    });
    auto done = goro::make_chan<bool>(1);
    spawn(wg, [&, done]() mutable {
      for (int i = 0; i < 10; i++) {
        goro::sleep(100us);
        mu.lock();
        mu.unlock();
      }
      done.send(true);
    });
    int r = goro::select(goro::recv_discard(done), goro::recv_discard(goro::after(10s)));
    EXPECT_EQ(r, 0) << "can't acquire Mutex in 10 seconds";
    stop = true;
    wg.wait();
  });
}

// ---------------------------------------------------------------- RWMutex

TEST_P(SyncTest, RWMutexManyReadersAtOnce) {
  run([] {
    goro::RWMutex rw;
    goro::WaitGroup wg;
    constexpr int kR = 10;
    std::atomic<int> inside{0};
    std::atomic<int> maxInside{0};
    // Every reader holds the lock until all kR are inside together.
    for (int i = 0; i < kR; i++)
      spawn(wg, [&] {
        rw.rlock();
        int n = ++inside;
        int m = maxInside.load();
        while (n > m && !maxInside.compare_exchange_weak(m, n)) {
        }
        while (maxInside.load() < kR) goro::yield();
        inside--;
        rw.runlock();
      });
    wg.wait();
    EXPECT_EQ(maxInside.load(), kR);
    EXPECT_EQ(SyncDebugAccess::readerCount(rw), 0);
    EXPECT_TRUE(rw.try_lock());
    EXPECT_FALSE(rw.try_rlock());
    EXPECT_FALSE(rw.try_lock());
    rw.unlock();
    EXPECT_TRUE(rw.try_rlock());
    EXPECT_TRUE(rw.try_rlock());
    EXPECT_FALSE(rw.try_lock());
    rw.runlock();
    rw.runlock();
    {
      std::shared_lock<goro::RWMutex> a(rw);
      std::shared_lock<goro::RWMutex> b(rw);
      EXPECT_EQ(SyncDebugAccess::readerCount(rw), 2);
    }
    {
      std::unique_lock<goro::RWMutex> w(rw);
      EXPECT_EQ(SyncDebugAccess::writer(rw), goro::goid());
      EXPECT_EQ(SyncDebugAccess::readerCount(rw), -goro::detail::rwmutexMaxReaders);
    }
    EXPECT_EQ(SyncDebugAccess::writer(rw), 0u);
  });
}

// Readers and writers show tools what they wait for, on the RWMutex itself.
TEST_P(SyncTest, RWMutexWaitersVisibleToTools) {
  run([] {
    goro::RWMutex rw;
    goro::WaitGroup wg;
    std::atomic<uint64_t> wid{0}, rid{0};
    rw.rlock();  // main reads
    spawn(wg, [&] {
      wid = goro::goid();
      rw.lock();  // waits for main to runlock: on writerSem
      rw.unlock();
    });
    while (wid.load() == 0) goro::yield();
    G* w = wait_parked(wid, waitReason::syncRWMutexLock, &rw);
    EXPECT_EQ(w->waiting->kind, objkind::rwmutex);
    EXPECT_FALSE(w->waiting->isRead);
    EXPECT_EQ(SyncDebugAccess::writer(rw), wid.load()) << "the writer holds w while it waits";
    EXPECT_EQ(SyncDebugAccess::readerWait(rw), 1);
    EXPECT_EQ(SyncDebugAccess::nwriter_waiting(rw), 1u);
    spawn(wg, [&] {
      rid = goro::goid();
      rw.rlock();  // a writer is pending: waits on readerSem
      rw.runlock();
    });
    while (rid.load() == 0) goro::yield();
    G* r = wait_parked(rid, waitReason::syncRWMutexRLock, &rw);
    EXPECT_EQ(r->waiting->kind, objkind::rwmutex);
    EXPECT_TRUE(r->waiting->isRead);
    EXPECT_EQ(SyncDebugAccess::nreaders_waiting(rw), 1u);
    EXPECT_STREQ(goro::detail::to_string(r->waitreason), "sync.RWMutex.RLock");
    EXPECT_STREQ(goro::detail::to_string(w->waitreason), "sync.RWMutex.Lock");
    rw.runlock();
    wg.wait();
    EXPECT_EQ(SyncDebugAccess::readerCount(rw), 0);
    EXPECT_EQ(SyncDebugAccess::readerWait(rw), 0);
  });
}

// A second writer waiting for w shows the RWMutex too, not the inner Mutex.
TEST_P(SyncTest, RWMutexSecondWriterShowsRWMutex) {
  run([] {
    goro::RWMutex rw;
    goro::WaitGroup wg;
    std::atomic<uint64_t> id{0};
    rw.lock();
    spawn(wg, [&] {
      id = goro::goid();
      rw.lock();
      rw.unlock();
    });
    while (id.load() == 0) goro::yield();
    G* gp = wait_parked(id, waitReason::syncRWMutexLock, &rw);
    EXPECT_EQ(gp->waiting->kind, objkind::rwmutex);
    EXPECT_EQ(SyncDebugAccess::nwait(SyncDebugAccess::w(rw)), 1u);
    rw.unlock();
    wg.wait();
  });
}

// Writers exclude everyone; readers see consistent data.
TEST_P(SyncTest, RWMutexWriterExclusion) {
  run([] {
    goro::RWMutex rw;
    goro::WaitGroup wg;
    int64_t a = 0, b = 0;  // invariant under rw: a == b
    std::atomic<int> readers{0}, writers{0};
    std::atomic<bool> bad{false};
    for (int i = 0; i < 4; i++)
      spawn(wg, [&] {
        for (int j = 0; j < 300; j++) {
          rw.lock();
          if (writers.fetch_add(1) != 0 || readers.load() != 0) bad = true;
          a++;
          if (j % 16 == 0) goro::yield();
          b++;
          writers.fetch_sub(1);
          rw.unlock();
        }
      });
    for (int i = 0; i < 8; i++)
      spawn(wg, [&] {
        for (int j = 0; j < 600; j++) {
          rw.rlock();
          readers.fetch_add(1);
          if (writers.load() != 0 || a != b) bad = true;
          if (j % 16 == 0) goro::yield();
          readers.fetch_sub(1);
          rw.runlock();
        }
      });
    wg.wait();
    EXPECT_FALSE(bad.load());
    EXPECT_EQ(a, 1200);
    EXPECT_EQ(b, 1200);
  });
}

// Writer preference: a stream of overlapping readers (some reader always
// holds the lock) cannot keep a writer out.
TEST_P(SyncTest, RWMutexWriterNotStarvedByReaders) {
  run([] {
    goro::RWMutex rw;
    goro::WaitGroup wg;
    std::atomic<bool> stop{false};
    std::atomic<int64_t> reads{0};
    for (int i = 0; i < 6; i++)
      spawn(wg, [&] {
        while (!stop.load()) {
          rw.rlock();
          reads++;
          goro::yield();  // hold across a switch: readers overlap
          rw.runlock();
          goro::yield();
        }
      });
    while (reads.load() < 50) goro::yield();  // the stream is flowing
    for (int i = 0; i < 50; i++) {
      rw.lock();
      rw.unlock();
      goro::yield();
    }
    stop = true;
    wg.wait();
    EXPECT_GE(reads.load(), 50);
  });
}

// ---------------------------------------------------------------- WaitGroup

TEST_P(SyncTest, WaitGroupWaitsForAll) {
  run([] {
    goro::WaitGroup wg;
    std::atomic<int> n{0};
    constexpr int kG = 50;
    wg.add(kG);
    for (int i = 0; i < kG; i++)
      goro::go([&] {
        goro::sleep(std::chrono::microseconds(10 * (kG % 7)));
        n++;
        wg.done();
      });
    wg.wait();
    EXPECT_EQ(n.load(), kG);
    EXPECT_EQ(SyncDebugAccess::state(wg), 0u);
    // Reusable once the previous wait returned.
    for (int round = 0; round < 3; round++) {
      wg.add(2);
      goro::go([&] { wg.done(); });
      goro::go([&] {
        goro::yield();
        wg.done();
      });
      wg.wait();
    }
  });
}

TEST_P(SyncTest, WaitGroupZeroCounterReturnsAtOnce) {
  run([] {
    goro::WaitGroup wg;
    wg.wait();  // no goroutine would ever wake us: must not park
    wg.add(1);
    wg.done();
    wg.wait();
  });
  goro::WaitGroup wg;
  wg.wait();  // from a plain thread too: it does not block
}

TEST_P(SyncTest, WaitGroupNegativeCounterPanics) {
  run([] {
    goro::WaitGroup wg;
    wg.add(1);
    wg.done();
    try {
      wg.done();
      ADD_FAILURE() << "no panic";
    } catch (const goro::Panic& p) {
      EXPECT_STREQ(p.what(), "sync: negative WaitGroup counter");
    }
    goro::WaitGroup wg2;
    EXPECT_THROW(wg2.add(-1), goro::Panic);
  });
}

// Many waiters: all wake, and tools see each one parked on the WaitGroup.
TEST_P(SyncTest, WaitGroupManyWaitersVisibleToTools) {
  run([] {
    goro::WaitGroup wg, waiters;
    wg.add(1);
    constexpr int kW = 5;
    std::vector<std::atomic<uint64_t>> ids(kW);
    for (int i = 0; i < kW; i++)
      spawn(waiters, [&, i] {
        ids[i] = goro::goid();
        wg.wait();
      });
    for (int i = 0; i < kW; i++) {
      while (ids[i].load() == 0) goro::yield();
      G* gp = wait_parked(ids[i], waitReason::syncWaitGroupWait, &wg);
      EXPECT_EQ(gp->waiting->kind, objkind::waitgroup);
    }
    EXPECT_EQ(SyncDebugAccess::counter(wg), 1);
    EXPECT_EQ(SyncDebugAccess::waiters(wg), static_cast<uint32_t>(kW));
    wg.done();
    waiters.wait();
    EXPECT_EQ(SyncDebugAccess::state(wg), 0u);
  });
}

// Done from plain threads wakes goroutines (non-blocking ops work anywhere).
TEST_P(SyncTest, WaitGroupDoneFromThreads) {
  run([] {
    goro::WaitGroup wg;
    // The only wakers are plain threads: tell the deadlock check.
    goro::ExternalWaker external;
    wg.add(4);
    std::vector<std::thread> ts;
    for (int i = 0; i < 4; i++)
      ts.emplace_back([&] {
        std::this_thread::sleep_for(1ms);
        wg.done();
      });
    wg.wait();
    for (auto& t : ts) t.join();
  });
}

// ---------------------------------------------------------------- Once

TEST_P(SyncTest, OnceRunsOnceUnderConcurrency) {
  run([] {
    goro::Once once;
    goro::WaitGroup wg;
    std::atomic<int> calls{0};
    std::atomic<int> sawDone{0};
    for (int i = 0; i < 20; i++)
      spawn(wg, [&] {
        once.call([&] {
          goro::sleep(1ms);  // the others block in call meanwhile
          calls++;
        });
        if (calls.load() == 1) sawDone++;  // f has returned when call returns
      });
    wg.wait();
    EXPECT_EQ(calls.load(), 1);
    EXPECT_EQ(sawDone.load(), 20);
    EXPECT_TRUE(SyncDebugAccess::done(once));
    int x = 0;
    once.call([&] { x = 1; });
    EXPECT_EQ(x, 0);
    goro::Once o2;
    o2.call([](int& v, int add) { v += add; }, std::ref(x), 5);  // arguments, as std::call_once
    EXPECT_EQ(x, 5);
  });
}

TEST_P(SyncTest, OnceThrowingFunctionCountsAsDone) {
  run([] {
    goro::Once once;
    EXPECT_THROW(once.call([] { throw goro::Panic("boom"); }), goro::Panic);
    EXPECT_TRUE(SyncDebugAccess::done(once));
    bool ran = false;
    once.call([&] { ran = true; });
    EXPECT_FALSE(ran) << "Go marks done in a defer: a panicking f counts";
  });
}

// ---------------------------------------------------------------- Cond

TEST_P(SyncTest, CondSignalWakesOne) {
  run([] {
    goro::Mutex mu;
    goro::Cond c(mu);
    goro::WaitGroup wg;
    constexpr int kW = 4;
    int ready = 0;    // guarded by mu: waiters parked (about to)
    int permits = 0;  // guarded by mu
    std::atomic<int> woke{0};
    for (int i = 0; i < kW; i++)
      spawn(wg, [&] {
        std::unique_lock lk(mu);
        ready++;
        while (permits == 0) c.wait();
        permits--;
        woke++;
      });
    // Wait until every waiter is inside wait() (ticket taken).
    for (;;) {
      std::lock_guard lk(mu);
      if (ready == kW && SyncDebugAccess::wait(c) == static_cast<uint32_t>(kW)) break;
      goro::yield();
    }
    for (int i = 1; i <= kW; i++) {
      {
        std::lock_guard lk(mu);
        permits++;
        c.signal();
      }
      while (woke.load() < i) goro::yield();
      goro::sleep(200us);
      EXPECT_EQ(woke.load(), i) << "signal woke more than one";
    }
    wg.wait();
    EXPECT_EQ(SyncDebugAccess::notify(c), static_cast<uint32_t>(kW));
  });
}

TEST_P(SyncTest, CondBroadcastWakesAllAndWaitRelocks) {
  run([] {
    goro::Mutex mu;
    goro::Cond c(mu);
    goro::WaitGroup wg;
    constexpr int kW = 6;
    bool go = false;
    int running = 0;  // guarded by mu
    std::atomic<int> bad{0};
    std::vector<std::atomic<uint64_t>> ids(kW);
    for (int i = 0; i < kW; i++)
      spawn(wg, [&, i] {
        mu.lock();
        ids[i] = goro::goid();
        while (!go) c.wait();
        // wait re-locked mu: we are alone in here.
        if (SyncDebugAccess::owner(mu) != goro::goid()) bad++;
        if (running++ != 0) bad++;
        goro::yield();
        running--;
        mu.unlock();
      });
    for (int i = 0; i < kW; i++) {
      while (ids[i].load() == 0) goro::yield();
      G* gp = wait_parked(ids[i], waitReason::syncCondWait, &c);
      EXPECT_EQ(gp->waiting->kind, objkind::cond);
      EXPECT_STREQ(goro::detail::to_string(gp->waitreason), "sync.Cond.Wait");
    }
    mu.lock();
    go = true;
    c.broadcast();
    mu.unlock();
    wg.wait();
    EXPECT_EQ(bad.load(), 0);
    EXPECT_EQ(SyncDebugAccess::notify(c), SyncDebugAccess::wait(c));
    c.signal();  // nobody waits: no-ops
    c.broadcast();
  });
}

// Cond works with any BasicLockable (Go's Locker), e.g. an RWMutex's write side.
TEST_P(SyncTest, CondWithOtherLockers) {
  run([] {
    goro::RWMutex rw;
    goro::Cond c(rw);
    EXPECT_EQ(c.L.object(), &rw);
    bool flag = false;
    goro::WaitGroup wg;
    spawn(wg, [&] {
      rw.lock();
      while (!flag) c.wait();
      rw.unlock();
    });
    goro::sleep(100us);
    rw.lock();
    flag = true;
    rw.unlock();
    c.signal();  // without holding L (allowed)
    wg.wait();
  });
}

// Signal and Broadcast from plain threads.
TEST_P(SyncTest, CondSignalFromThread) {
  run([] {
    goro::Mutex mu;
    goro::Cond c(mu);
    bool flag = false;
    goro::WaitGroup wg;
    std::atomic<uint64_t> id{0};
    spawn(wg, [&] {
      mu.lock();
      id = goro::goid();
      while (!flag) c.wait();
      mu.unlock();
    });
    while (id.load() == 0) goro::yield();
    wait_parked(id, waitReason::syncCondWait, &c);
    std::thread([&] {
      mu.lock();  // free (the waiter released it): fine on a plain thread
      flag = true;
      mu.unlock();
      c.broadcast();
    }).join();
    wg.wait();
  });
}

// ---------------------------------------------------------------- stress

// Mutex and RWMutex under heavy contention, in mixed modes, for a fixed
// amount of work (kept short: well under a second per worker count here).
TEST_P(SyncTest, StressMutex) {
  run([] {
    goro::Mutex mu;
    goro::WaitGroup wg;
    int64_t counter = 0;
    constexpr int kG = 32, kN = 1000;
    for (int i = 0; i < kG; i++)
      spawn(wg, [&, i] {
        for (int j = 0; j < kN; j++) {
          if ((i + j) % 3 == 0) {
            while (!mu.try_lock()) goro::yield();
          } else {
            mu.lock();
          }
          counter++;
          if ((i ^ j) % 97 == 0) goro::sleep(std::chrono::microseconds(j % 3 * 500));
          mu.unlock();
        }
      });
    wg.wait();
    EXPECT_EQ(counter, int64_t{kG} * kN);
    EXPECT_EQ(SyncDebugAccess::state(mu), 0);
  });
}

TEST_P(SyncTest, StressRWMutex) {
  run([] {
    goro::RWMutex rw;
    goro::WaitGroup wg;
    int64_t value = 0;
    std::atomic<int> activeWriters{0};
    std::atomic<bool> bad{false};
    constexpr int kG = 24, kN = 4000;
    for (int i = 0; i < kG; i++)
      spawn(wg, [&, i] {
        for (int j = 0; j < kN; j++) {
          if ((i * 31 + j) % 10 == 0) {  // ~10% writes
            if (j % 2 ? rw.try_lock() : (rw.lock(), true)) {
              if (activeWriters.fetch_add(1) != 0) bad = true;
              value++;
              activeWriters.fetch_sub(1);
              rw.unlock();
            }
          } else {
            rw.rlock();
            if (activeWriters.load() != 0) bad = true;
            volatile int64_t v = value;
            (void)v;
            if (j % 50 == 0) goro::yield();
            rw.runlock();
          }
        }
      });
    wg.wait();
    EXPECT_FALSE(bad.load());
    EXPECT_EQ(SyncDebugAccess::readerCount(rw), 0);
    EXPECT_EQ(SyncDebugAccess::readerWait(rw), 0);
    EXPECT_EQ(SyncDebugAccess::state(SyncDebugAccess::w(rw)), 0);
  });
}

// ---------------------------------------------------------------- fatal errors

TEST(SyncDeathTest, UnlockOfUnlockedMutexIsFatal) {
  GTEST_FLAG_SET(death_test_style, "threadsafe");
  EXPECT_EXIT(
      {
        goro::Mutex mu;
        mu.unlock();
      },
      ::testing::ExitedWithCode(2), "^fatal error: sync: unlock of unlocked mutex\n");
  EXPECT_EXIT(goro::run(goro::Config{1, 0},
                        [] {
                          goro::Mutex mu;
                          mu.lock();
                          mu.unlock();
                          mu.unlock();
                        }),
              ::testing::ExitedWithCode(2),
              "^fatal error: sync: unlock of unlocked mutex\n\ngoroutine 1 \\[running\\]");
}

TEST(SyncDeathTest, UnlockOfUnlockedRWMutexIsFatal) {
  GTEST_FLAG_SET(death_test_style, "threadsafe");
  EXPECT_EXIT(
      {
        goro::RWMutex rw;
        rw.unlock();
      },
      ::testing::ExitedWithCode(2), "^fatal error: sync: Unlock of unlocked RWMutex\n");
  EXPECT_EXIT(
      {
        goro::RWMutex rw;
        rw.runlock();
      },
      ::testing::ExitedWithCode(2), "^fatal error: sync: RUnlock of unlocked RWMutex\n");
}

TEST(SyncDeathTest, BlockingOnPlainThreadIsFatal) {
  GTEST_FLAG_SET(death_test_style, "threadsafe");
  EXPECT_EXIT(
      {
        goro::Mutex mu;
        mu.lock();
        mu.lock();  // would block: no goroutine to park
      },
      ::testing::ExitedWithCode(2),
      "^fatal error: goro: blocking operation \\(sync.Mutex.Lock\\) called from a thread");
  EXPECT_EXIT(
      {
        goro::WaitGroup wg;
        wg.add(1);
        wg.wait();
      },
      ::testing::ExitedWithCode(2), "blocking operation \\(sync.WaitGroup.Wait\\)");
}

// A goroutine blocked forever on a Mutex is part of Go's deadlock check.
TEST(SyncDeathTest, MutexDeadlockIsDetected) {
  GTEST_FLAG_SET(death_test_style, "threadsafe");
  EXPECT_EXIT(
      goro::run(goro::Config{2, 0},
                [] {
                  goro::Mutex mu;
                  mu.lock();
                  mu.lock();
                }),
      ::testing::ExitedWithCode(2),
      "^fatal error: all goroutines are asleep - deadlock!\n\ngoroutine 1 \\[sync.Mutex.Lock");
}

}  // namespace
