// keyhash.cpp — see keyhash.h. The rule is goro/hash.h's own (included, not
// copied); tests/viewer checks the result against the runtime's hash.
#include "keyhash.h"

#include <charconv>
#include <cstdlib>
#include <string>

#include "goro/hash.h"

namespace goroscope::view {

std::optional<uint64_t> key_hash(std::string_view kind, std::string_view key, uint64_t hash0) {
  if (kind == "std_string") return goro::Hash<std::string_view>{}(key, hash0);
  if (kind == "float32" || kind == "float64") {
    std::string text(key);
    char* end = nullptr;
    double d = std::strtod(text.c_str(), &end);
    if (text.empty() || end != text.c_str() + text.size() || d != d)
      return std::nullopt;  // (a NaN's hash is random, as in Go)
    if (kind == "float32") return goro::detail::float_hash(static_cast<float>(d), hash0);
    return goro::detail::float_hash(d, hash0);
  }
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
  return goro::detail::hash_word(x, hash0);
}

}  // namespace goroscope::view
