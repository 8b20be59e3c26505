// map_diff_test.cpp — randomized differential test of goro::Map against
// std::unordered_map: millions of mixed operations (insert, assign, emplace,
// erase, lookups, erase-while-iterating, clear, copy, move) over several key
// and value types, in phases that alternately grow and shrink the map so
// that growth, same-size growth and evacuation all happen mid-stream. The
// whole content is compared at every phase boundary. Also run under
// ASan+UBSan (./goroscope test), which checks every object's lifetime.
#include <gtest/gtest.h>

#include <cstdint>
#include <memory>
#include <random>
#include <string>
#include <unordered_map>
#include <unordered_set>

#include "goro/map.h"
#include "goro/map_debug.h"
#include "test_types.h"

namespace goro {
namespace {

// Value adapters: make a V from an integer, compare a V with the reference.
template <class V>
V make_val(int64_t x) {
  if constexpr (std::is_same_v<V, std::string>)
    return "value-" + std::to_string(x);
  else if constexpr (std::is_same_v<V, std::unique_ptr<int64_t>>)
    return std::make_unique<int64_t>(x);
  else if constexpr (std::is_same_v<V, Counted>)
    return Counted(static_cast<int>(x));
  else
    return static_cast<V>(x);
}
template <class V>
int64_t val_of(const V& v) {
  if constexpr (std::is_same_v<V, std::string>)
    return std::stoll(v.substr(6));
  else if constexpr (std::is_same_v<V, std::unique_ptr<int64_t>>)
    return *v;
  else if constexpr (std::is_same_v<V, Counted>)
    return v.v;
  else
    return static_cast<int64_t>(v);
}

struct Stats {
  size_t grows = 0, sameSizeGrows = 0, iterErases = 0;
};

// run drives `ops` random operations on a goro::Map<K, V, H> and a
// reference unordered_map<K, int64_t> over a key space of `keyspace` keys.
template <class K, class V, class H = goro::Hash<K>>
void run(Stats& st, uint64_t seed, size_t ops, uint64_t keyspace, K (*mk)(uint64_t)) {
  struct RefHash {
    size_t operator()(const K& k) const { return detail::seeded_hash(H{}, k, 0); }
  };
  Map<K, V, H> m;
  std::unordered_map<K, int64_t, RefHash> ref;
  std::mt19937_64 rng(seed);
  auto check_all = [&] {
    ASSERT_EQ(m.size(), ref.size());
    size_t n = 0;
    std::unordered_set<K, RefHash> seen;
    for (auto&& [k, v] : m) {
      auto r = ref.find(k);
      ASSERT_NE(r, ref.end());
      ASSERT_EQ(val_of(v), r->second);
      ASSERT_TRUE(seen.insert(k).second) << "key produced twice";
      n++;
    }
    ASSERT_EQ(n, ref.size());
  };
  bool wasGrowing = false;
  uint8_t lastB = 0;
  const size_t phase = ops / 20;
  for (size_t op = 0; op < ops; op++) {
    // Alternate insert-heavy and erase-heavy phases.
    bool growPhase = (op / phase) % 2 == 0;
    uint64_t r = rng();
    uint64_t kk = (r >> 16) % keyspace;
    K key = mk(kk);
    int64_t val = static_cast<int64_t>(r & 0xffff);
    unsigned dice = static_cast<unsigned>(r >> 56) % 100;  // 0..99
    unsigned insertShare = growPhase ? 60 : 25;
    if (dice < insertShare) {
      switch (dice % 4) {
        case 0:
          m[key] = make_val<V>(val);
          ref[key] = val;
          break;
        case 1:
          m.insert_or_assign(key, make_val<V>(val));
          ref[key] = val;
          break;
        case 2: {
          bool inserted = m.try_emplace(key, make_val<V>(val)).second;
          ASSERT_EQ(inserted, ref.try_emplace(key, val).second);
          break;
        }
        case 3: {
          K moved = key;
          m[std::move(moved)] = make_val<V>(val);
          ref[key] = val;
          break;
        }
      }
    } else if (dice < insertShare + 30) {
      ASSERT_EQ(m.erase(key), ref.erase(key));
    } else if (dice < 98) {
      auto it = m.find(key);
      auto rit = ref.find(key);
      ASSERT_EQ(it == m.end(), rit == ref.end());
      ASSERT_EQ(m.contains(key), rit != ref.end());
      if (rit != ref.end()) {
        ASSERT_EQ(val_of(it->second), rit->second);
      }
    } else if (dice == 98 && (r & 0xff) < 8) {
      // Erase about a tenth of the entries while iterating.
      size_t visited = 0, before = ref.size();
      for (auto&& [k, v] : m) {
        visited++;
        if (std::hash<uint64_t>{}(val_of(v) + visited) % 10 == 0) {
          K victim = k;
          m.erase(victim);
          ref.erase(victim);
          st.iterErases++;
        }
      }
      ASSERT_EQ(visited, before);
    } else if (dice == 99 && (r & 0xfff) == 0) {
      if constexpr (std::is_copy_constructible_v<V>) {
        Map<K, V, H> copy = m;  // copy, then move back through assignment
        m.clear();
        ASSERT_TRUE(m.empty());
        m = std::move(copy);
      } else {
        Map<K, V, H> moved = std::move(m);
        m = std::move(moved);
      }
    } else if (dice == 99 && (r & 0xffff) == 1) {
      m.clear();
      ref.clear();
    }
    bool growing = MapDebugAccess::growing(m);
    if (growing && !wasGrowing) {
      if (MapDebugAccess::B(m) == lastB)
        st.sameSizeGrows++;
      else
        st.grows++;
    }
    wasGrowing = growing;
    lastB = MapDebugAccess::B(m);
    if (op % phase == phase - 1) {
      check_all();
      if (::testing::Test::HasFatalFailure()) return;
    }
  }
  check_all();
}

int64_t int_key(uint64_t x) { return static_cast<int64_t>(x * 0x9E3779B97F4A7C15ULL); }
std::string str_key(uint64_t x) {
  // Mix short (SSO) and long (heap) strings.
  return x % 3 == 0 ? "k" + std::to_string(x) : "a-much-longer-string-key-" + std::to_string(x);
}
Big big_key(uint64_t x) { return Big(static_cast<int64_t>(x)); }
int weak_key(uint64_t x) { return static_cast<int>(x); }
Counted counted_key(uint64_t x) { return Counted(static_cast<int>(x)); }

// WeakHash has only 64 distinct outputs: long overflow chains, many equal
// tophashes, and (with churn) same-size growth.
struct WeakHash {
  uint64_t operator()(int k) const { return static_cast<uint64_t>(k % 64); }
};

TEST(MapDifferential, Int64KeysInt64Values) {
  Stats s;
  run<int64_t, int64_t>(s, 1, 2'000'000, 1 << 16, int_key);
  EXPECT_GT(s.grows, 5u);
  EXPECT_GT(s.iterErases, 0u);
}

TEST(MapDifferential, StringKeysStringValues) {
  Stats s;
  run<std::string, std::string>(s, 2, 600'000, 1 << 14, str_key);
  EXPECT_GT(s.grows, 5u);
}

TEST(MapDifferential, WeakHashLongChainsUniquePtrValues) {
  Stats s;
  run<int, std::unique_ptr<int64_t>, WeakHash>(s, 3, 300'000, 2048, weak_key);
  EXPECT_GT(s.sameSizeGrows + s.grows, 0u);
}

TEST(MapDifferential, IndirectBigKeys) {
  Stats s;
  run<Big, std::string, BigHash>(s, 4, 200'000, 4096, big_key);
}

TEST(MapDifferential, EveryObjectDestroyed) {
  Counted::reset();
  Stats s;
  run<Counted, Counted>(s, 5, 300'000, 8192, counted_key);
  EXPECT_EQ(Counted::live, 0);
}

}  // namespace
}  // namespace goro
