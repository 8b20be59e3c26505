// goro/runtime2.h — the records every tool reads: G, sudog, M and the
// goroutine registry (Go: runtime/runtime2.go).
//
// The debugger plugins and the viewer show which goroutine waits on what,
// since when, and where it was created, from target memory alone (live
// process, core file, remote stub). So every such fact is a plain field
// here, written by the runtime as it happens, never computed on demand.
//
// Records
//   G      one per goroutine: saved registers (gobuf) while not running,
//          stack bounds, goid, status, wait reason and start time, the sudogs
//          of the operation it is blocked in (all cases of a select), the
//          worker it runs on, creation site (gopc, parent goid), start
//          function, name and labels. G records are allocated in chunks
//          that are never freed and recycled when a goroutine ends (status
//          _Gdead), like Go's gFree lists; goids are never reused.
//   sudog  one per (goroutine, object) wait: the object (`c`), the element
//          being sent or received, list links. Lives on the waiting
//          goroutine's stack (its stack is stable while it is parked).
//   m      one per worker thread (Go's M and P in one: goro has no system
//          call handoff, so a worker never lends its run queue to another
//          thread). Holds the running G, the local run queue, caches.
//   sched  the one global: workers, global run queue, idle workers, and the
//          registry: `allgs` (chunk table, walkable) and `goidx` (open
//          addressing goid -> G*, O(1) lookup; see proc.cpp).
//
// Invariants
//   * A G's gobuf is valid iff status is _Grunnable or _Gwaiting (or a
//     _Gidle G about to start: its gobuf points at goro_goexit_entry).
//   * waitreason, waitsince and waiting are valid iff status == _Gwaiting.
//   * m.curg is the G running on that worker, or null while the worker is in
//     its scheduler loop (on its own thread stack, the "g0").
//
// Field offsets are part of the debug ABI (documented in docs/scheduler.md;
// issue 4 exports them in a descriptor); static_asserts below pin the ones
// that assembly depends on.
#pragma once

#include <atomic>
#include <cstddef>
#include <cstdint>

#include "goro/lock_futex.h"

