// time.cpp — timers and sleep (Go: runtime/time.go, much simplified).
//
// One global binary min-heap of timers ordered by `when`, guarded by
// timerlock; timer0when caches the earliest deadline (0: none) so the
// scheduler checks "is a timer due?" with one relaxed load. Due timers run
// on whichever worker looks first: in findrunnable, or at every 64th
// goroutine switch (so two goroutines ping-ponging on one worker cannot
// starve timers). An idle worker sleeps on its futex no longer than until
// timer0when. Timer functions run with no lock held and must not block
// (they ready a goroutine or do a non-blocking channel send).
//
// Go 1.14+ keeps a heap per P to avoid the global lock; goro's timer load
// (sleep, after, Ticker) has not shown contention on it yet.
// Rejected: a timer thread (an extra wake-up and thread hop per timer).
#include <algorithm>
#include <chrono>
#include <thread>
#include <vector>

#include "goro/sched.h"
#include "goro/time.h"
#include "proc.h"

namespace goro::detail {

std::atomic<int64_t> timer0when{0};

namespace {

mutex timerlock;
std::vector<timer*>* heap;  // guarded by timerlock

bool less(const timer* a, const timer* b) { return a->when < b->when; }

void siftup(size_t i) {
  timer* t = (*heap)[i];
  while (i > 0) {
    size_t p = (i - 1) / 2;
    if (!less(t, (*heap)[p])) break;
    (*heap)[i] = (*heap)[p];
    (*heap)[i]->index = static_cast<int32_t>(i);
    i = p;
  }
  (*heap)[i] = t;
  t->index = static_cast<int32_t>(i);
}

void siftdown(size_t i) {
  size_t n = heap->size();
  timer* t = (*heap)[i];
  for (;;) {
    size_t c = 2 * i + 1;
    if (c >= n) break;
    if (c + 1 < n && less((*heap)[c + 1], (*heap)[c])) c++;
    if (!less((*heap)[c], t)) break;
    (*heap)[i] = (*heap)[c];
    (*heap)[i]->index = static_cast<int32_t>(i);
    i = c;
  }
  (*heap)[i] = t;
  t->index = static_cast<int32_t>(i);
}

void update0() {
  timer0when.store(heap->empty() ? 0 : heap->front()->when, std::memory_order_release);
}

void remove_at(size_t i) {
  timer* last = heap->back();
  heap->pop_back();
  (*heap)[i]->index = -1;
  if (i < heap->size()) {
    (*heap)[i] = last;
    last->index = static_cast<int32_t>(i);
    siftdown(i);
    siftup(last->index);
  }
}

}  // namespace

void addtimer(timer* t) noexcept {
  if (t->when <= 0) t->when = 1;
  bool earliest;
  {
    mutex_guard lk(timerlock);
    if (!heap) heap = new std::vector<timer*>();
    heap->push_back(t);
    siftup(heap->size() - 1);
    earliest = heap->front() == t;
    update0();
  }
  // An idle worker may be sleeping until a later deadline: wake one.
  if (earliest) wakep();
}

bool deltimer(timer* t) noexcept {
  mutex_guard lk(timerlock);
  if (t->index < 0 || !heap || static_cast<size_t>(t->index) >= heap->size() ||
      (*heap)[t->index] != t)
    return false;
  remove_at(t->index);
  update0();
  return true;
}

int64_t runtimers(int64_t now) noexcept {
  for (;;) {
    timer* t;
    void (*f)(void*, uintptr_t);
    void* arg;
    uintptr_t seq;
    {
      mutex_guard lk(timerlock);
      if (!heap || heap->empty()) {
        update0();
        return 0;
      }
      t = heap->front();
      if (t->when > now) {
        update0();
        return t->when;
      }
      f = t->f;
      arg = t->arg;
      seq = t->seq;
      remove_at(0);
      update0();
    }
    f(arg, seq);
  }
}

bool timers_pending() noexcept { return timer0when.load(std::memory_order_acquire) != 0; }

namespace {

void goready_timer(void* arg, uintptr_t) { goready(static_cast<G*>(arg)); }

bool sleep_commit(G*, void* arg) {
  addtimer(static_cast<timer*>(arg));
  return true;
}

}  // namespace

}  // namespace goro::detail

