// mapgeom.h — the map view's geometry: where each bucket, slot and overflow
// box of a map's arrays lies in world coordinates, which buckets a viewport
// sees, and what a point hits. No ImGui: the panel draws what this computes.
//
// Layout: each array is a grid of cells, `cols` = ceil(sqrt(n)) wide, so a
// 2^20-bucket array is 1024 x 1024 cells. A cell holds the bucket's 8 slots
// in a row (squares of kSlot) and, below, up to kChainRows overflow boxes
// (each again 8 slots, smaller); a longer chain ends in a "+n" box. While
// the map grows, the old array is laid out left of the new one, and
// evacuated old bucket i points to new buckets i (X) and i + 2^oldB (Y).
//
// Level of detail: visible() returns only the cells a viewport intersects
// (O(visible), not O(n)); below kDetailPx pixels per slot the panel draws
// one rectangle per bucket coloured by bucket_summary() instead of slots,
// and below ~1 px per bucket one per block of buckets (the panel's choice,
// from the same summaries). Measured in bench/viewer.
#pragma once

#include <cstdint>
#include <optional>
#include <vector>

#include "snapshot.h"

namespace goroscope::view {

// SlotState is a tophash byte's meaning (Go's constants).
enum class SlotState : uint8_t {
  emptyRest,
  emptyOne,
  occupied,
  evacuatedX,
  evacuatedY,
  evacuatedEmpty,
  notCaptured,  // outside the snapshot's bucket page
};
inline constexpr int kSlotStates = 7;
SlotState slot_state(uint8_t tophash);
const char* slot_state_name(SlotState s);

inline constexpr float kSlot = 10;       // slot square, world units
inline constexpr float kCellPad = 6;     // between cells
inline constexpr int kChainRows = 3;     // overflow boxes drawn below a bucket
inline constexpr float kChainSlot = 6;   // slot square of an overflow box
inline constexpr float kArrayGap = 120;  // between the old and the new array
inline constexpr float kDetailPx = 3;    // below this many pixels per slot: one box per bucket

struct Rect {
  float x0, y0, x1, y1;
  bool contains(float x, float y) const { return x >= x0 && x < x1 && y >= y0 && y < y1; }
};

struct ArrayGeom {
  bool old = false;
  uint64_t n = 0;  // buckets in the array (2^B or 2^oldB)
  uint64_t cols = 1;
  float x0 = 0, y0 = 0;
  float cell_w = 0, cell_h = 0;
  Rect bounds() const;
  Rect cell(uint64_t i) const;                        // the whole cell of bucket i
  Rect slot(uint64_t i, int s) const;                 // the bucket's own slot s
  Rect chain_slot(uint64_t i, int row, int s) const;  // overflow box row (1..), slot s
};

struct Hit {
  bool old = false;
  uint64_t bucket = 0;
  int chainpos = 0;  // 0: the bucket itself
  int slot = -1;     // -1: the cell, not a slot
};

// MapGeom is the layout of one map (the current array and, while growing, the old one).
struct MapGeom {
  ArrayGeom cur;
  std::optional<ArrayGeom> old;
  float width = 0, height = 0;
  // visible: bucket indices of `a` whose cells intersect view (row-major, at most limit).
  void visible(const ArrayGeom& a, Rect view, std::vector<uint64_t>& out,
               size_t limit = 1u << 22) const;
  // cell_range: the rows [r0, r1) and columns [c0, c1) of `a` that view intersects.
  bool cell_range(const ArrayGeom& a, Rect view, uint64_t& r0, uint64_t& r1, uint64_t& c0,
                  uint64_t& c1) const;
  std::optional<Hit> hit(float x, float y) const;
};

MapGeom layout_map(const Map& m);

// BucketIndex finds a captured chain by bucket number in O(1).
struct BucketIndex {
  const BucketArray* a = nullptr;
  std::vector<int64_t> pos;  // bucket - first -> chains index, -1 if not captured
  explicit BucketIndex(const BucketArray& arr);
  const Chain* find(uint64_t bucket) const;
};

// bucket_summary: a bucket chain's live slots (0..8 per bucket, summed over
// the chain) and whether it is evacuated; for the zoomed-out view.
struct BucketSummary {
  int live = 0, buckets = 0;
  bool evacuated = false, captured = false;
};
BucketSummary bucket_summary(const Chain* c);

// fills: per bucket of an array, its zoomed-out colour class: live slots
// over the chain (0..254, capped), kFillEvacuated, or kFillMissing (not in
// the captured page). Built once per snapshot: a frame then reads one byte
// per drawn bucket or block (the 2^20-bucket frame: bench/viewer).
inline constexpr uint8_t kFillEvacuated = 0xfe, kFillMissing = 0xff;
std::vector<uint8_t> fills(const BucketArray& a, uint64_t nbuckets);

// find_key: where a key's text appears (new and old arrays), for search.
std::vector<Hit> find_key(const Map& m, std::string_view key);

}  // namespace goroscope::view
