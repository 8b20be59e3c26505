// graph.cpp — build_graph: grouping, edges, cycles (Tarjan), leaks
// (fixpoint), layout (barycentre columns). Design: graph.h.
#include "graph.h"

#include <algorithm>
#include <functional>
#include <map>
#include <numeric>
#include <unordered_map>

namespace goroscope::view {

namespace {

constexpr float kNodeW = 260, kNodeH = 44, kGapY = 14, kColGap = 220;

// holders: the goroutines an object is held by (definite edges).
std::vector<uint64_t> holders(const Object& o) {
  std::vector<uint64_t> h;
  if (o.kind == "mutex" && o.get("locked") && o.get("owner") > 0)
    h.push_back(static_cast<uint64_t>(o.get("owner")));
  if (o.kind == "rwmutex" && o.get("writer") > 0) {
    // A writer still waiting for the readers to leave (writerWaiting) does
    // not hold the lock yet: the readers do, and they are not recorded by
    // goid. (Counting it as the holder drew a false one-goroutine cycle.)
    auto w = static_cast<uint64_t>(o.get("writer"));
    const std::vector<uint64_t>* pending = o.list("writerWaiting");
    if (!pending || std::find(pending->begin(), pending->end(), w) == pending->end())
      h.push_back(w);
  }
  if (o.kind == "rwmutex")  // the read locks the runtime recorded (G.rlocked)
    if (const std::vector<uint64_t>* r = o.list("readLockers"))
      h.insert(h.end(), r->begin(), r->end());
  if (o.kind == "once" && !o.get("done") && o.get("owner") > 0)
    h.push_back(static_cast<uint64_t>(o.get("owner")));
  return h;
}

}  // namespace

std::string object_label(const Object& o) {
  std::string name = o.name.empty() ? "" : " \"" + o.name + "\"";
  if (o.kind == "chan") {
    std::string s = "chan" + name + " len=" + std::to_string(o.get("qcount")) +
                    " cap=" + std::to_string(o.get("dataqsiz"));
    if (o.get("closed")) s += " closed";
    return s;
  }
  if (o.kind == "mutex")
    return "sync.Mutex" + name +
           (o.get("locked")
                ? (o.get("owner") ? " held by " + std::to_string(o.get("owner")) : " locked")
                : " unlocked");
  if (o.kind == "rwmutex")
    return "sync.RWMutex" + name + " readers=" + std::to_string(o.get("readers")) +
           (o.get("writer") ? " writer " + std::to_string(o.get("writer")) : "");
  if (o.kind == "waitgroup")
    return "sync.WaitGroup" + name + " counter=" + std::to_string(o.get("counter"));
  if (o.kind == "cond") return "sync.Cond" + name;
  if (o.kind == "once") return std::string("sync.Once") + name + (o.get("done") ? " done" : "");
  if (o.kind == "syncmap") return "sync.Map" + name;
  return o.kind + name;
}

int Graph::group_of(uint64_t goid) const {
  for (size_t i = 0; i < nodes.size(); i++)
    if (!nodes[i].is_object &&
        std::find(nodes[i].goids.begin(), nodes[i].goids.end(), goid) != nodes[i].goids.end())
      return static_cast<int>(i);
  return -1;
}

Graph build_graph(const Snapshot& s) {
  Graph g;
  // 1. Goroutine groups: same status, reason, frames (pcs) and waited-on
  //    objects -- an object private to its one waiter counts by its kind,
  //    so goroutines blocked alike on their own channels share a group.
  std::unordered_map<uint64_t, int> waiters;
  for (const Goroutine& gr : s.goroutines)
    for (const WaitOn& w : gr.waiting_on) waiters[w.object]++;
  auto is_private = [&](uint64_t addr) {
    const Object* o = s.object(addr);
    return o && o->name.empty() && holders(*o).empty() && waiters[addr] <= 1;
  };
  std::map<std::string, int> gkey;
  std::unordered_map<uint64_t, int> node_of_goid;
  for (const Goroutine& gr : s.goroutines) {
    std::string k = gr.status + '\0' + gr.wait_reason + '\0';
    for (const Frame& f : gr.frames) k += std::to_string(f.pc) + ',';
    k += '\0';
    for (const WaitOn& w : gr.waiting_on)
      k += (is_private(w.object) ? w.kind : std::to_string(w.object)) + w.op + ',';
    auto [it, fresh] = gkey.try_emplace(k, static_cast<int>(g.nodes.size()));
    if (fresh) {
      GNode n;
      n.status = gr.status;
      n.reason = gr.wait_reason;
      g.nodes.push_back(std::move(n));
    }
    GNode& n = g.nodes[it->second];
    n.goids.push_back(gr.goid);
    n.waiting_ns = std::max(n.waiting_ns, gr.waiting_ns);
    node_of_goid[gr.goid] = it->second;
  }
  // 2. Objects waited on, grouped when private to one goroutine group each
  //    (same kind and label shape, waited on by exactly one member).
  std::unordered_map<uint64_t, int> node_of_obj;
  std::map<std::string, int> okey;
  auto object_node = [&](uint64_t addr, int waiter_group) -> int {
    if (auto it = node_of_obj.find(addr); it != node_of_obj.end()) return it->second;
    const Object* o = s.object(addr);
    std::string kind = o ? o->kind : "object";
    bool private_ = is_private(addr);
    std::string key = private_ ? kind + '\0' + std::to_string(waiter_group) + '\0' +
                                     (o->kind == "chan" ? std::to_string(o->get("dataqsiz")) : "")
                               : std::to_string(addr);
    auto [it, fresh] = okey.try_emplace(key, static_cast<int>(g.nodes.size()));
    if (fresh) {
      GNode n;
      n.is_object = true;
      n.kind = kind;
      n.label = o ? object_label(*o) : kind + " (not captured)";
      g.nodes.push_back(std::move(n));
    }
    g.nodes[it->second].addrs.push_back(addr);
    node_of_obj[addr] = it->second;
    return it->second;
  };
  std::map<std::tuple<int, int, int>, int> seen_edge;
  auto add_edge = [&](int from, int to, EdgeKind k, const std::string& op) {
    auto key = std::make_tuple(from, to, static_cast<int>(k));
    if (seen_edge.count(key)) return;
    seen_edge[key] = static_cast<int>(g.edges.size());
    g.edges.push_back(GEdge{from, to, k, op, false});
  };
  for (const Goroutine& gr : s.goroutines) {
    int from = node_of_goid[gr.goid];
    for (const WaitOn& w : gr.waiting_on) {
      if (!w.object || w.kind == "none" || w.kind == "sema") continue;
      add_edge(from, object_node(w.object, from), EdgeKind::waits_on, w.op);
    }
  }
  for (const Object& o : s.objects) {
    auto it = node_of_obj.find(o.addr);
    if (it == node_of_obj.end()) continue;
    for (uint64_t h : holders(o))
      if (auto hg = node_of_goid.find(h); hg != node_of_goid.end())
        add_edge(it->second, hg->second, EdgeKind::held_by, "");
    if (const auto* refs = o.list("referenced_by"))
      for (uint64_t r : *refs)
        if (auto rg = node_of_goid.find(r); rg != node_of_goid.end()) {
          // (a waiter referencing its own object does not wake itself)
          bool waiter = false;
          for (const auto& e : g.edges)
            waiter |= e.from == rg->second && e.to == it->second && e.kind == EdgeKind::waits_on;
          if (!waiter) add_edge(it->second, rg->second, EdgeKind::woken_by, "");
        }
  }
  for (GNode& n : g.nodes)
    if (n.is_object && n.addrs.size() > 1)
      n.label = n.kind + " x" + std::to_string(n.addrs.size()) + " (one per goroutine)";

  // 3. Cycles: Tarjan's strongly connected components.
  const int N = static_cast<int>(g.nodes.size());
  std::vector<std::vector<int>> adj(N);  // definite edges: waits on, held by
  for (size_t e = 0; e < g.edges.size(); e++)
    if (g.edges[e].kind != EdgeKind::woken_by) adj[g.edges[e].from].push_back(static_cast<int>(e));
  std::vector<std::vector<int>> wakers(N);  // object -> "would be woken by" groups
  for (const auto& e : g.edges)
    if (e.kind == EdgeKind::woken_by) wakers[e.from].push_back(e.to);
  std::vector<bool> has_refs(N, false);
  for (const Object& o : s.objects)
    if (o.list("referenced_by"))
      if (auto it = node_of_obj.find(o.addr); it != node_of_obj.end()) has_refs[it->second] = true;
  std::vector<int> index(N, -1), low(N, 0), comp(N, -1), stack;
  std::vector<bool> on(N, false);
  int counter = 0, ncomp = 0;
  // Iterative Tarjan (a recursive one could overflow on 100k-node chains).
  for (int root = 0; root < N; root++) {
    if (index[root] >= 0) continue;
    std::vector<std::pair<int, size_t>> work{{root, 0}};
    while (!work.empty()) {
      auto& [v, i] = work.back();
      if (i == 0) {
        index[v] = low[v] = counter++;
        stack.push_back(v);
        on[v] = true;
      }
      if (i < adj[v].size()) {
        int w = g.edges[adj[v][i]].to;
        i++;
        if (index[w] < 0) {
          work.emplace_back(w, 0);
        } else if (on[w]) {
          low[v] = std::min(low[v], index[w]);
        }
        continue;
      }
      if (low[v] == index[v]) {
        int w;
        do {
          w = stack.back();
          stack.pop_back();
          on[w] = false;
          comp[w] = ncomp;
        } while (w != v);
        ncomp++;
      }
      int done = v;
      work.pop_back();
      if (!work.empty()) low[work.back().first] = std::min(low[work.back().first], low[done]);
    }
  }
  std::vector<int> comp_size(ncomp, 0);
  for (int v = 0; v < N; v++) comp_size[comp[v]]++;
  std::vector<bool> cyclic(ncomp, false);
  for (auto& e : g.edges)
    if (comp[e.from] == comp[e.to] && (comp_size[comp[e.from]] > 1 || e.from == e.to)) {
      e.in_cycle = true;
      cyclic[comp[e.from]] = true;
      g.nodes[e.from].in_cycle = g.nodes[e.to].in_cycle = true;
    }
  g.cycles = static_cast<int>(std::count(cyclic.begin(), cyclic.end(), true));

  // 4. Leaks: the fixpoint from the groups that can run.
  std::vector<bool> live(N, false);
  for (int v = 0; v < N; v++)
    if (!g.nodes[v].is_object && (g.nodes[v].status != "waiting" || g.nodes[v].reason == "sleep"))
      live[v] = true;
  for (bool changed = true; changed;) {
    changed = false;
    for (int v = 0; v < N; v++) {
      if (g.nodes[v].is_object || live[v]) continue;
      bool wake = false;
      for (int e : adj[v]) {
        const GNode& o = g.nodes[g.edges[e].to];
        bool lock = o.kind == "mutex" || o.kind == "rwmutex" || o.kind == "once";
        if (lock) {
          bool held = false;
          for (int e2 : adj[g.edges[e].to]) {
            held = true;
            if (live[g.edges[e2].to]) wake = true;
          }
          if (!held) wake = true;  // unlocked, or held by a plain thread / readers
        } else if (o.kind != "object" && has_refs[g.edges[e].to]) {
          // channels, WaitGroups, Conds: a live goroutine that references it
          for (int u : wakers[g.edges[e].to]) wake = wake || (live[u] && u != v);
        } else if (o.kind != "object") {
          // who references it is unknown: any other live goroutine might act
          for (int u = 0; u < N && !wake; u++) wake = live[u] && u != v;
        } else {
          wake = true;  // not captured: cannot tell
        }
        if (wake) break;
      }
      if (g.nodes[v].reason == "chan receive (nil chan)" ||
          g.nodes[v].reason == "chan send (nil chan)" || g.nodes[v].reason == "select (no cases)")
        wake = false;
      if (wake) live[v] = changed = true;
    }
  }
  for (int v = 0; v < N; v++)
    if (!g.nodes[v].is_object && !live[v]) {
      g.nodes[v].leaked = true;
      g.leaked += static_cast<int>(g.nodes[v].goids.size());
    }

  // 5. Layout: goroutine groups left, objects right, barycentre ordering.
  std::vector<int> left, right;
  for (int v = 0; v < N; v++) (g.nodes[v].is_object ? right : left).push_back(v);
  std::vector<float> pos(N, 0);
  auto place = [&](std::vector<int>& col) {
    for (size_t i = 0; i < col.size(); i++) pos[col[i]] = static_cast<float>(i);
  };
  place(left);
  place(right);
  std::vector<std::vector<int>> nb(N);
  for (const auto& e : g.edges) {
    nb[e.from].push_back(e.to);
    nb[e.to].push_back(e.from);
  }
  auto sweep = [&](std::vector<int>& col) {
    std::vector<std::pair<float, int>> key;
    for (int v : col) {
      float sum = 0;
      for (int u : nb[v]) sum += pos[u];
      key.emplace_back(nb[v].empty() ? pos[v] + 1e6f : sum / static_cast<float>(nb[v].size()), v);
    }
    std::stable_sort(key.begin(), key.end());
    for (size_t i = 0; i < col.size(); i++) col[i] = key[i].second;
    place(col);
  };
  for (int pass = 0; pass < 2; pass++) {
    sweep(right);
    sweep(left);
  }
  for (size_t i = 0; i < left.size(); i++) {
    GNode& n = g.nodes[left[i]];
    n.x = 0;
    n.y = static_cast<float>(i) * (kNodeH + kGapY);
    n.w = kNodeW;
    n.h = kNodeH;
  }
  for (size_t i = 0; i < right.size(); i++) {
    GNode& n = g.nodes[right[i]];
    n.x = kNodeW + kColGap;
    n.y = static_cast<float>(i) * (kNodeH + kGapY);
    n.w = kNodeW;
    n.h = kNodeH;
  }
  g.width = 2 * kNodeW + kColGap;
  g.height = static_cast<float>(std::max(left.size(), right.size())) * (kNodeH + kGapY);
  return g;
}

std::string describe(const Graph& g, const Snapshot& s) {
  auto id = [&](int i) {
    return std::string(g.nodes[i].is_object ? "O" : "G") + std::to_string(i);
  };
  size_t ngor = 0, nobj = 0;
  for (const GNode& n : g.nodes)
    (n.is_object ? nobj : ngor) += n.is_object ? n.addrs.size() : n.goids.size();
  std::string out = "wait-for graph: " + std::to_string(ngor) + " goroutines, " +
                    std::to_string(nobj) + " objects in " + std::to_string(g.nodes.size()) +
                    " nodes; " + std::to_string(g.cycles) + " deadlock cycle(s), " +
                    std::to_string(g.leaked) + " leaked goroutine(s)\n";
  for (int i = 0; i < static_cast<int>(g.nodes.size()); i++) {
    const GNode& n = g.nodes[i];
    out += id(i);
    if (n.is_object) {
      out += n.addrs.size() > 1 ? " x" + std::to_string(n.addrs.size()) : "";
      out += " " + n.label;
    } else {
      out += n.goids.size() > 1 ? " x" + std::to_string(n.goids.size())
                                : " goroutine " + std::to_string(n.goids[0]);
      out += " [" + (n.reason.empty() ? n.status : n.reason) + "]";
      if (const Goroutine* gr = s.goroutine(n.goids[0]))
        for (const Frame& f : gr->frames)
          if (!f.runtime) {
            out += " " + f.function + " (" + f.file + ":" + std::to_string(f.line) + ")";
            break;
          }
    }
    for (const GEdge& e : g.edges)
      if (e.from == i) {
        out += e.kind == EdgeKind::waits_on  ? " -> " + e.op + " "
               : e.kind == EdgeKind::held_by ? " -> held by "
                                             : " -> woken by ";
        out += id(e.to);
        if (e.in_cycle) out += " (in cycle)";
      }
    if (n.leaked) out += " LEAK";
    out += "\n";
  }
  return out;
}

}  // namespace goroscope::view
