// goro/sched.h — goroutines: go, run, yield, sleep (Go: the `go` statement,
// runtime.Gosched, time.Sleep, runtime.NumGoroutine).
//
//   int main() {
//     return goro::run([] {            // main goroutine (goid 1 in a fresh process)
//       auto ch = goro::make_chan<int>();
//       goro::go([ch] { ch.send(42); });
//       return ch.recv() == 42 ? 0 : 1;
//     });
//   }
//
// The scheduler (runtime/src/proc.cpp, docs/scheduler.md) runs goroutines on
// GORO_MAXPROCS worker threads (default: the number of CPUs), the calling
// thread of run() being worker 0. Scheduling is cooperative: a goroutine
// runs until it blocks on a goro primitive, yields, sleeps or ends. A
// goroutine in a long computation or a blocking system call keeps its
// worker (others keep running), as Go before 1.14 did.
//
// Blocking operations (channel send/receive, select, Mutex.lock, Wait, ...)
// must be called from a goroutine. Called from a plain OS thread they are a
// fatal error naming the operation, unless they can complete without
// blocking. Non-blocking operations (close, unlock, Done, try-select with a
// default case, Ticker.stop) work from any thread.
//
// run() returns when main returns, like Go's main: goroutines still blocked
// are abandoned (their stacks freed without unwinding, as the process exit
// of a Go program would), so leave nothing behind that owns resources, or
// check with goro::testing::verify_none. Goroutines still runnable at that
// point are not run. Exceptions escaping a goroutine are fatal, as an
// unrecovered Go panic is: "panic: <what>", the goroutine dump, exit 2.
#pragma once

#include <chrono>
#include <cstdint>
#include <cstring>
#include <functional>
#include <new>
#include <optional>
#include <string_view>
#include <tuple>
#include <type_traits>
#include <utility>

#include "goro/runtime2.h"

