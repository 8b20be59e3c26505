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

void update0() { timer0when.store(heap->empty() ? 0 : heap->front()->when, std::memory_order_release); }

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
      if (t->period > 0) {
        t->when += t->period * (1 + (now - t->when) / t->period);
        siftdown(0);
      } else {
        remove_at(0);
      }
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

namespace goro {

void sleep(std::chrono::nanoseconds d) noexcept {
  using namespace detail;
  if (d.count() <= 0) return;
  G* gp = getg();
  if (!gp) {
    std::this_thread::sleep_for(d);
    return;
  }
  timer t{nanotime() + d.count(), 0, goready_timer, gp, 0, -1};
  // The timer is armed after the goroutine is off the CPU (unlockf), so it
  // cannot fire and ready a goroutine that is still running.
  gopark(sleep_commit, &t, waitReason::sleep);
}

}  // namespace goro
