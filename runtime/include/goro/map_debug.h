// goro/map_debug.h — MapDebugAccess, the one door to goro::Map's internals.
//
// The idea of abseil's HashtableDebugAccess and Go's export_test.go: tests,
// benchmarks and tools read B, count, flags, noverflow, nevacuate, the bucket
// arrays and every slot's tophash/key/elem through this class, and nothing
// else reaches into basic_map (no `#define private public`). Out-of-process
// tools do not use it: they read the same fields through hmap.type and the
// layout descriptor (docs/map.md).
//
// All functions are read-only. Preconditions: no concurrent writer (they
// read the map like any other reader).
#pragma once

#include <cstdint>
#include <vector>

#include "goro/map.h"

namespace goro {

class MapDebugAccess {
 public:
  // Bucket is one bucket of a chain: its address and a view of its slots.
  struct BucketRef {
    const void* addr;
    uint8_t tophash[8];
  };

  template <class M>
  static const detail::hmap& header(const M& m) {
    return m.h_;
  }
  template <class M>
  static const detail::maptype& type(const M& m) {
    return *m.h_.type;
  }
  template <class M>
  static uint8_t B(const M& m) {
    return m.h_.B;
  }
  template <class M>
  static int64_t count(const M& m) {
    return m.h_.count;
  }
  template <class M>
  static uint8_t flags(const M& m) {
    return m.flags();
  }
  template <class M>
  static uint16_t noverflow(const M& m) {
    return m.h_.noverflow;
  }
  template <class M>
  static uintptr_t nevacuate(const M& m) {
    return m.h_.nevacuate;
  }
  template <class M>
  static uint32_t hash0(const M& m) {
    return m.h_.hash0;
  }
  template <class M>
  static bool growing(const M& m) {
    return m.growing();
  }
  template <class M>
  static bool same_size_grow(const M& m) {
    return m.isSameSizeGrow();
  }
  // noldbuckets is the old array's bucket count (only while growing).
  template <class M>
  static uintptr_t noldbuckets(const M& m) {
    return m.noldbuckets();
  }
  template <class M>
  static const void* buckets(const M& m) {
    return m.h_.buckets;
  }
  template <class M>
  static const void* oldbuckets(const M& m) {
    return m.h_.oldbuckets;
  }

  // chain returns bucket i of the current (old=false) or old array and its
  // overflow buckets, in chain order.
  template <class M>
  static std::vector<BucketRef> chain(const M& m, uintptr_t i, bool old = false) {
    std::vector<BucketRef> out;
    void* arr = old ? m.h_.oldbuckets : m.h_.buckets;
    if (!arr) return out;
    for (char* b = M::bucket(arr, i); b; b = M::overflow(b)) {
      BucketRef r{b, {}};
      for (unsigned s = 0; s < 8; s++) r.tophash[s] = M::tophashes(b)[s];
      out.push_back(r);
    }
    return out;
  }

  // key / elem of slot s of bucket b (which must hold a live entry).
  template <class M>
  static const typename M::key_type& key(const M&, const void* b, unsigned s) {
    return M::key_at(static_cast<char*>(const_cast<void*>(b)), s);
  }
  template <class M>
  static const typename M::mapped_type& elem(const M&, const void* b, unsigned s) {
    return M::elem_at(static_cast<char*>(const_cast<void*>(b)), s);
  }

  // hash returns the map's hash of k (with its current hash0).
  template <class M>
  static uintptr_t hash(const M& m, const typename M::key_type& k) {
    return m.hash_of(k);
  }

  // overflow_buckets counts the overflow buckets hanging off the current array.
  template <class M>
  static size_t overflow_buckets(const M& m) {
    size_t n = 0;
    if (!m.h_.buckets) return 0;
    for (uintptr_t i = 0; i < detail::bucketShift(m.h_.B); i++) n += chain(m, i).size() - 1;
    return n;
  }
};

}  // namespace goro
