// testing.cpp — goroutine leak checks (see goro/testing.h).
#include "goro/testing.h"

#include <algorithm>

#include "goro/sched.h"
#include "proc.h"

namespace goro::testing {

using namespace goro::detail;

Option ignore_top_function(std::string_view f) {
  return {Option::top_function, std::string(f), {}, {}};
}

Option ignore_current() {
  Option o{Option::goids, {}, {}, {}};
  forEachG([&](G* gp) {
    if (gp->goid && gp->atomicstatus.load(std::memory_order_acquire) != _Gdead)
      o.ids.push_back(goidof(gp));
  });
  std::sort(o.ids.begin(), o.ids.end());
  return o;
}

Option max_wait(std::chrono::nanoseconds d) { return {Option::wait, {}, {}, d}; }

namespace {

// leaked: the goroutines that count as leaks right now. Status is read
// first (acquire): a _Gwaiting G's record and stack are then stable.
std::vector<G*> leaked(const G* self, std::initializer_list<Option> options) {
  std::vector<G*> out;
  uint32_t n = sched.nallgchunks.load(std::memory_order_acquire);
  for (uint32_t c = 0; c < n; c++) {
    for (uint32_t i = 0; i < kGChunk; i++) {
      G* gp = &sched.allgchunks[c][i];
      uint32_t st = gp->atomicstatus.load(std::memory_order_acquire);
      uint64_t id = goidof(gp);
      if (gp == self || id == 0 || st == _Gdead || st == _Gidle) continue;
      bool ignored = false;
      for (const Option& o : options) {
        if (o.kind == Option::goids && std::binary_search(o.ids.begin(), o.ids.end(), id))
          ignored = true;
        if (o.kind == Option::top_function && st == _Gwaiting && top_function(gp) == o.function)
          ignored = true;
      }
      if (!ignored) out.push_back(gp);
    }
  }
  return out;
}

}  // namespace

LeakCheck verify_none(std::initializer_list<Option> options) {
  std::chrono::nanoseconds budget = std::chrono::seconds(1);
  for (const Option& o : options)
    if (o.kind == Option::wait) budget = o.max_wait;
  G* self = getg();
  auto delay = std::chrono::microseconds(1);
  int64_t deadline = nanotime() + budget.count();
  LeakCheck r;
  for (;;) {
    std::vector<G*> gs = leaked(self, options);
    if (gs.empty()) return r;
    if (nanotime() >= deadline) {
      r.report_ = "found unexpected goroutines:\n\n" + dump_of(gs);
      r.count_ = static_cast<int>(gs.size());
      return r;
    }
    goro::sleep(delay);
    delay = std::min<std::chrono::microseconds>(delay * 2, std::chrono::milliseconds(100));
  }
}

}  // namespace goro::testing