namespace goro::detail {

void timeSleep(std::chrono::nanoseconds d) noexcept {
  if (d.count() <= 0) return;
  G* gp = getg();
  if (!gp) {
    std::this_thread::sleep_for(d);
    return;
  }
  timer t{nanotime() + d.count(), goready_timer, gp, 0, -1};
  // The timer is armed after the goroutine is off the CPU (unlockf), so it
  // cannot fire and ready a goroutine that is still running.
  gopark(sleep_commit, &t, waitReason::sleep);
}

// timerstate is a Timer/Ticker: the heap entry plus the channel it sends
// on. References: the handle's and, from start until the timer is stopped
// or has fired for the last time, the heap's. `mu` orders a firing against
// stop(): runtimers takes a timer out of the heap before calling sendtime,
// so a stop() that finds it gone knows a firing is in flight and leaves it
// to sendtime (which sees `stopped`) to drop the heap's reference.
struct timerstate {
  timer t;
  Chan<Time> c;
  int64_t period;  // ns between ticks; 0 for a one-shot Timer
  std::atomic<int> refs;
  mutex mu;
  bool stopped;  // guarded by mu: no more firings
};

namespace {

void unref(timerstate* ts) {
  if (ts->refs.fetch_sub(1, std::memory_order_acq_rel) == 1) delete ts;
}

void sendtime(void* arg, uintptr_t) {
  auto* ts = static_cast<timerstate*>(arg);
  bool last;
  {
    mutex_guard lk(ts->mu);
    if (!ts->stopped) {
      Time now = std::chrono::steady_clock::now();
      ts->c.try_send(now);  // buffer of one: the tick is dropped if the reader is behind
      if (ts->period > 0) {
        ts->t.when += ts->period;
        int64_t n = nanotime();
        if (ts->t.when < n) ts->t.when = n + ts->period - (n - ts->t.when) % ts->period;
        addtimer(&ts->t);
      } else {
        ts->stopped = true;
      }
    }
    last = ts->stopped;
  }
  if (last) unref(ts);
}

}  // namespace

timerstate* starttimer(const Chan<Time>& c, std::chrono::nanoseconds d,
                       std::chrono::nanoseconds period) {
  if (period.count() < 0) throw Panic("non-positive interval for NewTicker");
  auto* ts =
      new timerstate{timer{nanotime() + std::max<int64_t>(d.count(), 0), sendtime, nullptr, 0, -1},
                     c,
                     period.count(),
                     {2},
                     {},
                     false};
  ts->t.arg = ts;
  // sendtime re-adds a Ticker's timer under ts->mu, so stop() cannot race
  // with a re-arm.
  addtimer(&ts->t);
  return ts;
}

bool stoptimer(timerstate* ts) noexcept {
  bool pending;
  {
    mutex_guard lk(ts->mu);
    if (ts->stopped) return false;
    ts->stopped = true;
    pending = deltimer(&ts->t);
  }
  if (pending) unref(ts);  // else a firing is in flight: sendtime drops it
  return pending;
}

void releasetimer(timerstate* ts) noexcept {
  stoptimer(ts);
  unref(ts);
}

void droptimer(timerstate* ts) noexcept { unref(ts); }

}  // namespace goro::detail

namespace goro {

Chan<Time> after(std::chrono::nanoseconds d) {
  auto c = make_chan<Time>(1);
  detail::droptimer(detail::starttimer(c, d, {}));  // fires once, then frees itself
  return c;
}

}  // namespace goro

namespace goro::detail {

// timers_reset runs at the end of run(): timers of abandoned goroutines
// (sleeps: on their freed stacks) must not outlive the run; Timers and
// Tickers still referenced by a handle are stopped.
void timers_reset() noexcept {
  std::vector<timer*> all;
  {
    mutex_guard lk(timerlock);
    if (!heap) return;
    all.swap(*heap);
    for (timer* t : all) t->index = -1;
    update0();
  }
  for (timer* t : all) {
    if (t->f != sendtime) continue;
    auto* ts = static_cast<timerstate*>(t->arg);
    {
      mutex_guard lk(ts->mu);
      ts->stopped = true;
    }
    unref(ts);
  }
}

}  // namespace goro::detail
