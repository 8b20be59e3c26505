// proc.cpp — the goroutine scheduler (Go: runtime/proc.go).
//
// Design
//   Goroutines (G) run on worker threads (M). Go separates M (thread) from
//   P (the right to run Go code, with a run queue) so that a thread blocked
//   in a system call can hand its P to another thread. goro does not track
//   system calls (a goroutine blocked in read(2) simply keeps its worker), so
//   an M owns its run queue for life: goro's `m` is Go's M and P in one.
//
//   Each m has a local run queue (a 256-entry ring, lock-free for the owner,
//   stealable by others: Go's runq) plus `runnext`, a one-slot queue holding
//   the goroutine just readied by the running one, so that a pair of
//   goroutines ping-ponging over a channel keeps running on one worker
//   back to back. A global FIFO queue (sched.lock) takes overflow, yields
//   and goroutines readied by plain threads.
//
//   Worker loop (on the thread's own stack, "g0"):
//
//     findrunnable:  timers due? -> run them
//                    every 61st tick: global queue first (fairness)
//                    runnext, local queue, global queue
//                    steal half of another worker's queue (4 rounds,
//                    random order; the last round may take runnext)
//                    park: join the idle list, re-check every queue,
//                          check for deadlock, futex-sleep until woken or
//                          the next timer
//     execute:       switch to the goroutine
//
//   A goroutine that blocks (gopark), yields or exits does not go back to
//   g0 when its own worker has more work: it picks the next goroutine from
//   its local queue and switches to it directly (one switch instead of Go's
//   two); every 64th switch, or when the local queue is empty, it goes
//   through g0 so timers and the global queue are served. The context that
//   is switched *to* completes the switch (post_switch): it releases the
//   lock the parking goroutine held (gopark's unlockf), queues the yielding
//   one, or recycles the exited one's G and stack. Doing these before the
//   switch would let another worker resume a goroutine whose registers are
//   not saved yet.
//
//   Waking idle workers is Go's protocol: whoever makes work available
//   calls wakep(), which wakes one parked worker if none is spinning
//   (looking for work). A spinning worker that finds work wakes another
//   (resetspinning), so work spreads without a thundering herd. A worker
//   about to sleep re-checks every queue after announcing itself idle; with
//   wakep's check of npidle after publishing work this is a Dekker pair
//   (both sides use seq_cst), so no wake-up is lost.
//
//   Deadlock (Go's checkdead): when the last worker goes idle, no goroutine
//   is runnable, no timer is pending and goroutines exist, every goroutine is
//   blocked on a goro primitive: "fatal error: all goroutines are asleep -
//   deadlock!", the dump, exit 2. Plain threads that later wake a goroutine
//   (closing a channel, Unlock, Done) are invisible to this check.
//
// Rejected
//   * A goroutine per std::thread (no scheduling control, 8 MiB stacks,
//     ~10 us to create).
//   * One global run queue (every switch through one lock: Go 1.0's design,
//     replaced for this reason).
//   * Always switching through g0 (Go's mcall): two switches per block
//     instead of one (goro's yield, one switch, is 18.9 ns against Go's
//     Gosched at 56.7: docs/performance.md).
//   * Polling the queues for a while before parking (beyond the stealing
//     rounds). Measured on 2 workers, spin 0 / 20 / 50 us: ping-pong
//     212 / 208 / 201 ns, spawn+exit 553 / 655 / 546 ns (two runs agree
//     within noise): no gain worth a burning CPU. Measured again later
//     (bench/sched, spin 0 / 10 / 50 us): RWMutex read-mostly 25 / 50 /
//     48 ns, contended Mutex 40 / 44 / 52 ns, ping-pong 130 / 156 / 145 ns:
//     the spinner steals cache lines and CPU time from the worker doing
//     the work (2 CPUs).
//
// Registry. All G records live in chunks of kGChunk that are never freed
// (sched.allgchunks): a debugger walks chunk by chunk; a runtime walker may
// read while goroutines are created. sched.goidx maps goid -> G in O(1).
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <thread>
#include <vector>

#include "goro/debug.h"
#include "goro/misuse.h"
#include "goro/sched.h"
#include "proc.h"

#if GORO_ASAN
#include <sanitizer/asan_interface.h>
#include <sanitizer/common_interface_defs.h>
#endif
#if GORO_TSAN
#include <sanitizer/tsan_interface.h>
#endif