namespace goro {

// Config configures one run() (zero fields: defaults).
struct Config {
  int maxprocs = 0;            // worker threads; 0: $GORO_MAXPROCS, else the number of CPUs
  std::size_t stack_size = 0;  // bytes per goroutine stack; 0: $GORO_STACK_SIZE, else 128 KiB
                               // (the main goroutine: 8 MiB)
};

namespace detail {

// getg is the running goroutine, or null on a thread outside the scheduler
// (and on a worker's scheduler loop).
extern constinit thread_local G* tls_g;
inline G* getg() noexcept { return tls_g; }

// newproc1 allocates a G and its stack and returns where to construct the
// closure (size/align bytes at the top of the stack, or on the heap if it is
// too big). newproc_start makes the G runnable; newproc_abort undoes
// newproc1 if constructing the closure threw.
G* newproc1(std::size_t size, std::size_t align, void** closure) noexcept;
[[gnu::noinline]] void newproc_start(G* gp, void (*entry)(G*), uintptr_t startpc) noexcept;
void newproc_abort(G* gp) noexcept;

// gstart_prologue runs first on a new goroutine's stack (finishes the
// switch). goexit ends the running goroutine.
void gstart_prologue(G* gp) noexcept;
[[noreturn]] void goexit() noexcept;

// gopark parks the running goroutine with the given reason. After the
// goroutine's context is saved, unlockf(gp, arg) runs on another context;
// returning false makes the goroutine runnable again at once. Precondition:
// called on a goroutine (not a plain thread).
void gopark(bool (*unlockf)(G*, void*), void* arg, waitReason reason) noexcept;
// goready makes a parked goroutine runnable (callable from any thread).
void goready(G* gp) noexcept;

// throw_not_goroutine is the fatal error for a blocking operation called
// from a plain thread.
[[noreturn]] void throw_not_goroutine(const char* op) noexcept;
[[noreturn, gnu::cold]] void fatal(const char* msg) noexcept;  // Go's throw

struct main_closure {
  void (*fn)(void*);
  void* arg;
};
void run_main(const Config& cfg, main_closure c, uintptr_t startpc);

template <class F>
uintptr_t startpc_of(const F& f) {
  if constexpr (std::is_function_v<F>) {  // go(worker, ...): F deduced as a function type
    return reinterpret_cast<uintptr_t>(&f);
  } else if constexpr (std::is_pointer_v<F> && std::is_function_v<std::remove_pointer_t<F>>) {
    return reinterpret_cast<uintptr_t>(f);
  } else if constexpr (requires { &F::operator(); }) {
    // Itanium C++ ABI: a pointer to a non-virtual member function is
    // {function address, this adjustment}; odd addresses mark virtual ones.
    auto pmf = &F::operator();
    static_assert(sizeof(pmf) == 2 * sizeof(uintptr_t), "Itanium ABI member pointer");
    uintptr_t p;
    std::memcpy(&p, &pmf, sizeof p);
    return (p & 1) ? 0 : p;
  } else {
    return 0;
  }
}

template <class F, class... Args>
struct closure {
  F f;
  std::tuple<Args...> args;
  static void entry(G* gp) {
    gstart_prologue(gp);
    auto* c = static_cast<closure*>(gp->closure);
    // No try/catch: an escaping exception must find no handler, so that
    // std::terminate runs with the throwing stack intact (goro/panic.h).
    std::apply(c->f, std::move(c->args));
    closure_done(gp, c);
    goexit();
  }
  static void closure_done(G* gp, closure* c) {
    bool heap = reinterpret_cast<uintptr_t>(c) < gp->stack.lo ||
                reinterpret_cast<uintptr_t>(c) >= gp->stack.hi;
    c->~closure();
    if (heap) ::operator delete (c, std::align_val_t{alignof(closure)});
  }
};

}  // namespace detail

// go starts f(args...) in a new goroutine (Go's `go f(args)`). f and args are
// decayed and moved into the goroutine, like std::thread's. The creation
// site (this call's return address) and the creator's goid are recorded.
template <class F, class... Args>
[[gnu::always_inline]] inline void go(F&& f, Args&&... args) {
  using C = detail::closure<std::decay_t<F>, std::decay_t<Args>...>;
  void* mem;
  detail::G* gp = detail::newproc1(sizeof(C), alignof(C), &mem);
  uintptr_t startpc = detail::startpc_of(f);
  try {
    ::new (mem)
        C{std::forward<F>(f), std::tuple<std::decay_t<Args>...>(std::forward<Args>(args)...)};
  } catch (...) {
    detail::newproc_abort(gp);
    throw;
  }
  // newproc_start records its own return address as the creation site: go()
  // is always inlined, so that address lies in the function calling go().
  detail::newproc_start(gp, &C::entry, startpc ? startpc : reinterpret_cast<uintptr_t>(&C::entry));
}

// run runs main as the main goroutine on a fresh scheduler and returns its
// result when it returns (see the file comment for what happens to the other
// goroutines). Not reentrant: one run() at a time per process.
template <class F>
std::invoke_result_t<F> run(const Config& cfg, F&& main) {
  using R = std::invoke_result_t<F>;
  uintptr_t startpc = detail::startpc_of(main);
  if constexpr (std::is_void_v<R>) {
    auto thunk = [](void* p) { (*static_cast<std::remove_reference_t<F>*>(p))(); };
    detail::run_main(cfg, {thunk, &main}, startpc);
  } else {
    struct ctx {
      std::remove_reference_t<F>* f;
      std::optional<R> r;
    } c{&main, std::nullopt};
    auto thunk = [](void* p) {
      auto* cc = static_cast<ctx*>(p);
      cc->r.emplace((*cc->f)());
    };
    detail::run_main(cfg, {thunk, &c}, startpc);
    return std::move(*c.r);
  }
}
template <class F>
std::invoke_result_t<F> run(F&& main) {
  return run(Config{}, std::forward<F>(main));
}

// ExternalWaker tells the deadlock check that a thread outside the
// scheduler may still wake goroutines (close a channel, unlock, done) while
// the guard exists. Without one, a program whose goroutines all wait for a
// plain thread is reported as deadlocked, as Go would report it (Go has no
// plain threads). Create it before the goroutines block; any thread.
class ExternalWaker {
 public:
  ExternalWaker() noexcept;
  ~ExternalWaker();
  ExternalWaker(const ExternalWaker&) = delete;
  ExternalWaker& operator=(const ExternalWaker&) = delete;
};

// yield lets other goroutines run; the caller stays runnable and goes to
// the back of its worker's run queue (Go's runtime.Gosched uses the global
// queue; the local one keeps a yield a single lock-free switch).
void yield() noexcept;

namespace detail {
void timeSleep(std::chrono::nanoseconds d) noexcept;
}  // namespace detail

// sleep parks the calling goroutine for at least d (Go's time.Sleep).
// d <= 0 returns at once. On a plain thread it sleeps the thread.
[[gnu::always_inline]] inline void sleep(std::chrono::nanoseconds d) noexcept {
  detail::timeSleep(d);
  detail::keep_frame();
}

// goid is the running goroutine's id, 0 outside goroutines.
uint64_t goid() noexcept;

// num_goroutine is the number of goroutines that exist (Go's NumGoroutine).
int num_goroutine() noexcept;

// maxprocs is the number of worker threads of the running scheduler (or
// that the next run() will use).
int maxprocs() noexcept;

// set_name names the running goroutine (shown by dumps and debuggers; at
// most 31 bytes kept). No effect outside a goroutine.
void set_name(std::string_view name) noexcept;

// set_labels replaces the running goroutine's labels (Go's pprof labels);
// goroutines it creates from now on inherit them.
void set_labels(std::initializer_list<std::pair<std::string_view, std::string_view>> labels);

}  // namespace goro
