// map_iter_test.cpp — Go's iteration semantics: random start, each key
// exactly once (also when started in the middle of a growth), deletion,
// updates, inserts and clear during iteration with Go's guarantees; plus
// goro's detection of a position (find) invalidated by an insert that moved
// entries.
#include <gtest/gtest.h>

#include <cstdint>
#include <map>
#include <memory>
#include <random>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include "goro/map.h"
#include "goro/map_debug.h"

namespace goro {
namespace {

using D = MapDebugAccess;

class ThrowOnMisuse : public ::testing::Test {
 protected:
  void SetUp() override { set_misuse_action(MisuseAction::throw_exception); }
  void TearDown() override { set_misuse_action(MisuseAction::fatal); }
};

template <class M>
std::map<typename M::key_type, int> visit_counts(const M& m) {
  std::map<typename M::key_type, int> seen;
  for (auto&& [k, v] : m) seen[k]++;
  return seen;
}

// grow_until_mid_growth inserts keys from `next` until a growth has started
// and evacuation has not yet reached its middle.
template <class M>
int64_t fill_mid_growth(M& m, int64_t next, uint8_t minB) {
  const int64_t limit = next + (int64_t{1} << 24);  // bounded even if growth were broken
  while (next < limit && (D::B(m) < minB || !D::growing(m) || D::nevacuate(m) == 0)) {
    m[next] = next;
    next++;
    if (D::growing(m) && D::nevacuate(m) > D::noldbuckets(m) / 2) {
      while (D::growing(m) && next < limit)
        m[next] = next, next++;  // too far: take the next growth
    }
  }
  EXPECT_LT(next, limit) << "map never reached the requested growth state";
  return next;
}

TEST(MapIter, EachKeyExactlyOnce) {
  for (int n : {0, 1, 7, 8, 9, 100, 5000}) {
    Map<int64_t, int64_t> m;
    for (int64_t i = 0; i < n; i++) m[i] = i;
    auto seen = visit_counts(m);
    ASSERT_EQ(seen.size(), static_cast<size_t>(n));
    for (auto& [k, c] : seen) ASSERT_EQ(c, 1) << k;
  }
}

TEST(MapIter, EachKeyExactlyOnceWhenStartedMidGrowth) {
  for (uint8_t minB : {3, 6, 10}) {
    Map<int64_t, int64_t> m;
    int64_t n = fill_mid_growth(m, 0, minB);
    ASSERT_TRUE(D::growing(m));
    ASSERT_GT(D::nevacuate(m), 0u);
    ASSERT_LT(D::nevacuate(m), D::noldbuckets(m));
    for (int round = 0; round < 20; round++) {  // several random start points
      auto seen = visit_counts(m);
      ASSERT_EQ(seen.size(), static_cast<size_t>(n));
      for (auto& [k, c] : seen) ASSERT_EQ(c, 1) << "key " << k << " B=" << int(D::B(m));
    }
  }
}

TEST(MapIter, EachKeyExactlyOnceMidSameSizeGrowth) {
  Map<int64_t, int64_t> m(400);
  int64_t next = 0;
  for (; next < 410; next++) m[next] = next;
  for (int guard = 0; !D::same_size_grow(m); guard++) {
    ASSERT_LT(guard, 10000000) << "no same-size growth";
    m[next] = next;
    m.erase(next - 410);
    next++;
  }
  ASSERT_TRUE(D::growing(m));
  auto seen = visit_counts(m);
  ASSERT_EQ(seen.size(), 410u);
  for (auto& [k, c] : seen) {
    ASSERT_EQ(c, 1);
    ASSERT_GE(k, next - 410);
  }
}

TEST(MapIter, StartsAtRandomBucketAndOffset) {
  Map<int, int> m;
  for (int i = 0; i < 1000; i++) m[i] = i;
  std::set<int> firsts;
  for (int i = 0; i < 50; i++) firsts.insert(m.begin()->first);
  EXPECT_GT(firsts.size(), 10u);  // 50 draws over 256 buckets x 8 offsets
}

TEST(MapIter, DeleteDuringIteration) {
  for (bool midGrowth : {false, true}) {
    Map<int64_t, int64_t> m;
    int64_t n = midGrowth ? fill_mid_growth(m, 0, 8) : 3000;
    if (!midGrowth)
      for (int64_t i = 0; i < n; i++) m[i] = i;
    ASSERT_EQ(D::growing(m), midGrowth);
    std::map<int64_t, int> seen;
    std::set<int64_t> deleted;
    for (auto it = m.begin(); it != m.end(); ++it) {
      int64_t k = it->first;
      seen[k]++;
      EXPECT_FALSE(deleted.count(k)) << "deleted key " << k << " produced";
      if (k % 3 == 0) {  // delete the current entry
        m.erase(k);
        deleted.insert(k);
      }
      int64_t other = (k * 7 + 1) % n;  // and some other, maybe not yet visited
      if (!seen.count(other) && m.erase(other)) deleted.insert(other);
    }
    for (int64_t k = 0; k < n; k++) {
      if (deleted.count(k) && !seen.count(k)) continue;  // deleted before its turn
      ASSERT_EQ(seen[k], 1) << "key " << k;
    }
    EXPECT_EQ(m.size() + deleted.size(), static_cast<size_t>(n));
  }
}

TEST(MapIter, RangeForEraseEverything) {
  Map<std::string, int> m;
  for (int i = 0; i < 2000; i++) m[std::to_string(i)] = i;
  int visited = 0;
  for (auto&& [k, v] : m) {
    m.erase(k);  // Go: `for k := range m { delete(m, k) }`
    visited++;
  }
  EXPECT_EQ(visited, 2000);
  EXPECT_TRUE(m.empty());
}

// ---- Writing while ranging (Go: legal; every key present at the start and
// not deleted is produced exactly once, new keys at most once) ----

// The states a range loop can start in: not growing (several fill levels,
// so that the loop's own inserts start a growth at different points), and
// in the middle of a bigger or a same-size growth.
template <class M>
std::vector<std::pair<std::string, M>> start_states() {
  std::vector<std::pair<std::string, M>> out;
  for (int n : {1, 8, 9, 52, 53, 100, 415, 416, 3000}) {
    M m;
    for (int64_t i = 0; i < n; i++) m[i] = i;
    out.emplace_back("filled " + std::to_string(n), std::move(m));
  }
  for (uint8_t minB : {3, 6, 10}) {
    M m;
    fill_mid_growth(m, 0, minB);
    out.emplace_back("mid-growth B>=" + std::to_string(minB), std::move(m));
  }
  return out;
}

TEST(MapIter, UpdatingEveryKeyWhileRanging) {
  // Go: for k, v := range m { m[k] = v + 1000 }
  for (auto& [what, m] : start_states<Map<int64_t, int64_t>>()) {
    std::map<int64_t, int64_t> want;
    for (auto&& [k, v] : m) want[k] = v + 1000;
    std::map<int64_t, int> seen;
    for (auto&& [k, v] : m) {
      seen[k]++;
      m[k] = v + 1000;
    }
    ASSERT_EQ(seen.size(), want.size()) << what;
    for (auto& [k, c] : seen) ASSERT_EQ(c, 1) << what << " key " << k;
    for (auto& [k, v] : want) ASSERT_EQ(m.at(k), v) << what << " key " << k;
  }
}

TEST(MapIter, InsertingWhileRangingProducesEveryOriginalKeyOnce) {
  for (auto& [what, m] : start_states<Map<int64_t, int64_t>>()) {
    std::set<int64_t> original;
    for (auto&& [k, v] : m) original.insert(k);
    std::map<int64_t, int> seen;
    int64_t next = int64_t{1} << 40;
    for (auto&& [k, v] : m) {
      seen[k]++;
      for (int j = 0; j < 3; j++) m[next++] = -1;  // enough to start (and need) a growth
    }
    for (int64_t k : original) ASSERT_EQ(seen[k], 1) << what << " key " << k;
    for (auto& [k, c] : seen) ASSERT_LE(c, 1) << what << " new key " << k;
    ASSERT_EQ(m.size(), original.size() + static_cast<size_t>(next - (int64_t{1} << 40)));
    for (int64_t k : original) ASSERT_EQ(m.at(k), k) << what;
    for (int64_t k = int64_t{1} << 40; k < next; k++) ASSERT_EQ(m.at(k), -1) << what;
    // The loop is over: growth resumes and completes with the next writes.
    int64_t resumed = next;
    for (int64_t end = next + (int64_t{1} << 22); D::growing(m) && next < end;) m[next++] = -1;
    EXPECT_FALSE(D::growing(m)) << what;
    // Evacuation appended the old entries after the ones inserted meanwhile.
    for (int64_t k : original) ASSERT_EQ(m.at(k), k) << what;
    for (int64_t k = int64_t{1} << 40; k < next; k++) ASSERT_EQ(m.at(k), -1) << what << k;
    EXPECT_EQ(visit_counts(m).size(), m.size()) << what << " (resumed at " << resumed << ")";
  }
}

TEST(MapIter, RandomWritesWhileRangingAgreeWithAModel) {
  // Range loops that update, insert and delete at random, over maps in every
  // growth state, against std::map: the same contents after each loop, each
  // original key produced once unless deleted first (ASan/UBSan in CI).
  std::mt19937_64 rng(42);
  for (int round = 0; round < 60; round++) {
    Map<int64_t, std::string> m;
    std::map<int64_t, std::string> model;
    int n = static_cast<int>(rng() % 3000);
    for (int i = 0; i < n; i++) {
      int64_t k = static_cast<int64_t>(rng() % 5000);
      m[k] = model[k] = std::to_string(k);
    }
    for (int loop = 0; loop < 3; loop++) {
      std::set<int64_t> original;
      for (auto& [k, v] : model) original.insert(k);
      std::set<int64_t> deleted;
      std::map<int64_t, int> seen;
      for (auto&& [k, v] : m) {
        seen[k]++;
        switch (rng() % 4) {
          case 0:  // update
            v += "+";
            model[k] = v;
            break;
          case 1: {  // insert (or update) another key
            int64_t o = static_cast<int64_t>(rng() % 8000);
            m[o] = model[o] = "ins" + std::to_string(o);
            break;
          }
          case 2: {  // delete another key
            int64_t o = static_cast<int64_t>(rng() % 8000);
            if (o != k && m.erase(o)) model.erase(o), deleted.insert(o);
            break;
          }
          default:
            break;
        }
      }
      for (int64_t k : original) {
        if (deleted.count(k) && !seen.count(k)) continue;
        ASSERT_EQ(seen[k], 1) << "round " << round << " key " << k;
      }
      for (auto& [k, c] : seen) ASSERT_EQ(c, 1) << "round " << round << " key " << k;
      ASSERT_EQ(m.size(), model.size()) << "round " << round;
      for (auto& [k, v] : model) ASSERT_EQ(m.at(k), v) << "round " << round << " key " << k;
    }
  }
}

TEST(MapIter, InsertingAndDeletingWhileRangingMoveOnlyValues) {
  // Values that can only be moved, keys that are strings (indirect-free but
  // not trivially destructible): every entry is destroyed exactly once (ASan).
  Map<std::string, std::unique_ptr<int>> m;
  for (int i = 0; i < 400; i++) m[std::to_string(i)] = std::make_unique<int>(i);
  std::set<std::string> original;
  for (auto&& [k, v] : m) original.insert(k);
  std::map<std::string, int> seen;
  int added = 0, deleted = 0;
  for (auto&& [k, v] : m) {
    seen[k]++;
    if (original.count(k) && *v % 3 == 0) {
      *v += 1000;
    } else if (original.count(k) && *v % 3 == 1) {
      m.erase(std::to_string(*v + 1));  // maybe not produced yet: then never
      deleted++;
    }
    m["new" + std::to_string(added++)] = std::make_unique<int>(-1);
  }
  for (auto& [k, c] : seen) ASSERT_EQ(c, 1) << k;
  for (const auto& k : original) {
    if (!seen.count(k)) {
      ASSERT_FALSE(m.contains(k)) << k << " was neither produced nor deleted";
    }
  }
  EXPECT_GT(deleted, 0);
}

TEST(MapIter, ReserveDuringARangeLoopMovesNothing) {
  Map<int64_t, int64_t> m;
  for (int64_t i = 0; i < 100; i++) m[i] = i;
  std::map<int64_t, int> seen;
  for (auto&& [k, v] : m) {
    seen[k]++;
    m.reserve(100000);  // would evacuate and free the arrays under the loop (ASan)
    v += 1;
  }
  EXPECT_EQ(seen.size(), 100u);
  for (auto& [k, c] : seen) EXPECT_EQ(c, 1) << k;
  m.reserve(100000);  // after the loop it does its job
  EXPECT_GE(D::B(m), 14);
}

TEST(MapIter, BreakingOutOfARangeLoopLetsGrowthResume) {
  Map<int64_t, int64_t> m;
  int64_t next = fill_mid_growth(m, 0, 6);
  for (auto&& [k, v] : m) {
    (void)k, (void)v;
    for (int j = 0; j < 100; j++) m[next++] = 0;
    break;
  }
  ASSERT_TRUE(D::growing(m));
  for (int64_t end = next + (int64_t{1} << 22); D::growing(m) && next < end;) m[next++] = 0;
  EXPECT_FALSE(D::growing(m));
}

TEST(MapIter, ClearWhileRangingEndsTheLoop) {
  // Go: for k := range m { clear(m) } produces one key.
  for (auto& [what, m] : start_states<Map<int64_t, int64_t>>()) {
    int produced = 0;
    for (auto&& [k, v] : m) {
      (void)k, (void)v;
      produced++;
      m.clear();
    }
    EXPECT_EQ(produced, 1) << what;
    EXPECT_TRUE(m.empty());
    for (int64_t i = 0; i < 5000; i++) m[i] = i;  // and the map works on
    EXPECT_EQ(m.size(), 5000u);
    EXPECT_EQ(visit_counts(m).size(), 5000u) << what;
  }
}

TEST(MapIter, AnIteratorMayOutliveItsMap) {
  // Legal C++ while the iterator is not used: its hold outlives the map (ASan).
  Map<int64_t, int64_t>::iterator it;
  {
    Map<int64_t, int64_t> m;
    for (int64_t i = 0; i < 100; i++) m[i] = i;
    it = m.begin();
    auto copy = it;
    ++copy;
  }
  SUCCEED();
}

TEST_F(ThrowOnMisuse, APositionUsedAfterAnInsertMovedTheEntries) {
  // find() returns a position, which holds nothing: an insert that grew the
  // map (evacuated its bucket) invalidates it, and using it is reported.
  Map<int64_t, int64_t> m;
  for (int64_t i = 0; i < 100; i++) m[i] = i;
  auto it = m.find(5);
  int64_t k = 1000;
  while (!D::growing(m) && k < 100000) m[k++] = 0;  // the growth replaced the bucket array
  ASSERT_TRUE(D::growing(m));
  try {
    ++it;
    FAIL() << "expected a misuse report";
  } catch (const ConcurrentMapMisuse& e) {
    EXPECT_EQ(std::string(e.info().message),
              "map iterator used after an insert moved the map's entries (goro)");
    EXPECT_EQ(e.info().op, MapOp::iterate);
  }
}

TEST_F(ThrowOnMisuse, ARangeIteratorUsedAfterItsMapWasSwapped) {
  Map<int64_t, int64_t> m, other;
  for (int64_t i = 0; i < 100; i++) m[i] = i;
  auto it = m.begin();
  m.swap(other);
  try {
    ++it;
    FAIL() << "expected a misuse report";
  } catch (const ConcurrentMapMisuse& e) {
    EXPECT_EQ(std::string(e.info().message),
              "map iterator used after its map was moved or swapped (goro)");
  }
}

}  // namespace
}  // namespace goro
