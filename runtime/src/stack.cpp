// stack.cpp — goroutine stacks (Go: runtime/stack.go, very differently).
//
// Go grows stacks by copying (every function checks its frame against
// g.stackguard0). C++ frames cannot be moved, so a goroutine's stack is a
// fixed virtual range, committed page by page as it is touched:
//
//   guarded slab (one mmap, MAP_NORESERVE, 64 stacks):
//   | guard | stack 0 ........ | guard | stack 1 ........ | ...
//     4 KiB   sched.stacksize
//   unguarded slab (4096 stacks), once the guard budget is spent:
//   | lead  | stack 0 ......|c| stack 1 ......|c| stack 2 ...
//     4 KiB   c = the 256-byte canary of the next stack (below its lo)
//
// A parked goroutine with a shallow stack costs one touched page (4 KiB)
// plus its G record; 1M of them fit in a few GiB of RSS and 64 GiB of
// address space (at 64 KiB stacks; the default is 128 KiB).
//
// Overflow detection. A PROT_NONE guard page below each stack turns an
// overflow into a SIGSEGV that the runtime recognizes (signal.cpp) and
// reports as Go does ("fatal error: stack overflow", naming the goroutine).
// But each guard page splits the slab into two more kernel mappings, and
// vm.max_map_count (65530 here) caps a process's mappings: guard pages for
// every stack would stop near 32k goroutines. So guard pages are handed out
// from a budget, (max_map_count - 16384) / 2 stacks (about 24k here), and
// stacks beyond it are unguarded: the 256 bytes below each are a canary that
// is checked, together with the stack pointer, every time a goroutine
// leaves the CPU (stackcheck). An unguarded overflow is therefore caught
// late (at the next switch) and may already have scribbled over the top of
// the neighbouring stack; the report says so. Rejected: -fsplit-stack (every
// function of the program, libraries included, would need to be built with
// it), one mmap per stack (1 mapping each: the same cap), userfaultfd
// (privileged here).
//
// Pooling: stacks stay attached to dead G records (proc.cpp's free lists)
// and are reused as they are; at the end of run() they are returned here,
// their pages released with MADV_DONTNEED, and kept for the next run.
//
// GORO_STACK_GUARDS=N overrides the budget (0: no guard pages at all).
//
// Stack size: GORO_STACK_SIZE (bytes, rounded up to pages, at least 16 KiB)
// or 128 KiB; the main goroutine gets 8 MiB of its own (a thread's usual
// stack: it often runs the program's deepest code). Page tables cost 8 bytes per 4 KiB of *touched*
// stack plus one 4 KiB table page per 2 MiB region that holds any touched page, so smaller stacks
// pack parked goroutines' top pages into fewer table pages:
//
//   stack size | page-table bytes per parked goroutine (1 touched page)
//   64 KiB     | 128 (32 stacks per 2 MiB)
//   128 KiB    | 256 (the default)
//   256 KiB    | 512
//   1 MiB      | 2048
#include <sys/mman.h>
#include <unistd.h>

#include <cinttypes>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <vector>

#include "goro/sched.h"
#include "proc.h"

