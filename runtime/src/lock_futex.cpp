// lock_futex.cpp — futex sleep/wake, nanotime and the runtime mutex's slow
// path (Go: runtime/lock_futex.go, os_linux.go). See goro/lock_futex.h.
#include "goro/lock_futex.h"

#include <linux/futex.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include <climits>

namespace goro::detail {

void futexsleep(const std::atomic<uint32_t>* addr, uint32_t val, int64_t ns) noexcept {
  struct timespec ts, *tsp = nullptr;
  if (ns >= 0) {
    ts.tv_sec = ns / 1000000000;
    ts.tv_nsec = ns % 1000000000;
    tsp = &ts;
  }
  syscall(SYS_futex, reinterpret_cast<const uint32_t*>(addr), FUTEX_WAIT_PRIVATE, val, tsp, nullptr,
          0);
}

void futexwakeup(const std::atomic<uint32_t>* addr, uint32_t cnt) noexcept {
  syscall(SYS_futex, reinterpret_cast<const uint32_t*>(addr), FUTEX_WAKE_PRIVATE,
          cnt > INT_MAX ? INT_MAX : static_cast<int>(cnt), nullptr, nullptr, 0);
}

int64_t nanotime_coarse() noexcept {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC_COARSE, &ts);
  return static_cast<int64_t>(ts.tv_sec) * 1000000000 + ts.tv_nsec;
}

int64_t nanotime() noexcept {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return static_cast<int64_t>(ts.tv_sec) * 1000000000 + ts.tv_nsec;
}

// Spin iterations before sleeping (Go: active_spin = 4 rounds of 30 PAUSEs,
// then passive spins with osyield). Holders keep the lock for tens of
// nanoseconds, so a short active spin wins almost always.
constexpr int kActiveSpin = 4;
constexpr int kActiveSpinCnt = 30;

// A sleeper re-checks at least this often (see lock_futex.h: a missed
// wake-up costs at most this much).
constexpr int64_t kSleepNs = 1000000;

void mutex::lock_slow() noexcept {
  for (int i = 0; i < kActiveSpin; i++) {
    for (int j = 0; j < kActiveSpinCnt; j++) __builtin_ia32_pause();
    uint8_t v = 0;
    if (key.load(std::memory_order_relaxed) == 0 &&
        key.compare_exchange_weak(v, 1, std::memory_order_acquire))
      return;
  }
  for (;;) {
    nsleep.fetch_add(1, std::memory_order_seq_cst);
    uint8_t v = 0;
    if (key.compare_exchange_strong(v, 1, std::memory_order_acquire)) {
      nsleep.fetch_sub(1, std::memory_order_relaxed);
      return;
    }
    // Sleep while the word still says "locked, with us asleep" (any change
    // of key or nsleep wakes the futex check).
    uint32_t w = word()->load(std::memory_order_relaxed);
    if (w & 0xff) futexsleep(word(), w, kSleepNs);
    nsleep.fetch_sub(1, std::memory_order_relaxed);
    v = 0;
    if (key.load(std::memory_order_relaxed) == 0 &&
        key.compare_exchange_strong(v, 1, std::memory_order_acquire))
      return;
  }
}

}  // namespace goro::detail
