// graph.h — the goroutine view's model: the wait-for graph of a snapshot,
// with identical goroutines collapsed, deadlock cycles and leaks marked,
// and a layout. No ImGui.
//
// Nodes: goroutine groups (goroutines with the same status, wait reason,
// frames (by pc) and waited-on objects are one node "xN") and objects
// (channels, mutexes, WaitGroups, ...; objects that are each private to one
// member of the same goroutine group are one node "xK" too, so 100k
// goroutines each blocked on its own reply channel stay two nodes).
// Edges: group -> object "waits on" (op: recv, send, lock, ...), object ->
// group "held by" (a Mutex's owner, an RWMutex's writer, a Once's runner),
// object -> group "would be woken by" (a goroutine that references the
// object: the snapshot's optional `referenced_by`, written by the debugger
// plugins from their stack scan).
//
// Cycles: strongly connected components of waits-on + held-by edges with
// more than one node (or a self loop): a deadlock; their edges are marked.
// Leaks: a fixpoint from the groups that can run (running, runnable,
// sleeping): a blocked group is live if it waits on a mutex held by a live
// group (or by nobody), or on a channel, WaitGroup or Cond that a live
// goroutine references (`referenced_by`), or -- when the snapshot does not
// say who references it (the runtime's own) -- while any other goroutine is
// live (conservative). The rest can never be woken: leaks. The GDB plugin's
// `deadlocks` rules.
//
// Layout: two columns, goroutine groups left, objects right, each column
// ordered by the barycentre of its neighbours (two sweeps), so waits-on
// edges mostly run straight; holders' edges come back. Rejected: a general
// force-directed layout (unstable between consecutive snapshots: nodes would
// jump at every refresh; here a node keeps its place while its neighbours do).
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "snapshot.h"

namespace goroscope::view {

struct GNode {
  bool is_object = false;
  // goroutine group
  std::vector<uint64_t> goids;  // members (first = representative)
  std::string status, reason;
  int64_t waiting_ns = 0;  // the longest wait among the members
  // object group
  std::vector<uint64_t> addrs;  // members (first = representative)
  std::string kind, label;      // "chan int len=0 cap=0", "sync.Mutex \"a\" owner 5"
  // analysis
  bool in_cycle = false, leaked = false;
  // layout (world units)
  float x = 0, y = 0, w = 0, h = 0;
};

enum class EdgeKind { waits_on, held_by, woken_by };

struct GEdge {
  int from = 0, to = 0;  // node indices
  EdgeKind kind = EdgeKind::waits_on;
  std::string op;  // waits_on: recv, send, lock, rlock, wait
  bool in_cycle = false;
};

struct Graph {
  std::vector<GNode> nodes;
  std::vector<GEdge> edges;
  int cycles = 0;  // deadlock cycles (strongly connected components)
  int leaked = 0;  // goroutines (not groups) that can never be woken
  float width = 0, height = 0;
  int group_of(uint64_t goid) const;  // node index of a goroutine, -1
};

// build_graph builds, analyses and lays out the graph of a snapshot.
Graph build_graph(const Snapshot& s);

// object_label renders an object the way the printers do ("chan int len=0
// cap=0", "sync.Mutex locked by goroutine 1").
std::string object_label(const Object& o);

// describe renders the graph as text, one node per line with its edges, then
// the cycles and leaks: what the goroutine panel draws, for terminals and
// tests (`goroscope-view --describe FILE`). A goroutine group reads
//   G x6 [chan send] produce (./examples/backpressure.cpp:22) -> send O2
// (its first user frame), an object node
//   O2 chan "work" int len=4 cap=4 -> held by G3
// and `in cycle` / `LEAK` mark the analysis.
std::string describe(const Graph& g, const Snapshot& s);

}  // namespace goroscope::view
