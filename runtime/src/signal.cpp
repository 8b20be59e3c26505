// signal.cpp — SIGQUIT goroutine dumps and stack-overflow reports (Go:
// runtime/signal_unix.go).
//
// SIGQUIT (kill -QUIT, Ctrl-\): like Go, print "SIGQUIT: quit", the
// signalling PC, every goroutine's traceback, and exit with status 2.
// SIGSEGV/SIGBUS on a goroutine's guard page: "fatal error: stack
// overflow" naming the goroutine (stack.cpp). SIGSEGV/SIGBUS/SIGABRT inside
// a map write: "fatal error: unexpected signal during map operation" with
// the map, the likely cause and the dump (misuse.cpp), as Go reports a
// fault in its runtime -- a map race that breaks the buckets or the heap
// never ends in silence; so does a fault on a recently freed bucket array
// (a reference into a map kept across a write that grew it: map.cpp). Any other fault is passed on
// to the handler that was installed before ours (a sanitizer's, or the default action, which then
// dumps core as before). The handlers are installed by run() and by a thread's first map write
// (init_who), so maps used only from plain threads are covered too.
//
// Handlers run on a per-worker alternate signal stack (the faulting
// goroutine's stack has no room left). The dump allocates and symbolizes
// inside the handler, which is not async-signal-safe; like Go's own dump it
// is a last act before exit, so the risk is a garbled report, not a wrong
// program.
#include <signal.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <cinttypes>
#include <cstdio>
#include <cstring>
#include <string>

#include "goro/map.h"
#include "goro/misuse.h"
#include "goro/sched.h"
#include "proc.h"

