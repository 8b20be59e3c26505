// goro/testing.h — leak checks for tests, after Uber's goleak.
//
//   TEST(Server, Stops) {
//     goro::run([] {
//       auto opts = {goro::testing::ignore_current()};   // goroutines alive now are fine
//       start_and_stop_server();
//       auto leaks = goro::testing::verify_none(opts);
//       EXPECT_TRUE(leaks) << leaks;                     // report: the leaked goroutines' dump
//     });
//   }
//
// verify_none looks at every goroutine except the caller. Goroutines that
// are still winding down get time: it retries with exponential backoff (from
// 1 us, doubling, capped at 100 ms per sleep, like goleak) for up to
// max_wait (default 1 s) before reporting. Must be called inside goro::run
// (afterwards no goroutine exists: run() abandons them).
#pragma once

#include <chrono>
#include <cstdint>
#include <initializer_list>
#include <ostream>
#include <string>
#include <string_view>
#include <vector>

namespace goro::testing {

// Option is one of the functions below.
struct Option {
  enum Kind { top_function, goids, wait } kind;
  std::string function;
  std::vector<uint64_t> ids;
  std::chrono::nanoseconds max_wait{};
};

// ignore_top_function ignores goroutines whose topmost user frame is the
// function `f`, as printed in dumps without "(...)": e.g.
// "pool::worker_loop".
Option ignore_top_function(std::string_view f);
// ignore_current ignores the goroutines that exist now.
Option ignore_current();
// max_wait bounds the retries (default 1 s).
Option max_wait(std::chrono::nanoseconds d);

// LeakCheck is verify_none's result: true when nothing leaked; else
// report() is "found unexpected goroutines:" and their dump.
class LeakCheck {
 public:
  explicit operator bool() const { return report_.empty(); }
  const std::string& report() const { return report_; }
  int count() const { return count_; }
  friend std::ostream& operator<<(std::ostream& os, const LeakCheck& l) { return os << l.report_; }

 private:
  friend LeakCheck verify_none(std::initializer_list<Option>);
  std::string report_;
  int count_ = 0;
};

// verify_none checks that no goroutine but the caller (and those the
// options ignore) exists, retrying as described above.
[[nodiscard]] LeakCheck verify_none(std::initializer_list<Option> options = {});

}  // namespace goro::testing
