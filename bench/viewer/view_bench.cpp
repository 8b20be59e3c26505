// view_bench.cpp — goroscope-view's costs (bench/viewer, Google Benchmark):
//
//   parse_1M_map           parse_snapshot of a real snapshot of a named
//                          goro::Map<int64_t, int64_t> of 1M entries, every
//                          bucket (62 MB of JSON). Target: <= 1 s.
//   frame_map_2to20/fit    one UI frame's CPU time (ImGui NewFrame, the Map
//                          panel, Render: the draw lists, no GL submission)
//                          for a map of 2^20 buckets, all captured, fitted
//                          in a 1600x1000 view. Target: <= 16 ms.
//   frame_map_2to20/zoom   the same, zoomed just enough for every slot to be
//                          drawn (the most slots a frame draws, ~40k).
//   frame_goroutines_100k  the Goroutines panel for 100k goroutines (half on
//                          shared channels, half each on its own channel).
//                          Target: <= 16 ms.
//   graph_build_100k       build_graph for those 100k goroutines (once per
//                          snapshot, not per frame).
#include <benchmark/benchmark.h>
#include <imgui.h>

#include <random>
#include <string>

#include "goro/debug.h"
#include "goro/goro.h"
#include "graph.h"
#include "view.h"

namespace view = goroscope::view;

namespace {

std::string snapshot_1m() {
  std::string json;
  goro::run(goro::Config{2, 0}, [&] {
    goro::Map<int64_t, int64_t> m;
    for (int64_t i = 0; i < 1000000; i++) m[i] = i;
    goro::debug::name(m, "big");
    goro::debug::SnapshotOptions o;
    o.bucket_limit = 0;
    o.frames = false;
    json = goro::debug::snapshot(o);
  });
  return json;
}

void BM_parse_1M_map(benchmark::State& st) {
  static const std::string json = snapshot_1m();
  for (auto _ : st) {
    std::string err;
    auto s = view::parse_snapshot(json, &err);
    if (!s) st.SkipWithError(err.c_str());
    benchmark::DoNotOptimize(s);
  }
  st.counters["mb"] = static_cast<double>(json.size()) / 1e6;
}
BENCHMARK(BM_parse_1M_map)->Unit(benchmark::kMillisecond)->Iterations(3);

std::shared_ptr<view::Snapshot> map_2to20() {
  auto s = std::make_shared<view::Snapshot>();
  view::Map m;
  m.name = "huge";
  m.B = 20;
  m.count = 5 << 20;
  m.type = {"long", "long", "int64", "int64", 8, 8, 144, false, false};
  m.buckets.nbuckets = m.buckets.count = uint64_t{1} << 20;
  m.buckets.chains.resize(m.buckets.nbuckets);
  std::mt19937 rng(1);
  for (uint64_t i = 0; i < m.buckets.nbuckets; i++) {
    view::Chain& c = m.buckets.chains[i];
    c.index = i;
    c.buckets.resize(1);
    int live = static_cast<int>(rng() % 9);
    for (int k = 0; k < 8; k++) c.buckets[0].tophash[k] = k < live ? 5 + rng() % 250 : 0;
  }
  s->maps.push_back(std::move(m));
  return s;
}

std::shared_ptr<view::Snapshot> goroutines_100k() {
  auto s = std::make_shared<view::Snapshot>();
  for (uint64_t i = 0; i < 100000; i++) {
    view::Goroutine g;
    g.goid = i + 1;
    g.status = "waiting";
    g.wait_reason = "chan receive";
    g.waiting_ns = 1000000;
    uint64_t obj = i < 50000 ? 0x1000 + (i % 10) * 0x100 : 0x100000 + i * 0x100;
    g.waiting_on.push_back({obj, "chan", "recv", false});
    g.frames.push_back(
        {"worker(...)", "main.cpp", static_cast<int>(i % 7), 0x400000 + (i % 7), false, false});
    s->goroutines.push_back(std::move(g));
    if (i < 10 || i >= 50000) {
      view::Object o;
      o.addr = obj;
      o.kind = "chan";
      o.ints = {{"qcount", 0}, {"dataqsiz", 0}};
      s->objects.push_back(std::move(o));
    }
  }
  for (size_t i = 0; i < s->goroutines.size(); i++) s->goroutine_index[s->goroutines[i].goid] = i;
  for (size_t i = 0; i < s->objects.size(); i++) s->object_index[s->objects[i].addr] = i;
  return s;
}

// Headless ImGui: a context with its font atlas built and no backend.
struct Headless {
  Headless() {
    ImGui::CreateContext();
    ImGuiIO& io = ImGui::GetIO();
    io.IniFilename = nullptr;
    io.DisplaySize = ImVec2(1600, 1000);
    io.DeltaTime = 1.f / 60;
    io.BackendFlags |= ImGuiBackendFlags_RendererHasVtxOffset;  // as the OpenGL3 backend sets
    unsigned char* px;
    int w, h;
    io.Fonts->GetTexDataAsRGBA32(&px, &w, &h);
  }
  ~Headless() { ImGui::DestroyContext(); }
  void frame(view::View& v) {
    ImGui::NewFrame();
    v.frame(1600, 1000);
    ImGui::Render();
  }
};

void frame_bench(benchmark::State& st, std::shared_ptr<view::Snapshot> snap, view::Panel panel,
                 float zoom) {
  Headless h;
  view::Inbox inbox;
  std::vector<std::unique_ptr<view::Source>> sources;
  view::View v(inbox, sources);
  v.headless_ = true;
  v.panel = panel;
  v.history_.push(snap);
  h.frame(v);  // builds the graph and the geometry, fits the camera
  h.frame(v);
  if (zoom > 0) {  // centred on the map
    v.map_cam_.zoom = zoom;
    v.map_cam_.x = v.geoms_[0].width / 2;
    v.map_cam_.y = v.geoms_[0].height / 2;
    v.map_cam_.moved = true;
  }
  double vertices = 0;
  for (auto _ : st) {
    h.frame(v);
    vertices = ImGui::GetDrawData()->TotalVtxCount;
  }
  st.counters["vertices"] = vertices;
}

void BM_frame_map_2to20_fit(benchmark::State& st) {
  frame_bench(st, map_2to20(), view::Panel::map, 0);
}
void BM_frame_map_2to20_zoom(benchmark::State& st) {
  // The most slots a frame draws: zoomed just in enough for full detail.
  frame_bench(st, map_2to20(), view::Panel::map, view::kDetailPx / view::kSlot + 0.01f);
}
void BM_frame_goroutines_100k(benchmark::State& st) {
  frame_bench(st, goroutines_100k(), view::Panel::goroutines, 0);
}
BENCHMARK(BM_frame_map_2to20_fit)->Unit(benchmark::kMillisecond);
BENCHMARK(BM_frame_map_2to20_zoom)->Unit(benchmark::kMillisecond);
BENCHMARK(BM_frame_goroutines_100k)->Unit(benchmark::kMillisecond);

void BM_graph_build_100k(benchmark::State& st) {
  auto s = goroutines_100k();
  size_t nodes = 0;
  for (auto _ : st) nodes = view::build_graph(*s).nodes.size();
  st.counters["nodes"] = static_cast<double>(nodes);
}
BENCHMARK(BM_graph_build_100k)->Unit(benchmark::kMillisecond);

}  // namespace

BENCHMARK_MAIN();
