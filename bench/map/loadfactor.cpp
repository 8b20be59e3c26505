// loadfactor.cpp — the load-factor table of docs/map.md, measured on goro::Map.
//
// Go's map.go justifies its load factor of 6.5 with a table for maximally
// loaded tables (64-bit, 8-byte keys and elems): %overflow, bytes/entry,
// hitprobe, missprobe. This program measures the same on goro::Map, through
// MapDebugAccess, for loads 4.0..6.5 (6.5 is the most a goro::Map holds
// before it grows, so higher loads cannot be observed on the real map):
//   %overflow   buckets (of 2^B) that have at least one overflow bucket
//   bytes/entry memory of the bucket array and overflow buckets per entry,
//               minus the 16 bytes of key and elem themselves
//   hitprobe    slots Go's byte loop examines to find a present key
//   missprobe   slots it examines to reject an absent key (until emptyRest
//               or the end of the chain)
//   hit/miss compares  key comparisons goro performs after its SWAR tophash
//               match (false tophash matches cost a comparison each)
// Output: a markdown table, deterministic for a given hash seed; averaged
// over 4 maps (4 random seeds) of 2^16 buckets.
#include <cstdint>
#include <cstdio>
#include <random>
#include <vector>

#include "goro/map.h"
#include "goro/map_debug.h"

namespace {

using D = goro::MapDebugAccess;
using M = goro::Map<int64_t, int64_t>;
constexpr uint8_t kB = 16;

struct Probe {
  double slots = 0, compares = 0;
};

// probe walks key's chain the way Go's mapaccess does, counting slots, and
// counts the tophash matches goro would compare.
Probe probe(const M& m, int64_t key) {
  Probe p;
  uintptr_t h = D::hash(m, key);
  uint8_t top = goro::detail::tophash(h);
  for (const auto& b : D::chain(m, h & ((uintptr_t{1} << D::B(m)) - 1))) {
    for (unsigned i = 0; i < 8; i++) {
      if (b.tophash[i] == goro::detail::emptyRest) return p;
      p.slots++;
      if (b.tophash[i] != top) continue;
      p.compares++;
      if (D::key(m, b.addr, i) == key) return p;
    }
  }
  return p;
}

}  // namespace

int main() {
  std::printf(
      "| loadFactor | %%overflow | bytes/entry | hitprobe | missprobe | hit compares | miss "
      "compares |\n");
  std::printf("|---|---|---|---|---|---|---|\n");
  for (double lf = 4.0; lf <= 6.5 + 1e-9; lf += 0.5) {
    double ovf = 0, bytes = 0, hit = 0, miss = 0, hitc = 0, missc = 0;
    const int kMaps = 4;
    for (int rep = 0; rep < kMaps; rep++) {
      const size_t n = static_cast<size_t>(lf * (1 << kB));
      M m(static_cast<size_t>(6.5 * (1 << kB)));  // B = 16 for every load
      std::mt19937_64 rng(static_cast<uint64_t>(rep) * 7919 + static_cast<uint64_t>(lf * 10));
      std::vector<int64_t> keys(n);
      for (auto& k : keys) k = static_cast<int64_t>(rng());
      for (size_t i = 0; i < n; i++) m[keys[i]] = static_cast<int64_t>(i);
      if (D::B(m) != kB || D::growing(m)) return 1;
      size_t withOverflow = 0, overflowBuckets = 0;
      for (uintptr_t i = 0; i < (uintptr_t{1} << kB); i++) {
        size_t len = D::chain(m, i).size();
        withOverflow += len > 1;
        overflowBuckets += len - 1;
      }
      size_t bucketsize = D::type(m).bucketsize;
      // Array (2^B main buckets) plus every overflow bucket in use,
      // preallocated or not; unused preallocated spares are not counted.
      double mem = static_cast<double>(((size_t{1} << kB) + overflowBuckets) * bucketsize);
      ovf += 100.0 * static_cast<double>(withOverflow) / (1 << kB);
      bytes += mem / static_cast<double>(n) - 16;
      for (size_t i = 0; i < n; i += 7) {
        Probe p = probe(m, keys[i]);
        hit += p.slots;
        hitc += p.compares;
      }
      for (size_t i = 0; i < n; i += 7) {
        Probe p = probe(m, static_cast<int64_t>(rng()));
        miss += p.slots;
        missc += p.compares;
      }
    }
    double samples = kMaps * ((lf * (1 << kB) + 6) / 7);
    std::printf("| %.2f | %.2f | %.2f | %.2f | %.2f | %.3f | %.3f |\n", lf, ovf / kMaps,
                bytes / kMaps, hit / samples, miss / samples, hitc / samples, missc / samples);
  }
  return 0;
}
