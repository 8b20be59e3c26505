// model_test.cpp — the viewer's model library, headless: real snapshots
// from the runtime parsed back, the wait-for graph (cycles, leaks,
// collapsing), map geometry (2^20 buckets, visibility, hit testing), the
// history, and a fuzzed parser (truncated, malformed, huge or negative
// values: refused with a reason, never a crash or a hang).
#include <gtest/gtest.h>

#include <chrono>
#include <random>
#include <string>

#include "goro/debug.h"
#include "goro/goro.h"
#include "goro/map_debug.h"
#include "graph.h"
#include "history.h"
#include "keyhash.h"
#include "mapgeom.h"
#include "snapshot.h"

namespace view = goroscope::view;

namespace {

template <class F>
bool wait_until(F&& cond) {
  for (int i = 0; i < 5000; i++) {
    if (cond()) return true;
    goro::sleep(std::chrono::milliseconds(1));
  }
  return false;
}

std::string parse_error(const std::string& json) {
  std::string err;
  auto s = view::parse_snapshot(json, &err);
  return s ? "" : err;
}

}  // namespace

// A lock-order inversion, 100 goroutines on one channel, 50 each on its own
// channel, one on a nil channel, and a map mid-growth: parsed, analysed.
TEST(ViewModel, RealSnapshotGraphAndMap) {
  std::string json;
  goro::run(goro::Config{2, 0}, [&] {
    goro::Mutex a, b;
    goro::debug::name(a, "a");
    goro::debug::name(b, "b");
    goro::WaitGroup both;
    both.add(2);
    std::atomic<int> blocked{0};
    goro::go([&] {
      a.lock();
      both.done();
      both.wait();
      b.lock();
    });
    goro::go([&] {
      b.lock();
      both.done();
      both.wait();
      a.lock();
    });
    auto shared = goro::make_chan<int>();
    for (int i = 0; i < 100; i++) goro::go([shared]() mutable { shared.recv(); });
    for (int i = 0; i < 50; i++)
      goro::go([] {
        auto own = goro::make_chan<int>();
        own.recv();
      });
    goro::go([] {
      goro::Chan<int> nilc;
      nilc.recv();
    });
    goro::Map<int64_t, int64_t> m;
    goro::debug::name(m, "m");
    for (int64_t i = 0; !goro::MapDebugAccess::growing(m) || i < 20; i++) m[i] = i;
    (void)blocked;
    ASSERT_TRUE(wait_until([] {
      std::string err;
      auto s = view::parse_snapshot(goro::debug::snapshot(), &err);
      if (!s) return false;
      int waiting = 0;
      for (const auto& g : s->goroutines) waiting += g.status == "waiting";
      return waiting >= 153;
    }));
    goro::debug::SnapshotOptions o;
    o.bucket_limit = 0;
    json = goro::debug::snapshot(o);
    shared.close();
  });
  std::string err;
  auto s = view::parse_snapshot(json, &err);
  ASSERT_TRUE(s) << err;
  EXPECT_GE(s->goroutines.size(), 154u);
  ASSERT_EQ(s->maps.size(), 1u);
  const view::Map& m = s->maps[0];
  EXPECT_EQ(m.name, "m");
  EXPECT_TRUE(m.growing);
  ASSERT_TRUE(m.oldbuckets);
  EXPECT_EQ(m.oldbuckets->nbuckets * 2, m.buckets.nbuckets);

  view::Graph g = view::build_graph(*s);
  EXPECT_EQ(g.verdict.cycles.size(), 1u);  // the inversion
  int cycle_edges = 0;
  for (const auto& e : g.edges) cycle_edges += e.in_cycle;
  EXPECT_EQ(cycle_edges, 4);  // 2 waits-on + 2 held-by
  // Collapsing: the 100 on `shared` are one group; the 50 with their own
  // channels are one group and one object group of 50.
  bool hundred = false, fifty = false, fifty_objects = false;
  for (const auto& n : g.nodes) {
    hundred |= !n.is_object && n.goids.size() == 100;
    fifty |= !n.is_object && n.goids.size() == 50;
    fifty_objects |= n.is_object && n.addrs.size() == 50;
  }
  EXPECT_TRUE(hundred);
  EXPECT_TRUE(fifty);
  EXPECT_TRUE(fifty_objects);
  EXPECT_LT(g.nodes.size(), 20u);
  // Leaks: the nil-channel receiver for sure; the cycle's members too.
  int nil_group = -1;
  for (size_t i = 0; i < g.nodes.size(); i++)
    if (g.nodes[i].reason == "chan receive (nil chan)") nil_group = static_cast<int>(i);
  ASSERT_GE(nil_group, 0);
  EXPECT_EQ(g.nodes[nil_group].leaked, 1);
  EXPECT_GE(g.verdict.leaked.size(), 3u);
  for (const auto& n : g.nodes)
    if (n.in_cycle && !n.is_object) {
      EXPECT_EQ(static_cast<size_t>(n.leaked), n.goids.size());
    }

  // The map's geometry: both arrays, hit testing, key search.
  view::MapGeom geo = view::layout_map(m);
  ASSERT_TRUE(geo.old);
  EXPECT_LT(geo.old->bounds().x1, geo.cur.bounds().x0);
  auto keyhits = view::find_key(m, "7");
  ASSERT_FALSE(keyhits.empty());
  const view::ArrayGeom& arr = keyhits[0].old ? *geo.old : geo.cur;
  if (keyhits[0].chainpos == 0) {
    view::Rect r = arr.slot(keyhits[0].bucket, keyhits[0].slot);
    auto h = geo.hit((r.x0 + r.x1) / 2, (r.y0 + r.y1) / 2);
    ASSERT_TRUE(h);
    EXPECT_EQ(h->bucket, keyhits[0].bucket);
    EXPECT_EQ(h->slot, keyhits[0].slot);
    EXPECT_EQ(h->old, keyhits[0].old);
  }
}

