// goro/sync.h — Go's sync package: Mutex, RWMutex, WaitGroup, Once, Cond
// (Go: sync/mutex.go, rwmutex.go, waitgroup.go, once.go, cond.go, and the
// runtime side in runtime/sema.go). SyncMap is in goro/syncmap.h.
//
//   goro::Mutex mu;
//   goro::WaitGroup wg;
//   int n = 0;
//   for (int i = 0; i < 10; i++) {
//     wg.add(1);
//     goro::go([&] { std::lock_guard lk(mu); n++; wg.done(); });
//   }
//   wg.wait();                               // n == 10
//
// The algorithms are Go 1.19's, step for step (state words, bit layouts,
// starvation mode, writer preference, tickets), so that what a debugger
// reads means what it means in Go. The one structural change is where the
// waiters live, so that every state is readable from the object itself:
//
// Wait queues inside the objects
//   Go keeps the goroutines blocked on a semaphore in a global table
//   (semtable: 251 treaps keyed by the semaphore's address). A debugger
//   looking at a Go Mutex sees `state` and `sema` but not who waits. Here
//   each semaphore comes with its own queue (detail::semaRoot: a lock, the
//   waiter count, a FIFO list of sudogs) embedded next to it, so a Mutex's
//   waiters are a walk from the Mutex. Each waiter's sudog lives on its own
//   stack (stable while parked) and names the object (`c`) and its kind;
//   the G records why it waits (waitreason "sync.Mutex.Lock", ...), since
//   when (waitsince), and `waiting` points at the sudog. An RWMutex writer
//   that waits for the inner Mutex `w` shows the RWMutex, not `w`.
//   Rejected: Go's global semtable (waiters invisible from the object, and
//   one lock per 1/251 of all objects); a std::mutex + std::condition_variable
//   per object (blocks the worker thread, not the goroutine; 88 bytes of
//   glibc internals a debugger cannot decode portably).
//
// Layout (x86-64; sizes pinned by static_asserts below)
//
//   semaRoot (24)   lock u32 | nwait u32 | head sudog* | tail sudog*
//   Mutex (40)      state i32 | sema u32 | owner u64 | waiters semaRoot
//   RWMutex (104)   w Mutex | writerSem u32 | readerSem u32 | readerCount i32
//                   | readerWait i32 | writerWaiters semaRoot | readerWaiters semaRoot
//   WaitGroup (40)  state u64 (counter<<32 | waiters) | sema u32 | pad | waiters semaRoot
//   Once (48)       done u32 | pad | m Mutex
//   Cond (56)       L Locker {l, lock, unlock} | notify notifyList
//   notifyList (32) wait u32 | notify u32 | lock u32 | pad | head sudog* | tail sudog*
//
//   Mutex.state:  bit 0 mutexLocked, bit 1 mutexWoken (a woken or spinning
//                 waiter exists: Unlock need not wake another), bit 2
//                 mutexStarving, bits 3.. number of waiters.
//   Mutex.owner:  goid of the goroutine that holds it, 0 when unlocked or
//                 held by a plain thread. goro's addition (Go has no owner):
//                 one relaxed store after acquiring, one before releasing.
//
// Mutex fairness (Go's comment, abridged): in normal mode waiters queue
// FIFO, but a woken waiter competes with newly arriving goroutines, which
// usually win (they are running already); a waiter that loses is queued at
// the front. A waiter that fails to get the lock for more than 1 ms
// (starvationThresholdNs) switches the mutex to starvation mode: Unlock
// then hands the mutex straight to the waiter at the front, newcomers
// neither spin nor try to grab it, and queue at the tail. The last waiter,
// or one that waited less than 1 ms, switches back to normal mode.
//
// Blocking and threads. Blocking operations (Mutex.lock, RWMutex.lock and
// rlock, WaitGroup.wait, Cond.wait) park the goroutine; on a plain OS thread
// they are a fatal error naming the operation when they would block (an
// uncontended lock works anywhere). unlock, runlock, done, add, signal,
// broadcast, try_lock and try_rlock never block and work from any thread.
// As in Go, a Mutex is not tied to a goroutine: one may lock it and another
// unlock it.
//
// Errors are Go's: unlock of an unlocked Mutex/RWMutex is a fatal error
// (Go's fatal, not recoverable: `fatal error: sync: unlock of unlocked
// mutex`, exit 2); WaitGroup misuse throws goro::Panic with Go's message.
//
// Cost. The uncontended paths are Go's: one CAS to lock, one atomic add to
// unlock (plus the owner stores: a TLS load and two plain stores). Measured
// on the project machine (docs/performance.md: 2 vCPUs, g++ 12 -O2), one
// worker, a loop of lock+unlock pairs, ns per pair, three runs:
//                              goro              Go 1.19 (GOMAXPROCS=1)
//   Mutex lock+unlock          11.5  12.1  13.0  12.6  12.7  12.6
//   RWMutex rlock+runlock       9.7   9.4  12.1  12.1  12.3  12.4
//   RWMutex lock+unlock        25.5  24.4  25.5  22.0  21.9  22.0
// (std::mutex: 2.5 ns there, because glibc skips the atomics while the
// process has a single thread; it is no guide to the contended case.)
//
// None of these types may be copied or moved once used (Go's noCopy): they
// are deleted here. A zero-initialized object is ready to use, and all
// constructors are constexpr, so globals are constant-initialized.
#pragma once

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <mutex>
#include <type_traits>
#include <utility>

