// map.cpp — the non-template support of goro::Map: bucket memory and fastrand.
//
// Bucket arrays are zeroed on allocation (calloc: large arrays come straight
// from mmap'd zero pages, so zeroing costs nothing up front). Arrays of 2 MiB
// or more are advised as transparent huge pages (MADV_HUGEPAGE; this machine
// runs THP in "madvise" mode): a 1M-entry Map<int64,int64> spans ~40 MiB of
// buckets, and huge pages spare its random lookups most TLB misses. Checked:
// after 1M inserts, 36 of the process's 43 MiB resident were AnonHugePages.
#include <malloc.h>
#include <sys/mman.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>

#include "goro/map.h"

namespace goro::detail {

constinit thread_local uint64_t tls_rand = 0;

uint64_t init_rand() noexcept {
  // Distinct per thread and per process: a global counter, the TLS address
  // (ASLR) and the clock, folded by the mixer.
  static std::atomic<uint64_t> counter{0};
  uint64_t c = counter.fetch_add(1, std::memory_order_relaxed);
  uint64_t t = static_cast<uint64_t>(std::chrono::steady_clock::now().time_since_epoch().count());
  uint64_t s = mix(c ^ kMix0, reinterpret_cast<uintptr_t>(&tls_rand) ^ kMix1) ^ mix(t, kMix1);
  if (s == 0) s = kMix0;
  tls_rand = s;
  return s;
}

namespace {
constexpr size_t kHugePage = size_t{2} << 20;
}

void* alloc_buckets(size_t bytes, size_t align) {
  void* p;
  if (align <= alignof(std::max_align_t)) {
    p = std::calloc(1, bytes);
  } else {
    size_t rounded = (bytes + align - 1) / align * align;
    p = std::aligned_alloc(align, rounded);
    if (p) std::memset(p, 0, rounded);
  }
  if (!p) {
    // As in Go, running out of memory inside a map operation is fatal: the
    // write holds hashWriting and the map is mid-update.
    std::fprintf(
        stderr,
        "runtime: out of memory: cannot allocate %zu-byte block\nfatal error: out of memory\n",
        bytes);
    std::_Exit(2);
  }
  if (bytes >= kHugePage) {
    uintptr_t lo = (reinterpret_cast<uintptr_t>(p) + kHugePage - 1) & ~(kHugePage - 1);
    uintptr_t hi = (reinterpret_cast<uintptr_t>(p) + bytes) & ~(kHugePage - 1);
    if (hi > lo) madvise(reinterpret_cast<void*>(lo), hi - lo, MADV_HUGEPAGE);
  }
  return p;
}

// ---- freed bucket arrays, for the fault handler ----
//
// A C++ reference or iterator into a goro::Map outlives a write that grows
// the map (here, or in a concurrent writer: `m[k] = v` stores through the
// reference operator[] returned, after the write ended) and points into a
// freed array. Big arrays go back to the kernel, so the access faults
// outside any map write (tls_mapop is null): silent before (issue 18: 1 of
// 1080 racy runs). The last kFreedRing arrays of kFreedMin bytes or more
// are remembered, so that the handler can say what the address was. Costs
// a malloc_usable_size and two stores per big array freed.
namespace {
constexpr size_t kFreedRing = 64;
constexpr size_t kFreedMin = 64 << 10;
struct freed_range {
  std::atomic<uintptr_t> lo{0}, hi{0};
};
freed_range g_freed[kFreedRing];
std::atomic<uint32_t> g_freed_next{0};

// Small arrays (and overflow buckets) stay in the heap when freed, so a
// stale store into one corrupts the allocator's metadata and the program
// dies later in `malloc(): corrupted top size`, far from any map (issue 18:
// 1 of 1080 racy runs, after the fault reports above). They are freed
// kQuarantine frees later instead: a stale store lands in memory nobody
// uses yet. At most kQuarantine * kFreedMin = 4 MiB held.
constexpr size_t kQuarantine = 64;
std::atomic<void*> g_quarantine[kQuarantine];
std::atomic<uint32_t> g_quarantine_next{0};
}  // namespace

void free_buckets(void* p) noexcept {
  if (!p) return;
  size_t n = malloc_usable_size(p);
  if (n < kFreedMin) {
    uint32_t i = g_quarantine_next.fetch_add(1, std::memory_order_relaxed) % kQuarantine;
    p = g_quarantine[i].exchange(p, std::memory_order_acq_rel);
    std::free(p);
    return;
  }
  freed_range& r = g_freed[g_freed_next.fetch_add(1, std::memory_order_relaxed) % kFreedRing];
  r.hi.store(0, std::memory_order_relaxed);
  r.lo.store(reinterpret_cast<uintptr_t>(p), std::memory_order_relaxed);
  r.hi.store(reinterpret_cast<uintptr_t>(p) + n, std::memory_order_release);
  std::free(p);
}

size_t freed_bucket_array(uintptr_t addr, uintptr_t* lo) noexcept {
  for (const freed_range& r : g_freed) {
    uintptr_t h = r.hi.load(std::memory_order_acquire), l = r.lo.load(std::memory_order_relaxed);
    if (l && l <= addr && addr < h) {
      *lo = l;
      return h - l;
    }
  }
  return 0;
}

}  // namespace goro::detail