TEST(ViewModel, GeometryOfTwoToTheTwentyBuckets) {
  view::Map m;
  m.B = 20;
  m.buckets.nbuckets = uint64_t{1} << 20;
  view::MapGeom g = view::layout_map(m);
  EXPECT_EQ(g.cur.cols, 1024u);
  std::vector<uint64_t> vis;
  // A viewport of about 10 x 5 cells in the middle.
  view::Rect c = g.cur.cell(512 * 1024 + 512);
  g.visible(g.cur, {c.x0, c.y0, c.x0 + 10 * g.cur.cell_w, c.y0 + 5 * g.cur.cell_h}, vis);
  EXPECT_GE(vis.size(), 50u);
  EXPECT_LE(vis.size(), 66u);
  EXPECT_EQ(vis[0], 512u * 1024 + 512);
  auto h = g.hit(c.x0 + 1, c.y0 + 1);
  ASSERT_TRUE(h);
  EXPECT_EQ(h->bucket, 512u * 1024 + 512);
  EXPECT_FALSE(g.hit(-5, -5));
}

TEST(ViewModel, SlotStatesAreGos) {
  EXPECT_EQ(view::slot_state(0), view::SlotState::emptyRest);
  EXPECT_EQ(view::slot_state(1), view::SlotState::emptyOne);
  EXPECT_EQ(view::slot_state(2), view::SlotState::evacuatedX);
  EXPECT_EQ(view::slot_state(3), view::SlotState::evacuatedY);
  EXPECT_EQ(view::slot_state(4), view::SlotState::evacuatedEmpty);
  EXPECT_EQ(view::slot_state(5), view::SlotState::occupied);
  EXPECT_EQ(view::slot_state(255), view::SlotState::occupied);
}