#include "goro/lock_futex.h"
#include "goro/runtime2.h"
#include "goro/sched.h"

namespace goro {

class SyncDebugAccess;
class RWMutex;

namespace detail {

struct debug_layout;  // the layout descriptor's builder (debug_layout.cpp) reads private offsets

// ---- Constants (Go's names and values) --------------------------------------

inline constexpr int32_t mutexLocked = 1;    // mutex is locked
inline constexpr int32_t mutexWoken = 2;     // a waiter is awake (woken or spinning)
inline constexpr int32_t mutexStarving = 4;  // mutex is in starvation mode
inline constexpr int32_t mutexWaiterShift = 3;
// starvationThresholdNs: a waiter that waited longer switches the mutex to
// starvation mode (Go's value, 1 ms; kept so tail latencies match Go's).
inline constexpr int64_t starvationThresholdNs = 1000000;
// rwmutexMaxReaders: readerCount is biased by -rwmutexMaxReaders while a
// writer is pending or active, so readers see a negative count.
inline constexpr int32_t rwmutexMaxReaders = 1 << 30;
static_assert((mutexLocked | mutexWoken | mutexStarving) < (1 << mutexWaiterShift),
              "the waiter count must sit above the three flag bits");

// curgoid is the running goroutine's id, 0 on a plain thread.
inline uint64_t curgoid() noexcept {
  G* gp = getg();
  return gp ? gp->goid : 0;
}

// ---- Semaphores (Go's runtime/sema.go) --------------------------------------

// semaRoot is the wait queue of one semaphore (Go's semaRoot, one per
// semaphore instead of one per 1/251 of the address space). The semaphore's
// count is a separate uint32 next to it in the owning object.
//
// Invariant (under lock): nwait == number of sudogs in head..tail.
struct semaRoot {
  mutex lock;                      // guards head, tail and the queued sudogs' next/prev
  std::atomic<uint32_t> nwait{0};  // waiters; read without lock by semrelease1 (its fast path)
  sudog* head = nullptr;           // first waiter (woken first); null if none. Guarded by lock
  sudog* tail = nullptr;           // last waiter. Guarded by lock
};
static_assert(sizeof(semaRoot) == 24, "embedded in every sync object: keep it three words");

// semawhat says what a goroutine blocked in semacquire1 is waiting for, as
// tools will see it: its sudog's c/kind/isRead and its G's waitreason.
struct semawhat {
  const void* c;      // the object (Mutex, RWMutex, WaitGroup)
  objkind kind;       // what c points at
  bool isRead;        // RWMutex reader
  waitReason reason;  // G.waitreason while parked (also names the op in the fatal error)
};

// cansemacquire takes one unit of *addr if there is one (Go's cansemacquire).
inline bool cansemacquire(std::atomic<uint32_t>* addr) noexcept {
  uint32_t v = addr->load();
  for (;;) {
    if (v == 0) return false;
    if (addr->compare_exchange_weak(v, v - 1)) return true;
  }
}

// semacquire1 waits until *addr > 0 and decrements it (Go's semacquire1).
// lifo queues the caller at the front (a Mutex waiter that already waited).
// since: when the caller started waiting (sudog.acquiretime), 0 for now.
// Precondition: on a goroutine if it may block (else: fatal error naming
// w.reason).
void semacquire1(std::atomic<uint32_t>* addr, semaRoot* root, bool lifo, const semawhat& w,
                 int64_t since = 0) noexcept;
// semrelease1 increments *addr and wakes the first waiter (Go's
// semrelease1). handoff: give the unit straight to the waiter (sudog.ticket
// = 1) and yield to it (Mutex starvation mode). Callable from any thread.
void semrelease1(std::atomic<uint32_t>* addr, semaRoot* root, bool handoff) noexcept;

// notifyList is Cond's ticket-based wait list (Go's runtime notifyList).
// A waiter takes ticket `wait++` before unlocking the Locker, then parks
// unless `notify` has already passed its ticket. Signal wakes the waiter
// holding ticket `notify` and increments notify; Broadcast wakes all and
// sets notify = wait. Tickets compare modulo 2^32 (less).
struct notifyList {
  std::atomic<uint32_t> wait{0};    // next ticket to hand out (atomic increment, no lock)
  std::atomic<uint32_t> notify{0};  // next ticket to notify; written under lock, read atomically
  mutex lock;                       // guards notify's writes, head, tail and the sudogs' next
  sudog* head = nullptr;            // parked waiters, roughly in ticket order
  sudog* tail = nullptr;
};
static_assert(sizeof(notifyList) == 32, "Cond's layout (see the file comment)");

uint32_t notifyListAdd(notifyList* l) noexcept;
// notifyListWait parks until ticket t is notified. Precondition: on a goroutine.
void notifyListWait(notifyList* l, uint32_t t, const void* cond) noexcept;
void notifyListNotifyAll(notifyList* l) noexcept;
void notifyListNotifyOne(notifyList* l) noexcept;

}  // namespace detail

// ---- Mutex ------------------------------------------------------------------

// Mutex is a mutual exclusion lock (Go's sync.Mutex). The zero value is an
// unlocked mutex. Meets Lockable, so std::lock_guard, std::unique_lock and
// std::scoped_lock work with it.
class Mutex {
 public:
  constexpr Mutex() noexcept = default;
  ~Mutex() { detail::forget(this); }  // unregisters a named object (goro/debug.h)
  Mutex(const Mutex&) = delete;
  Mutex& operator=(const Mutex&) = delete;

