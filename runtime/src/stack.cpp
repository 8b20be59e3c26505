// stack.cpp — goroutine stacks (Go: runtime/stack.go, very differently).
//
// Go grows stacks by copying (every function checks its frame against
// g.stackguard0). C++ frames cannot be moved, so a goroutine's stack is a
// fixed virtual range, committed page by page as it is touched:
//
//   slab (one mmap, MAP_NORESERVE, 64 stacks; 4096 once unguarded):
//   | guard | stack 0 ........ | guard | stack 1 ........ | ...
//     4 KiB   sched.stacksize   (guard pages only while the budget lasts)
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
// stacks beyond it are unguarded: their lowest 256 bytes are a canary that
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
// Canary: the lowest 256 bytes of every stack must stay zero. A fresh
// anonymous page reads as zeros, and *reading* it maps the kernel's shared
// zero page, which costs no RSS: so the canary needs no initialization and
// a shallow goroutine touches only its top page. (A written canary, e.g.
// 0x5354414b..., touched the bottom page of every stack: 8.5 KB of RSS per
// parked goroutine instead of 4.4, measured over 1M goroutines.) Frames
// that overflow past it write return addresses, which are never zero. A
// goroutine that legitimately reaches within 256 bytes of the limit is
// reported too. Checked in full only for unguarded stacks; guarded ones
// check two words (the guard page does the real work). Full check: 32
// loads, vectorized.
constexpr size_t kCanaryWords = kCanaryBytes / 8;
constexpr size_t kMinStack = 16 * 1024;
constexpr size_t kDefaultStack = 128 * 1024;  // Boost.Context's default; marl: 1 MiB, folly: 16 KiB
constexpr size_t kMainStack = 8 << 20;        // the main goroutine: a thread's usual 8 MiB

struct pooled {
  stack s;
  bool guarded;
};

mutex stacklock;
std::vector<pooled>* pool;    // guarded by stacklock
uintptr_t slabnext, slabend;  // carving position in the current slab
bool slabguarded;
int64_t guardbudget = -1;  // stacks that may still get a guard page
size_t slabstride;

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

stack stackalloc(bool* guarded) noexcept {
  size_t size = sched.stacksize;
  mutex_guard lk(stacklock);
  if (pool) {
    for (size_t i = pool->size(); i-- > 0;) {
      if ((*pool)[i].s.hi - (*pool)[i].s.lo == size) {
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
  size_t stride = size + kPage;  // room for a guard page either way: slabs stay uniform
  if (slabnext == slabend || slabstride != stride || (slabguarded && guardbudget <= 0)) {
    bool g = guardbudget >= static_cast<int64_t>(kSlabStacks);
    size_t nstacks = g ? kSlabStacks : kBigSlabStacks;
    void* mem = mmap(nullptr, stride * nstacks, PROT_READ | PROT_WRITE,
                     MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
    if (mem == MAP_FAILED) fatal("runtime: cannot allocate goroutine stack: mmap failed");
    if (g) {
      for (size_t i = 0; i < kSlabStacks; i++)
        mprotect(static_cast<char*>(mem) + i * stride, kPage, PROT_NONE);
      guardbudget -= kSlabStacks;
    }
    slabnext = reinterpret_cast<uintptr_t>(mem);
    slabend = slabnext + stride * nstacks;
    slabguarded = g;
    slabstride = stride;
  }
  stack s{slabnext + kPage, slabnext + stride};
  slabnext += stride;
  *guarded = slabguarded;
  return s;
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

void stackfree(stack s, uint8_t guarded) noexcept {
  if (guarded == kStackPrivate) {
    munmap(reinterpret_cast<void*>(s.lo - kPage), s.hi - s.lo + kPage);
    return;
  }
  madvise(reinterpret_cast<void*>(s.lo), s.hi - s.lo, MADV_DONTNEED);
  mutex_guard lk(stacklock);
  if (!pool) pool = new std::vector<pooled>();
  pool->push_back({s, guarded != 0});
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
  const auto* w = reinterpret_cast<const uint64_t*>(gp->stack.lo);
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
