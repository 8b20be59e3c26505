// misuse.cpp — reporting of concurrent map misuse (see goro/misuse.h), and
// of faults inside map writes.
//
// A fatal report must come out even when the race it reports has already
// broken the heap (issue 18: tests/map_race, 1080 racy runs of the previous
// build, 85 died printing nothing -- a SIGSEGV in evacuate or on a freed
// array, or glibc's `malloc(): corrupted top size`, some of those inside
// the report's own std::string). So the fatal path takes the fatal
// latch (proc.h: one reporter, a fault inside the report ends it with a
// note), writes "fatal error: <message>" and the map's line from a stack
// buffer, and only then renders the parties (symbolized: allocates) and the
// goroutine dump. The throw and handler actions may allocate: the program
// goes on, so the heap had better be fine. Exit status 2 (Go's).
//
// A fault or a heap abort inside a map write (tls_mapop) is reported the
// way Go reports a fault in its runtime: "fatal error: unexpected signal
// during map operation", the signal line, the map and the likely cause (a
// concurrent writer holds hashWriting, or an earlier unnoticed race broke
// the buckets), then the dump. So is a fault on a recently freed bucket
// array outside any write (a stale reference into a map that grew), with
// the array instead of the map.
#include "goro/misuse.h"

#include <fcntl.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <algorithm>
#include <cinttypes>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>

#include "goro/debug_abi.h"
#include "goro/map.h"
#include "goro/sched.h"
#include "proc.h"

