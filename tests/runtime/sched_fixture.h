// sched_fixture.h — the fixture for scheduler-level tests: every test runs
// over worker counts {1, 2, 4, 8} (marl's practice) and also checks that no
// goroutine leaked (goleak's, through goro::testing::verify_none).
#pragma once

#include <gtest/gtest.h>

#include <string>

#include "goro/goro.h"
#include "goro/testing.h"

namespace goro_test {

// kManyGoroutines: how many goroutines a test may keep alive at once. TSan
// (clang 14) keeps every fiber in its thread registry, capped near 8k.
#if defined(__has_feature)
#if __has_feature(thread_sanitizer)
#define GORO_TEST_TSAN 1
#endif
#endif
#ifdef GORO_TEST_TSAN
inline constexpr int kManyGoroutines = 2000;
#else
inline constexpr int kManyGoroutines = 10000;
#endif

class Sched : public ::testing::TestWithParam<int> {
 protected:
  // run runs body as the main goroutine on GetParam() workers, then fails the
  // test if any other goroutine is left over.
  template <class F>
  void run(F&& body) {
    goro::run(goro::Config{GetParam(), 0}, [&] {
      body();
      auto leaks = goro::testing::verify_none();
      EXPECT_TRUE(leaks) << leaks;
    });
  }
};

inline std::string workers_name(const ::testing::TestParamInfo<int>& info) {
  return "m" + std::to_string(info.param);
}

}  // namespace goro_test

#define GORO_INSTANTIATE_SCHED(Suite) \
  INSTANTIATE_TEST_SUITE_P(Workers, Suite, ::testing::Values(1, 2, 4, 8), goro_test::workers_name)
