// keyhash.h — goro::Map's default hash of a key (goro/hash.h), recomputed
// from the key's text in a snapshot, so the Map panel can show a slot's hash
// and bucket arithmetic, by goro/hash.h itself: integers, floats (not NaN,
// whose hash is random) and std::string keys. Other key kinds (and maps with
// a custom hasher) have no recomputable hash.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace goroscope::view {

std::optional<uint64_t> key_hash(std::string_view keykind, std::string_view key, uint64_t hash0);

}  // namespace goroscope::view
