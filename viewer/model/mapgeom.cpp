// mapgeom.cpp — layout_map, visibility, hit testing. Design: mapgeom.h.
#include "mapgeom.h"

#include <algorithm>
#include <cmath>

namespace goroscope::view {

SlotState slot_state(uint8_t t) {
  switch (t) {
    case 0:
      return SlotState::emptyRest;
    case 1:
      return SlotState::emptyOne;
    case 2:
      return SlotState::evacuatedX;
    case 3:
      return SlotState::evacuatedY;
    case 4:
      return SlotState::evacuatedEmpty;
    default:
      return SlotState::occupied;  // >= minTopHash (5)
  }
}

const char* slot_state_name(SlotState s) {
  static const char* const names[kSlotStates] = {"emptyRest",   "emptyOne",   "occupied",
                                                 "evacuatedX",  "evacuatedY", "evacuatedEmpty",
                                                 "not captured"};
  return names[static_cast<int>(s)];
}

Rect ArrayGeom::bounds() const {
  uint64_t rows = (n + cols - 1) / cols;
  return {x0, y0, x0 + static_cast<float>(cols) * cell_w, y0 + static_cast<float>(rows) * cell_h};
}

Rect ArrayGeom::cell(uint64_t i) const {
  float x = x0 + static_cast<float>(i % cols) * cell_w;
  float y = y0 + static_cast<float>(i / cols) * cell_h;
  return {x, y, x + cell_w, y + cell_h};
}

Rect ArrayGeom::slot(uint64_t i, int s) const {
  Rect c = cell(i);
  float x = c.x0 + kCellPad / 2 + static_cast<float>(s) * kSlot;
  float y = c.y0 + kCellPad / 2;
  return {x, y, x + kSlot, y + kSlot};
}

Rect ArrayGeom::chain_slot(uint64_t i, int row, int s) const {
  Rect c = cell(i);
  float x = c.x0 + kCellPad / 2 + kSlot + static_cast<float>(s) * kChainSlot;
  float y = c.y0 + kCellPad / 2 + kSlot + 2 + static_cast<float>(row - 1) * (kChainSlot + 2);
  return {x, y, x + kChainSlot, y + kChainSlot};
}

namespace {

ArrayGeom make_array(uint64_t n, bool old, float x0) {
  ArrayGeom a;
  a.old = old;
  a.n = std::max<uint64_t>(n, 1);
  a.cols = static_cast<uint64_t>(std::ceil(std::sqrt(static_cast<double>(a.n))));
  a.x0 = x0;
  a.cell_w = 8 * kSlot + kCellPad;
  a.cell_h = kSlot + kChainRows * (kChainSlot + 2) + 2 + kCellPad;
  return a;
}

}  // namespace

MapGeom layout_map(const Map& m) {
  MapGeom g;
  float x = 0;
  if (m.oldbuckets) {
    g.old = make_array(m.oldbuckets->nbuckets, true, 0);
    x = g.old->bounds().x1 + kArrayGap;
  }
  g.cur = make_array(m.buckets.nbuckets ? m.buckets.nbuckets : uint64_t{1} << m.B, false, x);
  Rect b = g.cur.bounds();
  g.width = b.x1;
  g.height = std::max(b.y1, g.old ? g.old->bounds().y1 : 0.f);
  return g;
}

bool MapGeom::cell_range(const ArrayGeom& a, Rect v, uint64_t& r0, uint64_t& r1, uint64_t& c0,
                         uint64_t& c1) const {
  Rect b = a.bounds();
  float x0 = std::max(v.x0, b.x0), x1 = std::min(v.x1, b.x1);
  float y0 = std::max(v.y0, b.y0), y1 = std::min(v.y1, b.y1);
  if (x0 >= x1 || y0 >= y1) return false;
  uint64_t rows = (a.n + a.cols - 1) / a.cols;
  c0 = static_cast<uint64_t>((x0 - a.x0) / a.cell_w);
  c1 = std::min<uint64_t>(a.cols, static_cast<uint64_t>((x1 - a.x0) / a.cell_w) + 1);
  r0 = static_cast<uint64_t>((y0 - a.y0) / a.cell_h);
  r1 = std::min<uint64_t>(rows, static_cast<uint64_t>((y1 - a.y0) / a.cell_h) + 1);
  return true;
}

void MapGeom::visible(const ArrayGeom& a, Rect v, std::vector<uint64_t>& out, size_t limit) const {
  uint64_t r0, r1, c0, c1;
  if (!cell_range(a, v, r0, r1, c0, c1)) return;
  for (uint64_t r = r0; r < r1; r++)
    for (uint64_t c = c0; c < c1; c++) {
      uint64_t i = r * a.cols + c;
      if (i >= a.n || out.size() >= limit) return;
      out.push_back(i);
    }
}

std::optional<Hit> MapGeom::hit(float x, float y) const {
  for (const ArrayGeom* a : {&cur, old ? &*old : nullptr}) {
    if (!a || !a->bounds().contains(x, y)) continue;
    auto col = static_cast<uint64_t>((x - a->x0) / a->cell_w);
    auto row = static_cast<uint64_t>((y - a->y0) / a->cell_h);
    uint64_t i = row * a->cols + col;
    if (col >= a->cols || i >= a->n) return std::nullopt;
    Hit h{a->old, i, 0, -1};
    for (int s = 0; s < 8; s++)
      if (a->slot(i, s).contains(x, y)) h.slot = s;
    for (int r = 1; r <= kChainRows && h.slot < 0; r++)
      for (int s = 0; s < 8; s++)
        if (a->chain_slot(i, r, s).contains(x, y)) {
          h.chainpos = r;
          h.slot = s;
        }
    return h;
  }
  return std::nullopt;
}

BucketIndex::BucketIndex(const BucketArray& arr) : a(&arr) {
  pos.assign(static_cast<size_t>(arr.count), -1);
  for (size_t i = 0; i < arr.chains.size(); i++) {
    uint64_t b = arr.chains[i].index;
    if (b >= arr.first && b - arr.first < arr.count) pos[b - arr.first] = static_cast<int64_t>(i);
  }
}

const Chain* BucketIndex::find(uint64_t bucket) const {
  if (bucket < a->first || bucket - a->first >= pos.size()) return nullptr;
  int64_t p = pos[bucket - a->first];
  return p < 0 ? nullptr : &a->chains[static_cast<size_t>(p)];
}

BucketSummary bucket_summary(const Chain* c) {
  BucketSummary s;
  if (!c) return s;
  s.captured = true;
  s.evacuated = c->evacuated;
  for (const Bucket& b : c->buckets) {
    s.buckets++;
    for (uint8_t t : b.tophash) s.live += slot_state(t) == SlotState::occupied;
  }
  return s;
}

std::vector<uint8_t> fills(const BucketArray& a, uint64_t nbuckets) {
  std::vector<uint8_t> f(static_cast<size_t>(std::min<uint64_t>(nbuckets, kMaxBuckets)),
                         kFillMissing);
  for (const Chain& c : a.chains) {
    if (c.index >= f.size()) continue;
    if (c.evacuated) {
      f[c.index] = kFillEvacuated;
      continue;
    }
    BucketSummary s = bucket_summary(&c);
    f[c.index] = static_cast<uint8_t>(std::min(s.live, 254));
  }
  return f;
}

std::vector<Hit> find_key(const Map& m, std::string_view key) {
  std::vector<Hit> out;
  auto scan = [&](const BucketArray& a, bool old) {
    for (const Chain& c : a.chains)
      for (size_t p = 0; p < c.buckets.size(); p++)
        for (int s = 0; s < 8; s++)
          if (c.buckets[p].keys[s].present() && a.get(c.buckets[p].keys[s]) == key &&
              slot_state(c.buckets[p].tophash[s]) == SlotState::occupied)
            out.push_back(Hit{old, c.index, static_cast<int>(p), s});
  };
  scan(m.buckets, false);
  if (m.oldbuckets) scan(*m.oldbuckets, true);
  return out;
}

}  // namespace goroscope::view
