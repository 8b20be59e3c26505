// map_iter_test.cpp — Go's iteration semantics: random start, each key
// exactly once (also when started in the middle of a growth), and deletion
// during iteration; plus goro's detection of an iterator invalidated by an
// insert that moved entries.
#include <gtest/gtest.h>

#include <cstdint>
#include <map>
#include <set>
#include <string>

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

TEST_F(ThrowOnMisuse, InsertThatMovesEntriesInvalidatesIterator) {
  Map<int64_t, int64_t> m;
  for (int64_t i = 0; i < 100; i++) m[i] = i;
  auto it = m.begin();
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

TEST_F(ThrowOnMisuse, InsertThatEvacuatesTheOldBucketUnderTheIterator) {
  Map<int64_t, int64_t> m;
  int64_t n = fill_mid_growth(m, 0, 10);
  // Start iterators until one stands in an old bucket that is not yet
  // evacuated (the iterator then reads the old array).
  auto in_unevacuated_old_bucket = [&](int64_t k) {
    uintptr_t oldb = D::hash(m, k) & (D::noldbuckets(m) - 1);
    return !detail::evacuated(D::chain(m, oldb, /*old=*/true)[0].addr);
  };
  auto it = m.begin();
  for (int guard = 0; !in_unevacuated_old_bucket(it->first); guard++) {
    ASSERT_LT(guard, 100000);
    it = m.begin();
  }
  // Inserting until the growth completes frees the old array: the iterator
  // must report at its next step instead of reading freed memory.
  for (int64_t end = n + (1 << 20); D::growing(m) && n < end;) m[n] = n, n++;
  ASSERT_FALSE(D::growing(m));
  try {
    ++it;
    FAIL() << "expected a misuse report";
  } catch (const ConcurrentMapMisuse& e) {
    EXPECT_EQ(e.info().op, MapOp::iterate);
  }
}

}  // namespace
}  // namespace goro
