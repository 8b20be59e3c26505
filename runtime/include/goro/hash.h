// goro/hash.h — the default seeded hasher of goro::Map.
//
// Go hashes every map key with a per-map random seed (hmap.hash0), so that
// an attacker cannot precompute colliding keys and two maps never share an
// iteration order. goro::Map does the same: a hasher is called as
// `h(key, seed)` and must mix the seed into every output bit.
//
// Design
//   * Integers, enums and pointers: XXH3-64 of the value widened to 8 bytes,
//     with the seed (hash_word). Its 4-8 byte path ends in a full-avalanche
//     mixer (rrmxmx), so consecutive keys land in buckets as random keys do,
//     as with Go's aeshash/memhash: growth completes, and churn triggers
//     same-size growth, at Go's writes (tests/go_diff, docs/map.md).
//   * Strings: XXH3-64 with the seed (Debian's libxxhash, header-only via
//     XXH_INLINE_ALL), a packaged, well-studied hash for byte strings.
//   * float and double: Go's f64hash/f32hash: +0 and -0 hash alike (they are
//     equal keys), and each NaN gets a fresh random hash (NaN != NaN: every
//     m[NaN] = v adds an entry; random hashes spread them over buckets
//     instead of one ever longer chain). Other values: their bits.
//   * Anything else: std::hash<K> through hash_word, so that an identity
//     std::hash (as libstdc++'s for integers) still spreads.
//   * Custom hashers may be seeded (`h(key, seed)`) or plain (`h(key)`); a
//     plain one is mixed with the seed by hash_word.
//
// Measured (tests/go_diff, 1000 maps per side; z of goro's mean against Go
// 1.19's; docs/map.md section 9 has the full table):
//                                          Go 1.19   multiply-fold    XXH3
//   write completing the growth to B=7     460.04    458.63 (-17.8)   460.02 (-0.3)
//   same-size growths / 10k steps, 400 live  2.58      0.70 (-67.0)     2.59 (+0.3)
//   overflow buckets after 1000 NaN keys     4.62    124.00           4.67 (+0.5)
// (multiply-fold: goro's earlier hash, one 64x64->128 multiply of
// x ^ seed ^ k0, hi ^ lo; the NaN row is std::hash<double> against f64hash.)
// Cost: two dependent multiplies instead of one. int64 lookup in a
// cache-resident 1000-entry map, best of 7, 3 interleaved runs:
//   multiply-fold  4.4 / 3.9 / 5.9 ns     XXH3  7.1 / 10.1 / 11.7 ns
// still ahead of Go 1.19 in bench/map (goro/Go 0.35-0.87 on int64 cells).
//
// Rejected: the multiply-fold (1 ns cheaper, but it spreads a dense range of
// integers more evenly than random, like a low-discrepancy sequence: fewer
// overflow buckets than Go at every size, so goro's growth came at other
// writes than Go's); Go's AES hash (per-CPU dispatch for little gain on
// 8-byte keys); std::hash alone (identity for integers).
#pragma once

#include <bit>
#include <concepts>
#include <cstdint>
#include <functional>
#include <string>
#include <string_view>
#include <type_traits>

#define XXH_INLINE_ALL
#include <xxhash.h>

