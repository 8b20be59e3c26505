// graph.h — the goroutine view's model: the wait-for graph of a snapshot,
// with identical goroutines collapsed, deadlock cycles and leaks marked,
// and a layout. No ImGui.
//
// Nodes: goroutine groups (goroutines with the same name, status, wait reason,
// frames (by pc) and waited-on objects are one node "xN") and objects
// (channels, mutexes, WaitGroups, ...; objects that are each private to one
// member of the same goroutine group are one node "xK" too, so 100k
// goroutines each blocked on its own reply channel stay two nodes).
// Edges: group -> object "waits on" (op: recv, send, lock, ...), object ->
// group "held by" (holders(): a Mutex's owner, an RWMutex's writer and
// readers, a Once's runner), object -> group "would be woken by" (a
// goroutine that references the object: the snapshot's optional
// `referenced_by`, written by the runtime and the debugger plugins from
// their stack scans).
//
// Cycles and leaks are not decided here: the verdict is analyze()'s
// (waitfor.h: docs/deadlock-rules.md, goroutine by goroutine, the debuggers'
// `deadlocks` rules), and build_graph marks the groups from it. A group is
// in a cycle when a member is, and counts its leaked members; an edge is in
// a cycle when it joins two goroutines of one cycle (g waits on a lock held
// by h). Rejected: deciding on the groups themselves (the viewer did until
// the rules were made one): a group in which one member holds the mutex
// the others wait on is a cycle of one node, and one wake edge to an object
// group woke every member.
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
#include "waitfor.h"

namespace goroscope::view {

struct GNode {
  bool is_object = false;
  // goroutine group
  std::vector<uint64_t> goids;  // members (first = representative)
  std::string name;             // goro::set_name's, shared by every member ("" if none)
  std::string status, reason;
  int64_t waiting_ns = 0;  // the longest wait among the members
  // object group
  std::vector<uint64_t> addrs;  // members (first = representative)
  std::string kind, label;      // "chan int len=0 cap=0", "sync.Mutex \"a\" owner 5"
  // the verdict's marks
  bool in_cycle = false;  // a member is in a deadlock cycle (or, objects: a cycle edge touches it)
  int leaked = 0;         // members that can never run again
  // layout (world units)
  float x = 0, y = 0, w = 0, h = 0;
};

enum class EdgeKind { waits_on, held_by, woken_by };

struct GEdge {
  int from = 0, to = 0;  // node indices
  EdgeKind kind = EdgeKind::waits_on;
  std::string op;         // waits_on: recv, send, lock, rlock, wait
  bool in_cycle = false;  // joins two goroutines of one deadlock cycle
};

struct Graph {
  std::vector<GNode> nodes;
  std::vector<GEdge> edges;
  Verdict verdict;  // goroutine by goroutine (waitfor.h); the marks above come from it
  float width = 0, height = 0;
  int group_of(uint64_t goid) const;  // node index of a goroutine, -1
};

// build_graph analyses a snapshot (analyze()), then groups, connects, marks
// and lays out its graph: the phases of graph.cpp, one function each.
Graph build_graph(const Snapshot& s);

// object_label renders an object the way the printers do ("chan int len=0
// cap=0", "sync.Mutex locked by goroutine 1").
std::string object_label(const Object& o);

// describe renders the graph as text: a header with the verdict in the
// words of `deadlocks` ("N deadlock cycle(s), M goroutine(s) that no other
// goroutine can wake"), then one node per line with its edges: what the
// goroutine panel draws, for terminals and tests (`goroscope-view
// --describe FILE`). A goroutine group reads
//   G x6 [chan send] produce (./examples/backpressure.cpp:22) -> send O2
// (its first user frame), an object node
//   O2 chan "work" int len=4 cap=4 -> held by G3
// and `(in cycle)` marks a cycle's edges, `LEAK` a group whose members can
// never run again (`LEAK 3/4` when only some can't).
std::string describe(const Graph& g, const Snapshot& s);

}  // namespace goroscope::view