TEST(ViewModel, HistoryKeepsTheLastN) {
  view::History h(3);
  for (int i = 0; i < 5; i++) {
    auto s = std::make_shared<view::Snapshot>();
    s->pid = i;
    h.push(s);
  }
  ASSERT_EQ(h.size(), 3u);
  EXPECT_EQ(h.at(0)->pid, 2);
  EXPECT_EQ(h.latest()->pid, 4);
}

TEST(ViewModel, MalformedSnapshotsAreRefusedWithTheReason) {
  EXPECT_EQ(parse_error("{"), "not JSON: Missing a name for object member. at offset 1");
  EXPECT_EQ(parse_error("[]"), "not an object");
  EXPECT_EQ(parse_error(R"({"format":"x","version":1})"),
            "not a goroscope snapshot (format \"x\")");
  EXPECT_EQ(parse_error(R"({"format":"goroscope-snapshot","version":2})"),
            "snapshot version 2 (this viewer reads version 1)");
  std::string base =
      R"({"format":"goroscope-snapshot","version":1,"producer":{"name":"t","pid":1},)"
      R"("time":{"wall_ns":1,"monotonic_ns":1},"world":{"running":true,"stopped":true,)"
      R"("partial":false,"pause_ns":0,"workers":1,"running_workers":[],"main_goid":1},)";
  EXPECT_EQ(parse_error(base + R"("goroutines":[],"objects":[],"maps":[]})"), "");
  EXPECT_EQ(parse_error(base + R"("goroutines":[{"goid":-3}],"objects":[],"maps":[]})"),
            "goroutines[0].goid: not a non-negative integer");
  EXPECT_EQ(parse_error(base + R"("goroutines":[],"objects":[{"addr":"12"}],"maps":[]})"),
            "objects[0].addr: not 0x...");
}

// Fuzz: mutations of a real snapshot never crash, hang or loop (bounded
// time per case), and every refusal carries a reason.
TEST(ViewModel, FuzzedSnapshotsNeverCrash) {
  std::string json;
  goro::run(goro::Config{1, 0}, [&] {
    goro::Map<int64_t, int64_t> m;
    goro::debug::name(m, "m");
    for (int64_t i = 0; i < 200; i++) m[i] = i;
    auto ch = goro::make_chan<int>();
    goro::go([ch]() mutable { ch.recv(); });
    goro::sleep(std::chrono::milliseconds(20));
    json = goro::debug::snapshot();
    ch.close();
  });
  ASSERT_EQ(parse_error(json), "");
  std::mt19937_64 rng(0x60a05c0);
  const char* inserts[] = {"1e308",
                           "-1",
                           "18446744073709551616",
                           "99999999999999999999",
                           "null",
                           "\"\"",
                           "[[[[[[[[[[",
                           "{\"a\":",
                           "\"0x\"",
                           "-9223372036854775809",
                           "true",
                           "\"0xffffffffffffffffff\""};
  int refused = 0;
  auto t0 = std::chrono::steady_clock::now();
  for (int c = 0; c < 4000; c++) {
    std::string s = json;
    switch (rng() % 5) {
      case 0:  // truncated
        s.resize(rng() % s.size());
        break;
      case 1:  // random bytes
        for (int k = 0; k < 1 + static_cast<int>(rng() % 8); k++)
          s[rng() % s.size()] = static_cast<char>(rng());
        break;
      case 2: {  // a value replaced by something hostile
        size_t p = s.find(':', rng() % s.size());
        if (p == std::string::npos) break;
        size_t e = s.find_first_of(",}]", p + 1);
        if (e == std::string::npos) break;
        s.replace(p + 1, e - p - 1, inserts[rng() % std::size(inserts)]);
        break;
      }
      case 3:  // deep nesting
        s = std::string(200000, '[') + s;
        break;
      default:  // a number made huge or negative
        for (size_t p = s.find_first_of("0123456789", rng() % s.size()); p != std::string::npos;) {
          s.insert(p, rng() % 2 ? "-" : "99999999999");
          break;
        }
    }
    std::string err;
    auto r = view::parse_snapshot(s, &err);
    if (!r) {
      refused++;
      EXPECT_FALSE(err.empty());
    } else {
      (void)view::build_graph(*r);
      for (const auto& m : r->maps) (void)view::layout_map(m);
    }
  }
  double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  EXPECT_GT(refused, 1000);
  EXPECT_LT(secs, 120);
}

