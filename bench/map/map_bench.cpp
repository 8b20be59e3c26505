// map_bench.cpp — goro::Map against std::unordered_map, absl::flat_hash_map
// and goro::Map with its misuse checks compiled out; Go 1.19's map runs the
// same workloads in bench/map/go, and bench/map/compare.py prints one table.
//
// Workloads (identical to the Go program, see its header): insert n keys into
// an empty map (no hint), lookup_hit / lookup_miss of n keys in a map of n,
// erase all n keys in shuffled order, iterate the n entries. Keys: int64 raw
// splitmix64 outputs (seed 42; misses seed 4242) or "key-%016x" strings
// (20 bytes: heap-allocated in std::string, as Go strings point to data).
// Values are int64. Each benchmark reports the user counter ns_per_op:
// nanoseconds per single map operation (per element for iterate).
//
// Names: map/<op>/<key>/<impl>/<n>, impl in {goro, goro_nocheck, std, absl}.
#include <absl/container/flat_hash_map.h>
#include <benchmark/benchmark.h>

#include <cinttypes>
#include <cstdio>
#include <string>
#include <unordered_map>
#include <utility>
#include <vector>

#include "goro/map.h"

namespace {

struct SplitMix64 {
  uint64_t x;
  uint64_t next() {
    uint64_t z = (x += 0x9E3779B97F4A7C15ULL);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ULL;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBULL;
    return z ^ (z >> 31);
  }
};

template <class K>
K make_key(uint64_t x) {
  if constexpr (std::is_same_v<K, std::string>) {
    char buf[32];
    std::snprintf(buf, sizeof buf, "key-%016" PRIx64, x);
    return buf;
  } else {
    return static_cast<int64_t>(x);
  }
}

template <class K>
struct Data {
  std::vector<K> present, miss, order;
};

template <class K>
const Data<K>& data(size_t n) {
  static std::unordered_map<size_t, Data<K>> cache;
  auto [it, fresh] = cache.try_emplace(n);
  if (fresh) {
    Data<K>& d = it->second;
    SplitMix64 p{42}, q{4242}, r{7};
    for (size_t i = 0; i < n; i++) d.present.push_back(make_key<K>(p.next()));
    for (size_t i = 0; i < n; i++) d.miss.push_back(make_key<K>(q.next()));
    d.order = d.present;
    for (size_t i = n - 1; i > 0; i--) std::swap(d.order[i], d.order[r.next() % (i + 1)]);
  }
  return it->second;
}

template <class M>
M build(const std::vector<typename M::key_type>& keys) {
  M m;
  for (size_t i = 0; i < keys.size(); i++) m[keys[i]] = static_cast<int64_t>(i);
  return m;
}

// lookup is each map's idiomatic "value or zero" read: Go's m[k].
template <class M>
inline int64_t lookup(const M& m, const typename M::key_type& k) {
  if constexpr (requires { m.get(k); }) {
    return m.get(k).first;  // goro: v, ok := m[k]
  } else {
    auto it = m.find(k);
    return it == m.end() ? 0 : it->second;
  }
}

void set_rate(benchmark::State& st, size_t n) {
  st.counters["ns_per_op"] = benchmark::Counter(
      static_cast<double>(n) * 1e-9,
      benchmark::Counter::kIsIterationInvariantRate | benchmark::Counter::kInvert);
}

// destroy_untimed frees a map outside the timed region (Go's GC cost is
// charged to nobody's loop either).
template <class M>
void destroy_untimed(benchmark::State& st, M& m) {
  st.PauseTiming();
  { M dead = std::move(m); }
  st.ResumeTiming();
}

template <class M>
void BM_insert(benchmark::State& st, size_t n) {
  const auto& d = data<typename M::key_type>(n);
  for (auto _ : st) {
    M m = build<M>(d.present);
    benchmark::DoNotOptimize(m);
    destroy_untimed(st, m);
  }
  set_rate(st, n);
}

template <class M>
void BM_lookup(benchmark::State& st, size_t n, bool hit) {
  const auto& d = data<typename M::key_type>(n);
  const M m = build<M>(d.present);
  const auto& probe = hit ? d.order : d.miss;
  int64_t sum = 0;
  for (auto _ : st) {
    for (const auto& k : probe) sum += lookup(m, k);
  }
  benchmark::DoNotOptimize(sum);
  set_rate(st, n);
}

template <class M>
void BM_erase(benchmark::State& st, size_t n) {
  const auto& d = data<typename M::key_type>(n);
  for (auto _ : st) {
    st.PauseTiming();
    M m = build<M>(d.present);
    st.ResumeTiming();
    for (const auto& k : d.order) m.erase(k);
    benchmark::DoNotOptimize(m);
    destroy_untimed(st, m);
  }
  set_rate(st, n);
}

template <class M>
void BM_iterate(benchmark::State& st, size_t n) {
  const auto& d = data<typename M::key_type>(n);
  const M m = build<M>(d.present);
  int64_t sum = 0;
  for (auto _ : st) {
    for (auto&& [k, v] : m) {
      if constexpr (std::is_same_v<typename M::key_type, std::string>)
        sum += static_cast<int64_t>(k.size()) + v;
      else
        sum += k ^ v;
    }
  }
  benchmark::DoNotOptimize(sum);
  set_rate(st, n);
}

template <class K>
using GoroNoCheck = goro::detail::basic_map<K, int64_t, goro::Hash<K>, goro::Equal<K>, false>;

template <class M>
void register_impl(const char* key, const char* impl) {
  for (size_t n : {size_t{1000}, size_t{100000}, size_t{1000000}}) {
    auto name = [&](const char* op) {
      return std::string("map/") + op + "/" + key + "/" + impl + "/" + std::to_string(n);
    };
    // A 1M-entry build takes ~0.1-0.5 s: give each sample several builds, or
    // page-fault and allocator noise decides the comparison.
    auto* ins =
        benchmark::RegisterBenchmark(name("insert").c_str(), [n](auto& s) { BM_insert<M>(s, n); });
    if (n >= 1000000) ins->MinTime(1.5);
    auto* hit = benchmark::RegisterBenchmark(name("lookup_hit").c_str(),
                                             [n](auto& s) { BM_lookup<M>(s, n, true); });
    auto* miss = benchmark::RegisterBenchmark(name("lookup_miss").c_str(),
                                              [n](auto& s) { BM_lookup<M>(s, n, false); });
    if (n >= 1000000) {
      hit->MinTime(1.0);
      miss->MinTime(1.0);
    }
    benchmark::RegisterBenchmark(name("erase").c_str(), [n](auto& s) { BM_erase<M>(s, n); });
    benchmark::RegisterBenchmark(name("iterate").c_str(), [n](auto& s) { BM_iterate<M>(s, n); });
  }
}

template <class K>
void register_key(const char* key) {
  register_impl<goro::Map<K, int64_t>>(key, "goro");
  register_impl<GoroNoCheck<K>>(key, "goro_nocheck");
  register_impl<std::unordered_map<K, int64_t>>(key, "std");
  register_impl<absl::flat_hash_map<K, int64_t>>(key, "absl");
}

}  // namespace

int main(int argc, char** argv) {
  register_key<int64_t>("int64");
  register_key<std::string>("string");
  benchmark::Initialize(&argc, argv);
  if (benchmark::ReportUnrecognizedArguments(argc, argv)) return 1;
  benchmark::RunSpecifiedBenchmarks();
  benchmark::Shutdown();
  return 0;
}
