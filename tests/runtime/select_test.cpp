// select_test.cpp — select: readiness, default, blocking, close, nil
// channels, fairness (chi-square), and what a parked select records.
#include <array>
#include <chrono>
#include <string>

#include "proc.h"
#include "sched_fixture.h"

namespace {

using goro::detail::G;
using namespace std::chrono_literals;

class SelectTest : public goro_test::Sched {};
GORO_INSTANTIATE_SCHED(SelectTest);

TEST_P(SelectTest, PicksTheReadyCaseOrDefault) {
  run([] {
    auto a = goro::make_chan<int>(1), b = goro::make_chan<int>(1);
    int v = -1;
    bool ok = false;
    EXPECT_EQ(goro::select(goro::recv(a, v, &ok), goro::recv(b, v, &ok), goro::default_case()), 2);
    b.send(7);
    EXPECT_EQ(goro::select(goro::recv(a, v, &ok), goro::recv(b, v, &ok), goro::default_case()), 1);
    EXPECT_EQ(v, 7);
    EXPECT_TRUE(ok);
    // A send case is ready when there is buffer space.
    EXPECT_EQ(goro::select(goro::recv(a, v), goro::send(b, 8)), 1);
    EXPECT_EQ(b.recv(), 8);
    // Default first in the argument list works the same.
    EXPECT_EQ(goro::select(goro::default_case(), goro::recv(a, v)), 0);
    EXPECT_EQ(goro::select(goro::default_case()), 0);
  });
}

TEST_P(SelectTest, BlocksUntilACaseIsReady) {
  run([] {
    auto a = goro::make_chan<int>();
    auto b = goro::make_chan<std::string>();
    goro::go([b]() mutable {
      goro::sleep(2ms);
      b.send("late");
    });
    int v;
    std::string s;
    EXPECT_EQ(goro::select(goro::recv(a, v), goro::recv(b, s)), 1);
    EXPECT_EQ(s, "late");

    // A blocked select send case is taken by a receiver.
    auto c = goro::make_chan<int>();
    goro::go([c]() mutable {
      goro::sleep(2ms);
      EXPECT_EQ(c.recv(), 99);
    });
    EXPECT_EQ(goro::select(goro::recv(a, v), goro::send(c, 99)), 1);
  });
}

TEST_P(SelectTest, ClosedChannelIsAlwaysReadyForReceive) {
  run([] {
    auto a = goro::make_chan<int>(), closed = goro::make_chan<int>();
    closed.close();
    int v = 5;
    bool ok = true;
    EXPECT_EQ(goro::select(goro::recv(a, v, &ok), goro::recv(closed, v, &ok)), 1);
    EXPECT_FALSE(ok);
    EXPECT_EQ(v, 0);
    // A select parked on a channel is woken by its close.
    auto b = goro::make_chan<int>();
    goro::go([b]() mutable {
      goro::sleep(2ms);
      b.close();
    });
    EXPECT_EQ(goro::select(goro::recv(a, v, &ok), goro::recv(b, v, &ok)), 1);
    EXPECT_FALSE(ok);
    // A send case on a closed channel panics.
    EXPECT_THROW(goro::select(goro::send(closed, 1), goro::recv(a, v)), goro::Panic);
  });
}

TEST_P(SelectTest, NilChannelCasesAreNeverChosen) {
  run([] {
    goro::Chan<int> nil;
    auto a = goro::make_chan<int>(1);
    a.send(1);
    int v;
    for (int i = 0; i < 20; i++) {
      EXPECT_EQ(goro::select(goro::recv(nil, v), goro::send(nil, 3), goro::recv(a, v)), 2);
      a.send(1);
    }
    EXPECT_EQ(goro::select(goro::recv(nil, v), goro::default_case()), 1);
  });
}

TEST_P(SelectTest, ChoiceAmongReadyCasesIsUniform) {
  // Four always-ready channels; chi-square with 3 degrees of freedom. The
  // critical value at p = 0.001 is 16.27, so a fair select fails one sample
  // in 1000 (measured: 2 in 1200). The test fails only if three independent
  // samples all fail: 1e-9 for a fair select, while a real bias (chi-square
  // in the hundreds at 40,000 trials for a 2% skew) fails every sample.
  run([] {
    std::array<goro::Chan<int>, 4> ch;
    for (auto& c : ch) {
      c = goro::make_chan<int>(1);
      c.send(0);
    }
    std::string samples;
    for (int attempt = 0; attempt < 3; attempt++) {
      std::array<int, 4> hits{};
      constexpr int kTrials = 40000;
      int v;
      for (int t = 0; t < kTrials; t++) {
        int k = goro::select(goro::recv(ch[0], v), goro::recv(ch[1], v), goro::recv(ch[2], v),
                             goro::recv(ch[3], v));
        hits[k]++;
        ch[k].send(0);
      }
      double expected = kTrials / 4.0, chi2 = 0;
      for (int h : hits) chi2 += (h - expected) * (h - expected) / expected;
      if (chi2 < 16.27) return;
      samples += std::to_string(hits[0]) + " " + std::to_string(hits[1]) + " " +
                 std::to_string(hits[2]) + " " + std::to_string(hits[3]) + " (chi2 " +
                 std::to_string(chi2) + "); ";
    }
    ADD_FAILURE() << "select is not uniform: " << samples;
  });
}

TEST_P(SelectTest, SameChannelInSeveralCases) {
  run([] {
    auto a = goro::make_chan<int>();
    goro::go([a]() mutable {
      for (int i = 0; i < 100; i++) a.send(i);
    });
    int x = -1, y = -1, sum = 0;
    for (int i = 0; i < 100; i++) {
      int k = goro::select(goro::recv(a, x), goro::recv(a, y));
      sum += k == 0 ? x : y;
    }
    EXPECT_EQ(sum, 4950);
  });
}

TEST_P(SelectTest, ParkedSelectRecordsEveryCase) {
  run([] {
    auto a = goro::make_chan<int>(), b = goro::make_chan<int>(), c = goro::make_chan<int>(2);
    c.send(1);
    c.send(2);  // full: the send case blocks too
    auto ready = goro::make_chan<uint64_t>(1);
    auto result = goro::make_chan<int>(1);
    goro::go([=]() mutable {
      ready.send(goro::goid());
      int v;
      result.send(goro::select(goro::recv(a, v), goro::recv(b, v), goro::send(c, 3)));
    });
    uint64_t id = ready.recv();
    G* gp;
    for (;;) {
      gp = goro::detail::findg(id);
      if (gp->atomicstatus.load() == goro::detail::_Gwaiting &&
          gp->waitreason == goro::detail::waitReason::select)
        break;
      goro::yield();
    }
    EXPECT_STREQ(goro::detail::to_string(gp->waitreason), "select");
    int n = 0;
    bool sawA = false, sawB = false, sawC = false;
    for (auto* s = gp->waiting; s; s = s->waitlink, n++) {
      EXPECT_TRUE(s->isSelect);
      EXPECT_EQ(s->g, gp);
      sawA |= s->c == a.raw() && s->isRead;
      sawB |= s->c == b.raw() && s->isRead;
      sawC |= s->c == c.raw() && !s->isRead;
    }
    EXPECT_EQ(n, 3);
    EXPECT_TRUE(sawA && sawB && sawC);
    b.send(5);
    EXPECT_EQ(result.recv(), 1);
    // The other cases' waiters are gone from their channels.
    EXPECT_EQ(a.raw()->recvq.first, nullptr);
    EXPECT_EQ(c.raw()->sendq.first, nullptr);
  });
}

TEST_P(SelectTest, TimeoutWithAfter) {
  run([] {
    auto never = goro::make_chan<int>();
    auto t0 = std::chrono::steady_clock::now();
    int v;
    EXPECT_EQ(goro::select(goro::recv(never, v), goro::recv_discard(goro::after(5ms))), 1);
    EXPECT_GE(std::chrono::steady_clock::now() - t0, 5ms);
  });
}

TEST_P(SelectTest, SelectWithNoCasesBlocksForever) {
  goro::run(goro::Config{GetParam(), 0}, [] {
    auto ready = goro::make_chan<uint64_t>(1);
    goro::go([&ready] {  // by reference: abandoned goroutines must own nothing
      ready.send(goro::goid());
      goro::select();
    });
    uint64_t id = ready.recv();
    for (;;) {
      G* gp = goro::detail::findg(id);
      if (gp->atomicstatus.load() == goro::detail::_Gwaiting) {
        EXPECT_STREQ(goro::detail::to_string(gp->waitreason), "select (no cases)");
        break;
      }
      goro::yield();
    }
  });
}

}  // namespace