  // lock locks m. If it is held, the calling goroutine blocks (waitreason
  // "sync.Mutex.Lock") until it is available. Precondition: called on a
  // goroutine if m may be held (from a plain thread, finding m held is a
  // fatal error). Not recursive: locking a Mutex the caller holds deadlocks.
  void lock() noexcept { lock_as(this, detail::objkind::mutex, detail::waitReason::syncMutexLock); }

  // try_lock locks m if it is free and not in starvation mode, without
  // blocking or spinning (Go's TryLock). Works from any thread.
  bool try_lock() noexcept {
    int32_t old = state.load(std::memory_order_relaxed);
    if (old & (detail::mutexLocked | detail::mutexStarving)) return false;
    if (!state.compare_exchange_strong(old, old | detail::mutexLocked, std::memory_order_acquire,
                                       std::memory_order_relaxed))
      return false;
    owner.store(detail::curgoid(), std::memory_order_relaxed);
    return true;
  }

  // unlock unlocks m (any goroutine or thread may unlock it). Unlocking an
  // unlocked Mutex is a fatal error: "sync: unlock of unlocked mutex". In
  // starvation mode the caller yields to the waiter it hands m to.
  void unlock() noexcept {
    owner.store(0, std::memory_order_relaxed);
    int32_t n =
        state.fetch_sub(detail::mutexLocked, std::memory_order_release) - detail::mutexLocked;
    if (n != 0) [[unlikely]]
      unlockSlow(n);
  }

