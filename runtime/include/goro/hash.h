// goro/hash.h — the default seeded hasher of goro::Map.
//
// Go hashes every map key with a per-map random seed (hmap.hash0), so that
// an attacker cannot precompute colliding keys and two maps never share an
// iteration order. goro::Map does the same: a hasher is called as
// `h(key, seed)` and must mix the seed into every output bit.
//
// Design
//   * Integers, enums and pointers: one 64x64->128 multiply, folded
//     (hi ^ lo), of `x ^ seed ^ k0` by an odd constant. The fold makes both
//     the low bits (bucket index: hash & bucketMask(B)) and the top byte
//     (tophash: hash >> 56) depend on every input bit.
//   * Strings: XXH3-64 with the seed (Debian's libxxhash, header-only via
//     XXH_INLINE_ALL), a packaged, well-studied hash for byte strings.
//   * Anything else: std::hash<K> folded through the integer mixer, so that
//     an identity std::hash (as libstdc++'s for integers) still spreads.
//   * Custom hashers may be seeded (`h(key, seed)`) or plain (`h(key)`); a
//     plain one is mixed with the seed by the same folded multiply.
//
// Rejected: Go's AES hash (needs per-CPU dispatch for little gain on 8-byte
// keys); std::hash alone (identity for integers: every key of a dense range
// would land in tophash 5 and buckets would collide in their low bits).
#pragma once

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

inline uint64_t hash_word(uint64_t x, uint64_t seed) noexcept {
  return mix(x ^ seed ^ kMix0, kMix1);
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