namespace goro {
namespace detail {

// mix folds a 128-bit product of two 64-bit words: the classic "mum" step.
inline uint64_t mix(uint64_t a, uint64_t b) noexcept {
  __uint128_t p = static_cast<__uint128_t>(a) * b;
  return static_cast<uint64_t>(p) ^ static_cast<uint64_t>(p >> 64);
}

inline constexpr uint64_t kMix0 = 0xa0761d6478bd642fULL;  // odd, from wyhash
inline constexpr uint64_t kMix1 = 0xe7037ed1a0b428dbULL;  // odd, from wyhash

// hash_word is the hash of an integer-like key (see the file comment).
inline uint64_t hash_word(uint64_t x, uint64_t seed) noexcept {
  return XXH3_64bits_withSeed(&x, sizeof x, seed);
}

// fastrand is a per-thread wyrand generator (Go's fastrand), seeded lazily.
extern constinit thread_local uint64_t tls_rand;
uint64_t init_rand() noexcept;
inline uint32_t fastrand() {
  uint64_t s = tls_rand;
  if (__builtin_expect(s == 0, 0)) s = init_rand();
  s += kMix0;
  tls_rand = s;
  return static_cast<uint32_t>(mix(s, s ^ kMix1));
}

}  // namespace detail

// Hash<K> is goro::Map's default hasher: `Hash<K>{}(key, seed)`.
template <class K, class = void>
struct Hash {
  uint64_t operator()(const K& k, uint64_t seed) const noexcept(noexcept(std::hash<K>{}(k))) {
    return detail::hash_word(static_cast<uint64_t>(std::hash<K>{}(k)), seed);
  }
};

template <class K>
struct Hash<K, std::enable_if_t<std::is_integral_v<K> || std::is_enum_v<K>>> {
  uint64_t operator()(K k, uint64_t seed) const noexcept {
    return detail::hash_word(static_cast<uint64_t>(k), seed);
  }
};

namespace detail {

// float_hash is Go's f32hash/f64hash for a float that is not a NaN: +0 and
// -0 alike, any other value by its bits. (A NaN's hash is random: Hash<F>.)
template <class F>
uint64_t float_hash(F f, uint64_t seed) noexcept {
  if (f == 0) return hash_word(0, seed);  // +0, -0
  if constexpr (sizeof(F) == sizeof(uint32_t)) {
    return hash_word(std::bit_cast<uint32_t>(f), seed);
  } else if constexpr (sizeof(F) == sizeof(uint64_t)) {
    return hash_word(std::bit_cast<uint64_t>(f), seed);
  } else {
    return hash_word(static_cast<uint64_t>(std::hash<F>{}(f)), seed);
  }
}

}  // namespace detail

// Go's f32hash/f64hash (see the file comment): each NaN gets a fresh random
// hash.
template <class F>
struct Hash<F, std::enable_if_t<std::is_floating_point_v<F>>> {
  uint64_t operator()(F f, uint64_t seed) const noexcept {
    if (f != f)  // any kind of NaN
      return detail::hash_word((uint64_t{detail::fastrand()} << 32) | detail::fastrand(), seed);
    return detail::float_hash(f, seed);
  }
};

template <class T>
struct Hash<T*> {
  uint64_t operator()(T* p, uint64_t seed) const noexcept {
    return detail::hash_word(reinterpret_cast<uintptr_t>(p), seed);
  }
};

template <>
struct Hash<std::string_view> {
  using is_transparent = void;
  uint64_t operator()(std::string_view s, uint64_t seed) const noexcept {
    return XXH3_64bits_withSeed(s.data(), s.size(), seed);
  }
};

template <>
struct Hash<std::string> : Hash<std::string_view> {};

// Equal<K> is goro::Map's default key equality: std::equal_to<K>, except
// for strings, where it is the transparent std::equal_to<> so that lookups
// by std::string_view or const char* need no temporary std::string.
template <class K>
struct EqualSelect {
  using type = std::equal_to<K>;
};
template <>
struct EqualSelect<std::string> {
  using type = std::equal_to<>;
};
template <class K>
using Equal = typename EqualSelect<K>::type;

namespace detail {

// seeded_hash calls a seeded hasher directly and mixes a plain one.
template <class H, class Q>
inline uint64_t seeded_hash(const H& h, const Q& key, uint64_t seed) noexcept(
    std::is_invocable_r_v<uint64_t, const H&, const Q&, uint64_t>
        ? std::is_nothrow_invocable_v<const H&, const Q&, uint64_t>
        : std::is_nothrow_invocable_v<const H&, const Q&>) {
  if constexpr (std::is_invocable_r_v<uint64_t, const H&, const Q&, uint64_t>) {
    return static_cast<uint64_t>(h(key, seed));
  } else {
    static_assert(std::is_invocable_v<const H&, const Q&>,
                  "goro::Map hasher must be callable as h(key, seed) or h(key)");
    return hash_word(static_cast<uint64_t>(h(key)), seed);
  }
}

}  // namespace detail
}  // namespace goro