 private:
  friend class RWMutex;
  friend class SyncDebugAccess;
  friend struct detail::debug_layout;

  // lock_as is lock() with what a blocked caller shows tools: the object
  // (an RWMutex for its writers), its kind and the wait reason.
  void lock_as(const void* obj, detail::objkind kind, detail::waitReason reason) noexcept {
    int32_t old = 0;
    if (!state.compare_exchange_strong(old, detail::mutexLocked, std::memory_order_acquire,
                                       std::memory_order_relaxed)) [[unlikely]]
      lockSlow({obj, kind, false, reason});
    owner.store(detail::curgoid(), std::memory_order_relaxed);
  }
  void lockSlow(const detail::semawhat& w) noexcept;
  void unlockSlow(int32_t n) noexcept;

  std::atomic<int32_t> state{0};   // flags (bits 0-2) | number of waiters << mutexWaiterShift
  std::atomic<uint32_t> sema{0};   // wake-up permits for waiters (Go's sema)
  std::atomic<uint64_t> owner{0};  // holder's goid (0: none, or a plain thread); set by the holder
  detail::semaRoot waiters;        // goroutines parked in lock (sudog.c == this)
};
static_assert(sizeof(Mutex) == 40,
              "Go's 8 bytes (state, sema) + owner + the embedded wait queue; tools decode it");

// ---- RWMutex ----------------------------------------------------------------

// RWMutex is a reader/writer mutual exclusion lock (Go's sync.RWMutex): any
// number of readers or one writer. A blocked lock() call excludes new
// readers (writer preference), so a stream of readers cannot starve a
// writer; and a reader must not rlock recursively (it deadlocks if a writer
// arrives in between, as in Go). Meets SharedLockable: std::shared_lock works
// through lock_shared/unlock_shared/try_lock_shared.
class RWMutex {
 public:
  constexpr RWMutex() noexcept = default;
  ~RWMutex() { detail::forget(this); }  // unregisters a named object (goro/debug.h)
  RWMutex(const RWMutex&) = delete;
  RWMutex& operator=(const RWMutex&) = delete;

  // rlock locks rw for reading; blocks (waitreason "sync.RWMutex.RLock")
  // while a writer holds or waits for it. Precondition: on a goroutine if it
  // may block.
  void rlock() noexcept {
    if (readerCount.fetch_add(1) + 1 < 0) [[unlikely]]
      rlockSlow();
    noteRLocked();
    detail::keep_frame();
  }
  // try_rlock read-locks rw if no writer holds or waits for it (TryRLock).
  bool try_rlock() noexcept {
    int32_t c = readerCount.load();
    for (;;) {
      if (c < 0) return false;
      if (readerCount.compare_exchange_weak(c, c + 1)) return noteRLocked(), true;
    }
  }
  // runlock undoes one rlock. Fatal error "sync: RUnlock of unlocked
  // RWMutex" if rw is not read-locked. Works from any thread.
  void runlock() noexcept {
    if (detail::G* gp = detail::getg(); gp && gp->rlocked == this) [[likely]]
      gp->rlocked = nullptr;
    int32_t r = readerCount.fetch_sub(1) - 1;
    if (r < 0) [[unlikely]]
      rUnlockSlow(r);
  }

  // lock locks rw for writing: first against other writers (the inner
  // Mutex w), then it waits for the active readers to leave. Blocks with
  // waitreason "sync.RWMutex.Lock"; w.owner records the writer's goid from
  // the moment it holds w. Precondition: on a goroutine if it may block.
  void lock() noexcept {
    lockSlow();
    detail::keep_frame();
  }
  // try_lock write-locks rw if it is entirely free (TryLock).
  bool try_lock() noexcept;
  // unlock releases the write lock and admits the readers that queued
  // behind it. Fatal error "sync: Unlock of unlocked RWMutex" if rw is not
  // write-locked. Works from any thread.
  void unlock() noexcept;

