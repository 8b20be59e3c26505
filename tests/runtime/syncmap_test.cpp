// syncmap_test.cpp — goro::SyncMap: each method's semantics (Go's
// map_test.go in spirit), the read/dirty/misses/amended/expunged life cycle
// seen through SyncDebugAccess, concurrent mixed operations checked against
// an oracle (a goro::Map guarded by a goro::Mutex), Range during concurrent
// stores, and that every value is freed.
#include <atomic>
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "goro/syncmap.h"
#include "sched_fixture.h"

namespace {

using goro::SyncDebugAccess;

class SyncMapTest : public goro_test::Sched {};
GORO_INSTANTIATE_SCHED(SyncMapTest);

template <class F>
void spawn(goro::WaitGroup& wg, F f) {
  wg.add(1);
  goro::go([&wg, f]() mutable {
    f();
    wg.done();
  });
}

// splitmix64: a deterministic per-goroutine random stream.
struct Rng {
  uint64_t s;
  uint64_t next() {
    uint64_t z = (s += 0x9e3779b97f4a7c15ull);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    return z ^ (z >> 31);
  }
  uint32_t below(uint32_t n) { return static_cast<uint32_t>(next() % n); }
};

// Counted tracks live instances, so a test can check that every value the
// map ever held was destroyed.
struct Counted {
  static inline std::atomic<int64_t> live{0};
  int64_t v;
  explicit Counted(int64_t x = 0) : v(x) { live++; }
  Counted(const Counted& o) : v(o.v) { live++; }
  Counted& operator=(const Counted&) = default;
  ~Counted() { live--; }
  friend bool operator==(const Counted& a, const Counted& b) { return a.v == b.v; }
};

// ---------------------------------------------------------------- semantics

TEST_P(SyncMapTest, LoadStoreDelete) {
  run([] {
    goro::SyncMap<std::string, std::string> m;
    EXPECT_EQ(m.load("a"), std::nullopt);
    m.store("a", "1");
    EXPECT_EQ(m.load("a"), "1");
    m.store("a", "2");
    EXPECT_EQ(m.load("a"), "2");
    m.erase("a");
    EXPECT_EQ(m.load("a"), std::nullopt);
    m.erase("a");  // absent: no-op
    m.erase("never");
    m.store("b", std::string(100, 'x'));  // heap-allocated value
    EXPECT_EQ(m.load("b"), std::string(100, 'x'));
  });
}

TEST_P(SyncMapTest, LoadOrStore) {
  run([] {
    goro::SyncMap<int, std::string> m;
    auto [v1, loaded1] = m.load_or_store(1, "first");
    EXPECT_EQ(v1, "first");
    EXPECT_FALSE(loaded1);
    auto [v2, loaded2] = m.load_or_store(1, "second");
    EXPECT_EQ(v2, "first");
    EXPECT_TRUE(loaded2);
    // Also through the read map (after a promotion) and after a delete.
    m.range([](int, const std::string&) {});  // promotes dirty
    EXPECT_FALSE(SyncDebugAccess::amended(m));
    auto [v3, loaded3] = m.load_or_store(1, "third");
    EXPECT_EQ(v3, "first");
    EXPECT_TRUE(loaded3);
    m.erase(1);  // entry in read becomes nil
    auto [v4, loaded4] = m.load_or_store(1, "fourth");
    EXPECT_EQ(v4, "fourth");
    EXPECT_FALSE(loaded4);
    EXPECT_EQ(m.load(1), "fourth");
  });
}

TEST_P(SyncMapTest, LoadAndDelete) {
  run([] {
    goro::SyncMap<int, int> m;
    EXPECT_EQ(m.load_and_delete(7), std::nullopt);
    m.store(7, 70);
    EXPECT_EQ(m.load_and_delete(7), 70) << "from dirty";
    EXPECT_EQ(m.load_and_delete(7), std::nullopt);
    EXPECT_EQ(m.load(7), std::nullopt);
    m.store(8, 80);
    m.range([](int, int) {});  // promote: 8 is in read now
    EXPECT_EQ(m.load_and_delete(8), 80) << "from read";
    EXPECT_EQ(m.load_and_delete(8), std::nullopt);
  });
}

TEST_P(SyncMapTest, Swap) {
  run([] {
    goro::SyncMap<int, std::string> m;
    EXPECT_EQ(m.swap(1, "a"), std::nullopt);
    EXPECT_EQ(m.swap(1, "b"), "a");
    m.range([](int, const std::string&) {});
    EXPECT_EQ(m.swap(1, "c"), "b") << "read fast path";
    m.erase(1);
    EXPECT_EQ(m.swap(1, "d"), std::nullopt) << "deleted entry: no previous value";
    EXPECT_EQ(m.load(1), "d");
  });
}

TEST_P(SyncMapTest, CompareAndSwapAndDelete) {
  run([] {
    goro::SyncMap<int, std::string> m;
    EXPECT_FALSE(m.compare_and_swap(1, "x", "y")) << "absent";
    EXPECT_FALSE(m.compare_and_delete(1, "x")) << "absent";
    m.store(1, "x");
    EXPECT_FALSE(m.compare_and_swap(1, "nope", "y"));
    EXPECT_TRUE(m.compare_and_swap(1, "x", "y")) << "in dirty";
    EXPECT_EQ(m.load(1), "y");
    EXPECT_FALSE(m.compare_and_delete(1, "x"));
    m.range([](int, const std::string&) {});
    EXPECT_TRUE(m.compare_and_swap(1, "y", "z")) << "in read";
    EXPECT_EQ(m.load(1), "z");
    EXPECT_TRUE(m.compare_and_delete(1, "z"));
    EXPECT_EQ(m.load(1), std::nullopt);
    EXPECT_FALSE(m.compare_and_swap(1, "z", "w")) << "deleted";
    m.store(2, "two");  // dirty again
    EXPECT_TRUE(m.compare_and_delete(2, "two")) << "in dirty";
    EXPECT_EQ(m.load(2), std::nullopt);
  });
}

TEST_P(SyncMapTest, RangeVisitsEachKeyOnceAndStops) {
  run([] {
    goro::SyncMap<int, int> m;
    for (int i = 0; i < 100; i++) m.store(i, i * 10);
    m.erase(50);
    std::map<int, int> seen;
    m.range([&](const int& k, const int& v) {
      EXPECT_EQ(seen.count(k), 0u) << k;
      seen[k] = v;
    });
    EXPECT_EQ(seen.size(), 99u);
    EXPECT_EQ(seen.count(50), 0u);
    for (auto& [k, v] : seen) EXPECT_EQ(v, k * 10);
    int n = 0;
    m.range([&](int, int) { return ++n < 10; });
    EXPECT_EQ(n, 10) << "false stops";
    // f may modify the map it ranges over.
    m.range([&](int k, int v) {
      m.store(k, v + 1);
      if (k == 0) m.store(1000, 1);
      return true;
    });
    EXPECT_EQ(m.load(3), 31);
    EXPECT_EQ(m.load(1000), 1);
  });
}

// The life cycle of Go's design: new keys go to dirty (amended); misses
// promote dirty to read; deleting a key in read leaves a nil entry, which
// the next dirtyLocked expunges; storing it again unexpunges it.
TEST_P(SyncMapTest, DirtyPromotionAfterMissesAndExpunge) {
  run([] {
    goro::SyncMap<int, int> m;
    EXPECT_EQ(SyncDebugAccess::read_len(m), 0);
    EXPECT_EQ(SyncDebugAccess::dirty_len(m), -1);
    EXPECT_FALSE(SyncDebugAccess::amended(m));
    for (int i = 0; i < 10; i++) m.store(i, i);
    EXPECT_EQ(SyncDebugAccess::read_len(m), 0);
    EXPECT_EQ(SyncDebugAccess::dirty_len(m), 10);
    EXPECT_TRUE(SyncDebugAccess::amended(m));
    EXPECT_EQ(SyncDebugAccess::misses(m), 0);
    for (int i = 0; i < 9; i++) {
      EXPECT_EQ(m.load(i), i);
      EXPECT_EQ(SyncDebugAccess::misses(m), i + 1);
    }
    EXPECT_EQ(m.load(123), std::nullopt) << "a miss for an absent key counts too";
    // misses (10) >= len(dirty) (10): promoted.
    EXPECT_EQ(SyncDebugAccess::misses(m), 0);
    EXPECT_EQ(SyncDebugAccess::read_len(m), 10);
    EXPECT_EQ(SyncDebugAccess::dirty_len(m), -1);
    EXPECT_FALSE(SyncDebugAccess::amended(m));
    for (int i = 0; i < 10; i++) EXPECT_EQ(m.load(i), i);
    EXPECT_EQ(m.load(123), std::nullopt);
    EXPECT_EQ(SyncDebugAccess::misses(m), 0) << "read is complete: no lookups under mu";
    m.store(3, 33);  // existing key: stored in place, dirty stays nil
    EXPECT_EQ(SyncDebugAccess::dirty_len(m), -1);
    EXPECT_EQ(m.load(3), 33);

    m.erase(1);  // nil entry in read
    EXPECT_EQ(SyncDebugAccess::read_len(m), 10);
    m.store(20, 20);  // first new key: dirtyLocked copies read minus nil (expunged) entries
    EXPECT_EQ(SyncDebugAccess::dirty_len(m), 10) << "9 live from read + the new key";
    EXPECT_TRUE(SyncDebugAccess::amended(m));
    EXPECT_EQ(m.load(1), std::nullopt) << "expunged: absent";
    m.store(1, 11);  // unexpunge: back into dirty
    EXPECT_EQ(SyncDebugAccess::dirty_len(m), 11);
    EXPECT_EQ(m.load(1), 11);
    m.range([](int, int) {});  // range promotes too
    EXPECT_EQ(SyncDebugAccess::read_len(m), 11);
    EXPECT_EQ(SyncDebugAccess::dirty_len(m), -1);
    EXPECT_FALSE(SyncDebugAccess::amended(m));
    for (int i = 0; i < 10; i++) EXPECT_EQ(m.load(i), i == 3 ? 33 : i == 1 ? 11 : i);
    EXPECT_EQ(m.load(20), 20);
  });
}

// Every value node, entry and map is freed: with the map, and along the way.
TEST_P(SyncMapTest, ValuesAreFreed) {
  run([] {
    ASSERT_EQ(Counted::live.load(), 0);
    {
      goro::SyncMap<int, Counted> m;
      for (int round = 0; round < 5; round++) {
        for (int i = 0; i < 200; i++) m.store(i, Counted(i));
        for (int i = 0; i < 200; i += 3) m.erase(i);
        for (int i = 0; i < 200; i++) (void)m.load(i);  // misses: promotion
        for (int i = 0; i < 200; i += 2) (void)m.swap(i, Counted(-i));
        for (int i = 0; i < 200; i += 5) (void)m.load_or_store(i + 1000, Counted(i));
        for (int i = 0; i < 200; i += 7) (void)m.compare_and_swap(i, Counted(-i), Counted(i));
        for (int i = 0; i < 200; i += 11) (void)m.compare_and_delete(i, Counted(i));
        m.range([](int, const Counted&) {});
      }
      EXPECT_GT(Counted::live.load(), 0);
    }
    EXPECT_EQ(Counted::live.load(), 0);
  });
}

// ---------------------------------------------------------------- concurrency

// Each goroutine owns a key range and runs random operations on its keys,
// checking every result against the oracle, and loads random keys of the
// others (their values must belong to the key). Values encode their key:
// v = key * kStride + version. At the end the map equals the oracle.
TEST_P(SyncMapTest, ConcurrentMixedOpsMatchOracle) {
  run([] {
    constexpr int64_t kStride = 1'000'000;
    constexpr int kG = 12, kKeys = 40, kOps = 6000;
    goro::SyncMap<int64_t, int64_t> m;
    goro::Map<int64_t, int64_t> oracle;  // guarded by omu
    goro::Mutex omu;
    goro::WaitGroup wg;
    std::atomic<int> failures{0};
    auto fail = [&] { failures++; };
    for (int g = 0; g < kG; g++)
      spawn(wg, [&, g] {
        Rng rng{static_cast<uint64_t>(g) * 7919 + 1};
        int64_t version = 0;
        auto want = [&](int64_t k) -> std::optional<int64_t> {
          std::lock_guard lk(omu);
          auto [v, ok] = oracle.get(k);
          return ok ? std::optional<int64_t>(v) : std::nullopt;
        };
        auto set = [&](int64_t k, std::optional<int64_t> v) {
          std::lock_guard lk(omu);
          if (v)
            oracle.insert_or_assign(k, *v);
          else
            oracle.erase(k);
        };
        for (int op = 0; op < kOps; op++) {
          int64_t k = int64_t{g} * kKeys + rng.below(kKeys);
          int64_t nv = k * kStride + ++version;
          std::optional<int64_t> cur = want(k);
          switch (rng.below(9)) {
            case 0:
              if (m.load(k) != cur) fail();
              break;
            case 1:
              m.store(k, nv);
              set(k, nv);
              break;
            case 2: {
              auto [a, loaded] = m.load_or_store(k, nv);
              if (loaded != cur.has_value() || a != (cur ? *cur : nv)) fail();
              if (!cur) set(k, nv);
              break;
            }
            case 3:
              if (m.load_and_delete(k) != cur) fail();
              set(k, std::nullopt);
              break;
            case 4:
              m.erase(k);
              set(k, std::nullopt);
              break;
            case 5:
              if (m.swap(k, nv) != cur) fail();
              set(k, nv);
              break;
            case 6: {
              int64_t old = cur && rng.below(2) ? *cur : -1;
              bool swapped = m.compare_and_swap(k, old, nv);
              if (swapped != (cur && *cur == old)) fail();
              if (swapped) set(k, nv);
              break;
            }
            case 7: {
              int64_t old = cur && rng.below(2) ? *cur : -1;
              bool deleted = m.compare_and_delete(k, old);
              if (deleted != (cur && *cur == old)) fail();
              if (deleted) set(k, std::nullopt);
              break;
            }
            case 8: {  // someone else's key, or one nobody ever stores (misses)
              int64_t other = rng.below(kG * kKeys + 100);
              if (auto v = m.load(other); v && *v / kStride != other) fail();
              break;
            }
          }
          if (op % 64 == 0) goro::yield();
        }
      });
    wg.wait();
    EXPECT_EQ(failures.load(), 0);
    int64_t n = 0;
    m.range([&](int64_t k, int64_t v) {
      n++;
      auto [w, ok] = oracle.get(k);
      EXPECT_TRUE(ok) << k;
      EXPECT_EQ(v, w) << k;
    });
    EXPECT_EQ(n, static_cast<int64_t>(oracle.size()));
    for (auto&& [k, v] : oracle) EXPECT_EQ(m.load(k), v);
  });
}

// Many goroutines race load_or_store on the same keys: exactly one stores
// each key, all see the same value.
TEST_P(SyncMapTest, ConcurrentLoadOrStoreAgrees) {
  run([] {
    goro::SyncMap<int, std::string> m;
    constexpr int kG = 10, kKeys = 50;
    goro::WaitGroup wg;
    std::vector<std::vector<std::string>> got(kG, std::vector<std::string>(kKeys));
    std::atomic<int> stores{0};
    for (int g = 0; g < kG; g++)
      spawn(wg, [&, g] {
        for (int k = 0; k < kKeys; k++) {
          auto [v, loaded] = m.load_or_store(k, "g" + std::to_string(g));
          if (!loaded) stores++;
          got[g][k] = v;
          if (k % 8 == 0) goro::yield();
        }
      });
    wg.wait();
    EXPECT_EQ(stores.load(), kKeys);
    for (int k = 0; k < kKeys; k++)
      for (int g = 1; g < kG; g++) EXPECT_EQ(got[g][k], got[0][k]) << k;
  });
}

// Range during concurrent stores (Go's guarantee): no key is visited twice;
// keys present throughout are visited; every value seen belongs to its key.
TEST_P(SyncMapTest, RangeDuringConcurrentStores) {
  run([] {
    constexpr int kStable = 300, kWriters = 4;
    constexpr int64_t kStride = 1'000'000;
    goro::SyncMap<int, int64_t> m;
    for (int k = 0; k < kStable; k++) m.store(k, int64_t{k} * kStride);
    std::atomic<bool> stop{false};
    goro::WaitGroup wg;
    for (int w = 0; w < kWriters; w++)
      spawn(wg, [&, w] {
        Rng rng{static_cast<uint64_t>(w) + 99};
        for (int64_t i = 1; !stop.load(); i++) {
          int k = static_cast<int>(rng.below(kStable));
          m.store(k, k * kStride + i);                           // overwrite a stable key
          int nk = kStable + static_cast<int>(rng.below(1000));  // churn other keys
          if (i % 3)
            m.store(nk, nk * kStride + i);
          else
            m.erase(nk);
          if (i % 32 == 0) goro::yield();
        }
      });
    for (int round = 0; round < 30; round++) {
      std::vector<int> seen(kStable + 1000, 0);
      bool bad = false;
      m.range([&](int k, int64_t v) {
        if (k < 0 || k >= kStable + 1000 || seen[k]++ || v / kStride != k) bad = true;
        if (k % 50 == 0) goro::yield();  // let writers run mid-range
        return true;
      });
      EXPECT_FALSE(bad) << "round " << round;
      for (int k = 0; k < kStable; k++) EXPECT_EQ(seen[k], 1) << "stable key " << k;
      goro::yield();
    }
    stop = true;
    wg.wait();
  });
}

// Readers hammer a read-mostly map while a writer adds keys and deletes
// them again (promotions and expunges under concurrent loads).
TEST_P(SyncMapTest, StressReadMostly) {
  run([] {
    goro::SyncMap<int, std::string> m;
    for (int k = 0; k < 64; k++) m.store(k, std::to_string(k));
    std::atomic<bool> stop{false};
    std::atomic<int> bad{0};
    goro::WaitGroup wg;
    for (int r = 0; r < 6; r++)
      spawn(wg, [&, r] {
        Rng rng{static_cast<uint64_t>(r) + 5};
        for (int i = 0; !stop.load(); i++) {
          int k = static_cast<int>(rng.below(200));
          auto v = m.load(k);
          if (k < 64 && v != std::to_string(k)) bad++;
          if (k >= 64 && v && *v != std::to_string(k)) bad++;
          if (i % 128 == 0) goro::yield();
        }
      });
    for (int round = 0; round < 40; round++) {
      for (int k = 64; k < 200; k++) m.store(k, std::to_string(k));
      for (int k = 64; k < 200; k++) m.erase(k);
      goro::yield();
    }
    stop = true;
    wg.wait();
    EXPECT_EQ(bad.load(), 0);
  });
}

}  // namespace