namespace goro::detail {

// keep_frame follows every call that may park a goroutine in goro's inline
// API, so the call is never compiled as a tail call: `void shard(WaitGroup*
// wg) { ...; wg->wait(); }` at -O2 would otherwise `jmp` into the runtime and
// take shard's frame off the stack, and every traceback, `goroutines` line and
// debugger backtrace would lose the user's line the goroutine is parked at
// (tests/programs: spawn_tree, exceptions at g++ -O2). Go never tail-calls;
// an empty volatile asm emits no instruction (the parking call stays a call
// and a return instead of a jump). Rejected:
// -fno-optimize-sibling-calls (the user's build flags are not ours), marking
// the out-of-line functions (a callee cannot stop its caller's jmp).
[[gnu::always_inline]] inline void keep_frame() noexcept { asm volatile(""); }

// Goroutine status values (Go's runtime2.go, same numbers).
enum gstatus : uint32_t {
  _Gidle = 0,      // just allocated, not yet initialized
  _Grunnable = 1,  // on a run queue, not executing
  _Grunning = 2,   // executing on a worker (m is set)
  _Gsyscall = 3,   // unused by goro (no system call tracking); kept for Go's numbering
  _Gwaiting = 4,   // blocked (waitreason says on what)
  _Gdead = 6,      // unused: exited or never started; the record may be reused
};

// waitReason says why a goroutine is _Gwaiting. Strings are Go's
// (runtime2.go waitReasonStrings; the sync.* ones are Go 1.20+/1.25's).
enum class waitReason : uint8_t {
  zero = 0,
  chanReceiveNilChan,  // "chan receive (nil chan)"
  chanSendNilChan,     // "chan send (nil chan)"
  select,              // "select"
  selectNoCases,       // "select (no cases)"
  chanReceive,         // "chan receive"
  chanSend,            // "chan send"
  semacquire,          // "semacquire"
  sleep,               // "sleep"
  syncCondWait,        // "sync.Cond.Wait"
  syncMutexLock,       // "sync.Mutex.Lock"
  syncRWMutexRLock,    // "sync.RWMutex.RLock"
  syncRWMutexLock,     // "sync.RWMutex.Lock"
  syncWaitGroupWait,   // "sync.WaitGroup.Wait"
  count_,
};

// waitReasonStrings is indexed by waitReason (Go's strings; also exported
// to tools through the layout descriptor, goro/debug_abi.h).
inline constexpr const char* waitReasonStrings[static_cast<int>(waitReason::count_)] = {
    "",
    "chan receive (nil chan)",
    "chan send (nil chan)",
    "select",
    "select (no cases)",
    "chan receive",
    "chan send",
    "semacquire",
    "sleep",
    "sync.Cond.Wait",
    "sync.Mutex.Lock",
    "sync.RWMutex.RLock",
    "sync.RWMutex.Lock",
    "sync.WaitGroup.Wait",
};
inline const char* to_string(waitReason r) {
  auto i = static_cast<unsigned>(r);
  return i < static_cast<unsigned>(waitReason::count_) ? waitReasonStrings[i] : "?";
}
// gstatusStrings is indexed by gstatus (Go's strings; 5 is unused).
inline constexpr const char* gstatusStrings[7] = {"idle",    "runnable", "running", "syscall",
                                                  "waiting", "",         "dead"};
const char* gstatus_string(uint32_t s);  // gstatusStrings[s], "???" if out of range

// gobuf holds a goroutine's callee-saved registers while it is not running
// (Go's gobuf; offsets used by asm_amd64.S and by debuggers).
struct gobuf {
  uint64_t sp;   // stack pointer as if the switch had returned
  uint64_t pc;   // return address into the function that switched
  uint64_t bp;   // frame pointer (0 at the entry trampoline: end of chain)
  uint64_t rbx;  // callee-saved, for DWARF unwinding of the parked frame
  uint64_t r12;
  uint64_t r13;
  uint64_t r14;
  uint64_t r15;
};
static_assert(sizeof(gobuf) == 64 && offsetof(gobuf, pc) == 8 && offsetof(gobuf, bp) == 16,
              "asm_amd64.S and the debug ABI use these offsets");

// stack is [lo, hi): usable stack memory (Go's stack). guard = bytes of
// PROT_NONE below lo (0: no guard page; overflow is checked by canary).
struct stack {
  uintptr_t lo;
  uintptr_t hi;
};

struct G;

// objkind says what a sudog's `c` points at.
enum class objkind : uint8_t {
  none = 0,
  chan,       // detail::hchan
  mutex,      // goro::Mutex
  rwmutex,    // goro::RWMutex
  waitgroup,  // goro::WaitGroup
  cond,       // goro::Cond
  sema,       // other semaphore users
  map,        // goro::Map (its hmap): named objects only
  syncmap,    // goro::SyncMap: named objects only
  once,       // goro::Once: named objects only
};
inline constexpr const char* objkindStrings[10] = {"none", "chan", "mutex", "rwmutex", "waitgroup",
                                                   "cond", "sema", "map",   "syncmap", "once"};

// sudog is a goroutine waiting on one object (Go's sudog). For channels it
// sits in the channel's recvq/sendq; for sync primitives in their wait queue.
struct sudog {
  G* g;         // the waiting goroutine
  sudog* next;  // wait-queue links (guarded by the object's lock)
  sudog* prev;
  void* elem;           // channels: the value sent / the slot received into (on g's stack)
  const void* c;        // the object waited on (see kind)
  sudog* waitlink;      // g.waiting list: all sudogs of one blocking operation
  int64_t acquiretime;  // sync waits: when the wait began (0 for channels: see G.waitsince)
  uint32_t ticket;      // sema: handoff ticket; select: the case index
  objkind kind;
  bool isSelect;  // part of a select: g.selectDone arbitrates the wake-up
  bool success;   // channels: woken by a value (true) or by close (false)
  bool isRead;    // channels: a receive (false: a send); rwmutex: waiting as a reader
};

// G is a goroutine (Go's g).
struct alignas(64) G {
  gobuf sched;                         // 0: registers while not running
  ::goro::detail::stack stack;         // 64: [lo, hi)
  uint64_t goid;                       // 80: from 1, never reused (0 while _Gdead/unused)
  std::atomic<uint32_t> atomicstatus;  // 88: gstatus
  waitReason waitreason;               // 92: valid if _Gwaiting
  uint8_t stackguarded;        // 93: 1 if a PROT_NONE page sits below stack.lo (2: own mapping)
  std::atomic<uint16_t> runs;  // 94: bumped each time it is switched in (capture.cpp's stack check)
  int64_t waitsince;  // 96: when it blocked (CLOCK_MONOTONIC ns, coarse: <= 4 ms resolution)
  sudog* waiting;     // 104: sudogs of the blocking op, linked by waitlink
  int32_t m;          // 112: worker id while running, -1 otherwise
  std::atomic<uint32_t> selectDone;  // 116: select wake-up arbitration (Go's g.selectDone)
  uint64_t parentGoid;               // 120: goid of the creator (0: none / created by a thread)
  uintptr_t gopc;                    // 128: return address of the go() call in the creator
  uintptr_t startpc;                 // 136: the start function (user code entry)
  const char* labels;                // 144: "k=v\0k=v\0\0" or null (owned, inherited by children)
  char name[32];                     // 152: optional name, NUL-terminated
  int64_t createtime;                // 184: when go() ran (CLOCK_MONOTONIC ns, coarse)
  sudog waitsg;  // 192: the sudog of a one-object wait (a select's are on its stack)
  // The first RWMutex this goroutine read-locked and has not read-unlocked
  // (null: none): tools show which goroutines hold a read lock, which Go
  // does not record. Best effort: a read lock released by another goroutine
  // leaves it set until this one read-unlocks that RWMutex or exits.
  const void* rlocked;
  // ---- private to the scheduler ----
  G* schedlink;           // run queue / free list link
  void* param;            // wake-up payload (Go's g.param: the sudog that fired)
  void (*entry)(G*);      // C++ entry: runs the closure, then goexit
  void* closure;          // the callable, placed at the top of the stack
  void* tsan_fiber;       // TSan's fiber for this goroutine (sanitizer builds)
  void* asan_fake_stack;  // ASan fake-stack handle across a switch
  // A snapshot's stack scan for references (capture.cpp): epoch * 4 + 1
  // while its stack waits to be scanned, + 2 while being scanned, + 3 once
  // done; refscanidx is its entry in that snapshot's capture. Written in the
  // pause; then whoever scans it first (the snapshot, its worker before
  // switching it in, a waker before writing into its stack) owns the scan.
  std::atomic<uint32_t> refscan;
  uint32_t refscanidx;
};
static_assert(offsetof(G, sched) == 0 && offsetof(G, goid) == 80 && offsetof(G, gopc) == 128,
              "the debug ABI documents these offsets");

// namedobj is one object registered with goro::debug::name (goro/debug.h):
// tools list "interesting" objects by walking named.head without an
// expression. Allocated by name(), freed when the object is destroyed (its
// destructor calls forget) or unnamed.
struct namedobj {
  namedobj* next;  // list links, guarded by named.lock
  namedobj* prev;
  const void* obj;  // the object (for a channel: its hchan, shared by all handles)
  // SyncMap only: fills {read len, dirty len (-1: nil), misses, amended}
  // without locking (the snapshot calls it with the world stopped).
  void (*syncmapstats)(const void* obj, int64_t* out);
  objkind kind;
  char name[47];  // NUL-terminated, truncated to 46 bytes
};
static_assert(sizeof(namedobj) == 80, "debug ABI: keep the record small and fixed");

// namedreg is the registry of named objects (one instance: detail::named).
struct namedreg {
  mutex lock;                   // guards the list
  std::atomic<uint32_t> count;  // entries in the list: destructors read it without the lock
  namedobj* head;               // most recently named first
  std::atomic<uint64_t> gen;    // bumped on every change (viewers cache by it)
};

extern namedreg named;
void forget_slow(const void* obj) noexcept;
// forget unregisters obj if it was named (destructors of nameable objects
// call it: one relaxed load when nothing is named).
inline void forget(const void* obj) noexcept {
  if (named.count.load(std::memory_order_relaxed) != 0) [[unlikely]]
    forget_slow(obj);
}

}  // namespace goro::detail