  void lock_shared() noexcept { rlock(); }
  void unlock_shared() noexcept { runlock(); }
  bool try_lock_shared() noexcept { return try_rlock(); }

 private:
  friend class SyncDebugAccess;
  friend struct detail::debug_layout;

  void rlockSlow() noexcept;
  void lockSlow() noexcept;
  void rUnlockSlow(int32_t r) noexcept;
  // noteRLocked records this read lock in the goroutine (G.rlocked): one
  // TLS load and a store, as Mutex records its owner.
  void noteRLocked() noexcept {
    if (detail::G* gp = detail::getg(); gp && !gp->rlocked) gp->rlocked = this;
  }

  Mutex w;                              // held while writers are pending; w.owner = the writer
  std::atomic<uint32_t> writerSem{0};   // writer waits here for departing readers
  std::atomic<uint32_t> readerSem{0};   // readers wait here for the writer to finish
  std::atomic<int32_t> readerCount{0};  // readers holding or waiting; -rwmutexMaxReaders if writer
  std::atomic<int32_t> readerWait{0};   // readers the pending writer still waits for
  detail::semaRoot writerWaiters;       // the writer parked on writerSem (at most one: w)
  detail::semaRoot readerWaiters;       // readers parked on readerSem (sudog.isRead)
};
static_assert(sizeof(RWMutex) == 104,
              "Go's layout (w, writerSem, readerSem, readerCount, readerWait) + two wait queues");

// ---- WaitGroup --------------------------------------------------------------

// WaitGroup waits for a collection of goroutines to finish (Go's
// sync.WaitGroup): add(n) before starting them, done() in each, wait() to
// block until the counter is zero. A WaitGroup may be reused once every
// wait() of the previous round has returned.
class WaitGroup {
 public:
  constexpr WaitGroup() noexcept = default;
  ~WaitGroup() { detail::forget(this); }  // unregisters a named object (goro/debug.h)
  WaitGroup(const WaitGroup&) = delete;
  WaitGroup& operator=(const WaitGroup&) = delete;

  // add adds delta (may be negative) to the counter; reaching zero releases
  // every waiter. Throws goro::Panic "sync: negative WaitGroup counter" if
  // the counter goes negative, and "sync: WaitGroup misuse: Add called
  // concurrently with Wait" when a positive add races with the release of
  // waiters. Works from any thread.
  void add(int delta);
  // done decrements the counter (add(-1)).
  void done() { add(-1); }
  // wait blocks (waitreason "sync.WaitGroup.Wait") until the counter is
  // zero; returns at once if it is. Throws goro::Panic "sync: WaitGroup is
  // reused before previous Wait has returned" on that misuse.
  // Precondition: on a goroutine if the counter may be non-zero.
  void wait() {
    waitSlow();
    detail::keep_frame();
  }

 private:
  friend class SyncDebugAccess;
  friend struct detail::debug_layout;

  void waitSlow();

  std::atomic<uint64_t> state{0};  // high 32 bits: counter (int32); low 32 bits: waiters
  std::atomic<uint32_t> sema{0};   // waiters' wake-up permits
  detail::semaRoot waiters;        // goroutines parked in wait
};
static_assert(sizeof(WaitGroup) == 40, "state u64, sema u32 (+4 pad), wait queue");

// ---- Once -------------------------------------------------------------------

// Once runs a function exactly once (Go's sync.Once; Do is `call`, as `do`
// is a C++ keyword).
class Once {
 public:
  constexpr Once() noexcept = default;
  ~Once() { detail::forget(this); }  // unregisters a named object (goro/debug.h)
  Once(const Once&) = delete;
  Once& operator=(const Once&) = delete;