namespace goro::detail {

schedt sched;
constinit thread_local m* tls_m = nullptr;
constinit thread_local G* tls_g = nullptr;

const char* gstatus_string(uint32_t s) {
  return s < std::size(gstatusStrings) && gstatusStrings[s][0] ? gstatusStrings[s] : "???";
}

namespace {

// Local free G cache size per worker before half goes to the global list
// (Go: 64 / 32).
constexpr int32_t kGFreeMax = 64;

inline uint32_t fastrand(m* mp) {
  // wyrand: one multiply, passes BigCrush; per-worker state, no sharing.
  mp->fastrand += 0xa0761d6478bd642full;
  __uint128_t t = static_cast<__uint128_t>(mp->fastrand) * (mp->fastrand ^ 0xe7037ed1a0b428dbull);
  return static_cast<uint32_t>((t >> 64) ^ t);
}

inline void cpu_relax() { __builtin_ia32_pause(); }

uint64_t thread_token() { return Who::make(Who::thread, syscall(SYS_gettid)).token; }

// ---------------------------------------------------------------- sanitizers

#if GORO_ASAN
inline void asan_start(G* from, G* to, bool from_exits) {
  __sanitizer_start_switch_fiber(from_exits ? nullptr : &from->asan_fake_stack,
                                 reinterpret_cast<void*>(to->stack.lo),
                                 to->stack.hi - to->stack.lo);
}
inline void asan_finish(G* self) {
  __sanitizer_finish_switch_fiber(self->asan_fake_stack, nullptr, nullptr);
}
#else
inline void asan_start(G*, G*, bool) {}
inline void asan_finish(G*) {}
#endif

#if GORO_TSAN
inline void tsan_switch(G* to) { __tsan_switch_to_fiber(to->tsan_fiber, 0); }
#else
inline void tsan_switch(G*) {}
#endif

}  // namespace

// ---------------------------------------------------------------- run queues

namespace {

// globrunqputbatch appends the n goroutines head..tail (linked through
// schedlink) to the global queue. sched.lock held.
void globrunqputbatch(G* head, G* tail, int32_t n) {
  tail->schedlink = nullptr;
  if (sched.runqtail)
    sched.runqtail->schedlink = head;
  else
    sched.runqhead = head;
  sched.runqtail = tail;
  sched.runqsize.fetch_add(n, std::memory_order_relaxed);
}

void globrunqput(G* gp) { globrunqputbatch(gp, gp, 1); }  // sched.lock held

bool runqput_local(m* mp, G* gp);

// globrunqget takes up to a fair share of the global queue (sched.lock
// held): one to return, the rest into mp's local queue.
G* globrunqget(m* mp, int32_t max) {
  int32_t size = sched.runqsize.load(std::memory_order_relaxed);
  if (size == 0) return nullptr;
  int32_t n = size / sched.nm + 1;
  if (n > size) n = size;
  if (max > 0 && n > max) n = max;
  if (n > static_cast<int32_t>(kRunqSize / 2)) n = kRunqSize / 2;
  sched.runqsize.fetch_sub(n, std::memory_order_relaxed);
  G* gp = sched.runqhead;
  sched.runqhead = gp->schedlink;
  for (int32_t i = 1; i < n; i++) {
    G* g = sched.runqhead;
    sched.runqhead = g->schedlink;
    runqput_local(mp, g);
  }
  if (!sched.runqhead) sched.runqtail = nullptr;
  return gp;
}

// runqputslow moves half of the full local queue plus gp to the global queue.
bool runqputslow(m* mp, G* gp, uint32_t h, uint32_t t) {
  G* batch[kRunqSize / 2 + 1];
  uint32_t n = (t - h) / 2;
  if (n != kRunqSize / 2) return false;
  for (uint32_t i = 0; i < n; i++)
    batch[i] = mp->runq[(h + i) % kRunqSize].load(std::memory_order_relaxed);
  if (!mp->runqhead.compare_exchange_strong(h, h + n, std::memory_order_release)) return false;
  batch[n] = gp;
  for (uint32_t i = 0; i < n; i++) batch[i]->schedlink = batch[i + 1];
  mutex_guard lk(sched.lock);
  globrunqputbatch(batch[0], batch[n], static_cast<int32_t>(n + 1));
  return true;
}

// runqput_local appends gp to the owner's local queue (never runnext).
bool runqput_local(m* mp, G* gp) {
  for (;;) {
    uint32_t h = mp->runqhead.load(std::memory_order_acquire);
    uint32_t t = mp->runqtail.load(std::memory_order_relaxed);
    if (t - h < kRunqSize) {
      mp->runq[t % kRunqSize].store(gp, std::memory_order_relaxed);
      mp->runqtail.store(t + 1, std::memory_order_release);
      return true;
    }
    if (runqputslow(mp, gp, h, t)) return true;
  }
}

// runqput puts gp on mp's queue; next: into runnext (the old runnext, if
// any, goes to the tail). Only the owner calls it.
void runqput(m* mp, G* gp, bool next) {
  if (next) {
    // Only the owner fills runnext (thieves only empty it), so an empty
    // runnext can be filled with a plain store: one locked instruction less
    // per channel hand-off.
    G* old = mp->runnext.load(std::memory_order_relaxed);
    if (!old) {
      mp->runnext.store(gp, std::memory_order_release);
      return;
    }
    old = mp->runnext.exchange(gp, std::memory_order_acq_rel);
    if (!old) return;
    gp = old;
  }
  runqput_local(mp, gp);
}

G* runqget(m* mp, bool inheritnext = true) {
  if (sched.nm == 1) {
    // One worker: nobody else takes from this queue (plain threads use the
    // global queue), so no compare-and-swap. Measured (20M round trips):
    // ping-pong on one worker 120 -> 100 ns, yield 23 -> 18 ns.
    if (inheritnext) {
      if (G* next = mp->runnext.load(std::memory_order_relaxed)) {
        mp->runnext.store(nullptr, std::memory_order_relaxed);
        return next;
      }
    }
    uint32_t h = mp->runqhead.load(std::memory_order_relaxed);
    if (h != mp->runqtail.load(std::memory_order_relaxed)) {
      G* gp = mp->runq[h % kRunqSize].load(std::memory_order_relaxed);
      mp->runqhead.store(h + 1, std::memory_order_release);
      return gp;
    }
    if (inheritnext) return nullptr;
    G* next = mp->runnext.load(std::memory_order_relaxed);
    mp->runnext.store(nullptr, std::memory_order_relaxed);
    return next;
  }
  if (inheritnext) {
    G* next = mp->runnext.load(std::memory_order_relaxed);
    if (next && mp->runnext.compare_exchange_strong(next, nullptr, std::memory_order_acq_rel))
      return next;
  }
  for (;;) {
    uint32_t h = mp->runqhead.load(std::memory_order_acquire);
    uint32_t t = mp->runqtail.load(std::memory_order_relaxed);
    if (t == h) break;
    G* gp = mp->runq[h % kRunqSize].load(std::memory_order_relaxed);
    if (mp->runqhead.compare_exchange_weak(h, h + 1, std::memory_order_release)) return gp;
  }
  if (!inheritnext) return runqget(mp, true);
  return nullptr;
}

bool runqempty(m* mp) {
  for (;;) {
    uint32_t h = mp->runqhead.load(std::memory_order_acquire);
    uint32_t t = mp->runqtail.load(std::memory_order_acquire);
    G* next = mp->runnext.load(std::memory_order_acquire);
    if (t == mp->runqtail.load(std::memory_order_acquire)) return h == t && !next;
  }
}

// runqsteal moves half of victim's queue into mp's (empty) queue and returns
// one of the stolen goroutines.
G* runqsteal(m* mp, m* victim, bool stealRunNext) {
  uint32_t t = mp->runqtail.load(std::memory_order_relaxed);
  for (;;) {
    uint32_t h = victim->runqhead.load(std::memory_order_acquire);
    uint32_t vt = victim->runqtail.load(std::memory_order_acquire);
    uint32_t n = vt - h;
    n = n - n / 2;
    if (n == 0) {
      if (stealRunNext) {
        G* next = victim->runnext.load(std::memory_order_acquire);
        if (!next) return nullptr;
        if (victim->parked.load(std::memory_order_relaxed) == 0) {
          // Go's runqgrab: the victim is running, and a goroutine that
          // ready()s another and then blocks is the common case (a
          // channel hand-off, a lock release). Give it ~3 us (Go's
          // constant) to run its runnext itself instead of thrashing
          // goroutines and their cache lines between workers. Measured
          // (bench/sched --filter mutex, 3 interleaved rounds, same hour):
          //   backoff   rwmutex_readmostly/p2   mutex_contended/p2
          //   none      57.0 ns (Go 25.6)       52.4 ns (Go 54.3)
          //   3 us      32.7 ns (Go 25.9)       54.0 ns (Go 64.0)
          // Without it goro kept both workers busy (1.8 CPUs under time(1)
          // against Go's 1.1) bouncing readerCount's cache line.
          struct timespec ts = {0, 3000};
          nanosleep(&ts, nullptr);
        }
        if (victim->runnext.compare_exchange_strong(next, nullptr, std::memory_order_acq_rel))
          return next;
      }
      return nullptr;
    }
    if (n > kRunqSize / 2) continue;  // inconsistent h and t: retry
    for (uint32_t i = 0; i < n; i++) {
      G* g = victim->runq[(h + i) % kRunqSize].load(std::memory_order_relaxed);
      mp->runq[(t + i) % kRunqSize].store(g, std::memory_order_relaxed);
    }
    if (victim->runqhead.compare_exchange_strong(h, h + n, std::memory_order_acq_rel)) {
      n--;
      G* gp = mp->runq[(t + n) % kRunqSize].load(std::memory_order_relaxed);
      if (n) mp->runqtail.store(t + n, std::memory_order_release);
      return gp;
    }
  }
}

// ---------------------------------------------------------------- idle workers

void mput(m* mp) {  // sched.lock held
  mp->schedlink = sched.midle;
  sched.midle = mp;
  sched.npidle.fetch_add(1, std::memory_order_seq_cst);
}

m* mget() {  // sched.lock held
  m* mp = sched.midle;
  if (mp) {
    sched.midle = mp->schedlink;
    sched.npidle.fetch_sub(1, std::memory_order_seq_cst);
  }
  return mp;
}

bool mremove(m* mp) {  // sched.lock held; true if mp was idle and is not anymore
  for (m** pp = &sched.midle; *pp; pp = &(*pp)->schedlink) {
    if (*pp == mp) {
      *pp = mp->schedlink;
      sched.npidle.fetch_sub(1, std::memory_order_seq_cst);
      return true;
    }
  }
  return false;
}

void notewakeup(m* mp) {
  mp->parked.store(0, std::memory_order_release);
  futexwakeup(&mp->parked, 1);
}

}  // namespace

// wakep wakes an idle worker to look for work, if none is spinning already.
// No StoreLoad fence before reading npidle (as in Go): work published to a
// running worker's local queue is run by that worker anyway, so a missed
// wake-up costs parallelism, never progress; the global queue and the idle
// list are ordered by sched.lock.
void wakep_slow() noexcept {
  if (sched.npidle.load(std::memory_order_seq_cst) == 0) return;
  int32_t zero = 0;
  if (sched.nmspinning.load(std::memory_order_relaxed) != 0 ||
      !sched.nmspinning.compare_exchange_strong(zero, 1, std::memory_order_seq_cst))
    return;
  m* mp;
  {
    mutex_guard lk(sched.lock);
    mp = mget();
  }
  if (!mp) {
    sched.nmspinning.fetch_sub(1, std::memory_order_seq_cst);
    return;
  }
  mp->spinning = true;
  notewakeup(mp);
}

namespace {

void resetspinning(m* mp) {
  mp->spinning = false;
  if (sched.nmspinning.fetch_sub(1, std::memory_order_seq_cst) == 1) wakep();
}

// ---------------------------------------------------------------- registry

inline size_t goidx_slot(uint64_t goid, uint32_t bits) {
  return static_cast<size_t>((goid * 0x9E3779B97F4A7C15ull) >> (64 - bits));
}

inline schedt::goidxstripe& goidx_stripe(uint64_t goid) {
  return sched.goidx[goid % schedt::kGoidxStripes];
}

void goidx_insert_locked(schedt::goidxstripe& st, uint64_t goid, G* gp);

void goidx_grow_locked(schedt::goidxstripe& st) {
  uint32_t oldbits = st.bits;
  schedt::goidxent* old = st.tab;
  uint32_t bits = oldbits ? oldbits + 1 : 6;
  auto* t =
      static_cast<schedt::goidxent*>(std::calloc(size_t{1} << bits, sizeof(schedt::goidxent)));
  if (!t) fatal("out of memory allocating the goroutine index");
  st.tab = t;
  st.bits = bits;
  st.count = 0;
  if (old) {
    for (size_t i = 0; i < (size_t{1} << oldbits); i++)
      if (old[i].goid) goidx_insert_locked(st, old[i].goid, old[i].g);
    std::free(old);
  }
}

void goidx_insert_locked(schedt::goidxstripe& st, uint64_t goid, G* gp) {
  if (!st.tab || (st.count + 1) * 2 > (1u << st.bits)) goidx_grow_locked(st);
  size_t mask = (size_t{1} << st.bits) - 1;
  for (size_t i = goidx_slot(goid, st.bits);; i = (i + 1) & mask) {
    if (st.tab[i].goid == 0) {
      st.tab[i].g = gp;
      st.tab[i].goid = goid;
      st.count++;
      return;
    }
  }
}

void goidx_remove_locked(schedt::goidxstripe& st, uint64_t goid) {
  if (!st.tab) return;
  size_t mask = (size_t{1} << st.bits) - 1;
  size_t i = goidx_slot(goid, st.bits);
  while (st.tab[i].goid != goid) {
    if (st.tab[i].goid == 0) return;
    i = (i + 1) & mask;
  }
  // Backward-shift deletion: move later entries of the probe run back.
  size_t j = i;
  for (;;) {
    st.tab[i].goid = 0;
    st.tab[i].g = nullptr;
    for (;;) {
      j = (j + 1) & mask;
      if (st.tab[j].goid == 0) {
        st.count--;
        return;
      }
      size_t k = goidx_slot(st.tab[j].goid, st.bits);
      // Keep j where it is if its home k lies cyclically in (i, j].
      if (i <= j ? (i < k && k <= j) : (i < k || k <= j)) continue;
      break;
    }
    st.tab[i] = st.tab[j];
    i = j;
  }
}

void goidx_insert(uint64_t goid, G* gp) {
  auto& st = goidx_stripe(goid);
  mutex_guard lk(st.lock);
  goidx_insert_locked(st, goid, gp);
}

void goidx_remove(uint64_t goid) {
  auto& st = goidx_stripe(goid);
  mutex_guard lk(st.lock);
  goidx_remove_locked(st, goid);
}

// allocg returns a fresh G record (no stack) from a new or partly used chunk.
G* allocg_locked() {
  uint32_t& used_in_last = sched.gchunkused;
  uint32_t n = sched.nallgchunks.load(std::memory_order_relaxed);
  if (n == 0 || used_in_last == kGChunk) {
    if (n == kMaxGChunks) fatal("too many goroutines");
    if (!sched.allgchunks) {
      sched.allgchunks = static_cast<G**>(std::calloc(kMaxGChunks, sizeof(G*)));
      if (!sched.allgchunks) fatal("out of memory allocating the goroutine registry");
    }
    void* mem = std::aligned_alloc(alignof(G), sizeof(G) * kGChunk);
    if (!mem) fatal("out of memory allocating goroutine records");
    G* chunk = static_cast<G*>(mem);
    for (uint32_t i = 0; i < kGChunk; i++) {
      new (&chunk[i]) G{};
      chunk[i].atomicstatus.store(_Gdead, std::memory_order_relaxed);
      chunk[i].m = -1;
    }
    sched.allgchunks[n] = chunk;
    sched.nallgchunks.store(n + 1, std::memory_order_release);
    used_in_last = 0;
    n++;
  }
  return &sched.allgchunks[n - 1][used_in_last++];
}

void gfput(m* mp, G* gp) {
#if GORO_TSAN
  if (gp->tsan_fiber) {
    __tsan_destroy_fiber(gp->tsan_fiber);
    gp->tsan_fiber = nullptr;
  }
#endif
#if GORO_ASAN
  __asan_unpoison_memory_region(reinterpret_cast<void*>(gp->stack.lo), gp->stack.hi - gp->stack.lo);
#endif
  gp->schedlink = mp->gfree;
  mp->gfree = gp;
  if (++mp->gfreecnt >= kGFreeMax) {
    mutex_guard lk(sched.lock);
    while (mp->gfreecnt > kGFreeMax / 2) {
      G* g = mp->gfree;
      mp->gfree = g->schedlink;
      mp->gfreecnt--;
      g->schedlink = sched.gfree;
      sched.gfree = g;
      sched.gfreecnt++;
    }
  }
}

G* gfget(m* mp) {
  if (!mp->gfree) {  // refill from the global list (no unlocked peek: TSan-clean)
    mutex_guard lk(sched.lock);
    while (mp->gfreecnt < kGFreeMax / 2 && sched.gfree) {
      G* g = sched.gfree;
      sched.gfree = g->schedlink;
      sched.gfreecnt--;
      g->schedlink = mp->gfree;
      mp->gfree = g;
      mp->gfreecnt++;
    }
  }
  G* gp = mp->gfree;
  if (gp) {
    mp->gfree = gp->schedlink;
    mp->gfreecnt--;
  }
  return gp;
}

// ---------------------------------------------------------------- switching

void post_switch(m* mp) noexcept;

// gogo switches from the running context `from` (a goroutine or mp->g0)
// to `to`, and completes the switch when `from` is resumed later.
inline void gogo(m* mp, G* from, G* to, bool from_exits = false) {
  if (to == &mp->g0) {
    __atomic_store_n(&mp->curg, nullptr, __ATOMIC_RELAXED);  // read by snapshots (capture.cpp)
    tls_g = nullptr;
    tls_who = mp->whotoken;  // the worker thread's own identity
  } else {
    refscan_before(to);  // a snapshot's scan of its parked stack first
    to->m = mp->id;
    to->atomicstatus.store(_Grunning, std::memory_order_relaxed);
    to->runs.store(to->runs.load(std::memory_order_relaxed) + 1, std::memory_order_relaxed);
    __atomic_store_n(&mp->curg, to, __ATOMIC_RELAXED);
    tls_g = to;
    tls_who = Who::make(Who::goroutine, to->goid).token;
  }
  if (from != &mp->g0 && !from_exits) from->m = -1;
  asan_start(from, to, from_exits);
  tsan_switch(to);
  goro_gogo_switch(&from->sched, &to->sched);
  asan_finish(from);
  post_switch(getm());
}

void post_switch(m* mp) noexcept {
  postkind k = mp->post;
  if (k == postkind::none) return;
  mp->post = postkind::none;
  G* gp = mp->postg;
  switch (k) {
    case postkind::park:
      // Only now, with its registers saved, is the goroutine "waiting":
      // tools that see _Gwaiting may walk its stack.
      gp->atomicstatus.store(_Gwaiting, std::memory_order_release);
      if (mp->postunlockf && !mp->postunlockf(gp, mp->postarg)) {
        gp->atomicstatus.store(_Grunnable, std::memory_order_relaxed);
        runqput(mp, gp, true);
      }
      break;
    case postkind::yield:
      // To the tail of the local queue (Go: the global queue). Everything
      // already queued here runs first; idle workers may steal it; and a
      // yield between two goroutines stays a single lock-free switch.
      gp->atomicstatus.store(_Grunnable, std::memory_order_relaxed);
      runqput_local(mp, gp);
      wakep();
      break;
    case postkind::exit:
      gfput(mp, gp);
      break;
    case postkind::none:
      break;
  }
}

// mcall leaves the running goroutine (park, yield or exit): straight to the
// next local goroutine when there is one, else through the worker loop.
// Always inlined into its three callers: every function between user code
// and the switch costs a mispredicted return after it (the return stack
// buffer still holds the other goroutine's calls): inlining mcall and the stack check took yield
// from 33 to 22 ns, measured.
[[gnu::always_inline]] inline void mcall(postkind k, bool (*unlockf)(G*, void*), void* arg) {
  m* mp = getm();
  G* gp = mp->curg;
  stackcheck(gp, reinterpret_cast<uintptr_t>(__builtin_frame_address(0)));
  mp->post = k;
  mp->postg = gp;
  mp->postunlockf = unlockf;
  mp->postarg = arg;
  G* next = nullptr;
  if ((++mp->schedtick & 63) != 0 && !sched.done.load(std::memory_order_relaxed) &&
      !sched.gcwaiting.load(std::memory_order_relaxed))
    next = runqget(mp);
  if (!next) next = &mp->g0;
  gogo(mp, gp, next, k == postkind::exit);
}

// ---------------------------------------------------------------- worker loop

void checkdead();

// gcstopm parks the worker at a safe point until the world restarts.
void gcstopm(m* mp) {
  if (mp->spinning) {
    mp->spinning = false;
    sched.nmspinning.fetch_sub(1, std::memory_order_seq_cst);
  }
  mp->gcstop.store(1, std::memory_order_release);
  sched.stopnote.fetch_add(1, std::memory_order_release);
  futexwakeup(&sched.stopnote, 1);
  while (sched.gcwaiting.load(std::memory_order_acquire) == 1) futexsleep(&sched.gcwaiting, 1, -1);
  mp->gcstop.store(0, std::memory_order_relaxed);
}

G* findrunnable(m* mp) {
  for (;;) {
  top:
    if (sched.gcwaiting.load(std::memory_order_acquire)) gcstopm(mp);
    if (sched.done.load(std::memory_order_acquire)) return nullptr;
    int64_t t0 = timer0when.load(std::memory_order_relaxed);
    if (t0 && t0 <= nanotime()) runtimers(nanotime());

    G* gp = nullptr;
    if (mp->schedtick % 61 == 0 && sched.runqsize.load(std::memory_order_relaxed) > 0) {
      mutex_guard lk(sched.lock);
      gp = globrunqget(mp, 1);
    }
    if (!gp) gp = runqget(mp, (mp->schedtick & 63) != 0);
    if (!gp && sched.runqsize.load(std::memory_order_relaxed) > 0) {
      mutex_guard lk(sched.lock);
      gp = globrunqget(mp, 0);
    }
    if (gp) {
      if (mp->spinning) resetspinning(mp);
      return gp;
    }

    // Steal. Limit spinners to half the busy workers (Go's rule) so an idle
    // program does not burn every CPU.
    int32_t busy = sched.nm - sched.npidle.load(std::memory_order_relaxed);
    if (sched.nm > 1 &&
        (mp->spinning || 2 * sched.nmspinning.load(std::memory_order_relaxed) < busy)) {
      if (!mp->spinning) {
        mp->spinning = true;
        sched.nmspinning.fetch_add(1, std::memory_order_seq_cst);
      }
      for (int round = 0; round < 4 && !gp; round++) {
        uint32_t start = fastrand(mp) % sched.nm;
        for (int32_t i = 0; i < sched.nm && !gp; i++) {
          m* victim = sched.allm[(start + i) % sched.nm];
          if (victim == mp) continue;
          gp = runqsteal(mp, victim, round == 3);
        }
      }
      if (gp) {
        resetspinning(mp);
        return gp;
      }
    }

    // Park.
    {
      mutex_guard lk(sched.lock);
      if (sched.done.load(std::memory_order_relaxed)) return nullptr;
      if (sched.runqsize.load(std::memory_order_relaxed) > 0) {
        gp = globrunqget(mp, 0);
        if (mp->spinning) {
          mp->spinning = false;
          sched.nmspinning.fetch_sub(1, std::memory_order_seq_cst);
        }
      }
      if (!gp) {
        // Stop spinning *before* becoming visible as idle: from mput on, a
        // waker may pop us and set `spinning` for us (see wakep).
        if (mp->spinning) {
          mp->spinning = false;
          sched.nmspinning.fetch_sub(1, std::memory_order_seq_cst);
        }
        mp->parked.store(1, std::memory_order_relaxed);
        mput(mp);
      }
    }
    if (gp) {
      wakep();
      return gp;
    }
    std::atomic_thread_fence(std::memory_order_seq_cst);
    // Re-check every queue now that we are visible as idle.
    bool work = sched.runqsize.load(std::memory_order_seq_cst) > 0;
    for (int32_t i = 0; i < sched.nm && !work; i++) work = !runqempty(sched.allm[i]);
    if (work) {
      bool removed;
      {
        mutex_guard lk(sched.lock);
        removed = mremove(mp);
      }
      if (removed) {
        mp->parked.store(0, std::memory_order_relaxed);
        mp->spinning = true;
        sched.nmspinning.fetch_add(1, std::memory_order_seq_cst);
        goto top;
      }
      // Someone took us off the idle list and is waking us: fall through,
      // the futex wait returns at once.
    }
    if (sched.npidle.load(std::memory_order_seq_cst) == sched.nm) checkdead();

    int64_t when = timer0when.load(std::memory_order_acquire);
    while (mp->parked.load(std::memory_order_acquire) == 1) {
      int64_t ns = -1;
      if (when) {
        ns = when - nanotime();
        if (ns <= 0) break;
      }
      futexsleep(&mp->parked, 1, ns);
      if (sched.done.load(std::memory_order_acquire)) break;
      when = timer0when.load(std::memory_order_acquire);
    }
    if (mp->parked.load(std::memory_order_acquire) == 1) {
      // Timeout (timer due) or shutdown: leave the idle list ourselves,
      // unless a waker got there first (then wait for its notewakeup).
      bool removed;
      {
        mutex_guard lk(sched.lock);
        removed = mremove(mp);
      }
      if (removed)
        mp->parked.store(0, std::memory_order_relaxed);
      else
        while (mp->parked.load(std::memory_order_acquire) == 1) cpu_relax();
    }
  }
}

// checkdead holds sched.lock from its checks through the report, so a
// plain thread's goready (global queue, under that lock) either lands before
// the checks or waits until the process is gone.
void checkdead() {
  sched.lock.lock();
  bool dead = !sched.done.load(std::memory_order_relaxed) && sched.npidle.load() == sched.nm &&
              sched.runqsize.load() == 0 && sched.nexternal.load() == 0 && !timers_pending() &&
              gcount_total() > 0;
  for (int32_t i = 0; i < sched.nm && dead; i++) dead = runqempty(sched.allm[i]);
  if (!dead) {
    sched.lock.unlock();
    return;
  }
  fatal_with_dump("all goroutines are asleep - deadlock!", false);
}

void schedule_loop(m* mp) {
  for (;;) {
    G* gp = findrunnable(mp);
    if (!gp) return;
    // A stop may have begun while we looked for work: gp (runnable, its
    // registers saved) waits with us.
    if (sched.gcwaiting.load(std::memory_order_acquire)) gcstopm(mp);
    mp->schedtick++;
    gogo(mp, &mp->g0, gp);
  }
}

void minit(m* mp) {
  tls_m = mp;
  // (read by other threads: freeze_others signals this thread by its tid)
  __atomic_store_n(&mp->procid, static_cast<int32_t>(syscall(SYS_gettid)), __ATOMIC_RELEASE);
  mp->whotoken = thread_token();
  tls_who = mp->whotoken;
  // Thread stack bounds, cached per thread: for the process's main thread
  // glibc finds them by parsing /proc/self/maps, which takes milliseconds
  // once tens of thousands of goroutine stacks are mapped.
  thread_local stack bounds{};
  if (!bounds.lo) {
    pthread_attr_t attr;
    if (pthread_getattr_np(pthread_self(), &attr) == 0) {
      void* addr;
      size_t size;
      pthread_attr_getstack(&attr, &addr, &size);
      bounds = {reinterpret_cast<uintptr_t>(addr), reinterpret_cast<uintptr_t>(addr) + size};
      pthread_attr_destroy(&attr);
    }
  }
  mp->g0.stack = bounds;
#if GORO_TSAN
  mp->g0.tsan_fiber = __tsan_get_current_fiber();
#endif
  worker_signal_stack(mp);
}

void mexit(m* mp) {
  worker_signal_stack(nullptr);
  tls_m = nullptr;
  tls_g = nullptr;
  (void)mp;
}

}  // namespace

// ---------------------------------------------------------------- stop-the-world

bool worldlock() noexcept {
  while (!sched.worldsema.try_lock()) {
    // Another stop-the-world is in progress: let it stop our worker.
    if (getg())
      goro::yield();
    else
      goro::sleep(std::chrono::microseconds(50));
  }
  if (!sched.running.load(std::memory_order_acquire) || !sched.allm) {
    sched.worldsema.unlock();
    return false;
  }
  return true;
}

void worldunlock() noexcept { sched.worldsema.unlock(); }

std::vector<int32_t> stopTheWorld(int64_t timeout_ns) {
  m* self = getm();
  sched.gcwaiting.store(1, std::memory_order_seq_cst);
  int64_t deadline = nanotime() + timeout_ns;
  std::vector<int32_t> running;
  for (;;) {
    uint32_t note = sched.stopnote.load(std::memory_order_acquire);
    running.clear();
    for (int32_t i = 0; i < sched.nm; i++) {
      m* mp = sched.allm[i];
      if (mp == self || mp->gcstop.load(std::memory_order_acquire) ||
          mp->parked.load(std::memory_order_acquire))
        continue;
      running.push_back(i);
    }
    int64_t left = deadline - nanotime();
    if (running.empty() || left <= 0) break;
    futexsleep(&sched.stopnote, note, std::min<int64_t>(left, 1000000));
  }
  // Idle workers published their last changes under sched.lock (mput):
  // taking it orders our reads after them.
  sched.lock.lock();
  sched.lock.unlock();
  return running;
}

void startTheWorld() noexcept {
  sched.gcwaiting.store(0, std::memory_order_release);
  futexwakeup(&sched.gcwaiting, INT32_MAX);
}

// ---------------------------------------------------------------- API

G* findg(uint64_t goid) noexcept {
  auto& st = goidx_stripe(goid);
  mutex_guard lk(st.lock);
  if (!st.tab) return nullptr;
  size_t mask = (size_t{1} << st.bits) - 1;
  for (size_t i = goidx_slot(goid, st.bits);; i = (i + 1) & mask) {
    if (st.tab[i].goid == goid) return st.tab[i].g;
    if (st.tab[i].goid == 0) return nullptr;
  }
}

// gcount_add counts goroutines created (+1) or ended (-1) on mp, from mp's
// own thread: m.gcount has a single writer, so a relaxed load and store do
// (a fetch_add was a locked instruction on every spawn and every exit).
// Measured, goro_sched_bench spawn_exit (ns per spawn, medians of 7-8
// interleaved 1 s runs, same hour, a slow phase of the VM):
//                     fetch_add   load+store
//   1 worker          167         145
//   2 workers         378         383   (unchanged: there the misses on G
//                                        records that ended on the other
//                                        worker dominate)
namespace {
inline void gcount_add(m* mp, int64_t d) noexcept {
  mp->gcount.store(mp->gcount.load(std::memory_order_relaxed) + d, std::memory_order_relaxed);
}
}  // namespace

int64_t gcount_total() noexcept {
  int64_t n = sched.gcount.load(std::memory_order_relaxed);
  for (int32_t i = 0; i < sched.nm; i++) n += sched.allm[i]->gcount.load(std::memory_order_relaxed);
  return n;
}

namespace {
G* newproc1_impl(std::size_t size, std::size_t align, void** closure, bool mainstack) noexcept;
}

G* newproc1(std::size_t size, std::size_t align, void** closure) noexcept {
  return newproc1_impl(size, align, closure, false);
}

namespace {
G* newproc1_impl(std::size_t size, std::size_t align, void** closure, bool mainstack) noexcept {
  if (!sched.running.load(std::memory_order_acquire))
    fatal("goro::go called outside goro::run (start the scheduler with goro::run first)");
  m* mp = getm();
  G* gp = mp ? gfget(mp) : nullptr;
  if (!gp) {
    mutex_guard lk(sched.lock);
    if (sched.gfree) {
      gp = sched.gfree;
      sched.gfree = gp->schedlink;
      sched.gfreecnt--;
    } else {
      gp = allocg_locked();
    }
  }
  if (mainstack) {
    // The main goroutine is a run's first: every record is stackless then
    // (the previous run's end detached them all).
    if (gp->stack.lo) fatal("runtime: the main goroutine's record already has a stack");
    gp->stack = stackalloc_main(&gp->stackguarded);
  } else if (gp->stack.lo == 0) {
    bool guarded;
    gp->stack = stackalloc(&guarded);
    gp->stackguarded = guarded;
  }
  if (align < 16) align = 16;
  uintptr_t top = gp->stack.hi;
  if (size <= (gp->stack.hi - gp->stack.lo) / 8) {
    *closure = reinterpret_cast<void*>((top - size) & ~(uintptr_t{align} - 1));
  } else {
    *closure = ::operator new (size, std::align_val_t{align});
  }
  gp->closure = *closure;
  gp->atomicstatus.store(_Gidle, std::memory_order_relaxed);
  return gp;
}
}  // namespace

void newproc_abort(G* gp) noexcept {
  bool heap = reinterpret_cast<uintptr_t>(gp->closure) < gp->stack.lo ||
              reinterpret_cast<uintptr_t>(gp->closure) >= gp->stack.hi;
  if (heap) ::operator delete(gp->closure);
  gp->atomicstatus.store(_Gdead, std::memory_order_relaxed);
  if (m* mp = getm()) {
    gfput(mp, gp);
  } else {
    mutex_guard lk(sched.lock);
    gp->schedlink = sched.gfree;
    sched.gfree = gp;
    sched.gfreecnt++;
  }
}

void newproc_start(G* gp, void (*entry)(G*), uintptr_t startpc) noexcept {
  G* parent = getg();
  gp->gopc = reinterpret_cast<uintptr_t>(__builtin_return_address(0));
  gp->startpc = startpc;
  gp->entry = entry;
  gp->parentGoid = parent ? parent->goid : 0;
  gp->name[0] = '\0';
  gp->labels = nullptr;
  if (parent && parent->labels) {
    size_t n = 0;
    while (parent->labels[n] || parent->labels[n + 1]) n++;
    char* l = static_cast<char*>(std::malloc(n + 2));
    if (l) {
      std::memcpy(l, parent->labels, n + 2);
      gp->labels = l;
    }
  }
  gp->waiting = nullptr;
  gp->rlocked = nullptr;
  gp->waitreason = waitReason::zero;
  gp->waitsince = 0;
  gp->param = nullptr;
  gp->selectDone.store(0, std::memory_order_relaxed);
  gp->createtime = nanotime_coarse();
  gp->m = -1;
  uintptr_t sp = gp->stack.hi;
  uintptr_t c = reinterpret_cast<uintptr_t>(gp->closure);
  if (c >= gp->stack.lo && c < gp->stack.hi) sp = c;
  sp &= ~uintptr_t{15};
  gp->sched = gobuf{};
  gp->sched.sp = sp;
  gp->sched.pc = reinterpret_cast<uintptr_t>(&goro_goexit_entry);
  gp->sched.r12 = reinterpret_cast<uintptr_t>(gp);
  gp->sched.r13 = reinterpret_cast<uintptr_t>(entry);
#if GORO_TSAN
  gp->tsan_fiber = __tsan_create_fiber(0);
#endif
  gp->asan_fake_stack = nullptr;
  // goids: a worker takes them in batches of 16 (Go's _GoidCacheBatch), so
  // spawning on two workers does not fight over one counter. goids stay
  // unique and never reused, but goroutines made on different workers are
  // not numbered in creation order (as in Go).
  uint64_t goid;
  m* spawner = getm();
  if (spawner) {
    if (spawner->goidcache == spawner->goidcacheend) {
      spawner->goidcache = sched.goidgen.fetch_add(16, std::memory_order_relaxed) + 1;
      spawner->goidcacheend = spawner->goidcache + 16;
    }
    goid = spawner->goidcache++;
    gcount_add(spawner, 1);
  } else {
    goid = sched.goidgen.fetch_add(1, std::memory_order_relaxed) + 1;
    sched.gcount.fetch_add(1, std::memory_order_relaxed);
  }
  __atomic_store_n(&gp->goid, goid, __ATOMIC_RELAXED);  // read racily by registry walkers
  goidx_insert(goid, gp);
  gp->atomicstatus.store(_Grunnable, std::memory_order_release);
  m* mp = getm();
  if (mp && mp->curg) {
    runqput(mp, gp, true);
  } else {
    mutex_guard lk(sched.lock);
    globrunqput(gp);
  }
  wakep();
}

void gstart_prologue(G* gp) noexcept {
  asan_finish(gp);
  post_switch(getm());
}

void goexit() noexcept {
  m* mp = getm();
  G* gp = mp->curg;
  goidx_remove(gp->goid);
  std::free(const_cast<char*>(gp->labels));
  gp->labels = nullptr;
  __atomic_store_n(&gp->goid, uint64_t{0}, __ATOMIC_RELAXED);
  gp->atomicstatus.store(_Gdead, std::memory_order_release);
  gcount_add(mp, -1);
  mcall(postkind::exit, nullptr, nullptr);
  __builtin_unreachable();
}

void gopark(bool (*unlockf)(G*, void*), void* arg, waitReason reason) noexcept {
  m* mp = getm();
  G* gp = mp ? mp->curg : nullptr;
  if (!gp) throw_not_goroutine(to_string(reason));
  gp->waitreason = reason;
  gp->waitsince = nanotime_coarse();
  mcall(postkind::park, unlockf, arg);
  gp->waitreason = waitReason::zero;
}

void goready(G* gp) noexcept {
  gp->atomicstatus.store(_Grunnable, std::memory_order_release);
  m* mp = getm();
  if (mp) {
    runqput(mp, gp, true);
  } else {
    mutex_guard lk(sched.lock);
    globrunqput(gp);
  }
  wakep();
}

void throw_not_goroutine(const char* op) noexcept {
  std::string msg = "goro: blocking operation (";
  msg += op;
  msg += ") called from a thread that is not a goroutine; call it from goro::run or goro::go";
  fatal(msg.c_str());
}

namespace {

struct mainarg {
  main_closure c;
};

void main_entry(G* gp) {
  gstart_prologue(gp);
  auto* a = static_cast<mainarg*>(gp->closure);
  a->c.fn(a->c.arg);  // exceptions: see goro/panic.h (no handler on purpose)
  // Go's main returning ends the program: stop every worker.
  sched.done.store(true, std::memory_order_release);
  {
    mutex_guard lk(sched.lock);
    while (m* mp = mget()) notewakeup(mp);
  }
  goexit();
}

int env_int(const char* name, int def) {
  const char* v = std::getenv(name);
  if (!v || !*v) return def;
  char* end;
  long n = std::strtol(v, &end, 10);
  if (*end || n <= 0 || n > 1 << 20) return def;
  return static_cast<int>(n);
}

}  // namespace

void run_main(const Config& cfg, main_closure c, uintptr_t startpc) {
  bool expected = false;
  if (!sched.running.compare_exchange_strong(expected, true))
    fatal("goro::run called while a scheduler is running (run is not reentrant)");
  install_signal_handlers();
  install_terminate_handler();
  goro::debug::detail::serve_from_env();
  // Snapshots wait until the workers and the main goroutine exist.
  while (!sched.worldsema.try_lock()) sched_yield();
  int n = cfg.maxprocs > 0
              ? cfg.maxprocs
              : env_int("GORO_MAXPROCS", static_cast<int>(std::thread::hardware_concurrency()));
  if (n < 1) n = 1;
  if (n > 1024) n = 1024;
  sched.stacksize = cfg.stack_size ? cfg.stack_size : default_stacksize();
  if (sched.stacksize < 16384) sched.stacksize = 16384;
  sched.stacksize = (sched.stacksize + 4095) & ~size_t{4095};
  sched.nm = n;
  sched.allm = static_cast<m**>(std::calloc(n, sizeof(m*)));
  for (int i = 0; i < n; i++) {
    void* mem = std::aligned_alloc(alignof(m), sizeof(m));
    m* mp = new (mem) m{};
    mp->id = i;
    mp->g0.m = i;
    mp->fastrand = 0x9E3779B97F4A7C15ull * (i + 1) ^ static_cast<uint64_t>(nanotime());
    sched.allm[i] = mp;
  }
  sched.done.store(false);
  sched.npidle.store(0);
  sched.nmspinning.store(0);

  // The main goroutine.
  minit(sched.allm[0]);
  void* mem;
  G* gp = newproc1_impl(sizeof(mainarg), alignof(mainarg), &mem, true);
  new (mem) mainarg{c};
  newproc_start(gp, &main_entry, startpc);
  gp->gopc = 0;  // created by the runtime, as Go's main goroutine
  sched.maingoid = gp->goid;
  {
    timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    sched.walltime0 = ts.tv_sec * 1000000000LL + ts.tv_nsec;
    sched.nanotime0 = nanotime();
  }
  sched.worldsema.unlock();

  std::vector<std::thread> threads;
  threads.reserve(n - 1);
  for (int i = 1; i < n; i++) {
    threads.emplace_back([i] {
      m* mp = sched.allm[i];
      char name[16];
      std::snprintf(name, sizeof name, "goro-m%d", i);
      pthread_setname_np(pthread_self(), name);
      minit(mp);
      schedule_loop(mp);
      mexit(mp);
    });
  }
  schedule_loop(sched.allm[0]);
  for (auto& t : threads) t.join();
  mexit(sched.allm[0]);
  tls_who = 0;
  // From here on no snapshot may read the records being torn down.
  while (!sched.worldsema.try_lock()) sched_yield();

  // Abandon what is left (Go's process exit): drop timers, free every
  // stack, reset the registry for the next run. G records stay (never freed).
  timers_reset();
  forEachG([](G* g) {
    if (g->atomicstatus.load(std::memory_order_relaxed) != _Gdead) {
      std::free(const_cast<char*>(g->labels));
      g->labels = nullptr;
      g->goid = 0;
      g->atomicstatus.store(_Gdead, std::memory_order_relaxed);
#if GORO_TSAN
      if (g->tsan_fiber) __tsan_destroy_fiber(g->tsan_fiber);
      g->tsan_fiber = nullptr;
#endif
    }
    if (g->stack.lo) {
#if GORO_ASAN
      __asan_unpoison_memory_region(reinterpret_cast<void*>(g->stack.lo),
                                    g->stack.hi - g->stack.lo);
#endif
      if (g->stackguarded == kStackPrivate) stackfree_private(g->stack);
      g->stack = {};
    }
    g->m = -1;
  });
  stacks_reset();
  // Every record, handed out or not, is now on the free list: the next
  // allocg_locked must start a new chunk.
  sched.gfree = nullptr;
  sched.gfreecnt = 0;
  forEachG([](G* g) {
    g->schedlink = sched.gfree;
    sched.gfree = g;
    sched.gfreecnt++;
  });
  sched.gchunkused = kGChunk;
  for (auto& st : sched.goidx) {
    mutex_guard lk(st.lock);
    std::free(st.tab);
    st.tab = nullptr;
    st.bits = 0;
    st.count = 0;
  }
  sched.runqhead = sched.runqtail = nullptr;
  sched.runqsize.store(0);
  sched.gcount.store(0);
  sched.midle = nullptr;
  for (int i = 0; i < n; i++) {
    sched.allm[i]->~m();
    std::free(sched.allm[i]);
  }
  std::free(sched.allm);
  sched.allm = nullptr;
  sched.nm = 0;
  sched.running.store(false, std::memory_order_release);
  sched.worldsema.unlock();
}

}  // namespace goro::detail