// The viewer recomputes a key's hash from its text: it must be the runtime's.
TEST(ViewModel, KeyHashIsTheRuntimes) {
  for (uint64_t seed : std::initializer_list<uint64_t>{0, 1, 0x9e3779b9})
    for (int64_t k : std::initializer_list<int64_t>{0, 1, -1, 42, int64_t{1} << 40, INT64_MIN}) {
      auto h = view::key_hash("int64", std::to_string(k), seed);
      ASSERT_TRUE(h);
      EXPECT_EQ(*h, goro::Hash<int64_t>{}(k, seed)) << k;
      auto h32 = view::key_hash("int32", std::to_string(static_cast<int32_t>(k)), seed);
      EXPECT_EQ(*h32, goro::Hash<int32_t>{}(static_cast<int32_t>(k), seed)) << k;
    }
  for (const char* k : {"", "key3", "a longer key than sixteen bytes"})
    EXPECT_EQ(*view::key_hash("std_string", k, 7), goro::Hash<std::string>{}(k, 7)) << k;
  for (double d : {1.5, -2.25, 0.0, -0.0, 12345.0}) {
    EXPECT_EQ(*view::key_hash("float64", std::to_string(d), 7),
              goro::Hash<double>{}(std::stod(std::to_string(d)), 7))
        << d;
    EXPECT_EQ(*view::key_hash("float32", std::to_string(d), 7),
              goro::Hash<float>{}(std::stof(std::to_string(d)), 7))
        << d;
  }
  EXPECT_EQ(*view::key_hash("float64", "-0", 3), *view::key_hash("float64", "0", 3));
  EXPECT_FALSE(view::key_hash("float64", "NaN", 0));  // random, as in Go
  EXPECT_FALSE(view::key_hash("float64", "1.5x", 0));
  EXPECT_FALSE(view::key_hash("int64", "x", 0));
}