  // call invokes f(args...) if and only if call is being called for the
  // first time on this Once; concurrent callers block until that first f
  // returns, so when call returns, f has run. As in Go (which marks done in
  // a defer), an f that throws counts as done: the exception propagates to
  // its caller and later calls do nothing. f must not call call on the same
  // Once (it deadlocks). Precondition: on a goroutine if another caller may
  // be running f.
  template <class F, class... Args>
  void call(F&& f, Args&&... args) {
    if (done.load(std::memory_order_acquire) == 0) [[unlikely]]
      callSlow(std::forward<F>(f), std::forward<Args>(args)...);
    detail::keep_frame();
  }

 private:
  friend class SyncDebugAccess;
  friend struct detail::debug_layout;

  template <class F, class... Args>
  void callSlow(F&& f, Args&&... args) {  // Go's doSlow
    m.lock();
    struct unlocker {
      Mutex& m;
      ~unlocker() { m.unlock(); }
    } u{m};
    if (done.load(std::memory_order_relaxed) == 0) {
      struct marker {  // Go's `defer atomic.StoreUint32(&o.done, 1)`
        std::atomic<uint32_t>& d;
        ~marker() { d.store(1, std::memory_order_release); }
      } mk{done};
      std::invoke(std::forward<F>(f), std::forward<Args>(args)...);
    }
  }

  std::atomic<uint32_t> done{0};  // 1 once f has returned (or thrown); first: the hot path reads it
  Mutex m;                        // serializes the first callers
};
static_assert(sizeof(Once) == 48, "done u32 (+4 pad) then the Mutex");

// ---- Cond -------------------------------------------------------------------

// Locker is a reference to anything with lock() and unlock() (Go's
// sync.Locker interface): the object's address and two thunks.
class Locker {
 public:
  template <class L>
  requires(!std::is_same_v<std::remove_cv_t<L>, Locker>) && requires(L& l) {
    l.lock();
    l.unlock();
  }
  Locker(L& l) noexcept  // NOLINT(google-explicit-constructor): Go's implicit interface conversion
      : l_(&l),
        lock_([](void* p) { static_cast<L*>(p)->lock(); }),
        unlock_([](void* p) { static_cast<L*>(p)->unlock(); }) {}

  void lock() const { lock_(l_); }
  void unlock() const { unlock_(l_); }
  // object is the referenced lock's address.
  void* object() const noexcept { return l_; }

 private:
  void* l_;                // the lock object
  void (*lock_)(void*);    // calls l_->lock()
  void (*unlock_)(void*);  // calls l_->unlock()
};

// Cond is a condition variable (Go's sync.Cond): goroutines wait() for an
// event that others announce with signal() or broadcast(). L is held while
// checking the condition and around wait().
class Cond {
 public:
  // Cond(l) makes a Cond whose Locker is l (Go's NewCond). l must outlive it.
  explicit Cond(Locker l) noexcept : L(l) {}
  ~Cond() { detail::forget(this); }  // unregisters a named object (goro/debug.h)
  Cond(const Cond&) = delete;
  Cond& operator=(const Cond&) = delete;

  // wait atomically unlocks L and parks the goroutine (waitreason
  // "sync.Cond.Wait"); after a signal or broadcast wakes it, wait re-locks L
  // before returning. Wake-ups may outlive the condition, so wait in a loop:
  //   std::unique_lock lk(mu); while (!cond()) c.wait();
  // Preconditions: the caller holds L; on a goroutine (fatal error otherwise).
  void wait() {
    waitSlow();
    detail::keep_frame();
  }
  // signal wakes one goroutine waiting on c, if any (the longest waiting).
  // Holding L is allowed, not required. Works from any thread.
  void signal() noexcept { detail::notifyListNotifyOne(&notify); }
  // broadcast wakes all goroutines waiting on c. Works from any thread.
  void broadcast() noexcept { detail::notifyListNotifyAll(&notify); }

  Locker L;  // held while observing or changing the condition (Go's exported field)

 private:
  friend class SyncDebugAccess;
  friend struct detail::debug_layout;

  void waitSlow();

