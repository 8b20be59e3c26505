// sync.cpp — the slow paths of goro's sync package (Go: sync/mutex.go,
// rwmutex.go, waitgroup.go, cond.go; runtime_canSpin from runtime/proc.go).
// Design, layout and fairness rules: goro/sync.h. The code follows Go 1.19
// line by line; Go's comments are kept where they explain a step.
//
// Memory order: Go's atomics are sequentially consistent, and so are these
// (the default std::atomic order), except the Mutex fast paths in the header
// (acquire CAS / release decrement, the same instructions on x86-64) and the
// owner stores (relaxed: written only by the holder, read by tools).
#include <thread>

#include "goro/panic.h"
#include "goro/sync.h"
#include "proc.h"

namespace goro {

using namespace detail;

namespace detail {
namespace {

// Go's active_spin / active_spin_cnt: at most 4 spin rounds of 30 PAUSEs
// each before a contended Mutex.lock queues itself.
constexpr int active_spin = 4;
constexpr int active_spin_cnt = 30;

int ncpu() {
  static const int n = static_cast<int>(std::thread::hardware_concurrency());
  return n;
}

// sync_runtime_canSpin reports whether a contended Mutex.lock should spin
// (Go's runtime_canSpin): sync.Mutex is cooperative, so be conservative:
// spin only a few times, only on a multicore machine with more than one
// worker of which at least one other is busy, and only while the local run
// queue is empty (queued goroutines, maybe the holder, would wait for us).
// Plain threads never spin: a contended lock is a fatal error for them.
bool sync_runtime_canSpin(int i) {
  if (i >= active_spin || ncpu() <= 1) return false;
  m* mp = getm();
  if (!mp || !mp->curg) return false;
  if (sched.nm <= sched.npidle.load(std::memory_order_relaxed) +
                      sched.nmspinning.load(std::memory_order_relaxed) + 1)
    return false;
  if (mp->runqhead.load(std::memory_order_relaxed) !=
          mp->runqtail.load(std::memory_order_relaxed) ||
      mp->runnext.load(std::memory_order_relaxed))
    return false;
  return true;
}

void sync_runtime_doSpin() {
  for (int i = 0; i < active_spin_cnt; i++) __builtin_ia32_pause();
}

}  // namespace
}  // namespace detail

// ---------------------------------------------------------------- Mutex

void Mutex::lockSlow(const semawhat& w) noexcept {
  int64_t waitStartTime = 0;
  bool starving = false;
  bool awoke = false;
  int iter = 0;
  int32_t old = state.load();
  for (;;) {
    // Don't spin in starvation mode, ownership is handed off to waiters so
    // we won't be able to acquire the mutex anyway.
    if ((old & (mutexLocked | mutexStarving)) == mutexLocked && sync_runtime_canSpin(iter)) {
      // Active spinning makes sense. Try to set the mutexWoken flag to
      // inform Unlock to not wake other blocked goroutines.
      if (!awoke && (old & mutexWoken) == 0 && (old >> mutexWaiterShift) != 0 &&
          state.compare_exchange_strong(old, old | mutexWoken))
        awoke = true;
      sync_runtime_doSpin();
      iter++;
      old = state.load();
      continue;
    }
    int32_t n = old;
    // Don't try to acquire a starving mutex, new arriving goroutines must queue.
    if ((old & mutexStarving) == 0) n |= mutexLocked;
    if ((old & (mutexLocked | mutexStarving)) != 0) n += 1 << mutexWaiterShift;
    // The current goroutine switches the mutex to starvation mode. But if the
    // mutex is currently unlocked, don't do the switch: Unlock expects that a
    // starving mutex has waiters, which will not be true in this case.
    if (starving && (old & mutexLocked) != 0) n |= mutexStarving;
    if (awoke) {
      // The goroutine has been woken from sleep, so we need to reset the
      // flag in either case.
      if ((n & mutexWoken) == 0) fatal("sync: inconsistent mutex state");
      n &= ~mutexWoken;
    }
    // goro: a plain thread cannot queue (it has no G to park).
    if ((old & (mutexLocked | mutexStarving)) != 0 && !getg())
      throw_not_goroutine(to_string(w.reason));
    if (state.compare_exchange_strong(old, n)) {
      if ((old & (mutexLocked | mutexStarving)) == 0) break;  // locked the mutex with CAS
      // If we were already waiting before, queue at the front of the queue.
      bool queueLifo = waitStartTime != 0;
      if (waitStartTime == 0) waitStartTime = nanotime();
      semacquire1(&sema, &waiters, queueLifo, w, waitStartTime);
      starving = starving || nanotime() - waitStartTime > starvationThresholdNs;
      old = state.load();
      if ((old & mutexStarving) != 0) {
        // If this goroutine was woken and the mutex is in starvation mode,
        // ownership was handed off to us but the mutex is in a somewhat
        // inconsistent state: mutexLocked is not set and we are still
        // accounted as a waiter. Fix that.
        if ((old & (mutexLocked | mutexWoken)) != 0 || (old >> mutexWaiterShift) == 0)
          fatal("sync: inconsistent mutex state");
        int32_t delta = mutexLocked - (1 << mutexWaiterShift);
        if (!starving || (old >> mutexWaiterShift) == 1) {
          // Exit starvation mode. Critical to do it here and consider wait
          // time. Starvation mode is so inefficient, that two goroutines can
          // go lock-step infinitely once they switch the mutex to it.
          delta -= mutexStarving;
        }
        state.fetch_add(delta);
        break;
      }
      awoke = true;
      iter = 0;
    }
    // On failure compare_exchange_strong has reloaded `old` (Go: old = m.state).
  }
}

void Mutex::unlockSlow(int32_t n) noexcept {
  if (((n + mutexLocked) & mutexLocked) == 0) fatal("sync: unlock of unlocked mutex");
  if ((n & mutexStarving) == 0) {
    int32_t old = n;
    for (;;) {
      // If there are no waiters or a goroutine has already been woken or
      // grabbed the lock, no need to wake anyone. In starvation mode
      // ownership is directly handed off from unlocking goroutine to the
      // next waiter. We are not part of this chain, since we did not observe
      // mutexStarving when we unlocked the mutex above. So get off the way.
      if ((old >> mutexWaiterShift) == 0 || (old & (mutexLocked | mutexWoken | mutexStarving)) != 0)
        return;
      // Grab the right to wake someone.
      n = (old - (1 << mutexWaiterShift)) | mutexWoken;
      if (state.compare_exchange_strong(old, n)) {
        semrelease1(&sema, &waiters, false);
        return;
      }
    }
  } else {
    // Starving mode: hand off mutex ownership to the next waiter, and yield
    // our time slice so that the next waiter can start to run immediately.
    // Note: mutexLocked is not set, the waiter will set it after wakeup. But
    // the mutex is still considered locked if mutexStarving is set, so new
    // coming goroutines won't acquire it.
    semrelease1(&sema, &waiters, true);
  }
}

// ---------------------------------------------------------------- RWMutex

void RWMutex::rlockSlow() noexcept {
  // A writer is pending, wait for it.
  semacquire1(&readerSem, &readerWaiters, false,
              {this, objkind::rwmutex, true, waitReason::syncRWMutexRLock});
}

void RWMutex::rUnlockSlow(int32_t r) noexcept {
  if (r + 1 == 0 || r + 1 == -rwmutexMaxReaders) fatal("sync: RUnlock of unlocked RWMutex");
  // A writer is pending.
  if (readerWait.fetch_sub(1) - 1 == 0) {
    // The last reader unblocks the writer.
    semrelease1(&writerSem, &writerWaiters, false);
  }
}

void RWMutex::lockSlow() noexcept {
  // First, resolve competition with other writers.
  w.lock_as(this, objkind::rwmutex, waitReason::syncRWMutexLock);
  // Announce to readers there is a pending writer.
  int32_t r = readerCount.fetch_add(-rwmutexMaxReaders);
  // Wait for active readers.
  if (r != 0 && readerWait.fetch_add(r) + r != 0)
    semacquire1(&writerSem, &writerWaiters, false,
                {this, objkind::rwmutex, false, waitReason::syncRWMutexLock});
}

bool RWMutex::try_lock() noexcept {
  if (!w.try_lock()) return false;
  int32_t zero = 0;
  if (!readerCount.compare_exchange_strong(zero, -rwmutexMaxReaders)) {
    w.unlock();
    return false;
  }
  return true;
}

void RWMutex::unlock() noexcept {
  // Announce to readers there is no active writer.
  int32_t r = readerCount.fetch_add(rwmutexMaxReaders) + rwmutexMaxReaders;
  if (r >= rwmutexMaxReaders) fatal("sync: Unlock of unlocked RWMutex");
  // Unblock blocked readers, if any.
  for (int32_t i = 0; i < r; i++) semrelease1(&readerSem, &readerWaiters, false);
  // Allow other writers to proceed.
  w.unlock();
}

// ---------------------------------------------------------------- WaitGroup

void WaitGroup::add(int delta) {
  uint64_t st = state.fetch_add(static_cast<uint64_t>(static_cast<int64_t>(delta)) << 32) +
                (static_cast<uint64_t>(static_cast<int64_t>(delta)) << 32);
  int32_t v = static_cast<int32_t>(st >> 32);
  uint32_t w = static_cast<uint32_t>(st);
  if (v < 0) throw Panic("sync: negative WaitGroup counter");
  if (w != 0 && delta > 0 && v == delta)
    throw Panic("sync: WaitGroup misuse: Add called concurrently with Wait");
  if (v > 0 || w == 0) return;
  // This goroutine has set counter to 0 when waiters > 0. Now there can't be
  // concurrent mutations of state:
  // - Adds must not happen concurrently with Wait,
  // - Wait does not increment waiters if it sees counter == 0.
  // Still do a cheap sanity check to detect WaitGroup misuse.
  if (state.load() != st) throw Panic("sync: WaitGroup misuse: Add called concurrently with Wait");
  // Reset waiters count to 0.
  state.store(0);
  for (; w != 0; w--) semrelease1(&sema, &waiters, false);
}

void WaitGroup::waitSlow() {
  uint64_t st = state.load();
  for (;;) {
    int32_t v = static_cast<int32_t>(st >> 32);
    if (v == 0) return;  // Counter is 0, no need to wait.
    if (!getg()) throw_not_goroutine(to_string(waitReason::syncWaitGroupWait));
    // Increment waiters count.
    if (state.compare_exchange_strong(st, st + 1)) {
      semacquire1(&sema, &waiters, false,
                  {this, objkind::waitgroup, false, waitReason::syncWaitGroupWait});
      if (state.load() != 0)
        throw Panic("sync: WaitGroup is reused before previous Wait has returned");
      return;
    }
  }
}

// ---------------------------------------------------------------- Cond

void Cond::waitSlow() {
  if (!getg()) throw_not_goroutine(to_string(waitReason::syncCondWait));
  uint32_t t = notifyListAdd(&notify);
  L.unlock();
  notifyListWait(&notify, t, this);
  L.lock();
}

}  // namespace goro