namespace goro {

using namespace detail;

void yield() noexcept {
  m* mp = getm();
  if (!mp || !mp->curg) {
    sched_yield();
    return;
  }
  mcall(postkind::yield, nullptr, nullptr);
}

ExternalWaker::ExternalWaker() noexcept { sched.nexternal.fetch_add(1, std::memory_order_acq_rel); }
ExternalWaker::~ExternalWaker() { sched.nexternal.fetch_sub(1, std::memory_order_acq_rel); }

uint64_t goid() noexcept {
  G* gp = getg();
  return gp ? gp->goid : 0;
}

int num_goroutine() noexcept {
  return sched.running.load(std::memory_order_acquire) ? static_cast<int>(gcount_total()) : 0;
}

int maxprocs() noexcept {
  if (sched.nm) return sched.nm;
  const char* v = std::getenv("GORO_MAXPROCS");
  int n = v ? std::atoi(v) : 0;
  return n > 0 ? n : static_cast<int>(std::thread::hardware_concurrency());
}

void set_name(std::string_view name) noexcept {
  G* gp = getg();
  if (!gp) return;
  size_t n = std::min(name.size(), sizeof gp->name - 1);
  std::memcpy(gp->name, name.data(), n);
  gp->name[n] = '\0';
}

void set_labels(std::initializer_list<std::pair<std::string_view, std::string_view>> labels) {
  G* gp = getg();
  if (!gp) return;
  std::string s;
  for (auto& [k, v] : labels) {
    s.append(k);
    s.push_back('=');
    s.append(v);
    s.push_back('\0');
  }
  s.push_back('\0');
  char* l = nullptr;
  if (labels.size()) {
    l = static_cast<char*>(std::malloc(s.size() + 1));
    if (!l) throw std::bad_alloc();
    std::memcpy(l, s.data(), s.size());
    l[s.size()] = '\0';
  }
  std::free(const_cast<char*>(gp->labels));
  gp->labels = l;
}

}  // namespace goro
