// misuse.cpp — reporting of concurrent map misuse (see goro/misuse.h).
//
// The report path is cold and may allocate: by the time it runs the program
// is about to die (fatal), unwind (throw) or hand over (handler). The fatal
// renderer writes with one write(2) per line so that two threads dying at
// once do not interleave within a line, then exits with status 2 (Go's).
#include "goro/misuse.h"

#include <sys/syscall.h>
#include <unistd.h>

#include <cinttypes>
#include <cstdio>
#include <cstdlib>
#include <fstream>
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
  uint64_t tid = static_cast<uint64_t>(syscall(SYS_gettid));
  tls_who = Who::make(Who::thread, tid).token;
  return tls_who;
}

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
  freeze_others();  // (a handler that returned: fatal after all)
  std::string out = "fatal error: ";
  out += message;
  out += "\n\n";
  out += m.describe();
  std::fflush(stdout);
  (void)!::write(2, out.data(), out.size());
  goroscope_fatal(message, 0);
  if (sched.running.load(std::memory_order_acquire)) {
    // Go prints the goroutines after a fatal error; so do we (the detecting
    // goroutine first, its stack showing the map operation).
    (void)!::write(2, "\n", 1);
    dump_goroutines(2);
  }
  std::_Exit(2);
}

}  // namespace detail

namespace {

const char* op_name(MapOp op) {
  switch (op) {
    case MapOp::read:
      return "map read";
    case MapOp::write:
      return "map write";
    case MapOp::iterate:
      return "map iteration";
  }
  return "map access";
}

std::string thread_name(uint64_t tid) {
  std::ifstream f("/proc/self/task/" + std::to_string(tid) + "/comm");
  std::string name;
  if (!std::getline(f, name)) return {};
  return name;
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

std::string Who::describe() const {
  switch (kind()) {
    case thread: {
      std::string s = "thread " + std::to_string(id());
      std::string n = thread_name(id());
      if (!n.empty()) s += " [" + n + "]";
      return s;
    }
    case goroutine:
      return "goroutine " + std::to_string(id()) + " (" +
             (found ? detail::origin_string(gopc, parent) : std::string("exited")) + ")";
    case none:
      break;
  }
  return "unknown";
}

std::string MapMisuse::describe() const {
  char addr[32];
  std::snprintf(addr, sizeof addr, "%p", map);
  std::string s = "map ";
  s += addr;
  if (type) {
    s += " goro::Map<";
    s += type->keyname;
    s += ", ";
    s += type->elemname;
    s += ">";
  }
  if (auto* h = static_cast<const detail::hmap*>(map)) {
    s += " len=" + std::to_string(h->count) + " B=" + std::to_string(h->B);
  }
  s += "\n\tthis ";
  s += op_name(op);
  s += ": ";
  s += victim.describe();
  s += "\n\tconflicting map write: ";
  if (holder.token == 0) {
    s += "unknown";
  } else {
    s += holder.describe();
    if (holder == victim)
      s += " (the same party: the flag was cleared under it by another writer)";
    else
      s += " (set hashWriting)";
  }
  s += "\n";
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
