// proc.h — scheduler internals shared by the runtime's .cpp files (not
// installed). The design essay is at the top of proc.cpp.
#pragma once

#include <signal.h>
#include <atomic>
#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "goro/lock_futex.h"
#include "goro/runtime2.h"

#if defined(__has_feature)
#if __has_feature(address_sanitizer)
#define GORO_ASAN 1
#endif
#if __has_feature(thread_sanitizer)
#define GORO_TSAN 1
#endif
#endif
#if defined(__SANITIZE_ADDRESS__) && !defined(GORO_ASAN)
#define GORO_ASAN 1
#endif
#if defined(__SANITIZE_THREAD__) && !defined(GORO_TSAN)
#define GORO_TSAN 1
#endif

extern "C" void goro_gogo_switch(goro::detail::gobuf* from, const goro::detail::gobuf* to);
extern "C" void goro_goexit_entry();

namespace goro::detail {

// Local run queue capacity (Go's p.runq: 256). A full queue moves half of
// itself to the global queue (runqputslow), as Go does.
constexpr uint32_t kRunqSize = 256;

// What the context a worker switched away from asked to have done once its
// registers are saved (Go does these on g0 via mcall; goro switches straight
// to the next goroutine when there is one and runs them on arrival).
enum class postkind : uint8_t { none, park, yield, exit };

struct timer;

// m is a worker thread (Go's M and P in one; see runtime2.h).
struct alignas(64) m {
  int32_t id;         // 0..nm-1; worker 0 is the thread that called run()
  int32_t procid;     // Linux tid
  uint64_t whotoken;  // the thread's misuse-report identity (goro::Who)
  G* curg;            // running goroutine, null in the scheduler loop
  G g0;               // the worker's own (thread) stack context; goid 0
  // Local run queue: owner pushes at tail, anyone pops/steals at head.
  std::atomic<uint32_t> runqhead;
  std::atomic<uint32_t> runqtail;
  std::atomic<G*> runq[kRunqSize];
  std::atomic<G*> runnext;  // readied by the running G: runs next (ping-pong)
  // Parking (guarded by sched.lock except the futex word itself).
  std::atomic<uint32_t> parked;  // 1 while asleep in findrunnable (futex word)
  m* schedlink;                  // idle list link
  bool spinning;                 // counted in sched.nmspinning
  uint32_t schedtick;            // switches into goroutines, for fairness checks
  uint64_t fastrand;             // per-worker PRNG state
  // After-switch request from the context we left.
  postkind post;
  G* postg;
  bool (*postunlockf)(G*, void*);
  void* postarg;
  // goids handed out in batches (Go's goidcache): [goidcache, goidcacheend).
  uint64_t goidcache;
  uint64_t goidcacheend;
  // Goroutines created here minus goroutines that ended here; the sum over
  // all workers plus sched.gcount is the number of goroutines (one shared
  // counter was a contended cache line on every spawn and exit). Written
  // only by this worker's thread (gcount_add): a plain load and store, no
  // locked instruction; others only read it (gcount_total).
  std::atomic<int64_t> gcount;
  // Caches: dead Gs (with their stacks) for reuse.
  G* gfree;
  int32_t gfreecnt;
  // Thread stack bounds (sanitizers, overflow reports).
  uintptr_t g0lo, g0hi;
  std::atomic<uint32_t> gcstop;  // 1 while stopped at a safe point for a stop-the-world
  // Frozen for a fatal report (freeze_others, signal.cpp): 1 once this
  // worker's thread waits in the freeze handler; the registers it was
  // interrupted at (its running goroutine's stack, for the dump).
  std::atomic<uint32_t> frozen;
  uintptr_t frozenpc, frozensp, frozenbp;
  uintptr_t frozenpcs[64];  // its thread's unwind from the handler (CFI, through the
  int32_t nfrozenpcs;       // signal frame), return addresses as current_pcs stores them
};

// freeze_others stops every other worker thread where it is, before a fatal
// report is built (Go's freezetheworld), so that the report, the dump and a
// debugger at goroscope_fatal see every goroutine as the error found it: a
// goroutine running on another worker stays on it instead of running on (and
// perhaps exiting) while the report is symbolized. Returns once each worker
// is frozen, or after 100 ms. The process must exit afterwards.
void freeze_others() noexcept;

// schedt is the global scheduler state (Go's schedt) and the goroutine
// registry. One instance: goro::detail::sched.
struct schedt {
  mutex lock;  // guards: runq*, midle, gfree*, registry writes
  // Global run queue (FIFO through G.schedlink).
  G* runqhead;
  G* runqtail;
  std::atomic<int32_t> runqsize;
  // Workers.
  m** allm;  // [nm]
  int32_t nm;
  m* midle;                         // idle (parked) workers
  std::atomic<int32_t> npidle;      // workers idle
  std::atomic<int32_t> nmspinning;  // workers looking for work without parking
  std::atomic<bool> running;        // inside run()
  std::atomic<bool> done;           // main goroutine returned: workers leave
  // Stop-the-world (debug snapshots; see stopTheWorld).
  std::atomic<uint32_t> gcwaiting;  // 1: workers stop at their next safe point (futex word)
  std::atomic<uint32_t> stopnote;   // bumped by each worker that stops (futex word)
  mutex worldsema;                  // held by the one stop-the-world in progress (Go's worldsema)
  // The epoch of the snapshot whose stack scan for references is still
  // running after the pause (capture.cpp), 0: none (see refscan_before).
  std::atomic<uint32_t> refscan;
  // Goroutines.
  std::atomic<uint64_t> goidgen;   // last goid handed out (to a worker's batch or a thread)
  std::atomic<int32_t> ngsys;      // unused (Go counts system goroutines)
  std::atomic<int32_t> gcount;     // goroutines that exist, minus those counted in m.gcount
  std::atomic<int32_t> nexternal;  // live goro::ExternalWaker guards (silence checkdead)
  G* gfree;                        // global free Gs (stack attached)
  int32_t gfreecnt;
  // Registry: all G records ever allocated, in chunks of kGChunk (never freed).
  G** allgchunks;  // [kMaxGChunks], only the first nallgchunks used
  std::atomic<uint32_t> nallgchunks;
  uint32_t gchunkused;  // records handed out from the last chunk (guarded by lock)
  // goid -> G index, striped so that workers spawning and ending
  // goroutines at once rarely meet: stripe = goid % kGoidxStripes, each an
  // open-addressing table of 2^bits {goid, G*} entries, linear probing from
  // slot = goid * 0x9E3779B97F4A7C15 >> (64 - bits); goid 0 = empty;
  // deletion by backward shift (no tombstones), so a reader probes until an
  // empty slot. Each stripe has its own lock and cache line.
  struct goidxent {
    uint64_t goid;
    G* g;
  };
  struct alignas(64) goidxstripe {
    mutex lock;
    uint32_t bits;   // 2^bits slots; 0: no table yet
    uint32_t count;  // entries in use
    goidxent* tab;
  };
  static constexpr uint32_t kGoidxStripes = 64;
  goidxstripe goidx[kGoidxStripes];
  // Configuration of this run.
  std::size_t stacksize;
  uint64_t maingoid;
  // The clocks when run() started: a core file's reader maps the core's
  // time (its file's mtime, CLOCK_REALTIME) onto CLOCK_MONOTONIC, the clock
  // of G.waitsince, to say how long goroutines had waited.
  int64_t walltime0;  // CLOCK_REALTIME ns
  int64_t nanotime0;  // CLOCK_MONOTONIC ns, read right after walltime0
};

constexpr uint32_t kGChunk = 256;
constexpr uint32_t kMaxGChunks = 1u << 16;  // 16M G records

extern schedt sched;

extern constinit thread_local m* tls_m;
inline m* getm() noexcept { return tls_m; }

// ---- stacks (stack.cpp) ----
// stackalloc returns a stack of sched.stacksize bytes (lazily committed),
// guarded by a PROT_NONE page while the guard budget lasts (see stack.cpp).
stack stackalloc(bool* guarded) noexcept;
// stackalloc_main: the main goroutine's own mapping (8 MiB, like a thread's
// stack, guarded); G.stackguarded = kStackPrivate marks it: munmap'd, not pooled.
constexpr uint8_t kStackPrivate = 2;
stack stackalloc_main(uint8_t* guarded) noexcept;
void stackfree_private(stack s) noexcept;  // a kStackPrivate stack: unmapped
// stacks_reset (end of run, every G detached from its stack): release all
// slab memory and pool every stack for the next run.
void stacks_reset() noexcept;
// stackcheck: fatal "stack overflow" if gp's stack overflowed (canary for
// unguarded stacks, sp bound for all). Inline: it runs at every switch.
constexpr size_t kCanaryBytes = 256;  // see stack.cpp
[[noreturn, gnu::cold]] void stackcheck_fail(G* gp, uintptr_t sp) noexcept;
bool canary_broken_unguarded(const G* gp) noexcept;
inline void stackcheck(G* gp, uintptr_t sp) noexcept {
  if (__builtin_expect(sp < gp->stack.lo + kCanaryBytes, 0)) stackcheck_fail(gp, sp);
  // Guarded stacks: the guard page does the work. Unguarded: the canary
  // below lo (see stack.cpp).
  if (gp->stackguarded == 0 && canary_broken_unguarded(gp)) stackcheck_fail(gp, sp);
}
std::size_t default_stacksize() noexcept;
// guard page lookup for the SIGSEGV handler: the G whose guard page holds addr.
bool stack_guard_hit(G* gp, uintptr_t addr) noexcept;

// ---- timers (time.cpp) ----
// A timer calls f(arg, seq) at `when` (ns, nanotime clock) on some worker's
// scheduler context or at a switch point; it must not block.
struct timer {
  int64_t when;
  void (*f)(void* arg, uintptr_t seq);
  void* arg;
  uintptr_t seq;
  int32_t index;  // position in the heap, -1 if not in it
};
void addtimer(timer* t) noexcept;
bool deltimer(timer* t) noexcept;  // true if it was pending
// runtimers runs due timers; returns the next deadline (0: none).
int64_t runtimers(int64_t now) noexcept;
extern std::atomic<int64_t> timer0when;  // earliest pending deadline, 0 if none
bool timers_pending() noexcept;
void timers_reset() noexcept;  // end of run(): drop every timer

// ---- traceback (traceback.cpp) ----
// dump_goroutines writes Go's goroutine dump of every goroutine to fd
// (the calling goroutine first, with its current stack). Renders
// capture_state (capture.h) without stopping the world.
void dump_goroutines(int fd) noexcept;
// dump_current_thread writes the calling thread's stack in the dump's shape
// ("thread 4711 [name]:" and its frames): a fatal report from a plain thread
// outside goro::run, where there are no goroutines to dump.
void dump_current_thread(int fd) noexcept;
// dump_of renders the dump of the given goroutines (leak reports).
std::string dump_of(const std::vector<G*>& gs);
// current_pcs appends the calling thread's return addresses (libbacktrace).
void current_pcs(std::vector<uintptr_t>& pcs);
// unwind_pcs stores up to max of them in pcs, without allocating; the count.
int unwind_pcs(uintptr_t* pcs, int max) noexcept;
// origin_string: "created by F in goroutine K at file:line" (or "the main
// goroutine") for misuse reports.
std::string origin_string(uintptr_t gopc, uint64_t parent);
std::string symbolize_pc(uintptr_t pc, bool* user);  // "func" for a pc
std::string top_function(const G* gp);  // topmost user frame of a parked G, as in dumps
[[noreturn]] void fatal_with_dump(const std::string& msg, bool panic) noexcept;

// ---- the live endpoint's limits (endpoint.cpp; tests shorten them) ----
// max_held, measured: 12 clients asking for whole-map snapshots of a
// 200k-entry string map (~15 MB a reply) and never reading, peak RSS of a
// 22 MB program over 15 s: no bound (before) 789 MB; 64 MiB 179 MB;
// 16 MiB 101 MB (chosen: a viewer's default page is ~2 MB).
struct endpoint_limits_t {
  int64_t request_ns = 5'000'000'000;  // a request line, first byte to newline
  int64_t idle_ns = 60'000'000'000;    // nothing asked, nothing to send
  int64_t write_ns = 10'000'000'000;   // an unsent reply making no progress
  size_t max_clients = 32;
  size_t max_held = 16u << 20;  // unsent reply bytes, all clients together
};
endpoint_limits_t& endpoint_limits() noexcept;
struct endpoint_stats_t {
  std::atomic<size_t> peak_held{0};  // the most unsent reply bytes held at once
  std::atomic<uint32_t> evicted{0};  // idle clients closed for a newcomer
  std::atomic<uint32_t> expired{0};  // clients closed by a deadline
};
endpoint_stats_t& endpoint_stats() noexcept;

// ---- fatal reports (traceback.cpp) ----
// One report at a time, and never none. fatal_begin makes the calling
// thread the reporter (again: a nested call returns at once); any other
// thread that begins one, or faults, meanwhile waits in fatal_park for the
// reporter's exit -- the other party of a race often detects it too. The
// reporter writes its headline without allocating; a fault or abort inside
// the rest (the dump allocates, on a heap a race may have corrupted) ends
// the report with fatal_interrupted's note, and a watchdog (SIGALRM,
// kFatalDeadline) ends one that hangs on a lock a frozen thread holds.
void fatal_begin() noexcept;
bool fatal_reporting() noexcept;  // the calling thread is the reporter
bool fatal_pending() noexcept;    // some thread is
[[noreturn]] void fatal_park() noexcept;
// fatal_debugger_stop calls goroscope_fatal (a debugger's stop) with the
// watchdog paused.
void fatal_debugger_stop(const char* msg, int panic) noexcept;
[[noreturn]] void fatal_interrupted(int sig) noexcept;
// report_map_fault: a fault or abort inside a map write (tls_mapop, misuse.cpp).
[[noreturn]] void report_map_fault(int sig, const siginfo_t* info, const void* uc) noexcept;

// ---- stop-the-world (proc.cpp) ----
// A worker stops at a safe point: in its scheduler loop, i.e. when its
// goroutine blocks, yields or ends (the direct goroutine-to-goroutine
// switch is disabled while sched.gcwaiting is set). An idle worker counts
// as stopped: it checks gcwaiting before anything else when it wakes.
//
// worldlock takes sched.worldsema (a goroutine yields while waiting, so its
// worker can stop for the snapshot in progress). false: the scheduler is not
// running (nothing to stop, nothing to capture).
bool worldlock() noexcept;
void worldunlock() noexcept;
// stopTheWorld stops every worker except the caller's, waiting at most
// timeout_ns; returns the ids of the workers that did not stop (their
// goroutine keeps running: a partial snapshot). Precondition: worldlock.
std::vector<int32_t> stopTheWorld(int64_t timeout_ns);
void startTheWorld() noexcept;

// ---- registry walk (proc.cpp) ----
template <class Fn>
void forEachG(Fn&& fn) {
  uint32_t n = sched.nallgchunks.load(std::memory_order_acquire);
  for (uint32_t c = 0; c < n; c++) {
    G* chunk = sched.allgchunks[c];
    for (uint32_t i = 0; i < kGChunk; i++) fn(&chunk[i]);
  }
}
G* findg(uint64_t goid) noexcept;
int64_t gcount_total() noexcept;  // the number of goroutines that exist
// goidof reads a G's goid from a walker that does not own the G (goexit
// clears it concurrently).
inline uint64_t goidof(const G* gp) noexcept {
  return __atomic_load_n(&gp->goid, __ATOMIC_RELAXED);
}

// GORO_NO_TSAN marks the dump path: it reads other goroutines' records and
// stacks without synchronization by design (like Go's traceback of a
// running program), just before the process exits.
#if GORO_TSAN
#define GORO_NO_TSAN __attribute__((no_sanitize("thread")))
#else
#define GORO_NO_TSAN
#endif  // O(1) through sched.goidx; null if none
// GORO_NO_SANITIZE_SCAN marks a word-by-word scan of parked goroutines'
// stacks (capture.cpp's references): ASan would report the redzones
// between their locals, TSan the reads (ordered by the stop, not by atomics).
#if GORO_ASAN
#define GORO_NO_SANITIZE_SCAN __attribute__((no_sanitize("address"))) GORO_NO_TSAN
#else
#define GORO_NO_SANITIZE_SCAN GORO_NO_TSAN
#endif
// refscan_before: gp is about to run, or a waker is about to write into
// its stack (a channel's direct send or receive). While a snapshot still
// scans parked stacks for references after its pause (capture.cpp's
// "references"), gp's stack is first scanned as the pause left it, as Go's
// GC scans a goroutine's stack before it runs. Otherwise one load.
void refscan_slow(G* gp) noexcept;
// kRefScanLimit: the live stack bytes of one goroutine that scan reads at
// most (a larger one makes every referenced_by unknown). The descriptor
// exports it (refs.scan_limit), so the debuggers' scan uses the same bound.
inline constexpr uintptr_t kRefScanLimit = 1 << 20;
inline void refscan_before(G* gp) noexcept {
  if (__builtin_expect(sched.refscan.load(std::memory_order_acquire) != 0, 0)) refscan_slow(gp);
}
void install_signal_handlers() noexcept;
void install_terminate_handler() noexcept;
// wakep wakes an idle worker if there is one and none is spinning (the
// check inline: it runs on every goready, spawn and yield).
void wakep_slow() noexcept;
inline void wakep() noexcept {
  if (sched.npidle.load(std::memory_order_relaxed) != 0) wakep_slow();
}
void worker_signal_stack(m* mp) noexcept;

}  // namespace goro::detail
