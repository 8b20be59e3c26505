// goro/lock_futex.h — the runtime's internal lock and sleep primitives
// (Go: runtime/lock_futex.go).
//
// detail::mutex guards channels, wait queues and the scheduler's shared
// state. It is held only for a few instructions and never across a
// goroutine switch, so it spins briefly and then sleeps on a futex (which
// blocks the whole worker thread: acceptable because holders never park).
// Layout: one 32-bit word: byte 0 `key` (0 unlocked, 1 locked), bytes 2-3
// `nsleep` (threads asleep on the word). unlock is a plain release store of key plus a load of
// nsleep: no locked instruction. The price: an unlocker's load of nsleep may
// pass its store of key (x86 store-load reordering) and miss a thread that
// just went to sleep; sleepers therefore sleep at most kSleepNs and retry,
// so such a miss costs that much latency, never progress (in practice the
// kernel's futex check sees the store: the window is a store buffer drain).
// Measured, unbuffered ping-pong on one worker (20M round trips, quiet
// machine): Drepper's 0/1/2 futex mutex, whose unlock is an xchg, 100 ns
// per round trip; this one 77 ns (select on 2 ready channels: 47 -> 35 ns).
// Rejected: std::mutex (40 bytes, and a debugger cannot tell "held" from
// its glibc internals portably), a pure spinlock (a preempted holder would
// make every other worker burn its time slice).
//
// Synchronization is by acquire/release atomics on `key`, which TSan
// understands, so runtime state guarded by a detail::mutex needs no
// annotations.
#pragma once

#include <atomic>
#include <cstdint>

namespace goro::detail {

// futexsleep blocks while *addr == val, at most ns nanoseconds (ns < 0:
// forever). Spurious wake-ups are possible. futexwakeup wakes up to cnt.
void futexsleep(const std::atomic<uint32_t>* addr, uint32_t val, int64_t ns) noexcept;
void futexwakeup(const std::atomic<uint32_t>* addr, uint32_t cnt) noexcept;

// nanotime is CLOCK_MONOTONIC in nanoseconds (Go's nanotime).
int64_t nanotime() noexcept;
// nanotime_coarse is CLOCK_MONOTONIC_COARSE in nanoseconds: the same clock
// at tick resolution (4 ms here; up to ~8 ms behind CLOCK_MONOTONIC
// measured, with tickless idle CPUs), a few times cheaper to read. Used for
// the "since when" records of every block and spawn (G.waitsince,
// sudog.acquiretime, G.createtime): ~15 ns per park saved.
int64_t nanotime_coarse() noexcept;

// mutex is the runtime's internal lock (Go's runtime.mutex). Not recursive.
struct alignas(4) mutex {
  std::atomic<uint8_t> key{0};  // 0 unlocked, 1 locked
  uint8_t pad_{0};
  std::atomic<uint16_t> nsleep{0};  // threads sleeping on the word (futex)

  void lock() noexcept {
    uint8_t v = 0;
    if (__builtin_expect(!key.compare_exchange_strong(v, 1, std::memory_order_acquire), 0))
      lock_slow();
  }
  bool try_lock() noexcept {
    uint8_t v = 0;
    return key.compare_exchange_strong(v, 1, std::memory_order_acquire);
  }
  void unlock() noexcept {
    key.store(0, std::memory_order_release);
    if (__builtin_expect(nsleep.load(std::memory_order_relaxed) != 0, 0)) futexwakeup(word(), 1);
  }
  // unlock_parked unlocks on behalf of a goroutine that has just parked
  // (gopark's unlockf). Once the lock is free that goroutine can be woken,
  // run elsewhere and free the object this lock is in, so nothing may be
  // read after the release: one exchange of the whole word, as Go's
  // unlock2 does, where unlock is a store and then a load of nsleep (the
  // load would read freed memory). Sleepers still count in the returned
  // word, and while there are any the object is alive (they will lock it).
  void unlock_parked() noexcept {
    uint32_t old = reinterpret_cast<std::atomic<uint32_t>*>(this)->fetch_and(
        ~uint32_t{0xff}, std::memory_order_release);
    if (__builtin_expect((old >> 16) != 0, 0)) futexwakeup(word(), 1);
  }
  // word is the 32-bit futex word (key, pad, nsleep) as the kernel sees it.
  const std::atomic<uint32_t>* word() const noexcept {
    return reinterpret_cast<const std::atomic<uint32_t>*>(this);
  }
  bool held() const noexcept { return key.load(std::memory_order_relaxed) != 0; }

 private:
  void lock_slow() noexcept;
};
static_assert(sizeof(mutex) == 4 && alignof(mutex) == 4,
              "one futex word, embedded in every channel and sync object");

// lock_guard for detail::mutex (std::lock_guard works too; this one is
// noexcept and obvious in a debugger's backtrace).
struct mutex_guard {
  explicit mutex_guard(mutex& m) noexcept : m_(m) { m_.lock(); }
  ~mutex_guard() { m_.unlock(); }
  mutex_guard(const mutex_guard&) = delete;
  mutex_guard& operator=(const mutex_guard&) = delete;

 private:
  mutex& m_;
};

}  // namespace goro::detail