namespace goro::detail {

void report_guard_fault(G* gp, uintptr_t addr) noexcept;  // stack.cpp

namespace {

constexpr size_t kAltStack = 256 * 1024;
struct sigaction g_prev_segv, g_prev_bus, g_prev_quit, g_prev_abrt;

void forward(int sig, siginfo_t* info, void* uc, const struct sigaction& prev) {
  if (prev.sa_flags & SA_SIGINFO) {
    if (prev.sa_sigaction) {
      prev.sa_sigaction(sig, info, uc);
      return;
    }
  } else if (prev.sa_handler != SIG_DFL && prev.sa_handler != SIG_IGN) {
    prev.sa_handler(sig);
    return;
  }
  // Default action: reinstall it and return; the faulting instruction runs
  // again and the kernel applies it (core dump for SIGSEGV).
  signal(sig, SIG_DFL);
}

// on_fault and on_abort: a fault or abort inside a fatal report cuts it
// short with a note; one while another thread reports waits for its exit;
// one inside a map write is reported as Go reports a fault in the runtime
// (report_map_fault: the map, the conflicting writer, the dump). Anything
// else goes on to the previous handler.
void on_fault(int sig, siginfo_t* info, void* uc) {
  if (fatal_reporting()) fatal_interrupted(sig);
  G* gp = getg();
  uintptr_t addr = reinterpret_cast<uintptr_t>(info->si_addr);
  if (stack_guard_hit(gp, addr)) report_guard_fault(gp, addr);
  uintptr_t lo;
  if (tls_mapop || freed_bucket_array(addr, &lo)) report_map_fault(sig, info, uc);
  if (fatal_pending()) fatal_park();
  forward(sig, info, uc, sig == SIGBUS ? g_prev_bus : g_prev_segv);
}

// SIGABRT: glibc's heap checks abort (`malloc(): corrupted top size`) when
// a race has broken the heap under a map's allocation.
// Outside a map write, an abort is still reported in Go's shape (`SIGABRT:
// abort`, the PC) with what it usually means in a goro program, before the
// previous handler runs (the default: a core dump). No goroutine dump: an
// abort from the allocator holds its arena's lock, and the dump allocates
// (issue 18: 1 racy run in 1080 ended in `malloc(): corrupted top size`
// after two writers destroyed one std::string key).
void on_abort(int sig, siginfo_t* info, void* uc) {
  if (fatal_reporting()) fatal_interrupted(sig);
  if (tls_mapop) report_map_fault(sig, info, uc);
  if (fatal_pending()) fatal_park();
  auto* ctx = static_cast<ucontext_t*>(uc);
  m* mp = getm();
  char buf[512];
  std::snprintf(buf, sizeof buf,
                "SIGABRT: abort\nPC=%#llx m=%d sigcode=%d\n\n"
                "goroscope: the program aborted. After a C library heap check (`malloc(): "
                "...`, `free(): ...`, `double free`), the usual cause in a goro program is an "
                "object written by two goroutines or threads without a lock -- a goro::Map's "
                "keys or values, whose heap memory both writers freed. No goroutine dump: it "
                "would allocate from that heap.\n",
                static_cast<unsigned long long>(ctx->uc_mcontext.gregs[REG_RIP]), mp ? mp->id : -1,
                info->si_code);
  (void)!write(2, buf, std::strlen(buf));
  forward(sig, info, uc, g_prev_abrt);
}

void on_quit(int, siginfo_t* info, void* uc) {
  auto* ctx = static_cast<ucontext_t*>(uc);
  char buf[160];
  m* mp = getm();
  std::snprintf(buf, sizeof buf, "SIGQUIT: quit\nPC=%#llx m=%d sigcode=%d\n\n",
                static_cast<unsigned long long>(ctx->uc_mcontext.gregs[REG_RIP]), mp ? mp->id : -1,
                info->si_code);
  freeze_others();
  std::fflush(stdout);
  (void)!write(2, buf, std::strlen(buf));
  dump_goroutines(2);
  _exit(2);
}

// ---- freezing the other workers for a fatal report ----
// SIGURG, as Go preempts with: GDB and the sanitizers pass it through
// silently; LLDB 16 stops on it by default, so its plugin sets `process
// handle SIGURG -p true -s false -n false` (Delve does the same for Go's
// preemption signal). The handler records where
// its thread was and then waits for the exit; it runs only while g_freezing
// is set, otherwise a SIGURG goes to whoever had it before.
std::atomic<bool> g_freezing{false};
struct sigaction g_prev_urg;

void on_freeze(int sig, siginfo_t* info, void* uc) {
  m* mp = getm();
  if (!g_freezing.load(std::memory_order_acquire) || !mp) {
    forward(sig, info, uc, g_prev_urg);
    return;
  }
  auto* ctx = static_cast<ucontext_t*>(uc);
  mp->frozenpc = static_cast<uintptr_t>(ctx->uc_mcontext.gregs[REG_RIP]);
  mp->frozensp = static_cast<uintptr_t>(ctx->uc_mcontext.gregs[REG_RSP]);
  mp->frozenbp = static_cast<uintptr_t>(ctx->uc_mcontext.gregs[REG_RBP]);
  // The unwinder follows CFI through the signal frame: right where the frame
  // pointers are not (libc's syscall wrappers, a frameless leaf).
  mp->nfrozenpcs = unwind_pcs(mp->frozenpcs, 64);
  mp->frozen.store(1, std::memory_order_release);
  // Until the reporting thread exits the process. pause(2) without libc's
  // wrapper: a debugger's backtrace of this thread then goes from this
  // (runtime) frame through the signal frame to the goroutine's own.
  for (;;) asm volatile("syscall" : : "a"(SYS_pause) : "rcx", "r11", "memory");
}

}  // namespace

void freeze_others() noexcept {
  if (!sched.running.load(std::memory_order_acquire) || !sched.allm) return;
  static bool once = [] {
    struct sigaction sa {};
    sa.sa_flags = SA_SIGINFO | SA_ONSTACK | SA_RESTART;
    sigemptyset(&sa.sa_mask);
    sa.sa_sigaction = on_freeze;
    sigaction(SIGURG, &sa, &g_prev_urg);
    return true;
  }();
  (void)once;
  if (g_freezing.exchange(true, std::memory_order_acq_rel)) return;  // (one report freezes)
  m* self = getm();
  pid_t pid = getpid();
  int signalled = 0;
  for (int32_t i = 0; i < sched.nm; i++) {
    m* mp = sched.allm[i];
    int32_t tid = __atomic_load_n(&mp->procid, __ATOMIC_ACQUIRE);
    if (mp == self || tid <= 0) continue;
    if (syscall(SYS_tgkill, pid, tid, SIGURG) == 0) signalled++;
  }
  for (int spin = 0; signalled && spin < 1000; spin++) {  // 100 ms at most
    int n = 0;
    for (int32_t i = 0; i < sched.nm; i++)
      n += sched.allm[i] != self && sched.allm[i]->frozen.load(std::memory_order_acquire);
    if (n >= signalled) break;
    usleep(100);
  }
}

void install_signal_handlers() noexcept {
  static bool once = [] {
    // SA_NODEFER: a fault inside a report made by the handler must reach
    // on_fault again (fatal_interrupted), not kill the process silently.
    struct sigaction sa {};
    sa.sa_flags = SA_SIGINFO | SA_ONSTACK | SA_NODEFER;
    sigemptyset(&sa.sa_mask);
    sa.sa_sigaction = on_fault;
    sigaction(SIGSEGV, &sa, &g_prev_segv);
    sigaction(SIGBUS, &sa, &g_prev_bus);
    sa.sa_sigaction = on_abort;
    sigaction(SIGABRT, &sa, &g_prev_abrt);
    sa.sa_sigaction = on_quit;
    sa.sa_flags = SA_SIGINFO | SA_ONSTACK | SA_RESTART;
    sigaction(SIGQUIT, &sa, &g_prev_quit);
    return true;
  }();
  (void)once;
}

// worker_signal_stack gives the calling worker thread an alternate signal
// stack (mp != null) or removes it (mp == null).
void worker_signal_stack(m* mp) noexcept {
  thread_local void* mem = nullptr;
  if (mp) {
    stack_t cur;
    if (sigaltstack(nullptr, &cur) == 0 && !(cur.ss_flags & SS_DISABLE) && cur.ss_size >= kAltStack)
      return;  // someone (a sanitizer) already installed a big enough one
    mem = mmap(nullptr, kAltStack, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (mem == MAP_FAILED) {
      mem = nullptr;
      return;
    }
    stack_t ss{};
    ss.ss_sp = mem;
    ss.ss_size = kAltStack;
    sigaltstack(&ss, nullptr);
  } else if (mem) {
    stack_t ss{};
    ss.ss_flags = SS_DISABLE;
    sigaltstack(&ss, nullptr);
    munmap(mem, kAltStack);
    mem = nullptr;
  }
}

}  // namespace goro::detail

#if GORO_TSAN
// The goroutine dump allocates inside the SIGQUIT / overflow handler on
// purpose (see the file comment): tell TSan not to report that, or every
// death test of the dump would end in a TSan report instead.
extern "C" const char* __tsan_default_options() { return "report_signal_unsafe=0"; }
#endif
