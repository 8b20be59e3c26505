// keyhash.cpp — see keyhash.h. The constants are goro/hash.h's (wyhash's);
// tests/viewer checks the result against the runtime's own hash.
#include "keyhash.h"

#include <charconv>

#define XXH_INLINE_ALL
#include <xxhash.h>

namespace goroscope::view {

namespace {

uint64_t mix(uint64_t a, uint64_t b) {
  __uint128_t p = static_cast<__uint128_t>(a) * b;
  return static_cast<uint64_t>(p) ^ static_cast<uint64_t>(p >> 64);
}

}  // namespace

std::optional<uint64_t> key_hash(std::string_view kind, std::string_view key, uint64_t hash0) {
  if (kind == "std_string") return XXH3_64bits_withSeed(key.data(), key.size(), hash0);
  bool is_signed = kind == "int8" || kind == "int16" || kind == "int32" || kind == "int64";
  bool is_unsigned = kind == "uint8" || kind == "uint16" || kind == "uint32" || kind == "uint64";
  uint64_t x;
  if (kind == "bool") {
    if (key != "true" && key != "false") return std::nullopt;
    x = key == "true";
  } else if (is_signed) {
    int64_t v;
    if (std::from_chars(key.data(), key.data() + key.size(), v).ec != std::errc{})
      return std::nullopt;
    x = static_cast<uint64_t>(v);  // sign-extended, as static_cast<uint64_t>(k) in goro/hash.h
  } else if (is_unsigned) {
    if (std::from_chars(key.data(), key.data() + key.size(), x).ec != std::errc{})
      return std::nullopt;
  } else {
    return std::nullopt;
  }
  constexpr uint64_t kMix0 = 0xa0761d6478bd642fULL, kMix1 = 0xe7037ed1a0b428dbULL;
  return mix(x ^ hash0 ^ kMix0, kMix1);
}

}  // namespace goroscope::view