  detail::notifyList notify;  // waiters (sudog.c == this, ticket = their notifyList ticket)
};
static_assert(sizeof(Cond) == 56, "L (three words) then the notifyList");

// ---- Debug access -----------------------------------------------------------

// SyncDebugAccess is the one door to the sync types' internals (the role of
// Go's export_test.go): tests and tools read state words, owners and queue
// lengths through it. Read-only; values may be stale the moment they are
// returned. The SyncMap accessors are templates (goro/syncmap.h befriends
// this class).
class SyncDebugAccess {
 public:
  static int32_t state(const Mutex& m) { return m.state.load(); }
  static uint32_t sema(const Mutex& m) { return m.sema.load(); }
  static uint64_t owner(const Mutex& m) { return m.owner.load(std::memory_order_relaxed); }
  static uint32_t nwait(const Mutex& m) { return m.waiters.nwait.load(); }

  static const Mutex& w(const RWMutex& rw) { return rw.w; }
  static uint64_t writer(const RWMutex& rw) { return owner(rw.w); }
  static int32_t readerCount(const RWMutex& rw) { return rw.readerCount.load(); }
  static int32_t readerWait(const RWMutex& rw) { return rw.readerWait.load(); }
  static uint32_t nreaders_waiting(const RWMutex& rw) { return rw.readerWaiters.nwait.load(); }
  static uint32_t nwriter_waiting(const RWMutex& rw) { return rw.writerWaiters.nwait.load(); }

  static uint64_t state(const WaitGroup& wg) { return wg.state.load(); }
  static int32_t counter(const WaitGroup& wg) { return static_cast<int32_t>(state(wg) >> 32); }
  static uint32_t waiters(const WaitGroup& wg) { return static_cast<uint32_t>(state(wg)); }

  static bool done(const Once& o) { return o.done.load() != 0; }

  static uint32_t wait(const Cond& c) { return c.notify.wait.load(); }
  static uint32_t notify(const Cond& c) { return c.notify.notify.load(); }

  // Wait queues, for snapshots (read them under their lock, or with the
  // world stopped).
  static const detail::semaRoot& waiters(const Mutex& m) { return m.waiters; }
  static const detail::semaRoot& writerWaiters(const RWMutex& rw) { return rw.writerWaiters; }
  static const detail::semaRoot& readerWaiters(const RWMutex& rw) { return rw.readerWaiters; }
  static const detail::semaRoot& waitqueue(const WaitGroup& wg) { return wg.waiters; }
  static const detail::notifyList& waiters(const Cond& c) { return c.notify; }
  static const Mutex& mutex(const Once& o) { return o.m; }

  // stats_unlocked fills {read len, dirty len (-1: nil), misses, amended}
  // of a SyncMap without taking its locks: only with the world stopped
  // (goro::debug::snapshot), when no goroutine is inside the SyncMap.
  template <class M>
  static void stats_unlocked(const void* p, int64_t* out) {
    const M& m = *static_cast<const M*>(p);
    const auto* ro = m.read.get();
    out[0] = ro && ro->m ? static_cast<int64_t>(ro->m->size()) : 0;
    out[1] = m.dirty ? static_cast<int64_t>(m.dirty->size()) : -1;
    out[2] = m.misses;
    out[3] = ro && ro->amended;
  }

  // SyncMap (goro/syncmap.h): the read snapshot's size and amended flag,
  // the dirty map's size (-1 when dirty is nil), and misses.
  template <class M>
  static int64_t read_len(const M& m) {
    return static_cast<int64_t>(m.loadReadOnly()->m->size());
  }
  template <class M>
  static bool amended(const M& m) {
    return m.loadReadOnly()->amended;
  }
  template <class M>
  static int64_t dirty_len(M& m) {
    std::lock_guard<Mutex> lk(m.mu);
    return m.dirty ? static_cast<int64_t>(m.dirty->size()) : -1;
  }
  template <class M>
  static int64_t misses(M& m) {
    std::lock_guard<Mutex> lk(m.mu);
    return m.misses;
  }
};

}  // namespace goro