namespace goro::detail {

namespace {

constexpr size_t kPage = 4096;
// Stacks per slab: guarded slabs are small (the budget is counted in them),
// unguarded ones big, so that a million stacks take a few hundred mappings
// even when the kernel cannot merge neighbouring slabs.
constexpr size_t kSlabStacks = 64;
constexpr size_t kBigSlabStacks = 4096;
// Canary (unguarded stacks): the 256 bytes just below a stack's lo must
// stay zero. They are the unused top of the previous stack's region (or of
// the slab's leading page), so checking them reads a page the neighbour has
// touched anyway, and a fresh page reads as zeros without initialization.
// (A canary written at the bottom of each stack touched a second page per
// goroutine: 8.5 KB of RSS per parked goroutine instead of 4.4, measured
// over 1M.) Frames that overflow past lo write return addresses, which are
// never zero. A goroutine whose sp comes within 256 bytes of lo is reported
// too. Guarded stacks need no canary: the guard page does the work. The
// full check is 32 loads ORed together.
constexpr size_t kCanaryWords = kCanaryBytes / 8;
constexpr size_t kMinStack = 16 * 1024;
constexpr size_t kDefaultStack = 128 * 1024;  // Boost.Context's default; marl: 1 MiB, folly: 16 KiB
constexpr size_t kMainStack = 8 << 20;        // the main goroutine: a thread's usual 8 MiB

// A slab: `nstacks` stacks of `size` usable bytes. Guarded: each stack
// has a PROT_NONE page below it (stride size + page). Unguarded: stacks
// are adjacent (stride size), after one leading page, and each stack's
// canary is the 256 bytes just *below* its lo: the top of the previous
// stack's region (or of the leading page), which that stack never uses.
// A parked neighbour's top page is resident anyway, so checking a canary
// touches no new page.
struct slab {
  uintptr_t base;  // mmap address
  size_t len;      // mapped bytes
  size_t size;     // stack size asked for
  size_t nstacks;  // stacks carved so far
  bool guarded;
};

struct pooled {
  stack s;
  size_t size;  // the stack size asked for (hi - lo is smaller when unguarded)
  bool guarded;
};

mutex stacklock;
std::vector<pooled>* pool;  // guarded by stacklock
std::vector<slab>* slabs;   // guarded by stacklock; the last one is being carved
size_t slabcap;             // stacks the last slab can hold
int64_t guardbudget = -1;   // stacks that may still get a guard page

int64_t read_max_map_count() {
  FILE* f = std::fopen("/proc/sys/vm/max_map_count", "r");
  long long n = 65530;
  if (f) {
    if (std::fscanf(f, "%lld", &n) != 1) n = 65530;
    std::fclose(f);
  }
  return n;
}

}  // namespace

size_t default_stacksize() noexcept {
  size_t s = kDefaultStack;
  if (const char* v = std::getenv("GORO_STACK_SIZE")) {
    char* end;
    unsigned long long n = std::strtoull(v, &end, 10);
    if (*end == 0 && n > 0) s = n;
  }
  if (s < kMinStack) s = kMinStack;
  s = (s + kPage - 1) & ~(kPage - 1);
  return s;
}

// stack_at returns the nth stack of slab sl.
stack stack_at(const slab& sl, size_t n) {
  if (sl.guarded) {
    uintptr_t b = sl.base + n * (sl.size + kPage);
    return {b + kPage, b + kPage + sl.size};
  }
  uintptr_t b = sl.base + kPage + n * sl.size;
  return {b, b + sl.size - kCanaryBytes};
}

stack stackalloc(bool* guarded) noexcept {
  size_t size = sched.stacksize;
  mutex_guard lk(stacklock);
  if (pool) {
    for (size_t i = pool->size(); i-- > 0;) {
      if ((*pool)[i].size == size) {
        pooled p = (*pool)[i];
        (*pool)[i] = pool->back();
        pool->pop_back();
        *guarded = p.guarded;
        return p.s;
      }
    }
  }
  if (guardbudget < 0) {
    guardbudget = (read_max_map_count() - 16384) / 2;
    if (const char* v = std::getenv("GORO_STACK_GUARDS")) guardbudget = std::atoll(v);
  }
  if (!slabs) slabs = new std::vector<slab>();
  slab* cur = slabs->empty() ? nullptr : &slabs->back();
  if (!cur || cur->nstacks == slabcap || cur->size != size ||
      (cur->guarded && guardbudget < static_cast<int64_t>(kSlabStacks) &&
       cur->nstacks == slabcap)) {
    bool g = guardbudget >= static_cast<int64_t>(kSlabStacks);
    size_t n = g ? kSlabStacks : kBigSlabStacks;
    size_t len = g ? n * (size + kPage) : kPage + n * size;
    void* mem = mmap(nullptr, len, PROT_READ | PROT_WRITE,
                     MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
    if (mem == MAP_FAILED) fatal("runtime: cannot allocate goroutine stack: mmap failed");
    if (g) {
      for (size_t i = 0; i < n; i++)
        mprotect(static_cast<char*>(mem) + i * (size + kPage), kPage, PROT_NONE);
      guardbudget -= static_cast<int64_t>(n);
    }
    slabs->push_back(slab{reinterpret_cast<uintptr_t>(mem), len, size, 0, g});
    slabcap = n;
    cur = &slabs->back();
  }
  *guarded = cur->guarded;
  return stack_at(*cur, cur->nstacks++);
}

void stacks_reset() noexcept {
  mutex_guard lk(stacklock);
  if (!slabs) return;
  if (!pool) pool = new std::vector<pooled>();
  pool->clear();
  // One madvise per slab (a million per-stack calls cost seconds of TLB
  // shootdowns), then every carved stack back into the pool.
  for (slab& sl : *slabs) {
    madvise(reinterpret_cast<void*>(sl.base), sl.len, MADV_DONTNEED);
    for (size_t i = 0; i < sl.nstacks; i++) pool->push_back({stack_at(sl, i), sl.size, sl.guarded});
  }
}

stack stackalloc_main(uint8_t* guarded) noexcept {
  size_t size = std::max(kMainStack, sched.stacksize);
  void* mem = mmap(nullptr, size + kPage, PROT_READ | PROT_WRITE,
                   MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
  if (mem == MAP_FAILED) fatal("runtime: cannot allocate the main goroutine's stack: mmap failed");
  mprotect(mem, kPage, PROT_NONE);
  *guarded = kStackPrivate;
  uintptr_t lo = reinterpret_cast<uintptr_t>(mem) + kPage;
  return {lo, lo + size};
}

void stackfree_private(stack s) noexcept {
  munmap(reinterpret_cast<void*>(s.lo - kPage), s.hi - s.lo + kPage);
}

// stack_guard_hit: does a fault at addr look like gp running off its stack?
// Guarded: within the guard page (plus slack for a big frame's first
// touch). Unguarded: anywhere in the stack-sized range below it (the fault
// comes when the overflow leaves the mapped slab).
bool stack_guard_hit(G* gp, uintptr_t addr) noexcept {
  if (!gp || !gp->stack.lo || addr >= gp->stack.lo) return false;
  uintptr_t reach = gp->stackguarded ? kPage * 16 : gp->stack.hi - gp->stack.lo + kPage;
  return addr + reach >= gp->stack.lo;
}

[[noreturn]] static void stackoverflow(G* gp, uintptr_t sp, const char* how) {
  char buf[512];
  std::string who = "goroutine " + std::to_string(gp->goid);
  if (gp->name[0]) who += std::string(" (") + gp->name + ")";
  std::snprintf(buf, sizeof buf,
                "runtime: %s stack exceeds %zu-byte limit\n"
                "runtime: sp=%#" PRIxPTR " stack=[%#" PRIxPTR ", %#" PRIxPTR "]%s\n",
                who.c_str(), static_cast<size_t>(gp->stack.hi - gp->stack.lo), sp, gp->stack.lo,
                gp->stack.hi, how);
  (void)!write(2, buf, std::strlen(buf));
  fatal_with_dump("stack overflow", false);
}

bool canary_broken_unguarded(const G* gp) noexcept {
  const auto* w = reinterpret_cast<const uint64_t*>(gp->stack.lo - kCanaryBytes);
  uint64_t bits = 0;
  for (size_t i = 0; i < kCanaryWords; i++) bits |= w[i];
  return bits != 0;
}

void stackcheck_fail(G* gp, uintptr_t sp) noexcept {
  stackoverflow(gp, sp,
                gp->stackguarded ? ""
                                 : "\nruntime: (unguarded stack: the overflow was found at a "
                                   "switch; the stack below it may be damaged)");
}

void report_guard_fault(G* gp, uintptr_t addr) noexcept { stackoverflow(gp, addr, ""); }

}  // namespace goro::detail
