// map_test.cpp — goro::Map's C++ API: semantics, object lifetimes, layout.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <limits>
#include <map>
#include <memory>
#include <set>
#include <string>
#include <vector>

#include "goro/map.h"
#include "goro/map_debug.h"
#include "test_types.h"

namespace goro {
namespace {

using D = MapDebugAccess;

TEST(Map, EmptyHasNoBuckets) {
  Map<int64_t, int64_t> m;
  EXPECT_EQ(m.size(), 0u);
  EXPECT_TRUE(m.empty());
  EXPECT_EQ(D::buckets(m), nullptr);  // allocated lazily, as in Go
  EXPECT_FALSE(m.contains(1));
  EXPECT_EQ(m.begin(), m.end());
  EXPECT_EQ(m.erase(1), 0u);
}

TEST(Map, InsertLookupErase) {
  Map<int64_t, std::string> m;
  m[1] = "one";
  m.insert_or_assign(2, "two");
  auto [it, inserted] = m.try_emplace(3, "three");
  EXPECT_TRUE(inserted);
  EXPECT_EQ(it->first, 3);
  EXPECT_EQ(it->second, "three");
  EXPECT_FALSE(m.try_emplace(3, "drei").second);  // never overwrites
  EXPECT_EQ(m[3], "three");
  EXPECT_FALSE(m.insert({2, "zwei"}).second);
  EXPECT_EQ(m.at(2), "two");
  EXPECT_TRUE(m.insert_or_assign(2, "zwei").second == false);
  EXPECT_EQ(m.at(2), "zwei");
  EXPECT_THROW(m.at(42), std::out_of_range);
  EXPECT_EQ(m.size(), 3u);
  EXPECT_EQ(m.erase(2), 1u);
  EXPECT_EQ(m.erase(2), 0u);
  EXPECT_EQ(m.size(), 2u);
  EXPECT_EQ(m.count(1), 1u);
  EXPECT_EQ(m.count(2), 0u);
}

TEST(Map, GoStyleCommaOk) {
  Map<std::string, int> m{{"a", 1}, {"b", 0}};
  auto [v, ok] = m.get("a");
  EXPECT_EQ(v, 1);
  EXPECT_TRUE(ok);
  auto [z, ok2] = m.get("b");  // present with the zero value
  EXPECT_EQ(z, 0);
  EXPECT_TRUE(ok2);
  auto [n, ok3] = m.get("c");  // absent: zero value, false; no insertion
  EXPECT_EQ(n, 0);
  EXPECT_FALSE(ok3);
  EXPECT_EQ(m.size(), 2u);
}

TEST(Map, OperatorBracketValueInitializes) {
  Map<int, double> m;
  EXPECT_EQ(m[7], 0.0);
  m[7] += 1.5;
  EXPECT_EQ(m[7], 1.5);
}

TEST(Map, FindAndIteratorAccess) {
  Map<std::string, int> m;
  for (int i = 0; i < 100; i++) m[std::to_string(i)] = i;
  auto it = m.find("42");
  ASSERT_NE(it, m.end());
  EXPECT_EQ(it.key(), "42");
  EXPECT_EQ(it.value(), 42);
  it->second = 4242;
  EXPECT_EQ(m.at("42"), 4242);
  EXPECT_EQ(m.find("nope"), m.end());
  const auto& cm = m;
  EXPECT_EQ(cm.find("42")->second, 4242);
  m.erase(it);
  EXPECT_FALSE(m.contains("42"));
}

TEST(Map, RangeForVisitsEverything) {
  Map<int, int> m;
  for (int i = 0; i < 1000; i++) m[i] = i * 2;
  std::map<int, int> seen;
  for (auto [k, v] : m) seen[k] += v;
  ASSERT_EQ(seen.size(), 1000u);
  for (auto& [k, v] : seen) EXPECT_EQ(v, k * 2);
  for (auto&& [k, v] : m) v = -k;  // values are writable through the proxy
  EXPECT_EQ(m.at(10), -10);
}

TEST(Map, CopyMoveSwapClear) {
  Map<std::string, std::string> a;
  for (int i = 0; i < 500; i++) a[std::to_string(i)] = std::string(40, 'x') + std::to_string(i);
  Map<std::string, std::string> b = a;
  EXPECT_EQ(a, b);
  Map<std::string, std::string> c = std::move(b);
  EXPECT_EQ(b.size(), 0u);
  EXPECT_EQ(c.size(), 500u);
  b = c;
  EXPECT_EQ(b, a);
  c.clear();
  EXPECT_EQ(c.size(), 0u);
  EXPECT_EQ(c.begin(), c.end());
  c["again"] = "yes";
  EXPECT_EQ(c.size(), 1u);
  a.swap(c);
  EXPECT_EQ(a.size(), 1u);
  EXPECT_EQ(c.size(), 500u);
  a = std::move(c);
  EXPECT_EQ(a.size(), 500u);
}

TEST(Map, MoveOnlyValuesAndKeys) {
  Map<int, std::unique_ptr<int>> m;
  for (int i = 0; i < 2000; i++) m[i] = std::make_unique<int>(i);
  for (int i = 0; i < 2000; i += 2) m.erase(i);
  for (int i = 1; i < 2000; i += 2) ASSERT_EQ(*m.at(i), i);
  Map<std::unique_ptr<int>, int> byptr;
  std::vector<int*> raw;
  for (int i = 0; i < 100; i++) {
    auto p = std::make_unique<int>(i);
    raw.push_back(p.get());
    byptr.try_emplace(std::move(p), i);
  }
  EXPECT_EQ(byptr.size(), 100u);
}

TEST(Map, EveryObjectConstructedIsDestroyed) {
  Counted::reset();
  {
    Map<Counted, Counted> m;
    for (int i = 0; i < 5000; i++) m.try_emplace(Counted(i), Counted(-i));
    for (int i = 0; i < 5000; i += 3) m.erase(Counted(i));
    Map<Counted, Counted> copy = m;
    copy.clear();
    for (int i = 0; i < 100; i++) copy[Counted(i)] = Counted(i);
  }
  EXPECT_EQ(Counted::live, 0);
}

TEST(Map, IndirectKeysAndElemsOver128Bytes) {
  using M = Map<Big, Big, BigHash>;
  EXPECT_TRUE(M::type_descriptor.flags & detail::indirectkey);
  EXPECT_TRUE(M::type_descriptor.flags & detail::indirectelem);
  EXPECT_EQ(M::type_descriptor.keysize, sizeof(void*));
  M m;
  for (int i = 0; i < 300; i++) m[Big(i)] = Big(i * 7);
  for (int i = 0; i < 300; i++) ASSERT_EQ(m.at(Big(i)).v[0], i * 7);
}

TEST(Map, ThrowingMoveIsStoredIndirectly) {
  using M = Map<int, ThrowingMove>;
  EXPECT_TRUE(M::type_descriptor.flags & detail::indirectelem);
  M m;
  for (int i = 0; i < 100; i++) m[i].x = i;
  EXPECT_EQ(m.at(50).x, 50);
}

TEST(Map, ElemConstructorThrowingLeavesMapUnchanged) {
  Map<std::string, ThrowOnConstruct> m;
  m.try_emplace("a", false);
  EXPECT_THROW(m.try_emplace("b", true), std::runtime_error);
  EXPECT_EQ(m.size(), 1u);
  EXPECT_FALSE(m.contains("b"));
  m.try_emplace("b", false);  // and the map is still writable (hashWriting cleared)
  EXPECT_EQ(m.size(), 2u);
}

TEST(Map, CustomUnseededHasherIsMixed) {
  Map<int, int, IdentityHash> m;
  for (int i = 0; i < 10000; i++) m[i] = i;
  EXPECT_EQ(m.size(), 10000u);
  // An unmixed identity hash of small ints has top byte 0: every tophash
  // would be 5 (minTopHash) and the tophash filter useless. Mixed with the
  // seed, the top bytes spread over (almost) all 251 possible values.
  std::set<uint8_t> tops;
  for (uintptr_t b = 0; b < (uintptr_t{1} << D::B(m)); b++)
    for (const auto& bucket : D::chain(m, b))
      for (uint8_t t : bucket.tophash)
        if (t >= detail::minTopHash) tops.insert(t);
  EXPECT_GT(tops.size(), 200u);
}

TEST(Map, TypeDescriptorMatchesLayout) {
  using M = Map<int64_t, int8_t>;
  const detail::maptype& t = M::type_descriptor;
  EXPECT_EQ(t.keysize, 8);
  EXPECT_EQ(t.elemsize, 1);
  EXPECT_EQ(t.keysoff, 8);               // right after tophash[8]
  EXPECT_EQ(t.elemsoff, 8 + 64);         // keys packed, then elems: no padding
  EXPECT_EQ(t.overflowoff, 8 + 64 + 8);  // 80
  EXPECT_EQ(t.bucketsize, 88u);
  EXPECT_EQ(t.keykind, detail::kind::int64);
  EXPECT_EQ(t.elemkind, detail::kind::int8);
  EXPECT_TRUE(t.flags & detail::reflexivekey);
  M m;
  EXPECT_EQ(&D::type(m), &t);
  EXPECT_EQ(static_cast<const void*>(&D::header(m)), static_cast<const void*>(&m));
  EXPECT_EQ((Map<std::string, double>::type_descriptor.keykind), detail::kind::std_string);
  EXPECT_FALSE((Map<double, int>::type_descriptor.flags & detail::reflexivekey));
  EXPECT_NE(std::string((Map<std::string, int>::type_descriptor.keyname)).find("string"),
            std::string::npos);
}

TEST(Map, HeaderLayoutIsTheDocumentedOne) {
  // docs/map.md draws this layout; out-of-process tools read it.
  using detail::hmap;
  EXPECT_EQ(offsetof(hmap, count), 0u);
  EXPECT_EQ(offsetof(hmap, flags), 8u);
  EXPECT_EQ(offsetof(hmap, B), 16u);
  EXPECT_EQ(offsetof(hmap, noverflow), 18u);
  EXPECT_EQ(offsetof(hmap, hash0), 20u);
  EXPECT_EQ(offsetof(hmap, buckets), 24u);
  EXPECT_EQ(offsetof(hmap, oldbuckets), 32u);
  EXPECT_EQ(offsetof(hmap, nevacuate), 40u);
  EXPECT_EQ(offsetof(hmap, extra), 48u);
  EXPECT_EQ(offsetof(hmap, type), 56u);
  EXPECT_EQ(offsetof(hmap, writer), 64u);
  EXPECT_EQ(offsetof(hmap, iters), 72u);
  EXPECT_EQ(sizeof(hmap), 80u);
  EXPECT_EQ(sizeof(Map<int64_t, int64_t>), sizeof(hmap));  // empty Hash/Eq take no space
}

TEST(Map, HeterogeneousLookupForStringKeys) {
  Map<std::string, int> m;
  m["a-key-longer-than-the-small-string-buffer"] = 1;
  std::string_view sv = "a-key-longer-than-the-small-string-buffer";
  EXPECT_TRUE(m.contains(sv));
  EXPECT_TRUE(m.contains("a-key-longer-than-the-small-string-buffer"));
  EXPECT_EQ(m.find(sv)->second, 1);
  EXPECT_EQ(m.get(sv), std::make_pair(1, true));
  EXPECT_EQ(m.get("nope"), std::make_pair(0, false));
  EXPECT_EQ(m.at(sv), 1);
  EXPECT_EQ(m.count("nope"), 0u);
  EXPECT_EQ(m.erase(sv), 1u);
  EXPECT_TRUE(m.empty());
  static_assert(std::is_same_v<Map<std::string, int>::key_equal, std::equal_to<>>);
  static_assert(std::is_same_v<Map<int, int>::key_equal, std::equal_to<int>>);
}

TEST(Map, NaNKeysAreDistinctAsInGo) {
  Map<double, int> m;
  double nan = std::numeric_limits<double>::quiet_NaN();
  for (int i = 0; i < 100; i++) m[nan] = i;  // every NaN is a new key
  EXPECT_EQ(m.size(), 100u);
  EXPECT_FALSE(m.contains(nan));
  int n = 0;
  for (auto [k, v] : m) n += k != k;
  EXPECT_EQ(n, 100);
  m[0.0] = 1;
  EXPECT_EQ(m.at(-0.0), 1);  // +0 == -0
}

template <class F>
void expect_assignment_stores_the_key() {
  // Go: m[0.0] = 1; m[math.Copysign(0, -1)] = 2 leaves one key, -0 (needkeyupdate).
  Map<F, int> m;
  m[F(0)] = 1;
  m[-F(0)] = 2;
  ASSERT_EQ(m.size(), 1u);
  EXPECT_TRUE(std::signbit(m.begin()->first));
  EXPECT_EQ(m.begin()->second, 2);
  m.insert_or_assign(F(0), 3);
  EXPECT_FALSE(std::signbit(m.begin()->first));
  m.try_emplace(-F(0), 4);  // not an assignment: neither key nor value changes
  EXPECT_FALSE(std::signbit(m.begin()->first));
  EXPECT_EQ(m.begin()->second, 3);
}

TEST(Map, FloatAssignmentStoresTheGivenKeyAsInGo) {
  expect_assignment_stores_the_key<double>();
  expect_assignment_stores_the_key<float>();
}

template <class F>
void expect_nans_spread() {
  // Go hashes each NaN randomly: 1000 NaN keys spread like 1000 distinct
  // keys (Go 1.19: 5 overflow buckets at B=8), not one chain of 125 buckets.
  Map<F, int> nans, ints;
  for (int i = 0; i < 1000; i++) {
    nans[std::numeric_limits<F>::quiet_NaN()] = i;
    ints[static_cast<F>(i) + F(0.5)] = i;
  }
  EXPECT_EQ(nans.size(), 1000u);
  EXPECT_EQ(D::B(nans), D::B(ints));
  EXPECT_LT(D::overflow_buckets(nans), 40u);  // the same spread as distinct keys
  size_t longest = 0;
  for (uintptr_t i = 0; i < (uintptr_t{1} << D::B(nans)); i++)
    longest = std::max(longest, D::chain(nans, i).size());
  EXPECT_LE(longest, 3u);
  EXPECT_EQ(nans.erase(std::numeric_limits<F>::quiet_NaN()), 0u);  // no NaN is found
}

TEST(Map, NaNKeysSpreadOverBucketsAsInGo) {
  expect_nans_spread<double>();
  expect_nans_spread<float>();
}

TEST(Map, HintPreallocatesOverflowBuckets) {
  Map<int64_t, int64_t> m(1000);  // make(map[int64]int64, 1000)
  // B is the smallest with 1000 <= 6.5 * 2^B: 2^8 = 256 buckets (1664 entries).
  EXPECT_EQ(D::B(m), 8);
  EXPECT_NE(D::buckets(m), nullptr);
  EXPECT_NE(D::header(m).extra.nextOverflow, nullptr);  // 2^(8-4) = 16 spare buckets
  for (int64_t i = 0; i < 1000; i++) m[i] = i;
  EXPECT_EQ(D::B(m), 8);  // no growth
  EXPECT_FALSE(D::growing(m));
}

TEST(Map, ReserveOnNonEmptyMapGrowsOnce) {
  Map<int64_t, int64_t> m;
  for (int64_t i = 0; i < 100; i++) m[i] = i;
  m.reserve(100000);
  EXPECT_FALSE(D::growing(m));
  uint8_t B = D::B(m);
  EXPECT_FALSE(detail::overLoadFactor(100000, B));
  for (int64_t i = 0; i < 100000; i++) m[i] = i;
  EXPECT_EQ(D::B(m), B);
  for (int64_t i = 0; i < 100000; i++) ASSERT_EQ(m.at(i), i);
}

}  // namespace
}  // namespace goro