// With `referenced_by` (written by the debugger plugins), a channel waiter
// is woken only by a live goroutine that references the channel: the
// "would be woken by" edges, and leaks found even while others run.
TEST(ViewModel, ReferencedByGivesWakeEdgesAndLeaks) {
  std::string json = R"({"format":"goroscope-snapshot","version":1,"producer":{"name":"t","pid":1},
    "time":{"wall_ns":1,"monotonic_ns":1},"world":{"running":true,"stopped":true,"partial":false,
    "pause_ns":0,"workers":1,"running_workers":[],"main_goid":1},
    "goroutines":[
     {"goid":1,"status":"running","wait_reason":"","waiting_ns":0,"created_ns_ago":0,"worker":0,
      "current":true,"stack_unavailable":false,"name":"","labels":{},"parent":0,"start":null,
      "created_by":null,"stack":{"lo":"0x0","hi":"0x0","sp":"0x0","pc":"0x0","bp":"0x0"},
      "waiting_on":[],"frames":[]},
     {"goid":2,"status":"waiting","wait_reason":"chan receive","waiting_ns":5,"created_ns_ago":9,
      "worker":-1,"current":false,"stack_unavailable":false,"name":"","labels":{},"parent":1,
      "start":null,"created_by":null,"stack":{"lo":"0x0","hi":"0x0","sp":"0x0","pc":"0x0","bp":"0x0"},
      "waiting_on":[{"object":"0xa0","kind":"chan","op":"recv","select":false}],
      "frames":[{"function":"f","file":"a.cpp","line":1,"pc":"0x10","inlined":false,"runtime":false}]},
     {"goid":3,"status":"waiting","wait_reason":"chan send","waiting_ns":5,"created_ns_ago":9,
      "worker":-1,"current":false,"stack_unavailable":false,"name":"","labels":{},"parent":1,
      "start":null,"created_by":null,"stack":{"lo":"0x0","hi":"0x0","sp":"0x0","pc":"0x0","bp":"0x0"},
      "waiting_on":[{"object":"0xb0","kind":"chan","op":"send","select":false}],
      "frames":[{"function":"g","file":"a.cpp","line":2,"pc":"0x20","inlined":false,"runtime":false}]}],
    "objects":[
     {"addr":"0xa0","kind":"chan","name":"","type":"i","qcount":0,"dataqsiz":0,"closed":false,
      "elemsize":4,"sendx":0,"recvx":0,"recvq":[2],"sendq":[],"referenced_by":[1,2]},
     {"addr":"0xb0","kind":"chan","name":"","type":"i","qcount":0,"dataqsiz":0,"closed":false,
      "elemsize":4,"sendx":0,"recvx":0,"recvq":[],"sendq":[3],"referenced_by":[3]}],
    "maps":[]})";
  std::string err;
  auto s = view::parse_snapshot(json, &err);
  ASSERT_TRUE(s) << err;
  view::Graph g = view::build_graph(*s);
  int woken = 0;
  for (const auto& e : g.edges) woken += e.kind == view::EdgeKind::woken_by;
  EXPECT_EQ(woken, 1);  // main would wake goroutine 2's channel
  EXPECT_EQ(g.nodes[g.group_of(2)].leaked, 0);
  EXPECT_EQ(g.nodes[g.group_of(3)].leaked, 1);  // only it has its channel
  EXPECT_EQ(g.verdict.leaked, std::vector<uint64_t>{3});
  EXPECT_EQ(g.verdict.unwakeable, std::vector<uint64_t>{3});
}

// goro::set_name's names: goroutines alike in everything but their name are
// different nodes, and a node carries its members' name.
TEST(ViewModel, NamesSplitGroupsAndTitleNodes) {
  auto g = [](int goid, const char* name) {
    return std::string(R"({"goid":)") + std::to_string(goid) +
           R"(,"status":"waiting","wait_reason":"sleep","waiting_ns":5,"created_ns_ago":9,
      "worker":-1,"current":false,"stack_unavailable":false,"name":")" +
           name + R"(","labels":{},"parent":1,"start":null,"created_by":null,
      "stack":{"lo":"0x0","hi":"0x0","sp":"0x0","pc":"0x0","bp":"0x0"},"waiting_on":[],
      "frames":[{"function":"f","file":"a.cpp","line":1,"pc":"0x10","inlined":false,"runtime":false}]})";
  };
  std::string json = R"({"format":"goroscope-snapshot","version":1,"producer":{"name":"t","pid":1},
    "time":{"wall_ns":1,"monotonic_ns":1},"world":{"running":true,"stopped":true,"partial":false,
    "pause_ns":0,"workers":1,"running_workers":[],"main_goid":1},"goroutines":[)" +
                     g(2, "auditor") + "," + g(3, "auditor") + "," + g(4, "") +
                     R"(],"objects":[],"maps":[]})";
  std::string err;
  auto s = view::parse_snapshot(json, &err);
  ASSERT_TRUE(s) << err;
  view::Graph gr = view::build_graph(*s);
  ASSERT_EQ(gr.group_of(2), gr.group_of(3));
  ASSERT_NE(gr.group_of(2), gr.group_of(4));
  EXPECT_EQ(gr.nodes[gr.group_of(2)].name, "auditor");
  EXPECT_EQ(gr.nodes[gr.group_of(2)].goids.size(), 2u);
  EXPECT_EQ(gr.nodes[gr.group_of(4)].name, "");
}
