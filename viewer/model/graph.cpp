// graph.cpp — build_graph in phases: group the goroutines, add the object
// nodes and the edges, mark the groups from the verdict (waitfor.h), lay
// out (barycentre columns). Design: graph.h.
#include "graph.h"

#include <algorithm>
#include <map>
#include <tuple>
#include <unordered_map>

namespace goroscope::view {

namespace {

constexpr float kNodeW = 260, kNodeH = 44, kGapY = 14, kColGap = 220;

// Index is what the phases share: where each goroutine and object went,
// and each edge by (from, to, kind).
struct Index {
  std::unordered_map<uint64_t, int> waiters;       // object -> goroutines waiting on it
  std::unordered_map<uint64_t, int> node_of_goid;  // goroutine -> its group's node
  std::unordered_map<uint64_t, int> node_of_obj;   // object -> its node
  std::map<std::tuple<int, int, int>, int> edge;   // (from, to, kind) -> edges[i]

  // is_private: an object only one goroutine waits on, unnamed and held by
  // nobody: it is grouped by its kind, not by its address.
  bool is_private(const Snapshot& s, uint64_t addr) const {
    const Object* o = s.object(addr);
    auto it = waiters.find(addr);
    return o && o->name.empty() && holders(*o).empty() && (it == waiters.end() || it->second <= 1);
  }
  int find_edge(int from, int to, EdgeKind k) const {
    auto it = edge.find(std::make_tuple(from, to, static_cast<int>(k)));
    return it == edge.end() ? -1 : it->second;
  }
};

// 1. Goroutine groups: same name, status, reason, frames (pcs) and
//    waited-on objects -- an object private to its one waiter counts by its
//    kind, so goroutines blocked alike on their own channels share a group.
//    (The name is the user's own way of telling goroutines apart: two
//    differently named goroutines are never one node.)
void group_goroutines(const Snapshot& s, Graph& g, Index& ix) {
  for (const Goroutine& gr : s.goroutines)
    for (const WaitOn& w : gr.waiting_on) ix.waiters[w.object]++;
  std::map<std::string, int> gkey;
  for (const Goroutine& gr : s.goroutines) {
    std::string k = gr.name + '\0' + gr.status + '\0' + gr.wait_reason + '\0';
    for (const Frame& f : gr.frames) k += std::to_string(f.pc) + ',';
    k += '\0';
    for (const WaitOn& w : gr.waiting_on)
      k += (ix.is_private(s, w.object) ? w.kind : std::to_string(w.object)) + w.op + ',';
    auto [it, fresh] = gkey.try_emplace(k, static_cast<int>(g.nodes.size()));
    if (fresh) {
      GNode n;
      n.name = gr.name;
      n.status = gr.status;
      n.reason = gr.wait_reason;
      g.nodes.push_back(std::move(n));
    }
    GNode& n = g.nodes[it->second];
    n.goids.push_back(gr.goid);
    n.waiting_ns = std::max(n.waiting_ns, gr.waiting_ns);
    ix.node_of_goid[gr.goid] = it->second;
  }
}

// 2. Objects waited on, grouped when private to one goroutine group each
//    (same kind and label shape, waited on by exactly one member), and the
//    edges: waits on, held by, would be woken by.
void connect(const Snapshot& s, Graph& g, Index& ix) {
  std::map<std::string, int> okey;
  auto object_node = [&](uint64_t addr, int waiter_group) -> int {
    if (auto it = ix.node_of_obj.find(addr); it != ix.node_of_obj.end()) return it->second;
    const Object* o = s.object(addr);
    std::string kind = o ? o->kind : "object";
    std::string key = ix.is_private(s, addr)
                          ? kind + '\0' + std::to_string(waiter_group) + '\0' +
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
    ix.node_of_obj[addr] = it->second;
    return it->second;
  };
  auto add_edge = [&](int from, int to, EdgeKind k, const std::string& op) {
    auto [it, fresh] = ix.edge.try_emplace(std::make_tuple(from, to, static_cast<int>(k)),
                                           static_cast<int>(g.edges.size()));
    if (fresh) g.edges.push_back(GEdge{from, to, k, op, false});
  };
  for (const Goroutine& gr : s.goroutines) {
    int from = ix.node_of_goid[gr.goid];
    for (const WaitOn& w : gr.waiting_on) {
      if (!w.object || w.kind == "none" || w.kind == "sema") continue;
      add_edge(from, object_node(w.object, from), EdgeKind::waits_on, w.op);
    }
  }
  for (const Object& o : s.objects) {
    auto it = ix.node_of_obj.find(o.addr);
    if (it == ix.node_of_obj.end()) continue;
    for (uint64_t h : holders(o))
      if (auto hg = ix.node_of_goid.find(h); hg != ix.node_of_goid.end())
        add_edge(it->second, hg->second, EdgeKind::held_by, "");
    if (const auto* refs = o.list("referenced_by"))
      for (uint64_t r : *refs)
        if (auto rg = ix.node_of_goid.find(r); rg != ix.node_of_goid.end())
          // (a waiter referencing its own object does not wake itself)
          if (ix.find_edge(rg->second, it->second, EdgeKind::waits_on) < 0)
            add_edge(it->second, rg->second, EdgeKind::woken_by, "");
  }
  for (GNode& n : g.nodes)
    if (n.is_object && n.addrs.size() > 1)
      n.label = n.kind + " x" + std::to_string(n.addrs.size()) + " (one per goroutine)";
}

// 3. Marks from the goroutine-level verdict: leaked members per group; the
//    cycles' groups, and their edges g -> lock -> h with g and h in one cycle.
void mark(const Snapshot& s, Graph& g, const Index& ix) {
  for (uint64_t goid : g.verdict.leaked)
    if (auto it = ix.node_of_goid.find(goid); it != ix.node_of_goid.end())
      g.nodes[it->second].leaked++;
  std::unordered_map<uint64_t, size_t> cycle_of;
  for (size_t c = 0; c < g.verdict.cycles.size(); c++)
    for (uint64_t goid : g.verdict.cycles[c]) cycle_of[goid] = c;
  for (const auto& [goid, c] : cycle_of) {
    const Goroutine* gr = s.goroutine(goid);
    auto gn = ix.node_of_goid.find(goid);
    if (!gr || gn == ix.node_of_goid.end()) continue;
    g.nodes[gn->second].in_cycle = true;
    for (const WaitOn& w : gr->waiting_on) {
      const Object* o = s.object(w.object);
      auto on = ix.node_of_obj.find(w.object);
      if (!o || on == ix.node_of_obj.end()) continue;
      for (uint64_t h : holders(*o)) {
        auto hc = cycle_of.find(h);
        auto hn = ix.node_of_goid.find(h);
        if (hc == cycle_of.end() || hc->second != c || hn == ix.node_of_goid.end()) continue;
        int e1 = ix.find_edge(gn->second, on->second, EdgeKind::waits_on);
        int e2 = ix.find_edge(on->second, hn->second, EdgeKind::held_by);
        if (e1 >= 0) g.edges[e1].in_cycle = true;
        if (e2 >= 0) g.edges[e2].in_cycle = true;
        g.nodes[on->second].in_cycle = g.nodes[hn->second].in_cycle = true;
      }
    }
  }
}

// 4. Layout: goroutine groups left, objects right, barycentre ordering.
void layout(Graph& g) {
  const int N = static_cast<int>(g.nodes.size());
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
  g.verdict = analyze(s);
  Index ix;
  group_goroutines(s, g, ix);
  connect(s, g, ix);
  mark(s, g, ix);
  layout(g);
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
                    " nodes; " + std::to_string(g.verdict.cycles.size()) + " deadlock cycle(s), " +
                    std::to_string(g.verdict.unwakeable.size()) +
                    " goroutine(s) that no other goroutine can wake\n";
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
    if (n.leaked)
      out += static_cast<size_t>(n.leaked) == n.goids.size()
                 ? " LEAK"
                 : " LEAK " + std::to_string(n.leaked) + "/" + std::to_string(n.goids.size());
    out += "\n";
  }
  return out;
}

}  // namespace goroscope::view
