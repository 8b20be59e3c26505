// test_types.h — key/value types that exercise goro::Map's object handling.
#pragma once

#include <array>
#include <cstdint>
#include <functional>
#include <stdexcept>

namespace goro {

// Counted counts live instances (constructed minus destroyed).
struct Counted {
  static inline int live = 0;
  static void reset() { live = 0; }
  int v = 0;
  Counted() { live++; }
  explicit Counted(int x) : v(x) { live++; }
  Counted(const Counted& o) : v(o.v) { live++; }
  Counted(Counted&& o) noexcept : v(o.v) { live++; }
  Counted& operator=(const Counted&) = default;
  Counted& operator=(Counted&&) noexcept = default;
  ~Counted() { live--; }
  bool operator==(const Counted& o) const { return v == o.v; }
};

// Big is larger than maxKeySize/maxElemSize: stored indirectly.
struct Big {
  std::array<int64_t, 20> v{};
  Big() = default;
  explicit Big(int64_t x) { v.fill(x); }
  bool operator==(const Big& o) const { return v == o.v; }
};
struct BigHash {
  uint64_t operator()(const Big& b) const { return std::hash<int64_t>{}(b.v[0]); }
};

// ThrowingMove has a move constructor that may throw: stored indirectly.
struct ThrowingMove {
  int x = 0;
  ThrowingMove() = default;
  ThrowingMove(const ThrowingMove&) = default;
  ThrowingMove(ThrowingMove&& o) noexcept(false) : x(o.x) {}
  ThrowingMove& operator=(const ThrowingMove&) = default;
};

struct ThrowOnConstruct {
  explicit ThrowOnConstruct(bool t) {
    if (t) throw std::runtime_error("boom");
  }
};

// IdentityHash is an unseeded hasher returning the key itself.
struct IdentityHash {
  uint64_t operator()(int k) const { return static_cast<uint64_t>(k); }
};

}  // namespace goro

template <>
struct std::hash<goro::Counted> {
  size_t operator()(const goro::Counted& c) const { return std::hash<int>{}(c.v); }
};
