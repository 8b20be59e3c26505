// view.cpp — the View: pulls deliveries, keeps the history and the derived
// model (graph, map geometry) of the shown snapshot, lays out the main
// window with a tab per panel, the timeline and the status bar.
#include "view.h"

#include <imgui.h>

#include <algorithm>
#include <cstdio>

namespace goroscope::view {

const char* panel_name(Panel p) {
  switch (p) {
    case Panel::map:
      return "map";
    case Panel::goroutines:
      return "goroutines";
    case Panel::table:
      return "table";
  }
  return "?";
}

bool parse_panel(const std::string& s, Panel* p) {
  for (Panel x : {Panel::map, Panel::goroutines, Panel::table})
    if (s == panel_name(x)) return *p = x, true;
  return false;
}

unsigned slot_colour(SlotState s) {
  switch (s) {
    case SlotState::emptyRest:
      return IM_COL32(48, 48, 54, 255);
    case SlotState::emptyOne:
      return IM_COL32(110, 110, 120, 255);
    case SlotState::occupied:
      return IM_COL32(70, 190, 90, 255);
    case SlotState::evacuatedX:
      return IM_COL32(70, 130, 230, 255);
    case SlotState::evacuatedY:
      return IM_COL32(170, 90, 220, 255);
    case SlotState::evacuatedEmpty:
      return IM_COL32(40, 170, 170, 255);
    case SlotState::notCaptured:
      return IM_COL32(20, 20, 22, 255);
  }
  return 0;
}

unsigned status_colour(const std::string& status, const std::string& reason) {
  if (status == "running") return IM_COL32(60, 170, 80, 255);
  if (status == "runnable") return IM_COL32(200, 170, 50, 255);
  if (reason == "sleep") return IM_COL32(90, 120, 160, 255);
  if (status == "waiting") return IM_COL32(200, 120, 50, 255);
  return IM_COL32(120, 120, 120, 255);
}

std::string human_ns(int64_t ns) {
  char b[32];
  if (ns < 1000000)
    std::snprintf(b, sizeof b, "%.0fus", static_cast<double>(ns) / 1e3);
  else if (ns < 1000000000)
    std::snprintf(b, sizeof b, "%.0fms", static_cast<double>(ns) / 1e6);
  else if (ns < 60000000000)
    std::snprintf(b, sizeof b, "%.1fs", static_cast<double>(ns) / 1e9);
  else
    std::snprintf(b, sizeof b, "%.0fm", static_cast<double>(ns) / 6e10);
  return b;
}

std::string first_user_frame(const Goroutine& g) {
  for (const Frame& f : g.frames)
    if (!f.runtime && !f.function.empty())
      return f.function + " " + f.file.substr(f.file.rfind('/') + 1) + ":" + std::to_string(f.line);
  return g.frames.empty() ? "" : g.frames.front().function;
}

void Camera::fit(float w, float h, float vw, float vh, float margin, float max_zoom) {
  if (fitted && (moved || (w == fit_w && h == fit_h))) return;
  zoom = std::min(max_zoom, std::min(vw / (w + 2 * margin), vh / (h + 2 * margin)));
  x = -margin;
  y = -margin;
  fit_w = w;
  fit_h = h;
  fitted = true;
}

void View::open(const std::string& path) { sources_.push_back(load_file(path, inbox_)); }

void View::pull() {
  for (Delivery& d : inbox_.take()) {
    if (!d.snapshot) {
      refusal_ = d.error;
      refusal_origin_ = d.origin;
      continue;
    }
    history_.push(std::move(d.snapshot));
    received_++;
    if (follow_) cursor_ = history_.size() - 1;
  }
  if (!history_.empty() && cursor_ >= history_.size()) cursor_ = history_.size() - 1;
}

void View::rebuild() {
  const Snapshot* s = history_.empty() ? nullptr : history_.at(cursor_).get();
  if (s == shown_) return;
  shown_ = s;
  if (!s) return;
  graph_ = build_graph(*s);
  geoms_.clear();
  fills_cur_.clear();
  fills_old_.clear();
  index_cur_.clear();
  index_old_.clear();
  static const BucketArray kNone;
  for (const Map& m : s->maps) {
    index_cur_.emplace_back(m.buckets);
    index_old_.emplace_back(m.oldbuckets ? *m.oldbuckets : kNone);
    geoms_.push_back(layout_map(m));
    fills_cur_.push_back(fills(m.buckets, geoms_.back().cur.n));
    fills_old_.push_back(m.oldbuckets ? fills(*m.oldbuckets, geoms_.back().old->n)
                                      : std::vector<uint8_t>{});
  }
  if (map_index_ >= static_cast<int>(s->maps.size())) map_index_ = 0;
  search_hits_.clear();
  if (search_[0] && map_index_ < static_cast<int>(s->maps.size()))
    search_hits_ = find_key(s->maps[map_index_], search_);
  if (selected_node_ >= static_cast<int>(graph_.nodes.size())) selected_node_ = -1;
}

void View::frame(float width, float height) {
  pull();
  rebuild();
  ImGui::SetNextWindowPos(ImVec2(0, 0));
  ImGui::SetNextWindowSize(ImVec2(width, height));
  ImGui::Begin("goroscope-view", nullptr,
               ImGuiWindowFlags_NoDecoration | ImGuiWindowFlags_NoMove |
                   ImGuiWindowFlags_NoBringToFrontOnFocus);
  if (ImGui::BeginTabBar("panels")) {
    for (Panel p : {Panel::map, Panel::goroutines, Panel::table}) {
      // select_panel_: the panel asked for (command line) is selected once.
      ImGuiTabItemFlags f = select_panel_ && p == panel ? ImGuiTabItemFlags_SetSelected : 0;
      const char* label = p == Panel::map ? "Map" : p == Panel::goroutines ? "Goroutines" : "Table";
      if (ImGui::BeginTabItem(label, nullptr, f)) {
        if (!select_panel_) panel = p;
        ImGui::EndTabItem();
      }
    }
    select_panel_ = false;
    ImGui::EndTabBar();
  }
  float status_h = ImGui::GetFrameHeightWithSpacing() * 3;
  ImGui::BeginChild("panel", ImVec2(0, -status_h));
  if (!shown_) {
    ImGui::TextUnformatted(
        "Waiting for a snapshot: a file (drop it here, or open it below), --connect to a "
        "program's endpoint, or --listen for the debugger plugins' pushes.");
  } else if (panel == Panel::map) {
    draw_map_panel(*this);
  } else if (panel == Panel::goroutines) {
    draw_goroutine_panel(*this);
  } else {
    draw_table_panel(*this);
  }
  ImGui::EndChild();
  draw_timeline(*this, sources_);
  ImGui::End();
}

}  // namespace goroscope::view