namespace goro {

namespace detail {

constinit thread_local uint64_t tls_who = 0;

namespace {
std::atomic<MisuseAction> g_action{MisuseAction::fatal};
std::atomic<MisuseHandler> g_handler{nullptr};
}  // namespace

uint64_t init_who() noexcept {
  install_signal_handlers();  // (maps used from plain threads: faults inside writes)
  uint64_t tid = static_cast<uint64_t>(syscall(SYS_gettid));
  tls_who = Who::make(Who::thread, tid).token;
  return tls_who;
}

constinit thread_local const hmap* tls_mapop = nullptr;

namespace {

void write_all(const char* s) { (void)!::write(2, s, std::strlen(s)); }

// map_line renders "map 0x... goro::Map<K, V> len=N B=B\n" into buf
// without allocating; the length written.
size_t map_line(char* buf, size_t size, const hmap* h) {
  if (size == 0) return 0;
  int n = h && h->type
              ? std::snprintf(buf, size, "map %p goro::Map<%s, %s> len=%zu B=%u\n",
                              static_cast<const void*>(h), h->type->keyname, h->type->elemname,
                              static_cast<size_t>(h->count), static_cast<unsigned>(h->B))
              : std::snprintf(buf, size, "map %p\n", static_cast<const void*>(h));
  return n < 0 ? 0 : std::min(static_cast<size_t>(n), size - 1);
}

// write_parties writes who noticed and who held hashWriting, piece by
// piece: the ids (no allocation) are out before the details (symbolized:
// they allocate, on a heap the race may have broken) are attempted.
void write_parties(const MapMisuse& m, bool details) {
  m.each_party_piece(details, [](const char* piece) { write_all(piece); });
}

[[noreturn]] void finish_fatal(const char* message) {
  fatal_debugger_stop(message, 0);
  (void)!::write(2, "\n", 1);
  if (sched.running.load(std::memory_order_acquire)) {
    // Go prints the goroutines after a fatal error; so do we (the detecting
    // goroutine first, its stack showing the map operation).
    dump_goroutines(2);
  } else {
    dump_current_thread(2);  // (a plain thread: where the map was used)
  }
  std::_Exit(2);
}

}  // namespace

void report_map_misuse(const char* message, const hmap* h, MapOp op) {
  MapMisuse m{message,
              h,
              h ? h->type : nullptr,
              op,
              Who{current_who()},
              Who{h ? h->writer.load(std::memory_order_relaxed) : 0}};
  // A fatal report stops the other workers first, so that the other party
  // (the holder) is still where it was -- parked, or running on its worker --
  // in the report, the dump and a debugger's stop, not gone on.
  MisuseAction action = g_action.load(std::memory_order_relaxed);
  if (action == MisuseAction::fatal) freeze_others();
  m.victim.capture();
  m.holder.capture();
  switch (action) {
    case MisuseAction::throw_exception:
      throw ConcurrentMapMisuse(m);
    case MisuseAction::handler:
      if (MisuseHandler fn = g_handler.load(std::memory_order_relaxed)) fn(m);
      [[fallthrough]];
    case MisuseAction::fatal:
      break;
  }
  fatal_begin();
  freeze_others();  // (a handler that returned: fatal after all)
  std::fflush(stdout);
  char head[512];
  size_t n = std::snprintf(head, sizeof head, "fatal error: %s\n\n", message);
  map_line(head + std::min(n, sizeof head - 1), sizeof head - std::min(n, sizeof head - 1), h);
  write_all(head);
  write_parties(m, true);
  finish_fatal(message);
}

// report_map_fault: see the file comment. Runs in a signal handler.
void report_map_fault(int sig, const siginfo_t* info, const void* uc) noexcept {
  const hmap* h = tls_mapop;
  fatal_begin();
  freeze_others();
  auto* ctx = static_cast<const ucontext_t*>(uc);
  char head[768];
  size_t n = std::snprintf(head, sizeof head,
                           "fatal error: unexpected signal during map operation\n"
                           "[signal %s: %s code=0x%x addr=0x%" PRIxPTR " pc=0x%llx]\n\n",
                           sig == SIGABRT  ? "SIGABRT"
                           : sig == SIGBUS ? "SIGBUS"
                                           : "SIGSEGV",
                           sig == SIGABRT  ? "abort"
                           : sig == SIGBUS ? "bus error"
                                           : "segmentation violation",
                           static_cast<unsigned>(info->si_code),
                           reinterpret_cast<uintptr_t>(info->si_addr),
                           static_cast<unsigned long long>(ctx->uc_mcontext.gregs[REG_RIP]));
  n = std::min(n, sizeof head - 1);
  uint64_t me = current_who();
  if (!h) {
    // Not inside a write: the address is in a freed bucket array (signal.cpp).
    uintptr_t lo = 0;
    size_t size = freed_bucket_array(reinterpret_cast<uintptr_t>(info->si_addr), &lo);
    std::snprintf(head + n, sizeof head - n,
                  "the address is inside a goro::Map bucket array (0x%" PRIxPTR
                  ", %zu bytes) freed when its map grew or was destroyed\n"
                  "\tlikely cause: a reference, pointer or iterator into a goro::Map used after "
                  "a write grew the map (here or in a concurrent writer: `m[k] = v` stores "
                  "after the write), or after the map was destroyed\n"
                  "\tthis access: ",
                  lo, size);
    write_all(head);
    char buf[48];
    write_all(Who{me}.id_text(buf, sizeof buf));
    write_all("\n");
    finish_fatal("unexpected signal during map operation");
  }
  n += map_line(head + n, sizeof head - n, h);
  n = std::min(n, sizeof head - 1);
  uint64_t holder = h->writer.load(std::memory_order_relaxed);
  bool writing = h->flags.load(std::memory_order_relaxed) & hashWriting;
  std::snprintf(head + n, sizeof head - n, "\tlikely cause: %s\n",
                sig == SIGABRT ? "a heap check failed inside the map's write: a concurrent "
                                 "map write broke the heap"
                : holder != me && writing
                    ? "concurrent map writes (another writer set hashWriting)"
                    : "concurrent map writes (an earlier unnoticed one broke the buckets), "
                      "or a map used after it was destroyed");
  write_all(head);
  // (holder == me: the last writer to record itself was us; the other one
  // is unknown.)
  MapMisuse m{"unexpected signal during map operation",
              h,
              h->type,
              MapOp::write,
              Who{me},
              Who{holder == me ? 0 : holder}};
  // The parties by id only: their creation sites are in the dump, and the
  // allocator may be what faulted.
  write_parties(m, false);
  if (sig == SIGABRT) {
    // The allocator aborted holding its arena's lock: anything that
    // allocates on this thread now waits forever, so no dump.
    write_all("\n(no goroutine dump: the allocator aborted and the heap cannot be used)\n");
    fatal_debugger_stop(m.message, 0);
    std::_Exit(2);
  }
  finish_fatal(m.message);
}

}  // namespace detail

namespace {

std::string thread_name(uint64_t tid) {
  char path[64], name[32];
  std::snprintf(path, sizeof path, "/proc/self/task/%" PRIu64 "/comm", tid);
  int fd = ::open(path, O_RDONLY | O_CLOEXEC);
  if (fd < 0) return {};
  ssize_t n = ::read(fd, name, sizeof name - 1);
  ::close(fd);
  if (n <= 0) return {};
  return std::string(name, static_cast<size_t>(n) - (name[n - 1] == '\n'));
}

}  // namespace

void Who::capture() {
  if (kind() != goroutine) return;
  if (detail::G* gp = detail::findg(id())) {
    gopc = gp->gopc;
    parent = gp->parentGoid;
    found = true;
  }
}

const char* Who::id_text(char* buf, size_t size) const {
  switch (kind()) {
    case thread:
      std::snprintf(buf, size, "thread %" PRIu64, id());
      return buf;
    case goroutine:
      std::snprintf(buf, size, "goroutine %" PRIu64, id());
      return buf;
    case none:
      break;
  }
  return "unknown";
}

std::string Who::details() const {
  switch (kind()) {
    case thread: {
      std::string n = thread_name(id());
      return n.empty() ? n : " [" + n + "]";
    }
    case goroutine:
      return " (" + (found ? detail::origin_string(gopc, parent) : std::string("exited")) + ")";
    case none:
      break;
  }
  return {};
}

std::string Who::describe() const {
  char buf[48];
  return id_text(buf, sizeof buf) + details();
}

std::string MapMisuse::describe() const {
  char line[512];
  detail::map_line(line, sizeof line, static_cast<const detail::hmap*>(map));
  std::string s = line;
  each_party_piece(true, [&](const char* piece) { s += piece; });
  return s;
}

ConcurrentMapMisuse::ConcurrentMapMisuse(const MapMisuse& m)
    : std::runtime_error(std::string(m.message) + "\n" + m.describe()), info_(m) {}

void set_misuse_action(MisuseAction a) { detail::g_action.store(a, std::memory_order_relaxed); }
MisuseAction misuse_action() { return detail::g_action.load(std::memory_order_relaxed); }
void set_misuse_handler(MisuseHandler h) {
  detail::g_handler.store(h, std::memory_order_relaxed);
  detail::g_action.store(MisuseAction::handler, std::memory_order_relaxed);
}

}  // namespace goro
