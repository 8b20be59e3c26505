// waitfor.cpp — analyze: the rules of docs/deadlock-rules.md, a work-list
// fixpoint and Tarjan's components. Design: waitfor.h. Keep in step with
// python/goroscope/deadlock.py (tests/conformance checks both).
#include "waitfor.h"

#include <algorithm>
#include <string_view>
#include <utility>

namespace goroscope::view {

namespace {

bool is_lock(std::string_view k) { return k == "mutex" || k == "rwmutex" || k == "once"; }
bool is_shared(std::string_view k) { return k == "chan" || k == "waitgroup" || k == "cond"; }

// R2: the wait reasons of a goroutine that nothing can wake.
bool forever(std::string_view reason) {
  return reason == "chan receive (nil chan)" || reason == "chan send (nil chan)" ||
         reason == "select (no cases)";
}

// R1: running, runnable, or asleep on a timer.
bool runs(const Goroutine& g) { return g.status != "waiting" || g.wait_reason == "sleep"; }

// Obj is what the rules read of one object, and where the fixpoint is with it.
struct Obj {
  bool lock = false, shared = false;  // is_lock, is_shared (its kind)
  bool closed = false;                // a closed channel
  bool refs_known = false;            // it has referenced_by
  size_t nrefs = 0;                   // distinct goids in referenced_by
  int64_t handles = -1;               // a channel's `refs`; -1: unknown
  size_t held = 0;                    // holders that are goroutines of the snapshot
  size_t running_holders = 0, running_refs = 0;
  bool fired = false;
};

// Lists is a list of lists by index, in two arrays (100k goroutines must
// not cost 100k small vectors): list i is items[start[i], start[i + 1]).
struct Lists {
  std::vector<uint32_t> start, items;
  Lists(size_t n, const std::vector<std::pair<uint32_t, uint32_t>>& pairs)
      : start(n + 1, 0), items(pairs.size()) {
    for (const auto& p : pairs) start[p.first + 1]++;
    for (size_t i = 0; i < n; i++) start[i + 1] += start[i];
    std::vector<uint32_t> at(start.begin(), start.end() - 1);
    for (const auto& p : pairs) items[at[p.first]++] = p.second;
  }
  struct Range {
    const uint32_t *b, *e;
    const uint32_t* begin() const { return b; }
    const uint32_t* end() const { return e; }
  };
  Range operator[](size_t i) const {
    return {items.data() + start[i], items.data() + start[i + 1]};
  }
};

// fires: R4-R8, whether a wait on o can still fire.
bool fires(const Obj& o, bool anyone, const Rules& r) {
  if (o.lock)  // R5 (no holder: unlocked, or a thread's)
    return r.every_holder ? o.running_holders == o.held : o.held == 0 || o.running_holders > 0;
  if (o.shared) {
    if (o.closed) return true;                             // R6
    if (!o.refs_known) return r.unknown_anyone && anyone;  // R8
    return o.running_refs > 0 ||
           (r.handles && o.handles >= 0 && static_cast<size_t>(o.handles) > o.nrefs);  // R7
  }
  return true;  // R4: a kind the rules do not know
}

// components: Tarjan's strongly connected components of n goroutines and
// their lock edges g -> h, iterative.
std::vector<std::vector<uint32_t>> components(const Lists& adj, size_t n) {
  std::vector<int64_t> index(n, -1), low(n, 0);
  std::vector<uint32_t> stack;
  std::vector<bool> on(n, false);
  std::vector<std::vector<uint32_t>> out;
  int64_t counter = 0;
  for (uint32_t root = 0; root < n; root++) {
    if (index[root] >= 0 || adj[root].begin() == adj[root].end()) continue;
    std::vector<std::pair<uint32_t, const uint32_t*>> work{{root, nullptr}};
    while (!work.empty()) {
      auto& [v, next] = work.back();
      if (!next) {
        index[v] = low[v] = counter++;
        stack.push_back(v);
        on[v] = true;
        next = adj[v].begin();
      }
      if (next != adj[v].end()) {
        uint32_t w = *next++;
        if (index[w] < 0) {
          work.emplace_back(w, nullptr);
        } else if (on[w]) {
          low[v] = std::min(low[v], index[w]);
        }
        continue;
      }
      uint32_t done = v;
      work.pop_back();
      if (!work.empty()) low[work.back().first] = std::min(low[work.back().first], low[done]);
      if (low[done] == index[done]) {
        std::vector<uint32_t> comp;
        uint32_t w;
        do {
          w = stack.back();
          stack.pop_back();
          on[w] = false;
          comp.push_back(w);
        } while (w != done);
        out.push_back(std::move(comp));
      }
    }
  }
  return out;
}

}  // namespace

std::vector<uint64_t> holders(const Object& o) {
  std::vector<uint64_t> h;
  if (o.kind == "mutex" && o.get("locked") && o.get("owner") > 0)
    h.push_back(static_cast<uint64_t>(o.get("owner")));
  if (o.kind == "rwmutex") {
    // A writer still waiting for the readers to leave (writerWaiting) does
    // not hold the lock yet: the readers do. (Counting it as the holder drew
    // a false one-goroutine cycle.)
    if (o.get("writer") > 0) {
      auto w = static_cast<uint64_t>(o.get("writer"));
      const std::vector<uint64_t>* pending = o.list("writerWaiting");
      if (!pending || std::find(pending->begin(), pending->end(), w) == pending->end())
        h.push_back(w);
    }
    if (const std::vector<uint64_t>* r = o.list("readLockers"))  // G.rlocked
      for (uint64_t x : *r)
        if (std::find(h.begin(), h.end(), x) == h.end()) h.push_back(x);
  }
  if (o.kind == "once" && !o.get("done") && o.get("owner") > 0)
    h.push_back(static_cast<uint64_t>(o.get("owner")));
  return h;
}

Verdict analyze(const Snapshot& s, const Rules& rules) {
  const size_t n = s.goroutines.size();
  auto goroutine_at = [&](uint64_t goid) -> int64_t {  // -1: not a goroutine of s
    const Goroutine* g = s.goroutine(goid);
    return g ? g - s.goroutines.data() : -1;
  };
  // object_at: the object of a wait, as objs[j]; -1: a wait the rules cannot
  // see into (R4): no object, sema or none, or one the snapshot does not
  // describe.
  auto object_at = [&](const WaitOn& w) -> int64_t {
    if (!w.object || w.kind == "sema" || w.kind == "none") return -1;
    const Object* o = s.object(w.object);
    return o ? o - s.objects.data() : -1;
  };
  std::vector<Obj> objs(s.objects.size());
  std::vector<std::pair<uint32_t, uint32_t>> held, refd;  // (object, goroutine)
  for (size_t j = 0; j < s.objects.size(); j++) {
    const Object& o = s.objects[j];
    Obj& x = objs[j];
    if (rules.once_holds || o.kind != "once")
      for (uint64_t h : holders(o))
        if (int64_t g = goroutine_at(h); g >= 0) {
          held.emplace_back(j, g);
          x.held++;
        }
    if (const std::vector<uint64_t>* r = o.list("referenced_by")) {
      std::vector<uint64_t> ids = *r;
      std::sort(ids.begin(), ids.end());
      ids.erase(std::unique(ids.begin(), ids.end()), ids.end());
      x.refs_known = true;
      x.nrefs = ids.size();
      for (uint64_t id : ids)
        if (int64_t g = goroutine_at(id); g >= 0) refd.emplace_back(j, g);
    }
    x.lock = is_lock(o.kind);
    x.shared = is_shared(o.kind);
    if (o.kind == "chan") {
      x.closed = o.get("closed") != 0;
      x.handles = o.get("refs", -1);
    }
  }
  const Lists holders_of(objs.size(), held);
  auto flip = [](std::vector<std::pair<uint32_t, uint32_t>> v) {
    for (auto& p : v) std::swap(p.first, p.second);
    return v;
  };
  const Lists holds(n, flip(held)), refs_of(n, flip(std::move(refd)));

  std::vector<bool> live(n, false);
  std::vector<uint32_t> queue;
  size_t nlive = 0;
  auto wake = [&](uint32_t g) {
    if (live[g]) return;
    live[g] = true;
    nlive++;
    queue.push_back(g);
  };
  std::vector<std::pair<uint32_t, uint32_t>> waiting;  // (object, goroutine)
  for (uint32_t i = 0; i < n; i++) {
    const Goroutine& g = s.goroutines[i];
    if (runs(g)) {
      wake(i);
      continue;
    }
    if (rules.nil_forever && forever(g.wait_reason)) continue;  // R2
    bool cannot_tell = g.waiting_on.empty();                    // R4
    for (const WaitOn& w : g.waiting_on) {
      if (int64_t j = object_at(w); j >= 0) {
        waiting.emplace_back(j, i);
      } else {
        cannot_tell = true;
      }
    }
    if (cannot_tell) wake(i);
  }
  const Lists waiters(objs.size(), waiting);
  auto check = [&](size_t j) {
    Obj& x = objs[j];
    if (x.fired || !fires(x, nlive > 0, rules)) return;
    x.fired = true;
    for (uint32_t g : waiters[j]) wake(g);  // R3: any one of its waits
  };
  for (size_t j = 0; j < objs.size(); j++) check(j);
  bool anyone_seen = false;
  while (!queue.empty()) {  // R9
    uint32_t h = queue.back();
    queue.pop_back();
    if (!anyone_seen) {
      anyone_seen = true;
      for (size_t j = 0; j < objs.size(); j++)
        if (!objs[j].refs_known) check(j);
    }
    for (uint32_t j : holds[h]) {
      objs[j].running_holders++;
      check(j);
    }
    for (uint32_t j : refs_of[h]) {
      objs[j].running_refs++;
      check(j);
    }
  }

  // Cycles: components of "g waits on a lock held by h" with two goroutines
  // or more, or a goroutine waiting on itself; every member leaked.
  std::vector<std::pair<uint32_t, uint32_t>> lock_edges;  // (g, h)
  for (uint32_t i = 0; i < n; i++) {
    const Goroutine& g = s.goroutines[i];
    if (live[i]) continue;
    for (const WaitOn& w : g.waiting_on)
      if (int64_t j = object_at(w); j >= 0 && objs[j].lock)
        for (uint32_t h : holders_of[j]) lock_edges.emplace_back(i, h);
  }
  const Lists adj(n, lock_edges);
  Verdict v;
  std::vector<bool> in_cycle(n, false);
  for (const std::vector<uint32_t>& comp : components(adj, n)) {
    bool cyclic = comp.size() > 1;
    for (uint32_t h : adj[comp[0]]) cyclic = cyclic || h == comp[0];
    for (uint32_t g : comp) cyclic = cyclic && !live[g];
    if (!cyclic) continue;
    std::vector<uint64_t> goids;
    for (uint32_t g : comp) {
      goids.push_back(s.goroutines[g].goid);
      in_cycle[g] = true;
    }
    std::sort(goids.begin(), goids.end());
    v.cycles.push_back(std::move(goids));
  }
  std::sort(v.cycles.begin(), v.cycles.end());
  for (size_t i = 0; i < n; i++)
    if (!live[i]) {
      v.leaked.push_back(s.goroutines[i].goid);
      if (!in_cycle[i]) v.unwakeable.push_back(s.goroutines[i].goid);
    }
  for (auto* ids : {&v.leaked, &v.unwakeable})  // (goroutines mostly come in goid order)
    if (!std::is_sorted(ids->begin(), ids->end())) std::sort(ids->begin(), ids->end());
  return v;
}

}  // namespace goroscope::view
