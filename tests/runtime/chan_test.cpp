// chan_test.cpp — channel semantics (Go's chan_test.go in spirit) and a
// many-producer, many-consumer stress test.
#include <algorithm>
#include <atomic>
#include <memory>
#include <string>
#include <vector>

#include "proc.h"
#include "sched_fixture.h"

namespace {

using goro::detail::G;

class ChanTest : public goro_test::Sched {};
GORO_INSTANTIATE_SCHED(ChanTest);

// wait_parked yields until goroutine id is parked with the given reason.
void wait_parked(uint64_t id, goro::detail::waitReason r) {
  for (;;) {
    G* gp = goro::detail::findg(id);
    if (gp && gp->atomicstatus.load() == goro::detail::_Gwaiting && gp->waitreason == r) return;
    goro::yield();
  }
}

TEST_P(ChanTest, UnbufferedHandsOver) {
  run([] {
    auto ch = goro::make_chan<int>();
    EXPECT_EQ(ch.cap(), 0u);
    goro::go([ch]() mutable {
      for (int i = 0; i < 100; i++) ch.send(i);
    });
    for (int i = 0; i < 100; i++) EXPECT_EQ(ch.recv(), i);
  });
}

TEST_P(ChanTest, BufferedWrapsAround) {
  run([] {
    auto ch = goro::make_chan<int>(3);
    EXPECT_EQ(ch.cap(), 3u);
    int next_in = 0, next_out = 0;
    for (int round = 0; round < 10; round++) {  // sendx/recvx wrap many times
      for (int k = 0; k < 1 + round % 3; k++) ch.send(next_in++);
      EXPECT_EQ(ch.len(), static_cast<size_t>(next_in - next_out));
      while (ch.len() > 0) EXPECT_EQ(ch.recv(), next_out++);
    }
    EXPECT_EQ(ch.raw()->qcount, 0u);
    EXPECT_LT(ch.raw()->sendx, 3u);
    EXPECT_EQ(ch.raw()->sendx, ch.raw()->recvx);
  });
}

TEST_P(ChanTest, TryOperationsNeverBlock) {
  run([] {
    auto ch = goro::make_chan<int>(1);
    EXPECT_FALSE(ch.try_recv().selected);
    EXPECT_TRUE(ch.try_send(1));
    EXPECT_FALSE(ch.try_send(2));
    auto r = ch.try_recv();
    EXPECT_TRUE(r.selected);
    EXPECT_EQ(r.r.value, 1);
    auto u = goro::make_chan<int>();
    EXPECT_FALSE(u.try_send(1)) << "no receiver waiting";
  });
}

TEST_P(ChanTest, CloseDrainsBufferThenGivesZeroValues) {
  run([] {
    auto ch = goro::make_chan<std::string>(2);
    ch.send("a");
    ch.send("b");
    ch.close();
    EXPECT_EQ(ch.recv(), "a");
    auto [v, ok] = ch.recv_ok();
    EXPECT_EQ(v, "b");
    EXPECT_TRUE(ok);
    auto [z, ok2] = ch.recv_ok();
    EXPECT_EQ(z, "");
    EXPECT_FALSE(ok2);
    std::vector<std::string> rest;
    for (auto& s : ch) rest.push_back(s);
    EXPECT_TRUE(rest.empty());
  });
}

TEST_P(ChanTest, CloseWakesEveryWaiter) {
  run([] {
    auto ch = goro::make_chan<int>();
    auto results = goro::make_chan<int>(20);
    for (int i = 0; i < 10; i++)
      goro::go([ch, results]() mutable {
        auto [v, ok] = ch.recv_ok();
        results.send(ok ? 100 + v : -1);
      });
    // Wait until all ten are queued (read under the channel's lock).
    for (;;) {
      int n = 0;
      {
        goro::detail::mutex_guard lk(ch.raw()->lock);
        for (auto* s = ch.raw()->recvq.first; s; s = s->next) n++;
      }
      if (n == 10) break;
      goro::yield();
    }
    ch.close();
    for (int i = 0; i < 10; i++) EXPECT_EQ(results.recv(), -1);

    auto full = goro::make_chan<int>();
    for (int i = 0; i < 5; i++)
      goro::go([full, results]() mutable {
        try {
          full.send(1);
          results.send(0);
        } catch (const goro::Panic& p) {
          results.send(std::string(p.what()) == "send on closed channel" ? 1 : 2);
        }
      });
    for (;;) {
      int n = 0;
      {
        goro::detail::mutex_guard lk(full.raw()->lock);
        for (auto* s = full.raw()->sendq.first; s; s = s->next) n++;
      }
      if (n == 5) break;
      goro::yield();
    }
    full.close();
    for (int i = 0; i < 5; i++) EXPECT_EQ(results.recv(), 1);
  });
}

TEST_P(ChanTest, GoPanicsForClosedAndNilChannels) {
  run([] {
    auto ch = goro::make_chan<int>(1);
    ch.close();
    try {
      ch.send(1);
      ADD_FAILURE() << "send on closed channel did not panic";
    } catch (const goro::Panic& p) {
      EXPECT_STREQ(p.what(), "send on closed channel");
    }
    try {
      ch.close();
      ADD_FAILURE();
    } catch (const goro::Panic& p) {
      EXPECT_STREQ(p.what(), "close of closed channel");
    }
    goro::Chan<int> nil;
    try {
      nil.close();
      ADD_FAILURE();
    } catch (const goro::Panic& p) {
      EXPECT_STREQ(p.what(), "close of nil channel");
    }
    EXPECT_THROW(goro::make_chan<int>(-1), goro::Panic);
    EXPECT_FALSE(nil.try_send(1));
    EXPECT_FALSE(nil.try_recv().selected);
    EXPECT_EQ(nil.len(), 0u);
    EXPECT_EQ(nil.cap(), 0u);
  });
}

TEST_P(ChanTest, WaitingSendersAreServedFirstInFirstOut) {
  run([] {
    auto ch = goro::make_chan<int>();
    for (int i = 0; i < 8; i++) {
      auto ready = goro::make_chan<uint64_t>(1);
      goro::go([ch, ready, i]() mutable {
        ready.send(goro::goid());
        ch.send(i);
      });
      wait_parked(ready.recv(), goro::detail::waitReason::chanSend);
    }
    for (int i = 0; i < 8; i++) EXPECT_EQ(ch.recv(), i);
  });
}

TEST_P(ChanTest, WaitingReceiversAreServedFirstInFirstOut) {
  run([] {
    auto ch = goro::make_chan<int>();
    auto got = goro::make_chan<int>(8);
    for (int i = 0; i < 8; i++) {
      auto ready = goro::make_chan<uint64_t>(1);
      goro::go([ch, got, ready, i]() mutable {
        ready.send(goro::goid());
        got.send(i * 100 + ch.recv());
      });
      wait_parked(ready.recv(), goro::detail::waitReason::chanReceive);
    }
    for (int i = 0; i < 8; i++) ch.send(i);
    std::vector<int> v;
    for (int i = 0; i < 8; i++) v.push_back(got.recv());
    std::sort(v.begin(), v.end());
    for (int i = 0; i < 8; i++)
      EXPECT_EQ(v[i], i * 100 + i) << "receiver " << i << " got another's value";
  });
}

TEST_P(ChanTest, FullBufferParksSendersInOrder) {
  run([] {
    auto ch = goro::make_chan<int>(2);
    ch.send(0);
    ch.send(1);
    for (int i = 2; i < 6; i++) {
      auto ready = goro::make_chan<uint64_t>(1);
      goro::go([ch, ready, i]() mutable {
        ready.send(goro::goid());
        ch.send(i);
      });
      wait_parked(ready.recv(), goro::detail::waitReason::chanSend);
    }
    for (int i = 0; i < 6; i++) EXPECT_EQ(ch.recv(), i);
  });
}

struct Counted {
  static inline std::atomic<int> live{0};
  std::unique_ptr<int> p;
  Counted() : p(std::make_unique<int>(0)) { live++; }
  explicit Counted(int v) : p(std::make_unique<int>(v)) { live++; }
  Counted(Counted&& o) noexcept : p(std::move(o.p)) { live++; }
  Counted& operator=(Counted&& o) noexcept {
    p = std::move(o.p);
    return *this;
  }
  ~Counted() { live--; }
};

TEST_P(ChanTest, MoveOnlyElementsAreNeitherLeakedNorDoubleFreed) {
  run([] {
    {
      auto ch = goro::make_chan<Counted>(4);
      ch.send(Counted(1));
      ch.send(Counted(2));
      ch.send(Counted(3));
      EXPECT_EQ(*ch.recv().p, 1);
      auto u = goro::make_chan<Counted>();
      auto sent = goro::make_chan<int>();
      goro::go([u, sent]() mutable {
        u.send(Counted(9));
        sent.close();  // after the moved-from temporary is gone
      });
      EXPECT_EQ(*u.recv().p, 9);
      sent.recv();
      // Two values stay buffered: the last reference frees them.
    }
    EXPECT_EQ(Counted::live.load(), 0);
  });
}

TEST_P(ChanTest, NilChannelBlocksForever) {
  // The goroutine can never be woken, so it is ignored by the leak check.
  goro::run(goro::Config{GetParam(), 0}, [] {
    auto ready = goro::make_chan<uint64_t>(1);
    // Captures by reference: an abandoned goroutine's closure is never
    // destroyed (run() does not unwind it), so it must own nothing.
    goro::go([&ready] {
      ready.send(goro::goid());
      goro::Chan<int>().recv();
    });
    uint64_t id = ready.recv();
    wait_parked(id, goro::detail::waitReason::chanReceiveNilChan);
    goro::sleep(std::chrono::milliseconds(5));
    G* gp = goro::detail::findg(id);
    ASSERT_NE(gp, nullptr);
    EXPECT_EQ(gp->atomicstatus.load(), goro::detail::_Gwaiting);
    EXPECT_STREQ(goro::detail::to_string(gp->waitreason), "chan receive (nil chan)");
    auto leaks =
        goro::testing::verify_none({goro::testing::max_wait(std::chrono::milliseconds(10))});
    EXPECT_FALSE(leaks);
    EXPECT_EQ(leaks.count(), 1);
    EXPECT_NE(leaks.report().find("[chan receive (nil chan)]"), std::string::npos) << leaks;
    EXPECT_NE(leaks.report().find("NilChannelBlocksForever"), std::string::npos) << leaks;
  });
}

// Stress: P producers send (p, seq) pairs, C consumers receive; every
// message arrives exactly once and each producer's messages in order.
void stress(int producers, int consumers, int64_t total, int64_t cap) {
  auto ch = goro::make_chan<uint64_t>(cap);
  auto done = goro::make_chan<std::vector<uint64_t>>(consumers);
  int64_t per = total / producers;
  for (int p = 0; p < producers; p++)
    goro::go([ch, p, per]() mutable {
      for (int64_t i = 0; i < per; i++) ch.send((uint64_t(p) << 40) | uint64_t(i));
    });
  for (int c = 0; c < consumers; c++)
    goro::go([ch, done]() mutable {
      std::vector<uint64_t> got;
      for (uint64_t v : ch) got.push_back(v);
      done.send(std::move(got));
    });
  // Close once every producer has ended (only main and the consumers are
  // left), so no message is sent after the close.
  while (goro::num_goroutine() > 1 + consumers) goro::yield();
  ch.close();
  std::vector<int64_t> next(producers, 0);
  int64_t n = 0;
  for (int c = 0; c < consumers; c++) {
    std::vector<int64_t> last(producers, -1);
    for (uint64_t v : done.recv()) {
      int p = static_cast<int>(v >> 40);
      int64_t seq = static_cast<int64_t>(v & ((uint64_t{1} << 40) - 1));
      ASSERT_LT(p, producers);
      ASSERT_GT(seq, last[p]) << "consumer saw producer " << p << " out of order";
      last[p] = seq;
      next[p]++;
      n++;
    }
  }
  EXPECT_EQ(n, per * producers) << "messages lost or duplicated";
  for (int p = 0; p < producers; p++) EXPECT_EQ(next[p], per) << "producer " << p;
}

#if GORO_TSAN || GORO_ASAN
constexpr int64_t kStressMessages = 200000;  // sanitizers: 10-50x slower
#else
constexpr int64_t kStressMessages = 10000000;
#endif

TEST(ChanStress, TenMillionMessagesManyProducersManyConsumers) {
  goro::run(goro::Config{2, 0}, [] { stress(8, 4, kStressMessages, 128); });
}

TEST_P(ChanTest, StressUnbufferedAndBuffered) {
  run([] {
    stress(4, 4, kStressMessages / 50, 0);
    stress(3, 5, kStressMessages / 50, 7);
  });
}

}  // namespace
