// map_growth_test.cpp — goro::Map grows exactly by Go's rules.
//
// Before every insert of a new key the test predicts, from the header alone,
// what Go's mapassign would do (overLoadFactor / tooManyOverflowBuckets /
// growing), and checks the header after the insert against it.
#include <gtest/gtest.h>

#include <cstdint>
#include <vector>

#include "goro/map.h"
#include "goro/map_debug.h"

namespace goro {
namespace {

using D = MapDebugAccess;
using detail::evacuatedEmpty;
using detail::evacuatedX;
using detail::evacuatedY;

struct State {
  int64_t count;
  uint8_t B;
  bool growing;
  uint16_t noverflow;
  uintptr_t nevacuate;
};
template <class M>
State state(const M& m) {
  return {D::count(m), D::B(m), D::growing(m), D::noverflow(m), D::nevacuate(m)};
}

// insert_checked inserts a new key and checks the growth decision against
// Go's rules. Returns 1 for a bigger growth, 2 for a same-size growth, else 0.
template <class M>
int insert_checked(M& m, const typename M::key_type& k) {
  State s = state(m);
  m[k] = typename M::mapped_type{};
  State t = state(m);
  EXPECT_EQ(t.count, s.count + 1);
  bool over = detail::overLoadFactor(s.count + 1, s.B);
  bool tooMany = detail::tooManyOverflowBuckets(s.noverflow, s.B);
  if (!s.growing && (over || tooMany)) {
    // hashGrow: bigger when over the load factor, else same size.
    EXPECT_EQ(t.B, s.B + (over ? 1 : 0)) << "count=" << s.count;
    if (t.growing) {
      EXPECT_EQ(D::same_size_grow(m), !over);
    }
    return over ? 1 : 2;
  }
  EXPECT_EQ(t.B, s.B) << "B changed without Go's rules asking for it, count=" << s.count;
  if (s.growing && t.growing) {
    EXPECT_GT(t.nevacuate, s.nevacuate);  // growWork advanced
  }
  return 0;
}

TEST(MapGrowth, BGrowsExactlyWhenOverLoadFactor) {
  Map<int64_t, int64_t> m;
  std::vector<int64_t> grewAt;  // 1-based insert number that started a bigger growth
  for (int64_t i = 0; i < 300000; i++) {
    if (insert_checked(m, i * 7919) == 1) grewAt.push_back(i + 1);
  }
  // B=0 holds 8 entries; B>=1 holds 6.5 * 2^B = 13 * 2^(B-1).
  ASSERT_GE(grewAt.size(), 10u);
  EXPECT_EQ(grewAt[0], 9);
  for (size_t b = 1; b < grewAt.size(); b++) EXPECT_EQ(grewAt[b], 13 * (int64_t{1} << (b - 1)) + 1);
  EXPECT_EQ(D::B(m), grewAt.size());
}

TEST(MapGrowth, EvacuationAdvancesAndFreesOldBuckets) {
  Map<int64_t, int64_t> m;
  int64_t k = 0;
  while ((D::B(m) < 10 || D::growing(m)) && k < 100000) m[k++] = 0;
  while (!D::growing(m) && k < 100000) m[k++] = 0;  // the insert that starts growth to B=11
  ASSERT_TRUE(D::growing(m));
  const uintptr_t nold = D::noldbuckets(m);
  EXPECT_EQ(nold, uintptr_t{1} << 10);
  uintptr_t prev = D::nevacuate(m);
  int inserts = 0;
  while (D::growing(m)) {
    // Buckets below nevacuate are evacuated: every slot in an evacuated state,
    // overflow chain unlinked.
    for (uintptr_t i = 0; i < D::nevacuate(m); i += 97) {
      auto c = D::chain(m, i, /*old=*/true);
      ASSERT_EQ(c.size(), 1u);
      for (uint8_t th : c[0].tophash)
        ASSERT_TRUE(th == evacuatedX || th == evacuatedY || th == evacuatedEmpty) << int(th);
    }
    m[k++] = 0;
    inserts++;
    EXPECT_GE(D::nevacuate(m), prev + 1);
    prev = D::nevacuate(m);
    ASSERT_LE(inserts, static_cast<int>(nold));  // each write evacuates at least one bucket
  }
  EXPECT_EQ(D::oldbuckets(m), nullptr);  // released when evacuation completes
  EXPECT_EQ(D::B(m), 11);
  for (int64_t i = 0; i < k; i++) ASSERT_TRUE(m.contains(i));
}

TEST(MapGrowth, LookupsDuringGrowthSeeOldAndNewBuckets) {
  Map<std::string, int> m;
  int i = 0;
  while ((D::B(m) < 8 || !D::growing(m)) && i < 100000) {
    m[std::to_string(i)] = i;
    i++;
  }
  ASSERT_TRUE(D::growing(m));
  ASSERT_LT(D::nevacuate(m), D::noldbuckets(m));
  for (int j = 0; j < i; j++) ASSERT_EQ(m.at(std::to_string(j)), j);
  EXPECT_FALSE(m.contains("nope"));
}

TEST(MapGrowth, ChurnTriggersSameSizeGrowth) {
  // 64 buckets kept at 410 entries (6.4 per bucket, just below 6.5): churn
  // leaves overflow buckets behind until noverflow reaches 2^B.
  Map<int64_t, int64_t> m(400);
  const uint8_t B = D::B(m);
  ASSERT_EQ(B, 6);
  int64_t next = 0;
  for (; next < 410; next++) m[next] = next;
  int sameSize = 0;
  for (int step = 0; step < 2000000 && sameSize < 3; step++) {
    int g = insert_checked(m, next);
    m.erase(next - 410);
    next++;
    ASSERT_NE(g, 1) << "load never exceeds 6.5 here";
    if (g == 2) {
      sameSize++;
      EXPECT_EQ(D::B(m), B);
      EXPECT_TRUE(D::same_size_grow(m));
    }
  }
  EXPECT_EQ(sameSize, 3);
  for (int guard = 0; D::growing(m) && guard < 100000;
       guard++) {  // finish the evacuation, keeping the count
    m[next] = 0;
    m.erase(next - 410);
    next++;
  }
  EXPECT_FALSE(D::same_size_grow(m));
  EXPECT_EQ(D::B(m), B);
  EXPECT_LT(D::noverflow(m), 64);  // compacted
}

TEST(MapGrowth, NoverflowIsApproximateAbove2To16) {
  // incrnoverflow counts with probability 1/2^(B-15) for B >= 16: the count
  // stays within uint16 and tooManyOverflowBuckets caps B at 15.
  EXPECT_TRUE(detail::tooManyOverflowBuckets(1 << 15, 20));
  EXPECT_FALSE(detail::tooManyOverflowBuckets((1 << 15) - 1, 20));
  EXPECT_TRUE(detail::tooManyOverflowBuckets(1, 0));
  EXPECT_FALSE(detail::overLoadFactor(8, 0));
  EXPECT_TRUE(detail::overLoadFactor(9, 0));
  EXPECT_FALSE(detail::overLoadFactor(13, 1));
  EXPECT_TRUE(detail::overLoadFactor(14, 1));
}

// ---- Deletion: emptyOne vs emptyRest ---------------------------------------

// OneBucket sends every key to bucket 0 with tophash = key + 5.
struct OneBucket {
  uint64_t operator()(int k, uint64_t) const { return static_cast<uint64_t>(k + 5) << 56; }
};

TEST(MapDelete, EmptyOneThenEmptyRestPropagation) {
  Map<int, int, OneBucket> m(50);         // B=3: one bucket gets all keys
  for (int k = 0; k < 12; k++) m[k] = k;  // bucket 0 (8 slots) + one overflow bucket (4)
  auto th = [&](size_t chainpos, int slot) { return D::chain(m, 0)[chainpos].tophash[slot]; };
  ASSERT_EQ(D::chain(m, 0).size(), 2u);
  EXPECT_EQ(th(0, 0), 5);
  EXPECT_EQ(th(1, 3), 5 + 11);
  EXPECT_EQ(th(1, 4), detail::emptyRest);

  m.erase(3);  // a hole in the middle: emptyOne
  EXPECT_EQ(th(0, 3), detail::emptyOne);
  m.erase(11);  // last live slot of the chain: emptyRest
  EXPECT_EQ(th(1, 3), detail::emptyRest);
  m.erase(9);  // slot 1 of overflow: followed by an occupied slot 2 -> emptyOne
  EXPECT_EQ(th(1, 1), detail::emptyOne);
  m.erase(10);  // slot 2: now the run 1..7 is empty -> emptyRest back to slot 1
  EXPECT_EQ(th(1, 2), detail::emptyRest);
  EXPECT_EQ(th(1, 1), detail::emptyRest);
  EXPECT_EQ(th(1, 0), 5 + 8);
  m.erase(8);  // propagation crosses into the main bucket's last slot (occupied: stops)
  EXPECT_EQ(th(1, 0), detail::emptyRest);
  EXPECT_EQ(th(0, 7), 5 + 7);
  for (int k : {7, 6, 5, 4}) m.erase(k);  // reaches the emptyOne at slot 3 and turns it
  EXPECT_EQ(th(0, 4), detail::emptyRest);
  EXPECT_EQ(th(0, 3), detail::emptyRest);
  EXPECT_EQ(th(0, 2), 5 + 2);
  EXPECT_EQ(m.size(), 3u);
  // A lookup of a missing key stops at the first emptyRest; present keys still found.
  for (int k : {0, 1, 2}) EXPECT_TRUE(m.contains(k));
  EXPECT_FALSE(m.contains(9));
  // Inserting reuses the first empty slot of the chain.
  m[20] = 20;
  EXPECT_EQ(th(0, 3), 5 + 20);
}

TEST(MapDelete, HashSeedResetsWhenEmptied) {
  Map<int, int> m;
  std::vector<uint32_t> seeds;
  for (int round = 0; round < 4; round++) {
    for (int k = 0; k < 10; k++) m[k] = k;
    seeds.push_back(D::hash0(m));
    for (int k = 0; k < 10; k++) m.erase(k);
  }
  // Go re-randomizes hash0 when count drops to 0 (issue 25237).
  EXPECT_TRUE(seeds[0] != seeds[1] || seeds[1] != seeds[2] || seeds[2] != seeds[3]);
}

}  // namespace
}  // namespace goro
