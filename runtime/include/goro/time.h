// goro/time.h — timers on channels (Go: time.After, time.NewTimer,
// time.NewTicker).
//
//   switch (goro::select(goro::recv(results, r), goro::recv_discard(t.c()))) ...
//   auto tick = goro::Ticker(std::chrono::milliseconds(10));
//   for (int i = 0; i < 3; i++) tick.c().recv();
//
// Values are the std::chrono::steady_clock time at which the timer fired.
// Like Go's, a timer's channel has a buffer of one and the runtime sends
// without blocking: a Ticker whose reader is slow drops ticks.
#pragma once

#include <chrono>
#include <memory>

#include "goro/chan.h"
#include "goro/runtime2.h"

namespace goro {

using Time = std::chrono::steady_clock::time_point;

namespace detail {
struct timer;
// timerstate is shared by a Timer/Ticker and the runtime's timer heap.
struct timerstate;
timerstate* starttimer(const Chan<Time>& c, std::chrono::nanoseconds d,
                       std::chrono::nanoseconds period);
bool stoptimer(timerstate* t) noexcept;     // true if it was pending
void releasetimer(timerstate* t) noexcept;  // stop, and drop the handle's reference
void droptimer(timerstate* t) noexcept;     // drop the handle's reference only
}  // namespace detail

// Timer sends the time once on c() after d (Go's time.NewTimer). stop()
// prevents it from firing (true if it had not fired yet).
class Timer {
 public:
  explicit Timer(std::chrono::nanoseconds d)
      : c_(make_chan<Time>(1)), t_(detail::starttimer(c_, d, {})) {}
  ~Timer() { detail::releasetimer(t_); }
  Timer(const Timer&) = delete;
  Timer& operator=(const Timer&) = delete;

  Chan<Time>& c() noexcept { return c_; }
  bool stop() noexcept { return detail::stoptimer(t_); }

 private:
  Chan<Time> c_;
  detail::timerstate* t_;
};

// Ticker sends the time on c() every d (Go's time.NewTicker). d must be > 0:
// goro::Panic "non-positive interval for NewTicker" otherwise, as in Go.
class Ticker {
 public:
  explicit Ticker(std::chrono::nanoseconds d)
      : c_(make_chan<Time>(1)), t_(detail::starttimer(c_, d, positive(d))) {}
  ~Ticker() { detail::releasetimer(t_); }
  Ticker(const Ticker&) = delete;
  Ticker& operator=(const Ticker&) = delete;

  Chan<Time>& c() noexcept { return c_; }
  void stop() noexcept { detail::stoptimer(t_); }

 private:
  // (a zero period would make starttimer a one-shot Timer)
  static std::chrono::nanoseconds positive(std::chrono::nanoseconds d) {
    if (d.count() <= 0) throw Panic("non-positive interval for NewTicker");
    return d;
  }

  Chan<Time> c_;
  detail::timerstate* t_;
};

// after returns a channel that receives the time once d has elapsed (Go's
// time.After). The timer cannot be stopped; use Timer for that.
Chan<Time> after(std::chrono::nanoseconds d);

}  // namespace goro
