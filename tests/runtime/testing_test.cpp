// testing_test.cpp — goro::testing::verify_none, the goleak-style leak check.
#include <chrono>
#include <regex>
#include <string>

#include "sched_fixture.h"

namespace {

using namespace std::chrono_literals;

[[gnu::noinline]] void stuck_worker(goro::Chan<int>* ch) { ch->recv(); }

// Each test makes its own scheduler (not the fixture: these leak on purpose)
// and leaves only goroutines that own nothing (see sched_test.cpp).
TEST(LeakCheck, ReportsALeakedGoroutineWithItsStack) {
  goro::run(goro::Config{2, 0}, [] {
    static auto* ch = new goro::Chan<int>(goro::make_chan<int>());
    goro::go(stuck_worker, ch);
    auto leaks = goro::testing::verify_none({goro::testing::max_wait(20ms)});
    ASSERT_FALSE(leaks);
    EXPECT_EQ(leaks.count(), 1);
    EXPECT_TRUE(std::regex_search(
        leaks.report(),
        std::regex(
            "^found unexpected goroutines:\n\n"
            "goroutine [0-9]+ \\[chan receive\\]:\n"
            "[^\n]*stuck_worker\\(\\.\\.\\.\\)\n\t[^\n]*testing_test.cpp:[0-9]+ \\+0x[0-9a-f]+\n"
            "[^]*created by [^\n]*ReportsALeakedGoroutineWithItsStack[^\n]* in goroutine "
            "[0-9]+\n")))
        << leaks;
  });
}

TEST(LeakCheck, IgnoreTopFunctionAndIgnoreCurrent) {
  goro::run(goro::Config{2, 0}, [] {
    static auto* ch = new goro::Chan<int>(goro::make_chan<int>());
    goro::go(stuck_worker, ch);
    auto opts = {goro::testing::ignore_current()};  // the stuck worker existed before
    goro::go([] {});                                // ends by itself: not a leak
    EXPECT_TRUE(goro::testing::verify_none(opts));
    goro::go(stuck_worker, ch);  // a second one, created after ignore_current()
    auto leaks = goro::testing::verify_none(
        {goro::testing::ignore_current(), goro::testing::max_wait(10ms)});
    EXPECT_TRUE(leaks) << "ignore_current() taken now covers both" << leaks;
    // (The default wait: this passes as soon as both are seen parked in
    // stuck_worker; the second may not have run yet.)
    auto top = goro::testing::verify_none(
        {goro::testing::ignore_top_function("(anonymous namespace)::stuck_worker")});
    EXPECT_TRUE(top) << top;
    auto none = goro::testing::verify_none({goro::testing::max_wait(10ms)});
    EXPECT_EQ(none.count(), 2) << none;
  });
}

TEST(LeakCheck, WaitsForGoroutinesThatAreEnding) {
  goro::run(goro::Config{2, 0}, [] {
    for (int i = 0; i < 20; i++) goro::go([] { goro::sleep(30ms); });
    auto t0 = std::chrono::steady_clock::now();
    auto leaks = goro::testing::verify_none();  // retries with backoff until they end
    EXPECT_TRUE(leaks) << leaks;
    EXPECT_GE(std::chrono::steady_clock::now() - t0, 20ms);
  });
}

}  // namespace
