// map_panel.cpp — the Map panel: header (count, B, load factor, noverflow,
// flags as badges, evacuation progress), key search, and the canvas: the
// old and new bucket arrays with slots coloured by tophash state, overflow
// boxes, the nevacuate frontier and X/Y arrows. Reads View and the model
// only. Level of detail: slots when a slot is >= kDetailPx pixels, else one
// box per bucket coloured by its fill; only visible cells are drawn.
#include <imgui.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <string>

#include "keyhash.h"
#include "view.h"

namespace goroscope::view {

namespace {

ImVec2 to_screen(const Camera& c, ImVec2 origin, float x, float y) {
  return ImVec2(origin.x + (x - c.x) * c.zoom, origin.y + (y - c.y) * c.zoom);
}

void badge(const char* text, bool on, ImU32 colour) {
  if (!on) return;
  ImGui::SameLine();
  ImGui::PushStyleColor(ImGuiCol_Button, colour);
  ImGui::SmallButton(text);
  ImGui::PopStyleColor();
}

// fill_colour: a zoomed-out bucket's colour from its fill class (mapgeom.h: fills).
ImU32 fill_colour(uint8_t f) {
  if (f == kFillMissing) return slot_colour(SlotState::notCaptured);
  if (f == kFillEvacuated) return slot_colour(SlotState::evacuatedX);
  int g = 60 + static_cast<int>(150 * std::min(1.f, static_cast<float>(f) / 8.f));
  return IM_COL32(40, g, 60, 255);
}

// kBlockPx: below this many pixels per cell, one rectangle stands for a
// block of cells (sampled from its first bucket), so a frame draws at most
// one rectangle per kBlockPx^2 pixels whatever the map's size.
constexpr float kBlockPx = 4;

void draw_array(ImDrawList* dl, const Map& m, const BucketIndex& idx, const ArrayGeom& a,
                const MapGeom& geo, const std::vector<uint8_t>& fill, const Camera& cam,
                ImVec2 origin, ImVec2 size, const std::vector<Hit>& hits) {
  Rect view{cam.x, cam.y, cam.x + size.x / cam.zoom, cam.y + size.y / cam.zoom};
  float cell_px = a.cell_w * cam.zoom;
  auto overlays = [&] {
    // The nevacuate frontier: old buckets before it are evacuated.
    if (a.old && m.nevacuate < a.n) {
      Rect r = a.cell(m.nevacuate);
      dl->AddLine(to_screen(cam, origin, r.x0 - 2, r.y0), to_screen(cam, origin, r.x0 - 2, r.y1),
                  IM_COL32(255, 220, 0, 255), 3);
    }
    // Search hits.
    for (const Hit& h : hits) {
      if (h.old != a.old || h.bucket >= a.n) continue;
      Rect r = h.chainpos == 0 ? a.slot(h.bucket, h.slot)
                               : a.chain_slot(h.bucket, std::min(h.chainpos, kChainRows), h.slot);
      dl->AddRect(to_screen(cam, origin, r.x0 - 1, r.y0 - 1),
                  to_screen(cam, origin, r.x1 + 1, r.y1 + 1), IM_COL32(255, 255, 0, 255), 0, 0, 2);
    }
  };
  if (cell_px < kBlockPx) {
    uint64_t r0, r1, c0, c1;
    if (!geo.cell_range(a, view, r0, r1, c0, c1)) return;
    auto k = static_cast<uint64_t>(std::ceil(kBlockPx / cell_px));
    r0 -= r0 % k;
    c0 -= c0 % k;
    for (uint64_t r = r0; r < r1; r += k)
      for (uint64_t c = c0; c < c1; c += k) {
        uint64_t i = r * a.cols + c;
        if (i >= a.n) break;
        Rect cell = a.cell(i);
        dl->AddRectFilled(to_screen(cam, origin, cell.x0, cell.y0),
                          to_screen(cam, origin, cell.x0 + static_cast<float>(k) * a.cell_w,
                                    cell.y0 + static_cast<float>(k) * a.cell_h),
                          fill_colour(i < fill.size() ? fill[i] : kFillMissing));
      }
    overlays();
    return;
  }
  std::vector<uint64_t> vis;
  geo.visible(a, view, vis, 1u << 20);
  bool detail = kSlot * cam.zoom >= kDetailPx;
  if (!detail) {
    for (uint64_t i : vis) {
      Rect r = a.cell(i);
      dl->AddRectFilled(to_screen(cam, origin, r.x0, r.y0),
                        to_screen(cam, origin, r.x1 - kCellPad, r.y1 - kCellPad),
                        fill_colour(i < fill.size() ? fill[i] : kFillMissing));
    }
    overlays();
    return;
  }
  for (uint64_t i : vis) {
    const Chain* c = idx.find(i);
    for (int s = 0; s < 8; s++) {
      Rect r = a.slot(i, s);
      SlotState st = c ? slot_state(c->buckets[0].tophash[s]) : SlotState::notCaptured;
      dl->AddRectFilled(to_screen(cam, origin, r.x0 + 0.5f, r.y0 + 0.5f),
                        to_screen(cam, origin, r.x1 - 0.5f, r.y1 - 0.5f), slot_colour(st));
    }
    if (c)
      for (size_t p = 1; p < c->buckets.size(); p++) {
        int row = static_cast<int>(std::min<size_t>(p, kChainRows));
        for (int s = 0; s < 8; s++) {
          Rect r = a.chain_slot(i, row, s);
          dl->AddRectFilled(to_screen(cam, origin, r.x0 + 0.5f, r.y0 + 0.5f),
                            to_screen(cam, origin, r.x1 - 0.5f, r.y1 - 0.5f),
                            slot_colour(slot_state(c->buckets[p].tophash[s])));
        }
        Rect r0 = a.slot(i, 0), r1 = a.chain_slot(i, row, 0);
        dl->AddLine(to_screen(cam, origin, r0.x0 + 2, r0.y1),
                    to_screen(cam, origin, r1.x0, (r1.y0 + r1.y1) / 2),
                    IM_COL32(200, 200, 200, 160));
        if (p == static_cast<size_t>(kChainRows) && c->buckets.size() > p + 1 && cam.zoom > 0.8f) {
          Rect r = a.chain_slot(i, row, 7);
          char b[16];
          std::snprintf(b, sizeof b, "+%zu", c->buckets.size() - p - 1);
          dl->AddText(to_screen(cam, origin, r.x1 + 2, r.y0 - 3), IM_COL32(230, 230, 230, 255), b);
          break;
        }
      }
  }
  overlays();
}

}  // namespace

void draw_map_panel(View& v) {
  const Snapshot& s = *v.shown_;
  if (s.maps.empty()) {
    ImGui::TextUnformatted("No named maps in this snapshot (goro::debug::name(map, \"name\")).");
    return;
  }
  std::vector<const char*> names;
  for (const Map& m : s.maps) names.push_back(m.name.c_str());
  ImGui::SetNextItemWidth(200);
  if (ImGui::Combo("map", &v.map_index_, names.data(), static_cast<int>(names.size()))) {
    v.map_cam_ = Camera{};
    v.search_hits_.clear();
  }
  const Map& m = s.maps[v.map_index_];
  const MapGeom& geo = v.geoms_[v.map_index_];
  ImGui::SameLine();
  ImGui::Text("map[%s]%s  count %lld  B %d (%llu buckets)  load %.2f  noverflow %u",
              m.type.key.c_str(), m.type.elem.c_str(), static_cast<long long>(m.count), m.B,
              static_cast<unsigned long long>(uint64_t{1} << m.B), m.load_factor, m.noverflow);
  badge("iterator", m.flags & kFlagIterator, IM_COL32(60, 100, 160, 255));
  badge("oldIterator", m.flags & kFlagOldIterator, IM_COL32(60, 100, 160, 255));
  if (m.flags & kFlagHashWriting) {
    std::string t = "hashWriting";
    if (m.writer_kind != "none")
      t += " (" + m.writer_kind + " " + std::to_string(m.writer_id) + ")";
    badge(t.c_str(), true, IM_COL32(200, 60, 60, 255));
  }
  badge("sameSizeGrow", m.flags & kFlagSameSizeGrow, IM_COL32(150, 110, 40, 255));
  if (m.growing && m.oldbuckets) {
    ImGui::SameLine();
    ImGui::Text("  evacuating: %llu/%llu old buckets", static_cast<unsigned long long>(m.nevacuate),
                static_cast<unsigned long long>(m.oldbuckets->nbuckets));
  }
  ImGui::SetNextItemWidth(200);
  if (ImGui::InputTextWithHint("##search", "search a key", v.search_, sizeof v.search_))
    v.search_hits_ = find_key(m, v.search_);
  ImGui::SameLine();
  if (v.search_[0]) ImGui::Text("%zu slot(s)", v.search_hits_.size());
  ImGui::SameLine();
  for (int st = 0; st < kSlotStates; st++) {
    ImGui::ColorButton(slot_state_name(static_cast<SlotState>(st)),
                       ImGui::ColorConvertU32ToFloat4(slot_colour(static_cast<SlotState>(st))),
                       ImGuiColorEditFlags_NoTooltip, ImVec2(12, 12));
    ImGui::SameLine();
    ImGui::TextUnformatted(slot_state_name(static_cast<SlotState>(st)));
    ImGui::SameLine();
  }
  ImGui::NewLine();

  ImVec2 origin = ImGui::GetCursorScreenPos();
  ImVec2 size = ImGui::GetContentRegionAvail();
  if (size.x < 50 || size.y < 50) return;
  ImGui::InvisibleButton("canvas", size, ImGuiButtonFlags_MouseButtonLeft);
  Camera& cam = v.map_cam_;
  cam.fit(geo.width, geo.height + 16, size.x, size.y, 10, 4);
  ImGuiIO& io = ImGui::GetIO();
  if (ImGui::IsItemActive() && ImGui::IsMouseDragging(ImGuiMouseButton_Left)) {
    cam.x -= io.MouseDelta.x / cam.zoom;
    cam.y -= io.MouseDelta.y / cam.zoom;
    cam.moved = true;
  }
  if (ImGui::IsItemHovered() && io.MouseWheel != 0) {
    cam.moved = true;
    float wx = cam.x + (io.MousePos.x - origin.x) / cam.zoom;
    float wy = cam.y + (io.MousePos.y - origin.y) / cam.zoom;
    cam.zoom = std::clamp(cam.zoom * std::pow(1.2f, io.MouseWheel), 1e-4f, 40.f);
    cam.x = wx - (io.MousePos.x - origin.x) / cam.zoom;
    cam.y = wy - (io.MousePos.y - origin.y) / cam.zoom;
  }
  ImDrawList* dl = ImGui::GetWindowDrawList();
  dl->PushClipRect(origin, ImVec2(origin.x + size.x, origin.y + size.y), true);
  dl->AddRectFilled(origin, ImVec2(origin.x + size.x, origin.y + size.y),
                    IM_COL32(16, 16, 20, 255));
  if (geo.old && m.oldbuckets) {
    draw_array(dl, m, v.index_old_[v.map_index_], *geo.old, geo, v.fills_old_[v.map_index_], cam,
               origin, size, v.search_hits_);
    Rect ob = geo.old->bounds();
    dl->AddText(to_screen(cam, origin, ob.x0, ob.y0 - 14 / cam.zoom), IM_COL32(220, 220, 220, 255),
                "oldbuckets");
    // X/Y arrows from evacuated old buckets (zoomed in enough to read them).
    if (kSlot * cam.zoom >= kDetailPx) {
      Rect view{cam.x, cam.y, cam.x + size.x / cam.zoom, cam.y + size.y / cam.zoom};
      std::vector<uint64_t> vis;
      geo.visible(*geo.old, view, vis, 4096);
      const BucketIndex& idx = v.index_old_[v.map_index_];
      for (uint64_t i : vis) {
        const Chain* c = idx.find(i);
        if (!c || !c->evacuated) continue;
        Rect from = geo.old->cell(i);
        for (uint64_t dst : {i, i + geo.old->n}) {
          if (dst >= geo.cur.n || (dst != i && m.flags & kFlagSameSizeGrow)) continue;
          Rect to = geo.cur.cell(dst);
          dl->AddLine(to_screen(cam, origin, from.x1 - kCellPad, (from.y0 + from.y1) / 2),
                      to_screen(cam, origin, to.x0, (to.y0 + to.y1) / 2),
                      dst == i ? IM_COL32(70, 130, 230, 120) : IM_COL32(170, 90, 220, 120), 1.2f);
        }
      }
    }
  }
  draw_array(dl, m, v.index_cur_[v.map_index_], geo.cur, geo, v.fills_cur_[v.map_index_], cam,
             origin, size, v.search_hits_);
  Rect cb = geo.cur.bounds();
  dl->AddText(to_screen(cam, origin, cb.x0, cb.y0 - 14 / cam.zoom), IM_COL32(220, 220, 220, 255),
              "buckets");
  dl->PopClipRect();
  // Hover: the slot's key, value and tophash.
  if (ImGui::IsItemHovered() && !v.headless_) {
    float wx = cam.x + (io.MousePos.x - origin.x) / cam.zoom;
    float wy = cam.y + (io.MousePos.y - origin.y) / cam.zoom;
    if (auto h = geo.hit(wx, wy)) {
      const BucketArray& arr = h->old ? *m.oldbuckets : m.buckets;
      const Chain* c = (h->old ? v.index_old_ : v.index_cur_)[v.map_index_].find(h->bucket);
      ImGui::BeginTooltip();
      ImGui::Text("%s bucket %llu", h->old ? "old" : "",
                  static_cast<unsigned long long>(h->bucket));
      if (!c) {
        ImGui::TextUnformatted("not in the snapshot's bucket page");
      } else if (h->slot >= 0 && h->chainpos < static_cast<int>(c->buckets.size())) {
        const Bucket& b = c->buckets[h->chainpos];
        uint8_t t = b.tophash[h->slot];
        ImGui::Text("slot %d%s: tophash 0x%02x (%s)", h->slot,
                    h->chainpos ? (" of overflow " + std::to_string(h->chainpos)).c_str() : "", t,
                    slot_state_name(slot_state(t)));
        if (b.keys[h->slot].present()) {
          std::string key(arr.get(b.keys[h->slot]));
          ImGui::Text("key   %s", key.c_str());
          if (auto hv = key_hash(m.type.keykind, key, m.hash0))
            ImGui::Text("hash  0x%016llx (bucket %llu of the new array)",
                        static_cast<unsigned long long>(*hv),
                        static_cast<unsigned long long>(*hv & ((uint64_t{1} << m.B) - 1)));
        }
        if (b.elems[h->slot].present())
          ImGui::Text("value %s", std::string(arr.get(b.elems[h->slot])).c_str());
        ImGui::Text("bucket at 0x%llx, overflow 0x%llx", static_cast<unsigned long long>(b.addr),
                    static_cast<unsigned long long>(b.overflow));
      } else {
        BucketSummary su = bucket_summary(c);
        ImGui::Text("%d live slots in %d bucket(s)%s", su.live, su.buckets,
                    su.evacuated ? ", evacuated" : "");
      }
      ImGui::EndTooltip();
    }
  }
}

}  // namespace goroscope::view
