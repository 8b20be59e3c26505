// goroutine_panel.cpp — the Goroutines panel: the wait-for graph (model:
// graph.h) drawn with pan and zoom: goroutine groups coloured by status and
// labelled with their wait reason and how long, objects with their state;
// waits-on edges, held-by edges back; deadlock cycles in red; leaks marked.
// Click a node: its stack (file:line) and creation site in the side pane.
#include <imgui.h>

#include <algorithm>
#include <cmath>
#include <string>

#include "view.h"

namespace goroscope::view {

namespace {

constexpr ImU32 kRed = IM_COL32(230, 50, 50, 255);

ImVec2 S(const Camera& c, ImVec2 o, float x, float y) {
  return ImVec2(o.x + (x - c.x) * c.zoom, o.y + (y - c.y) * c.zoom);
}

std::string node_title(const Snapshot& s, const GNode& n) {
  if (n.is_object) return n.label;
  std::string t = n.goids.size() > 1 ? "x" + std::to_string(n.goids.size()) + " goroutines "
                                     : "goroutine " + std::to_string(n.goids[0]) + " ";
  if (!n.name.empty()) t += "\"" + n.name + "\" ";
  t += n.reason.empty() ? n.status : n.reason;
  if (n.waiting_ns > 0) t += " " + human_ns(n.waiting_ns);
  (void)s;
  return t;
}

void arrow(ImDrawList* dl, ImVec2 a, ImVec2 b, ImU32 col, float th) {
  dl->AddLine(a, b, col, th);
  float dx = b.x - a.x, dy = b.y - a.y, len = std::sqrt(dx * dx + dy * dy);
  if (len < 1) return;
  dx /= len;
  dy /= len;
  float s = 8;
  dl->AddTriangleFilled(b, ImVec2(b.x - dx * s - dy * s * 0.5f, b.y - dy * s + dx * s * 0.5f),
                        ImVec2(b.x - dx * s + dy * s * 0.5f, b.y - dy * s - dx * s * 0.5f), col);
}

}  // namespace

void draw_goroutine_panel(View& v) {
  const Snapshot& s = *v.shown_;
  const Graph& g = v.graph_;
  ImGui::Text(
      "%zu goroutines in %zu groups, %zu objects; %zu deadlock cycle(s), %zu goroutine(s) "
      "that no other goroutine can wake",
      s.goroutines.size(),
      static_cast<size_t>(std::count_if(g.nodes.begin(), g.nodes.end(),
                                        [](const GNode& n) { return !n.is_object; })),
      static_cast<size_t>(std::count_if(g.nodes.begin(), g.nodes.end(),
                                        [](const GNode& n) { return n.is_object; })),
      g.verdict.cycles.size(), g.verdict.unwakeable.size());
  float side = v.selected_node_ >= 0 ? 420.f : 0.f;
  ImVec2 origin = ImGui::GetCursorScreenPos();
  ImVec2 avail = ImGui::GetContentRegionAvail();
  ImVec2 size(avail.x - side, avail.y);
  if (size.x < 50 || size.y < 50) return;
  ImGui::InvisibleButton("graph", size, ImGuiButtonFlags_MouseButtonLeft);
  Camera& cam = v.graph_cam_;
  cam.fit(g.width, g.height, size.x, size.y, 40, 1.5f);
  ImGuiIO& io = ImGui::GetIO();
  bool hovered = ImGui::IsItemHovered() && !v.headless_;
  if (ImGui::IsItemActive() && ImGui::IsMouseDragging(ImGuiMouseButton_Left)) {
    cam.x -= io.MouseDelta.x / cam.zoom;
    cam.y -= io.MouseDelta.y / cam.zoom;
    cam.moved = true;
  }
  if (hovered && io.MouseWheel != 0) {
    cam.moved = true;
    float wx = cam.x + (io.MousePos.x - origin.x) / cam.zoom;
    float wy = cam.y + (io.MousePos.y - origin.y) / cam.zoom;
    cam.zoom = std::clamp(cam.zoom * std::pow(1.2f, io.MouseWheel), 0.02f, 6.f);
    cam.x = wx - (io.MousePos.x - origin.x) / cam.zoom;
    cam.y = wy - (io.MousePos.y - origin.y) / cam.zoom;
  }
  float wx = cam.x + (io.MousePos.x - origin.x) / cam.zoom;
  float wy = cam.y + (io.MousePos.y - origin.y) / cam.zoom;
  if (hovered && ImGui::IsMouseClicked(ImGuiMouseButton_Left)) {
    v.selected_node_ = -1;
    for (size_t i = 0; i < g.nodes.size(); i++) {
      const GNode& n = g.nodes[i];
      if (wx >= n.x && wx < n.x + n.w && wy >= n.y && wy < n.y + n.h)
        v.selected_node_ = static_cast<int>(i);
    }
  }
  ImDrawList* dl = ImGui::GetWindowDrawList();
  dl->PushClipRect(origin, ImVec2(origin.x + size.x, origin.y + size.y), true);
  dl->AddRectFilled(origin, ImVec2(origin.x + size.x, origin.y + size.y),
                    IM_COL32(16, 16, 20, 255));
  // Edges first, cycle edges last (on top).
  for (int pass = 0; pass < 2; pass++)
    for (const GEdge& e : g.edges) {
      if (e.in_cycle != (pass == 1)) continue;
      const GNode &a = g.nodes[e.from], &b = g.nodes[e.to];
      ImU32 col = e.in_cycle                     ? kRed
                  : e.kind == EdgeKind::held_by  ? IM_COL32(120, 200, 250, 200)
                  : e.kind == EdgeKind::woken_by ? IM_COL32(120, 220, 120, 150)
                                                 : IM_COL32(200, 200, 200, 140);
      float th = e.in_cycle ? 3.f : 1.5f;
      ImVec2 p0 = e.kind == EdgeKind::waits_on ? S(cam, origin, a.x + a.w, a.y + a.h / 2)
                                               : S(cam, origin, a.x, a.y + a.h * 0.75f);
      ImVec2 p1 = e.kind == EdgeKind::waits_on ? S(cam, origin, b.x, b.y + b.h / 2)
                                               : S(cam, origin, b.x + b.w, b.y + b.h * 0.75f);
      arrow(dl, p0, p1, col, th);
      const char* label = e.kind == EdgeKind::woken_by ? "would wake" : e.op.c_str();
      if (cam.zoom > 0.5f && *label)
        dl->AddText(ImVec2((p0.x + p1.x) / 2, (p0.y + p1.y) / 2 - 14), col, label);
    }
  for (size_t i = 0; i < g.nodes.size(); i++) {
    const GNode& n = g.nodes[i];
    ImVec2 a = S(cam, origin, n.x, n.y), b = S(cam, origin, n.x + n.w, n.y + n.h);
    if (b.x < origin.x || a.x > origin.x + size.x || b.y < origin.y || a.y > origin.y + size.y)
      continue;
    ImU32 fill = n.is_object ? IM_COL32(50, 80, 130, 255) : status_colour(n.status, n.reason);
    dl->AddRectFilled(a, b, fill, 4);
    ImU32 border = n.in_cycle ? kRed
                   : n.leaked ? IM_COL32(255, 120, 120, 255)
                              : IM_COL32(0, 0, 0, 255);
    dl->AddRect(a, b, border, 4, 0, n.in_cycle || n.leaked ? 3.f : 1.f);
    if (static_cast<int>(i) == v.selected_node_)
      dl->AddRect(a, b, IM_COL32(255, 255, 0, 255), 4, 0, 2);
    if (cam.zoom > 0.35f) {
      std::string t = node_title(s, n);
      if (n.leaked) t = "LEAK " + t;
      dl->PushClipRect(a, b, true);
      dl->AddText(ImVec2(a.x + 4, a.y + 3), IM_COL32(255, 255, 255, 255), t.c_str());
      if (!n.is_object) {
        const Goroutine* gr = s.goroutine(n.goids[0]);
        if (gr)
          dl->AddText(ImVec2(a.x + 4, a.y + 20), IM_COL32(235, 235, 235, 255),
                      first_user_frame(*gr).c_str());
      }
      dl->PopClipRect();
    }
  }
  dl->PopClipRect();
  if (v.selected_node_ >= 0 && v.selected_node_ < static_cast<int>(g.nodes.size())) {
    ImGui::SameLine();
    ImGui::BeginChild("node", ImVec2(side - 8, size.y), true);
    const GNode& n = g.nodes[v.selected_node_];
    ImGui::TextWrapped("%s", node_title(s, n).c_str());
    if (n.in_cycle) ImGui::TextColored(ImVec4(1, 0.3f, 0.3f, 1), "part of a deadlock cycle");
    if (n.leaked && static_cast<size_t>(n.leaked) == n.goids.size())
      ImGui::TextColored(ImVec4(1, 0.5f, 0.5f, 1), "nothing can wake it");
    else if (n.leaked)
      ImGui::TextColored(ImVec4(1, 0.5f, 0.5f, 1), "nothing can wake %d of them", n.leaked);
    if (!n.is_object) {
      if (const Goroutine* gr = s.goroutine(n.goids[0])) {
        ImGui::Separator();
        for (const Frame& f : gr->frames) {
          if (f.runtime) continue;
          ImGui::TextWrapped("%s", f.function.c_str());
          ImGui::TextDisabled("    %s:%d", f.file.c_str(), f.line);
        }
        if (!gr->created_function.empty()) {
          ImGui::Separator();
          ImGui::TextWrapped("created by %s in goroutine %llu", gr->created_function.c_str(),
                             static_cast<unsigned long long>(gr->parent));
          ImGui::TextDisabled("    %s:%d", gr->created_file.c_str(), gr->created_line);
        }
      }
    } else {
      ImGui::Text("%zu object(s)", n.addrs.size());
      if (const Object* o = s.object(n.addrs[0]))
        for (const auto& [k, lst] : o->lists) {
          std::string ids;
          for (size_t j = 0; j < lst.size() && j < 32; j++) ids += std::to_string(lst[j]) + " ";
          ImGui::TextWrapped("%s: %s", k.c_str(), ids.c_str());
        }
    }
    ImGui::EndChild();
  }
}

}  // namespace goroscope::view
