// goro/map.h — goro::Map, Go's (pre-1.24) hash map in C++.
//
// This is Go's runtime/map.go, kept faithful so that the debugger plugins
// and the viewer can show a C++ program's maps exactly as Go's are laid out.
// docs/map.md is the long-form essay; this comment is the reference.
//
// Layout
//   A map is an hmap header (first member of goro::Map, so &map == &hmap)
//   pointing at an array of 2^B buckets. A bucket (Go's bmap) holds 8 slots:
//
//     +----------------+------------------+-------------------+----------+
//     | tophash[8] u8  | keys[8]  K       | elems[8]  V       | overflow |
//     +----------------+------------------+-------------------+----------+
//     0                keysoff            elemsoff            overflowoff
//
//   Keys are packed together and elems together (no padding for, e.g.,
//   Map<int64_t, int8_t>). The low B bits of a key's hash select the bucket,
//   the top byte (tophash, bumped to >= minTopHash) tells slots apart without
//   touching keys. More than 8 keys in a bucket chain extra buckets through
//   `overflow`. A key or elem larger than 128 bytes, or one whose move may
//   throw, is stored indirectly (slot = pointer to a heap copy), as in Go.
//
// Tophash states (per slot): emptyRest=0 (empty, and so is every later slot
// and overflow bucket), emptyOne=1 (empty), evacuatedX=2 / evacuatedY=3
// (moved to the first / second half of the grown table), evacuatedEmpty=4
// (empty, bucket evacuated), minTopHash=5 (filled cells are >= 5).
//
// Growth. When an insert finds overLoadFactor(count+1, B) (average load
// > 6.5), or tooManyOverflowBuckets(noverflow, B) (about as many overflow
// buckets as buckets: churn left them sparse), hashGrow allocates a new array
// (2^(B+1) buckets, or 2^B for a same-size grow) and moves the old one to
// `oldbuckets`. Nothing is copied yet: every later write first evacuates the
// old bucket it is about to touch plus the one at `nevacuate` (growWork), so
// growth is incremental and each write stays O(1). Lookups consult the old
// bucket while it is not yet evacuated. When nevacuate reaches the old bucket
// count, the old array is freed. Bucket arrays for B >= 4 carry 2^(B-4)
// preallocated overflow buckets after the 2^B main ones (extra.nextOverflow).
//
// Iteration starts at a random bucket and a random slot offset, walks buckets
// in order, each bucket's overflow chain, slots rotated by the offset. An
// iterator started during growth reads each not-yet-evacuated old bucket and
// keeps only the keys that will land in the new bucket it is visiting, so
// every key is produced exactly once.
//
// Differences from Go, and why (details in docs/map.md):
//   * C++ has no GC. Evacuation *moves* keys/elems (move-construct, destroy)
//     and frees an evacuated bucket's overflow chain at once; the old array is
//     freed when evacuation completes. Go instead keeps old keys readable for
//     iterators that started before a growth. So goro does the converse:
//     while a range iterator is live (hmap.iters, an iterhold shared with the
//     iterators) no write evacuates. An existing key is then updated where it
//     is; a new key goes to the new array (as in Go: the loop's own array does
//     not receive it, so a loop that inserts ends), flagging pausedInsert when
//     its old bucket is not evacuated: lookups that miss there search the new
//     bucket too, iterators read both, evacuation appends after them. Writes
//     during a range loop thus keep Go's guarantees (each entry present at the
//     start and not deleted is produced once, new ones at most once). A
//     position (find, try_emplace) holds nothing; one used after an insert
//     moved its entry is reported (never a silent use-after-free).
//     Rejected: copying entries on evacuation while iterators are live (a
//     second live copy of a C++ object), and a sticky "may be iterating" flag
//     (Go's iterator bit never clears: growth would never resume).
//   * hmap carries two extra fields: `type` (the per-instantiation maptype,
//     so a tool holding only the address can decode the layout) and `writer`
//     (who set hashWriting; see goro/misuse.h).
//   * mapextra is embedded and holds only nextOverflow: overflow buckets are
//     owned through their chains (freed by walking them), not by GC slices.
//   * Bucket arrays are not rounded to malloc size classes, so their extent is
//     a pure function of B: 2^B + (B >= 4 ? 2^(B-4) : 0) buckets.
//   * `flags` sits alone in its 8-byte word (Go packs it with B, noverflow
//     and hash0): the byte stores of every write would otherwise block store
//     forwarding to those fields and serialize cache misses (see hmap).
//   * Tophash bytes are matched eight at a time (SWAR on one word) for
//     lookups, inserts, deletes and iteration; the states are Go's.
//   * Running out of memory inside a write is fatal, as in Go, so a write
//     never unwinds half-done; user code that may throw (Hash, Eq,
//     constructors) clears hashWriting on its way out.
//
// Concurrency: none. Like Go's maps, goro::Map must not be used by several
// threads/goroutines at once if any of them writes. Misuse is detected
// (always on) by the hashWriting protocol in goro/misuse.h.
#pragma once

#include <algorithm>
#include <array>
#include <atomic>
#include <bit>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <functional>
#include <initializer_list>
#include <iterator>
#include <memory>
#include <new>
#include <stdexcept>
#include <string>
#include <string_view>
#include <tuple>
#include <type_traits>
#include <utility>

#include "goro/hash.h"
#include "goro/misuse.h"
#include "goro/runtime2.h"

namespace goro {

class MapDebugAccess;

namespace detail {

struct debug_layout;  // the layout descriptor's builder (debug_layout.cpp) reads private offsets

static_assert(std::endian::native == std::endian::little,
              "tophash SWAR matching reads 8 tophash bytes as one little-endian word");

// ---- Constants (Go's names and values) -------------------------------------

inline constexpr uintptr_t bucketCntBits = 3;
inline constexpr uintptr_t bucketCnt = uintptr_t{1} << bucketCntBits;  // slots per bucket

// Maximum average load of a bucket that triggers growth is 6.5, as
// loadFactorNum/loadFactorDen. Measured on goro::Map (bench/map/loadfactor.cpp,
// 8-byte keys and elems, maximally loaded 2^16-bucket tables):
//   loadFactor  %overflow  bytes/entry  hitprobe  missprobe  hit/miss compares
//      4.00        2.12       20.76       3.00      4.00      1.008 / 0.016
//      5.00        6.79       14.76       3.50      5.00      1.010 / 0.020
//      6.00       15.28       11.67       4.00      6.00      1.012 / 0.025
//      6.50       20.88       10.79       4.25      6.51      1.013 / 0.026
// (Go's map.go table at 6.5: 20.90, 10.79, 4.25, 6.50.) Higher loads trade
// overflow chains for memory; 6.5 keeps a fifth of buckets chained.
inline constexpr uintptr_t loadFactorNum = 13;
inline constexpr uintptr_t loadFactorDen = 2;

// Keys/elems larger than this are stored indirectly (Go's maxKeySize/maxElemSize).
inline constexpr size_t maxKeySize = 128;
inline constexpr size_t maxElemSize = 128;

// Tophash values. Each bucket (with its overflow chain) has either all or
// none of its slots in the evacuated* states.
inline constexpr uint8_t emptyRest = 0;  // empty; no non-empty slot at higher index or in overflows
inline constexpr uint8_t emptyOne = 1;   // empty
inline constexpr uint8_t evacuatedX = 2;      // moved to first half of larger table
inline constexpr uint8_t evacuatedY = 3;      // moved to second half of larger table
inline constexpr uint8_t evacuatedEmpty = 4;  // empty, bucket evacuated
inline constexpr uint8_t minTopHash = 5;      // minimum tophash of a filled slot
static_assert(evacuatedX + 1 == evacuatedY && (evacuatedX ^ 1) == evacuatedY,
              "evacuation picks X or Y with evacuatedX + useY; NaN keys use the low bit");

// hmap.flags bits.
inline constexpr uint8_t iterator = 1;      // there may be an iterator using buckets
inline constexpr uint8_t oldIterator = 2;   // there may be an iterator using oldbuckets
inline constexpr uint8_t hashWriting = 4;   // a thread/goroutine is writing to the map
inline constexpr uint8_t sameSizeGrow = 8;  // the current growth is to a map of the same size
// goro: a key whose old bucket is not yet evacuated was inserted into the
// new array (an insert while a range loop paused evacuation): lookups that
// miss in such an old bucket also search the new one. Cleared when the
// growth completes.
inline constexpr uint8_t pausedInsert = 16;
// goro: a clear() during a range loop marked old buckets evacuated without
// freeing their overflow chains (an iterator may stand on one): growth
// completion frees them (otherwise evacuation already did).
inline constexpr uint8_t oldChains = 32;

// sentinel bucket ID for iterator checks
inline constexpr uintptr_t noCheck = ~uintptr_t{0};

// ---- Runtime type descriptor ------------------------------------------------

// kind classifies a key or elem type so an out-of-process tool can render it
// from raw bytes without the program's debug info.
enum class kind : uint8_t {
  other = 0,
  boolean,
  int8,
  int16,
  int32,
  int64,
  uint8,
  uint16,
  uint32,
  uint64,
  float32,
  float64,
  pointer,
  std_string,  // libstdc++ std::string (pointer, size, SSO buffer)
};

// maptype describes one Map<K, V, Hash, Eq> instantiation (Go's maptype,
// plus the offsets Go's compiler knows statically). One per instantiation,
// in static storage; hmap.type points at it.
struct maptype {
  uint16_t keysize;       // size of a key slot (sizeof(K), or pointer size if indirect)
  uint16_t elemsize;      // size of an elem slot
  uint32_t bucketsize;    // size of a bucket, including tophash and overflow
  uint16_t keysoff;       // offset of keys[0] in a bucket (Go's dataOffset)
  uint16_t elemsoff;      // offset of elems[0]
  uint16_t overflowoff;   // offset of the overflow pointer
  uint16_t bucketalign;   // alignment of a bucket
  uint32_t keytypesize;   // sizeof(K) (== keysize unless indirect)
  uint32_t elemtypesize;  // sizeof(V)
  uint8_t flags;          // indirectkey | indirectelem | reflexivekey
  kind keykind;           // how to render a key
  kind elemkind;          // how to render an elem
  uint8_t reserved;
  const char* keyname;   // C++ type name of K (compiler-spelled)
  const char* elemname;  // C++ type name of V
};
inline constexpr uint8_t indirectkey = 1;   // maptype.flags: key slot holds K*
inline constexpr uint8_t indirectelem = 2;  // maptype.flags: elem slot holds V*
inline constexpr uint8_t reflexivekey = 4;  // maptype.flags: k == k for every key

// mapextra holds fields not every map needs. Embedded (see file comment).
struct mapextra {
  void* nextOverflow;  // next free preallocated overflow bucket, or null
};

// iterhold counts a map's live range iterators (goro): while one is live no
// evacuation moves an entry (see the file comment). Allocated at the map's
// first range loop; owned by the map (one reference while it lives) and by
// each holding iterator, so an iterator that outlives its map (legal while
// unused) releases into the block, never into the dead map.
struct iterhold {
  std::atomic<uint32_t> refs;  // holding iterators, + 1 while the map lives
};

// hmap is the map header. Field order and names are Go's; `type` and
// `writer` are goro's. Guarded by: the map's user (no internal locking).
struct hmap {
  int64_t count;                 // # live cells == size of map
  std::atomic<uint8_t> flags;    // iterator | oldIterator | hashWriting | sameSizeGrow
  uint8_t flagspad[7];           // goro: flags alone in its 8-byte word (see below)
  uint8_t B;                     // log_2 of # of buckets (can hold up to loadFactor * 2^B items)
  uint16_t noverflow;            // approximate number of overflow buckets; see incrnoverflow
  uint32_t hash0;                // hash seed
  void* buckets;                 // array of 2^B buckets; may be null if count == 0
  void* oldbuckets;              // previous bucket array, non-null only when growing
  uintptr_t nevacuate;           // evacuation progress: old buckets below this are evacuated
  mapextra extra;                // optional fields
  const maptype* type;           // goro: this map's type descriptor
  std::atomic<uint64_t> writer;  // goro: Who token of the last writer to set hashWriting
  std::atomic<iterhold*> iters{nullptr};  // goro: range iterators' hold (see iterhold)
};
static_assert(offsetof(hmap, count) == 0, "count must be first, as in Go (len reads it)");
// Why flagspad: every write stores `flags` twice. A byte store followed by
// loads of *other* bytes of the same 8-byte word (B, noverflow, hash0 in Go's
// packing) cannot be store-forwarded; those loads wait until the store
// commits, which is behind the previous write's bucket cache miss, so
// consecutive map operations stop overlapping their misses. Measured on
// 1M-entry erases: 78 ns with Go's packing, 41 ns with flags alone in its
// word (27 ns with the checks compiled out). docs/map.md has the table.
static_assert(offsetof(hmap, B) % 8 == 0 && offsetof(hmap, flags) / 8 != offsetof(hmap, B) / 8,
              "flags must not share an 8-byte word with B/noverflow/hash0");
static_assert(std::atomic<uint8_t>::is_always_lock_free &&
                  std::atomic<uint64_t>::is_always_lock_free,
              "flags/writer are read by debuggers as plain integers");
static_assert(sizeof(std::atomic<uint8_t>) == 1 && sizeof(std::atomic<uint64_t>) == 8,
              "flags/writer have the layout of uint8/uint64 for out-of-process readers");

// ---- Helpers (Go's names) ---------------------------------------------------

// bucketShift returns 1<<b.
inline uintptr_t bucketShift(uint8_t b) { return uintptr_t{1} << (b & 63); }
// bucketMask returns 1<<b - 1.
inline uintptr_t bucketMask(uint8_t b) { return bucketShift(b) - 1; }

// tophash calculates the tophash value for hash.
inline uint8_t tophash(uintptr_t hash) {
  uint8_t top = static_cast<uint8_t>(hash >> 56);
  if (top < minTopHash) top += minTopHash;
  return top;
}

// isEmpty reports whether a tophash entry is an empty slot.
inline bool isEmpty(uint8_t x) { return x <= emptyOne; }

// evacuated reports whether bucket b has been evacuated.
inline bool evacuated(const void* b) {
  uint8_t h = *static_cast<const uint8_t*>(b);
  return h > emptyOne && h < minTopHash;
}

// overLoadFactor reports whether count items placed in 1<<B buckets is over loadFactor.
inline bool overLoadFactor(int64_t count, uint8_t B) {
  return count > static_cast<int64_t>(bucketCnt) &&
         static_cast<uintptr_t>(count) > loadFactorNum * (bucketShift(B) / loadFactorDen);
}

// tooManyOverflowBuckets reports whether noverflow buckets is too many for
// 1<<B buckets: "too many" means (approximately) as many overflow buckets as
// regular buckets.
inline bool tooManyOverflowBuckets(uint16_t noverflow, uint8_t B) {
  if (B > 15) B = 15;
  return noverflow >= static_cast<uint16_t>(uint16_t{1} << (B & 15));
}

// nbucketsFor is the extent of a bucket array for B: 2^B main buckets plus
// 2^(B-4) preallocated overflow buckets when B >= 4 (Go's makeBucketArray,
// without the size-class rounding).
inline uintptr_t nbucketsFor(uint8_t B) {
  uintptr_t base = bucketShift(B);
  return B >= 4 ? base + bucketShift(B - 4) : base;
}

// Bucket array allocation: zeroed, aligned, huge-page advised when large.
void* alloc_buckets(size_t bytes, size_t align);
void free_buckets(void* p) noexcept;
// freed_bucket_array: the size (and *lo, the start) of a recently freed big
// bucket array holding addr, else 0 (for the fault handler: map.cpp).
size_t freed_bucket_array(uintptr_t addr, uintptr_t* lo) noexcept;

// SWAR over the 8 tophash bytes of a bucket, read as one word.
inline constexpr uint64_t kLsb = 0x0101010101010101ULL;
inline constexpr uint64_t k7f = 0x7f7f7f7f7f7f7f7fULL;
inline uint64_t load_tophash(const void* b) {
  uint64_t w;
  std::memcpy(&w, b, sizeof w);
  return w;
}
// zero_bytes sets the high bit of exactly the bytes of w that are 0 (exact,
// no false positives: the +0x7f never carries across bytes).
inline uint64_t zero_bytes(uint64_t w) { return ~(((w & k7f) + k7f) | w | k7f); }
// match_top marks the slots whose tophash equals top.
inline uint64_t match_top(uint64_t w, uint8_t top) { return zero_bytes(w ^ (kLsb * top)); }
// match_empty marks the slots that are emptyRest or emptyOne.
inline uint64_t match_empty(uint64_t w) { return zero_bytes(w & ~kLsb); }
// live_slots marks the slots holding an entry (tophash >= minTopHash).
// (b | 0x80) - 5 cannot borrow across bytes and keeps the high bit exactly
// when b & 0x7f >= 5; or-ing w adds the bytes >= 0x80.
inline uint64_t live_slots(uint64_t w) {
  return (((w | (kLsb << 7)) - kLsb * minTopHash) | w) & (kLsb << 7);
}
// slot_of returns the index of the lowest marked slot.
inline unsigned slot_of(uint64_t mask) {
  return static_cast<unsigned>(std::countr_zero(mask)) >> 3;
}

// ---- Type names and kinds ---------------------------------------------------

template <class T>
constexpr std::string_view raw_type_name() {
  return __PRETTY_FUNCTION__;  // "... [with T = long int; ...]" (gcc) or "... [T = long]" (clang)
}
constexpr std::string_view type_name_from(std::string_view p) {
  size_t b = p.find("T = ") + 4;
  size_t e = p.find_first_of(";]", b);
  return p.substr(b, e - b);
}
template <class T>
struct type_name_holder {
  static constexpr std::string_view sv = type_name_from(raw_type_name<T>());
  static constexpr auto value = [] {
    std::array<char, sv.size() + 1> a{};
    for (size_t i = 0; i < sv.size(); i++) a[i] = sv[i];
    return a;
  }();
};
template <class T>
constexpr const char* type_name() {
  return type_name_holder<T>::value.data();
}

template <class T>
constexpr kind kind_of() {
  using U = std::remove_cv_t<T>;
  if constexpr (std::is_same_v<U, bool>)
    return kind::boolean;
  else if constexpr (std::is_pointer_v<U>)
    return kind::pointer;
  else if constexpr (std::is_same_v<U, float>)
    return kind::float32;
  else if constexpr (std::is_same_v<U, double>)
    return kind::float64;
  else if constexpr (std::is_same_v<U, std::string>)
    return kind::std_string;
  else if constexpr (std::is_integral_v<U> || std::is_enum_v<U>) {
    using I = typename std::conditional_t<std::is_enum_v<U>, std::underlying_type<U>,
                                          std::type_identity<U>>::type;
    constexpr bool s = std::is_signed_v<I>;
    constexpr size_t n = sizeof(U);
    if constexpr (n == 1)
      return s ? kind::int8 : kind::uint8;
    else if constexpr (n == 2)
      return s ? kind::int16 : kind::uint16;
    else if constexpr (n == 4)
      return s ? kind::int32 : kind::uint32;
    else if constexpr (n == 8)
      return s ? kind::int64 : kind::uint64;
    else
      return kind::other;
  } else {
    return kind::other;
  }
}

constexpr size_t align_up(size_t n, size_t a) { return (n + a - 1) / a * a; }

// ---- basic_map --------------------------------------------------------------

// basic_map is goro::Map with the misuse checks selectable at compile time.
// Only benchmarks instantiate kChecks = false (to measure the checks' cost).
template <class K, class V, class Hash, class Eq, bool kChecks>
class basic_map {
  static_assert(!std::is_reference_v<K> && !std::is_reference_v<V>, "Map stores values");
  static_assert(std::is_move_constructible_v<K> && std::is_move_constructible_v<V>,
                "goro::Map moves keys and values when it grows");

  static constexpr bool kIndirectKey =
      sizeof(K) > maxKeySize || !std::is_nothrow_move_constructible_v<K>;
  static constexpr bool kIndirectElem =
      sizeof(V) > maxElemSize || !std::is_nothrow_move_constructible_v<V>;
  static constexpr bool kReflexiveKey = !std::is_floating_point_v<K>;
  // kNeedKeyUpdate: equal keys can differ (+0 and -0), so an assignment
  // overwrites the stored key with the one given (Go's needkeyupdate).
  static constexpr bool kNeedKeyUpdate = std::is_floating_point_v<K>;
  // kHeterogeneous: lookups accept any key-like type Q (Hash and Eq both
  // declare is_transparent, as abseil's and the standard's conventions have it).
  static constexpr bool kHeterogeneous = requires { typename Hash::is_transparent; }
  &&requires { typename Eq::is_transparent; };
  // kWriteNoexcept: no user code run inside a write (Hash, Eq, moves) can
  // throw, so writes need no handler to clear hashWriting on unwinding.
  // (Bucket allocation failure is fatal, as in Go: see alloc_buckets.)
  static constexpr bool kWriteNoexcept =
      noexcept(seeded_hash(std::declval<const Hash&>(), std::declval<const K&>(), 0)) &&
      (std::is_same_v<Eq, std::equal_to<K>>
           ? noexcept(std::declval<const K&>() == std::declval<const K&>())
           : noexcept(
                 std::declval<const Eq&>()(std::declval<const K&>(), std::declval<const K&>())));
  using KeySlot = std::conditional_t<kIndirectKey, K*, K>;
  using ElemSlot = std::conditional_t<kIndirectElem, V*, V>;

  static constexpr size_t keysize = sizeof(KeySlot);
  static constexpr size_t elemsize = sizeof(ElemSlot);
  static constexpr size_t keysoff = align_up(bucketCnt, alignof(KeySlot));
  static constexpr size_t elemsoff = align_up(keysoff + bucketCnt * keysize, alignof(ElemSlot));
  static constexpr size_t overflowoff = align_up(elemsoff + bucketCnt * elemsize, alignof(void*));
  static constexpr size_t bucketalign =
      std::max({alignof(KeySlot), alignof(ElemSlot), alignof(void*)});
  static constexpr size_t bucketsize = align_up(overflowoff + sizeof(void*), bucketalign);
  static_assert(bucketsize <= UINT32_MAX, "bucket too large");

 public:
  using key_type = K;
  using mapped_type = V;
  using value_type = std::pair<const K, V>;
  using size_type = size_t;
  using hasher = Hash;
  using key_equal = Eq;
  using reference = std::pair<const K&, V&>;
  using const_reference = std::pair<const K&, const V&>;

  // type_descriptor is this instantiation's maptype (hmap.type points here).
  static constexpr maptype type_descriptor = {
      keysize,
      elemsize,
      static_cast<uint32_t>(bucketsize),
      keysoff,
      elemsoff,
      overflowoff,
      bucketalign,
      sizeof(K),
      sizeof(V),
      static_cast<uint8_t>((kIndirectKey ? indirectkey : 0) | (kIndirectElem ? indirectelem : 0) |
                           (kReflexiveKey ? reflexivekey : 0)),
      kind_of<K>(),
      kind_of<V>(),
      0,
      type_name<K>(),
      type_name<V>(),
  };

 private:
  template <bool Const>
  class iter;

 public:
  using iterator = iter<false>;
  using const_iterator = iter<true>;

  // ---- Construction ----

  // basic_map creates an empty map with a fresh random hash0; no buckets yet.
  basic_map() noexcept { init_header(); }

  // basic_map(hint) is make(map[K]V, hint): sizes B so that `hint` entries
  // fit without growth and preallocates the array (and its overflow buckets).
  explicit basic_map(size_t hint, const Hash& h = Hash(), const Eq& eq = Eq())
      : hasher_(h), eq_(eq) {
    init_header();
    makemap(hint);
  }

  basic_map(std::initializer_list<value_type> init) : basic_map(init.size()) {
    for (const auto& kv : init) insert_or_assign(kv.first, kv.second);
  }

  basic_map(const basic_map& o) : basic_map(o.size(), o.hasher_, o.eq_) {
    for (auto&& [k, v] : o) try_emplace(k, v);
  }

  basic_map(basic_map&& o) noexcept : hasher_(std::move(o.hasher_)), eq_(std::move(o.eq_)) {
    init_header();
    steal(o);
  }

  basic_map& operator=(const basic_map& o) {
    if (this != &o) {
      basic_map tmp(o);
      swap(tmp);
    }
    return *this;
  }

  basic_map& operator=(basic_map&& o) noexcept {
    if (this != &o) {
      destroy_all();
      init_header();
      steal(o);
      hasher_ = std::move(o.hasher_);
      eq_ = std::move(o.eq_);
    }
    return *this;
  }

  ~basic_map() {
    forget(this);  // unregisters a named map (goro/debug.h)
    if constexpr (kChecks) {
      if (h_.flags.load(std::memory_order_relaxed) & hashWriting) [[unlikely]]
        report_map_misuse("concurrent map writes", &h_, MapOp::write);
    }
    destroy_all();
    if (iterhold* p = h_.iters.load(std::memory_order_acquire))
      if (p->refs.fetch_sub(1, std::memory_order_acq_rel) == 1) delete p;
  }

  void swap(basic_map& o) noexcept {
    std::swap(h_.count, o.h_.count);
    uint8_t f = h_.flags.load(std::memory_order_relaxed);
    h_.flags.store(o.h_.flags.load(std::memory_order_relaxed), std::memory_order_relaxed);
    o.h_.flags.store(f, std::memory_order_relaxed);
    std::swap(h_.B, o.h_.B);
    std::swap(h_.noverflow, o.h_.noverflow);
    std::swap(h_.hash0, o.h_.hash0);
    std::swap(h_.buckets, o.h_.buckets);
    std::swap(h_.oldbuckets, o.h_.oldbuckets);
    std::swap(h_.nevacuate, o.h_.nevacuate);
    std::swap(h_.extra, o.h_.extra);
    std::swap(hasher_, o.hasher_);
    std::swap(eq_, o.eq_);
  }

  // ---- Capacity ----

  size_t size() const noexcept { return static_cast<size_t>(h_.count); }
  bool empty() const noexcept { return h_.count == 0; }

  // reserve makes room for n entries without further growth: on an empty map
  // it re-makes the bucket array (as make(map, n)); otherwise it completes
  // any growth in progress and doubles until n entries fit. During a range
  // loop it does nothing (it would move entries under the loop's iterator).
  void reserve(size_t n) {
    if (!overLoadFactor(static_cast<int64_t>(n), h_.B) && h_.buckets) return;
    if (evacuation_paused()) return;
    guarded([&] {
      if (h_.count == 0 && !h_.oldbuckets) {
        release_arrays();
        makemap(n);
      } else {
        finish_growth();
        while (overLoadFactor(static_cast<int64_t>(n), h_.B)) {
          hashGrow(true);
          finish_growth();
        }
      }
      return 0;
    });
  }

  // ---- Lookup ----

  // find returns an iterator to key's entry, or end(). Incrementing the
  // result continues in iteration order from that entry to end(); it is not
  // a traversal of the whole map (use begin() for that).
  iterator find(const K& key) { return find_impl<iterator>(key); }
  const_iterator find(const K& key) const { return find_impl<const_iterator>(key); }
  // Heterogeneous lookup (when Hash and Eq are both transparent, as the
  // defaults for std::string keys are): m.find("abc") or a std::string_view
  // finds a std::string key without building a temporary std::string. The
  // same holds for contains, count, get, at and erase.
  template <class Q>
  requires kHeterogeneous iterator find(const Q& key) { return find_impl<iterator>(key); }
  template <class Q>
  requires kHeterogeneous const_iterator find(const Q& key)
  const { return find_impl<const_iterator>(key); }

  bool contains(const K& key) const { return lookup(key).b != nullptr; }
  template <class Q>
  requires kHeterogeneous bool contains(const Q& key) const { return lookup(key).b != nullptr; }
  size_t count(const K& key) const { return contains(key) ? 1 : 0; }
  template <class Q>
  requires kHeterogeneous size_t count(const Q& key)
  const { return contains(key) ? 1 : 0; }

  // get is Go's `v, ok := m[k]`: a copy of the value (or V{}) and whether
  // the key was present. Never inserts.
  std::pair<V, bool> get(const K& key)
      const requires std::is_copy_constructible_v<V> && std::is_default_constructible_v<V> {
    Slot s = lookup(key);
    if (!s.b) return {V{}, false};
    return {elem_at(s.b, s.i), true};
  }

  // at returns the value for key or throws std::out_of_range.
  V& at(const K& key) { return const_cast<V&>(std::as_const(*this).at(key)); }
  const V& at(const K& key) const {
    Slot s = lookup(key);
    if (!s.b) throw std::out_of_range("goro::Map::at: key not found");
    return elem_at(s.b, s.i);
  }
  template <class Q>
  requires kHeterogeneous && std::is_copy_constructible_v<V> && std::is_default_constructible_v<V>
      std::pair<V, bool> get(const Q& key)
  const {
    Slot s = lookup(key);
    if (!s.b) return {V{}, false};
    return {elem_at(s.b, s.i), true};
  }
  template <class Q>
  requires kHeterogeneous const V& at(const Q& key) const {
    Slot s = lookup(key);
    if (!s.b) throw std::out_of_range("goro::Map::at: key not found");
    return elem_at(s.b, s.i);
  }
  template <class Q>
  requires kHeterogeneous V& at(const Q& key) {
    return const_cast<V&>(std::as_const(*this).at(key));
  }

  // ---- Modifiers ----

  // operator[] returns the value for key, inserting a value-initialized V
  // (Go's zero value) if absent. The reference is invalidated by any insert.
  V& operator[](const K& key) { return *assign<true>(key, copy_key(key), make_zero()).first.elem; }
  V& operator[](K&& key) { return *assign<true>(key, move_key(key), make_zero()).first.elem; }

  // try_emplace inserts V(args...) if key is absent; never overwrites.
  template <class... Args>
  std::pair<iterator, bool> try_emplace(const K& key, Args&&... args) {
    return to_iter(assign(key, copy_key(key), make_elem(std::forward<Args>(args)...)));
  }
  template <class... Args>
  std::pair<iterator, bool> try_emplace(K&& key, Args&&... args) {
    return to_iter(assign(key, move_key(key), make_elem(std::forward<Args>(args)...)));
  }

  // insert inserts kv if its key is absent (std::unordered_map semantics).
  std::pair<iterator, bool> insert(std::pair<K, V> kv) {
    return try_emplace(std::move(kv.first), std::move(kv.second));
  }

  // insert_or_assign is Go's `m[k] = v`.
  template <class M>
  std::pair<iterator, bool> insert_or_assign(const K& key, M&& v) {
    auto r = assign<true>(key, copy_key(key), make_elem(std::forward<M>(v)));
    if (!r.second) *r.first.elem = std::forward<M>(v);
    return to_iter(r);
  }
  template <class M>
  std::pair<iterator, bool> insert_or_assign(K&& key, M&& v) {
    auto r = assign<true>(key, move_key(key), make_elem(std::forward<M>(v)));
    if (!r.second) *r.first.elem = std::forward<M>(v);
    return to_iter(r);
  }

  // erase is Go's delete(m, k): returns the number of entries removed (0/1).
  // Safe during iteration: it never moves other entries while an iterator
  // may be live.
  size_t erase(const K& key) { return mapdelete(key); }
  template <class Q>
  requires kHeterogeneous size_t erase(const Q& key) { return mapdelete(key); }
  // erase(it) removes it's entry; `it` is then invalid (copy the key first if needed).
  void erase(const_iterator it) { mapdelete(*it.key_); }
  void erase(iterator it) { mapdelete(*it.key_); }

  // clear removes every entry, keeping the main bucket array (Go's mapclear).
  // During a range loop the arrays stay where they are and only empty out:
  // the loop produces nothing more.
  void clear() {
    if (h_.count == 0 && !h_.oldbuckets) return;
    begin_write();
    destroy_entries();  // noexcept: destructors must not throw
    if (evacuation_paused()) {
      empty_in_place();
      end_write();
      return;
    }
    free_overflow_chains(h_.buckets, h_.B);
    if (h_.oldbuckets) free_array(h_.oldbuckets, oldB());
    h_.oldbuckets = nullptr;
    set_flags(flags() & ~(sameSizeGrow | pausedInsert | oldChains));
    h_.nevacuate = 0;
    h_.noverflow = 0;
    h_.count = 0;
    h_.hash0 = fastrand();
    h_.extra.nextOverflow = nullptr;
    if (h_.buckets) h_.extra.nextOverflow = makeBucketArray(h_.B, h_.buckets).second;
    end_write();
  }

  // ---- Iteration ----

  // begin starts a Go-style traversal at a random bucket and slot offset.
  iterator begin() { return iterator(this); }
  const_iterator begin() const { return const_iterator(this); }
  const_iterator cbegin() const { return begin(); }
  iterator end() { return iterator(); }
  const_iterator end() const { return const_iterator(); }
  const_iterator cend() const { return end(); }

  hasher hash_function() const { return hasher_; }
  key_equal key_eq() const { return eq_; }

  friend bool operator==(const basic_map& a, const basic_map& b) requires requires(const V& x) {
    x == x;
  }
  {
    if (a.size() != b.size()) return false;
    for (auto&& [k, v] : a) {
      Slot s = b.lookup(k);
      if (!s.b || !(b.elem_at(s.b, s.i) == v)) return false;
    }
    return true;
  }

 private:
  friend class goro::MapDebugAccess;
  friend struct detail::debug_layout;

  struct Slot {
    char* b = nullptr;  // bucket holding the entry (null: not found)
    unsigned i = 0;     // slot index in b
  };
  struct Placed {
    Slot s;
    V* elem;
    uintptr_t hash;
    bool in_old;  // s is in a not yet evacuated old bucket (evacuation paused)
  };

  // ---- Key/elem makers (noexcept exactly when the construction is) ----

  // Callables that construct a new entry's key/elem in place (the result is
  // a prvalue: guaranteed elision into the slot). They hold pointers to the
  // caller's arguments, which outlive the call.
  struct CopyKey {
    const K* k;
    K operator()() const noexcept(std::is_nothrow_copy_constructible_v<K>) { return *k; }
  };
  struct MoveKey {
    K* k;
    K operator()() const noexcept(std::is_nothrow_move_constructible_v<K>) { return std::move(*k); }
  };
  struct MakeZero {
    V operator()() const noexcept(std::is_nothrow_default_constructible_v<V>) { return V(); }
  };
  template <class... Args>
  struct MakeElem {
    std::tuple<Args&&...> args;
    V operator()() noexcept(std::is_nothrow_constructible_v<V, Args...>) {
      return std::make_from_tuple<V>(std::move(args));
    }
  };
  static CopyKey copy_key(const K& key) { return {&key}; }
  static MoveKey move_key(K& key) { return {&key}; }
  static MakeZero make_zero() { return {}; }
  template <class... Args>
  static MakeElem<Args...> make_elem(Args&&... args) {
    return {std::forward_as_tuple(std::forward<Args>(args)...)};
  }

  // ---- Slot access ----

  static uint8_t* tophashes(char* b) { return reinterpret_cast<uint8_t*>(b); }
  static char* keyslot(char* b, uintptr_t i) { return b + keysoff + i * keysize; }
  static char* elemslot(char* b, uintptr_t i) { return b + elemsoff + i * elemsize; }
  static K& key_at(char* b, uintptr_t i) {
    if constexpr (kIndirectKey)
      return **std::launder(reinterpret_cast<K**>(keyslot(b, i)));
    else
      return *std::launder(reinterpret_cast<K*>(keyslot(b, i)));
  }
  static V& elem_at(char* b, uintptr_t i) {
    if constexpr (kIndirectElem)
      return **std::launder(reinterpret_cast<V**>(elemslot(b, i)));
    else
      return *std::launder(reinterpret_cast<V*>(elemslot(b, i)));
  }
  static char* overflow(const char* b) {
    char* o;
    std::memcpy(&o, b + overflowoff, sizeof o);
    return o;
  }
  static void setoverflow(char* b, char* ovf) { std::memcpy(b + overflowoff, &ovf, sizeof ovf); }
  static char* bucket(void* arr, uintptr_t i) { return static_cast<char*>(arr) + i * bucketsize; }

  template <class F>
  static void construct_key(char* slot, F&& make) {
    if constexpr (kIndirectKey)
      ::new (slot) K*(new K(make()));
    else
      ::new (slot) K(make());
  }
  template <class F>
  static void construct_elem(char* slot, F&& make) {
    if constexpr (kIndirectElem)
      ::new (slot) V*(new V(make()));
    else
      ::new (slot) V(make());
  }
  static void destroy_key(char* slot) {
    if constexpr (kIndirectKey)
      delete *std::launder(reinterpret_cast<K**>(slot));
    else
      std::destroy_at(std::launder(reinterpret_cast<K*>(slot)));
  }
  static void destroy_elem(char* slot) {
    if constexpr (kIndirectElem)
      delete *std::launder(reinterpret_cast<V**>(slot));
    else
      std::destroy_at(std::launder(reinterpret_cast<V*>(slot)));
  }
  // relocate moves slot src's key/elem into dst (both slots) and ends src's.
  static void relocate(char* dk, char* de, char* sk, char* se) noexcept {
    if constexpr (kIndirectKey)
      std::memcpy(dk, sk, sizeof(K*));
    else {
      K* s = std::launder(reinterpret_cast<K*>(sk));
      ::new (dk) K(std::move(*s));
      std::destroy_at(s);
    }
    if constexpr (kIndirectElem)
      std::memcpy(de, se, sizeof(V*));
    else {
      V* s = std::launder(reinterpret_cast<V*>(se));
      ::new (de) V(std::move(*s));
      std::destroy_at(s);
    }
  }

  // ---- Header helpers ----

  uint8_t flags() const { return h_.flags.load(std::memory_order_relaxed); }
  void set_flags(uint8_t f) { h_.flags.store(f, std::memory_order_relaxed); }
  bool growing() const { return h_.oldbuckets != nullptr; }
  // evacuation_paused: a range iterator is live, so no entry may move (see
  // the file comment: writes then go to the bucket their key lives in).
  bool evacuation_paused() const {
    iterhold* p = h_.iters.load(std::memory_order_relaxed);
    return p && p->refs.load(std::memory_order_relaxed) > 1;
  }
  bool isSameSizeGrow() const { return flags() & sameSizeGrow; }
  uint8_t oldB() const { return isSameSizeGrow() ? h_.B : static_cast<uint8_t>(h_.B - 1); }
  uintptr_t noldbuckets() const { return bucketShift(oldB()); }
  uintptr_t oldbucketmask() const { return noldbuckets() - 1; }

  template <class Q>
  uintptr_t hash_of(const Q& k) const {
    return static_cast<uintptr_t>(seeded_hash(hasher_, k, h_.hash0));
  }

  void init_header() noexcept {
    h_.count = 0;
    h_.flags.store(0, std::memory_order_relaxed);
    h_.B = 0;
    h_.noverflow = 0;
    h_.hash0 = fastrand();
    h_.buckets = nullptr;
    h_.oldbuckets = nullptr;
    h_.nevacuate = 0;
    h_.extra.nextOverflow = nullptr;
    h_.type = &type_descriptor;
    h_.writer.store(0, std::memory_order_relaxed);
  }

  void steal(basic_map& o) noexcept {
    h_.count = o.h_.count;
    set_flags(o.flags() & (sameSizeGrow));
    h_.B = o.h_.B;
    h_.noverflow = o.h_.noverflow;
    h_.hash0 = o.h_.hash0;
    h_.buckets = o.h_.buckets;
    h_.oldbuckets = o.h_.oldbuckets;
    h_.nevacuate = o.h_.nevacuate;
    h_.extra = o.h_.extra;
    o.init_header();
  }

  // ---- Misuse protocol (goro/misuse.h) ----

  // chain_next follows an overflow link in a write, counting the hops. A
  // chain of more than kMaxChainHops buckets (half a million entries behind
  // one bucket) can only be a loop a concurrent write made -- two writers
  // taking the last preallocated overflow bucket, whose sentinel points back
  // at the array -- and would spin forever holding hashWriting (issue 18: 1
  // racy run in 1080 hung). Reported instead. An increment per hop; hops
  // are rare (load factor 6.5 of 8).
  static constexpr uint32_t kMaxChainHops = 1 << 16;
  char* chain_next(char* b, uint32_t& hops) const {
    if (++hops > kMaxChainHops) [[unlikely]]
      report_map_misuse("concurrent map writes", &h_, MapOp::write);
    return overflow(b);
  }

  void check_read(MapOp op) const {
    if constexpr (kChecks) {
      if (flags() & hashWriting) [[unlikely]]
        report_map_misuse(op == MapOp::iterate ? "concurrent map iteration and map write"
                                               : "concurrent map read and map write",
                          &h_, op);
    }
  }

  // begin_write / end_write bracket every write (goro/misuse.h protocol).
  // No RAII object: its "done" flag and destructor cost stack stores on the
  // hot path, and each store in flight limits how many cache-missing
  // inserts the CPU overlaps (measured: docs/map.md). Writers that run user
  // code (Eq, Hash, constructors) call abort_write() if it throws.
  void begin_write() {
    if constexpr (kChecks) {
      uint8_t f = flags();
      if (f & hashWriting) [[unlikely]]
        report_map_misuse("concurrent map writes", &h_, MapOp::write);
      // Store the identity only when it changes: storing it on every write
      // cost 11-15% of a 1M-entry insert (standalone run: 96.5 vs 85.7 ns
      // with the old test hook, 82.8 vs 70.4 ns without it).
      uint64_t me = current_who();
      if (h_.writer.load(std::memory_order_relaxed) != me) [[unlikely]]
        h_.writer.store(me, std::memory_order_relaxed);
      set_flags(f | hashWriting);
      tls_mapop = &h_;
    }
  }
  void end_write() {
    if constexpr (kChecks) {
      uint8_t f = flags();
      if (!(f & hashWriting)) [[unlikely]]
        report_map_misuse("concurrent map writes", &h_, MapOp::write);
      set_flags(f & ~hashWriting);
      tls_mapop = nullptr;
    }
  }
  void abort_write() noexcept {
    if constexpr (kChecks) {
      set_flags(flags() & ~hashWriting);
      tls_mapop = nullptr;
    }
  }
  // guarded runs a write body between begin_write and end_write.
  template <class F>
  auto guarded(F&& body) {
    begin_write();
    try {
      auto r = body();
      end_write();
      return r;
    } catch (...) {
      abort_write();
      throw;
    }
  }

  // ---- mapaccess ----

  // bucket_for returns the bucket chain that holds hash's entries now: the
  // old bucket while it is not yet evacuated, else the new one.
  char* bucket_for(uintptr_t hash, bool* in_old = nullptr) const {
    uintptr_t m = bucketMask(h_.B);
    char* b = bucket(h_.buckets, hash & m);
    if (void* c = h_.oldbuckets) [[unlikely]] {
      if (!isSameSizeGrow()) m >>= 1;  // there used to be half as many buckets
      char* oldb = bucket(c, hash & m);
      if (!evacuated(oldb)) {
        if (in_old) *in_old = true;
        return oldb;
      }
    }
    return b;
  }

  // prefetch_bucket requests the second cache line of a small bucket
  // together with its tophash line. A hit reads the tophash line, then its
  // key's line and its elem's line; in Go's layout an 8-byte key and its
  // elem are exactly 64 bytes apart, so for most slots that is the tophash
  // line plus the next one. Fetching the next one early makes a hit cost one
  // memory latency instead of two; fetching every line of the bucket spends
  // miss-handling buffers on lines few hits need. Only for buckets of 2-3
  // lines (wider ones, e.g. std::string keys, lost more on misses than they
  // gained). Measured, 1M int64 entries, two alternating rounds on the same
  // (noisy) machine, ns and ratio std/goro within each run:
  //                      hit goro   std/goro     miss goro
  //   no prefetch       17.8, 16.3  1.45, 1.58   11.2, 11.6
  //   next line only    14.1, 14.8  1.93, 1.68   12.2, 13.0
  //   all bucket lines  15.9, 17.9  1.72, 1.66   12.5, 13.6
  static void prefetch_bucket(const char* b) {
    if constexpr (bucketsize > 64 && bucketsize <= 3 * 64) {
      __builtin_prefetch(b + 64);
    } else {
      (void)b;
    }
  }

  template <class Q>
  Slot lookup(const Q& key) const {
    return lookup_hashed(key, nullptr, nullptr);
  }

  template <class Q>
  Slot lookup_hashed(const Q& key, uintptr_t* hash_out, bool* in_old) const {
    if (h_.count == 0) return {};
    check_read(MapOp::read);
    uintptr_t hash = hash_of(key);
    if (hash_out) *hash_out = hash;
    uint8_t top = tophash(hash);
    bool old = false;
    char* b0 = bucket_for(hash, &old);
    prefetch_bucket(b0);
    for (char* b = b0; b; b = overflow(b)) {
      uint64_t w = load_tophash(b);
      for (uint64_t m = match_top(w, top); m; m &= m - 1) {
        unsigned i = slot_of(m);
        if (eq_(key, key_at(b, i))) [[likely]] {
          if (in_old) *in_old = old;
          return {b, i};
        }
      }
      if (zero_bytes(w)) break;  // an emptyRest slot: nothing further in this chain
    }
    if (old && (flags() & pausedInsert)) [[unlikely]]
      return lookup_in(bucket(h_.buckets, hash & bucketMask(h_.B)), key, top);
    return {};
  }

  template <class Q>
  Slot lookup_in(char* b0, const Q& key, uint8_t top) const {
    for (char* b = b0; b; b = overflow(b)) {
      uint64_t w = load_tophash(b);
      for (uint64_t m = match_top(w, top); m; m &= m - 1) {
        unsigned i = slot_of(m);
        if (eq_(key, key_at(b, i))) return {b, i};
      }
      if (zero_bytes(w)) break;
    }
    return {};
  }

  template <class It, class Q>
  It find_impl(const Q& key) const {
    uintptr_t hash = 0;
    bool in_old = false;
    Slot s = lookup_hashed(key, &hash, &in_old);
    if (!s.b) return It();
    return It(const_cast<basic_map*>(this), hash, s, in_old);
  }

  // ---- mapassign ----

  // assign finds key or makes a slot for it (Go's mapassign). For a new
  // entry it constructs the key from mk() and the elem from me(). Returns the
  // placed entry and whether it was inserted. UpdateKey: an assignment
  // (operator[], insert_or_assign), which stores the given key over an equal
  // one (kNeedKeyUpdate: m[-0.0] after m[0.0] leaves -0, as in Go).
  template <bool UpdateKey = false, class MakeKey, class MakeElem>
  std::pair<Placed, bool> assign(const K& key, MakeKey&& mk, MakeElem&& me) {
    uintptr_t hash = hash_of(key);  // before hashWriting: a throwing hasher wrote nothing
    begin_write();
    if constexpr (kWriteNoexcept&& noexcept(mk())&& noexcept(me())) {
      auto r = mapassign<UpdateKey>(key, hash, mk, me);
      end_write();
      return r;
    } else {
      try {
        auto r = mapassign<UpdateKey>(key, hash, mk, me);
        end_write();
        return r;
      } catch (...) {
        abort_write();
        throw;
      }
    }
  }

  template <bool UpdateKey, class MakeKey, class MakeElem>
  std::pair<Placed, bool> mapassign(const K& key, uintptr_t hash, MakeKey& mk, MakeElem& me) {
    if (!h_.buckets) {
      auto [arr, next] = makeBucketArray(h_.B, nullptr);
      h_.buckets = arr;
      h_.extra.nextOverflow = next;
    }
    uint8_t top = tophash(hash);
  again:
    uintptr_t bi = hash & bucketMask(h_.B);
    char* oldb = nullptr;  // key's old bucket, not evacuated: evacuation is paused
    if (growing()) [[unlikely]] {
      if (!evacuation_paused()) {
        growWork(bi);
      } else {
        bool in_old = false;
        char* c = bucket_for(hash, &in_old);
        if (in_old) oldb = c;
      }
    }
    if (oldb) [[unlikely]] {
      // A range loop is live: an existing key is updated where it is; a new
      // key goes to the new array (where the loop's own array, the old one,
      // does not see it: a loop that inserts ends, as in Go).
      for (char* c = oldb; c; c = overflow(c)) {
        uint64_t tw = load_tophash(c);
        for (uint64_t m = match_top(tw, top); m; m &= m - 1) {
          unsigned i = slot_of(m);
          if (eq_(key, key_at(c, i))) {
            if constexpr (UpdateKey && kNeedKeyUpdate) key_at(c, i) = key;
            return {{{c, i}, &elem_at(c, i), hash, true}, false};
          }
        }
        if (zero_bytes(tw)) break;
      }
    }
    char* b = bucket(h_.buckets, bi);
    char* insertb = nullptr;
    unsigned inserti = 0;
    uint32_t hops = 0;
    for (;;) {
      uint64_t tw = load_tophash(b);
      for (uint64_t m = match_top(tw, top); m; m &= m - 1) {
        unsigned i = slot_of(m);
        if (eq_(key, key_at(b, i))) {  // already have a mapping for key
          if constexpr (UpdateKey && kNeedKeyUpdate) key_at(b, i) = key;
          return {{{b, i}, &elem_at(b, i), hash, false}, false};
        }
      }
      if (!insertb) {
        if (uint64_t e = match_empty(tw)) {
          insertb = b;
          inserti = slot_of(e);
        }
      }
      if (zero_bytes(tw)) break;  // emptyRest: key is not further down the chain
      char* ovf = chain_next(b, hops);
      if (!ovf) break;
      b = ovf;
    }

    // Did not find mapping for key. If we hit the max load factor or have too
    // many overflow buckets, and are not already growing, start growing.
    if (!growing() &&
        (overLoadFactor(h_.count + 1, h_.B) || tooManyOverflowBuckets(h_.noverflow, h_.B))) {
      hashGrow(overLoadFactor(h_.count + 1, h_.B));
      goto again;  // growing the table invalidates everything, so try again
    }

    if (!insertb) {
      // The bucket and all its overflow buckets are full: allocate a new one.
      insertb = newoverflow(b);
      inserti = 0;
    }
    if (oldb) set_flags(flags() | pausedInsert);
    construct_key(keyslot(insertb, inserti), mk);
    try {
      construct_elem(elemslot(insertb, inserti), me);
    } catch (...) {
      destroy_key(keyslot(insertb, inserti));
      throw;
    }
    tophashes(insertb)[inserti] = top;
    h_.count++;
    return {{{insertb, inserti}, &elem_at(insertb, inserti), hash, false}, true};
  }

  std::pair<iterator, bool> to_iter(const std::pair<Placed, bool>& r) {
    return {iterator(this, r.first.hash, r.first.s, r.first.in_old), r.second};
  }

  // ---- mapdelete ----

  template <class Q>
  size_t mapdelete(const Q& key) {
    if (h_.count == 0) return 0;
    uintptr_t hash = hash_of(key);
    begin_write();
    if constexpr (kWriteNoexcept) {
      size_t r = mapdelete_hashed(key, hash);
      end_write();
      return r;
    } else {
      try {
        size_t r = mapdelete_hashed(key, hash);
        end_write();
        return r;
      } catch (...) {
        abort_write();
        throw;
      }
    }
  }

  template <class Q>
  size_t mapdelete_hashed(const Q& key, uintptr_t hash) {
    uintptr_t bi = hash & bucketMask(h_.B);
    // Go evacuates here (growWork). goro skips it while a range iterator is
    // live, because evacuation moves entries under the iterator (see top).
    if (growing() && !evacuation_paused()) growWork(bi);
    bool old = false;
    char* bOrig = bucket_for(hash, &old);
    uint8_t top = tophash(hash);
    if (old && (flags() & pausedInsert)) [[unlikely]] {
      // The key may be one inserted into the new array (see pausedInsert).
      if (!lookup_in(bOrig, key, top).b) bOrig = bucket(h_.buckets, bi);
    }
    uint32_t hops = 0;
    for (char* b = bOrig; b; b = chain_next(b, hops)) {
      uint64_t tw = load_tophash(b);
      for (uint64_t m = match_top(tw, top); m; m &= m - 1) {
        unsigned i = slot_of(m);
        if (!eq_(key, key_at(b, i))) continue;
        destroy_key(keyslot(b, i));
        destroy_elem(elemslot(b, i));
        markEmpty(bOrig, b, i);
        h_.count--;
        // Reset the hash seed to make it more difficult for attackers to
        // repeatedly trigger hash collisions (Go issue 25237).
        if (h_.count == 0) h_.hash0 = fastrand();
        return 1;
      }
      if (zero_bytes(tw)) break;
    }
    return 0;
  }

  // markEmpty sets slot i of b (in the chain starting at bOrig) to emptyOne,
  // then turns a trailing run of emptyOne slots into emptyRest.
  static void markEmpty(char* bOrig, char* b, uintptr_t i) {
    uint8_t* th = tophashes(b);
    th[i] = emptyOne;
    if (i == bucketCnt - 1) {
      char* o = overflow(b);
      if (o && tophashes(o)[0] != emptyRest) return;
    } else if (th[i + 1] != emptyRest) {
      return;
    }
    for (;;) {
      tophashes(b)[i] = emptyRest;
      if (i == 0) {
        if (b == bOrig) return;  // beginning of initial bucket, we're done
        char* c = b;             // find previous bucket, continue at its last entry
        for (b = bOrig; overflow(b) != c; b = overflow(b)) {
        }
        i = bucketCnt - 1;
      } else {
        i--;
      }
      if (tophashes(b)[i] != emptyOne) return;
    }
  }

  // ---- Growth ----

  // makeBucketArray returns a zeroed array for B (reusing `dirty` if given)
  // and the first preallocated overflow bucket (null if none). The last
  // preallocated bucket's overflow points at the array itself: a non-null
  // sentinel meaning "end of the preallocated run" (Go's convention).
  std::pair<void*, void*> makeBucketArray(uint8_t b, void* dirty) {
    uintptr_t base = bucketShift(b);
    uintptr_t n = nbucketsFor(b);
    void* arr = dirty;
    if (dirty)
      std::memset(dirty, 0, n * bucketsize);
    else
      arr = alloc_buckets(n * bucketsize, bucketalign);
    void* next = nullptr;
    if (base != n) {
      next = bucket(arr, base);
      setoverflow(bucket(arr, n - 1), static_cast<char*>(arr));
    }
    return {arr, next};
  }

  void makemap(size_t hint) {
    uint8_t B = 0;
    while (overLoadFactor(static_cast<int64_t>(hint), B)) B++;
    h_.B = B;
    if (B != 0) {
      auto [arr, next] = makeBucketArray(B, nullptr);
      h_.buckets = arr;
      h_.extra.nextOverflow = next;
    }
  }

  // incrnoverflow counts overflow buckets: exactly while B < 16, then with
  // probability 1/2^(B-15) so that uint16 can reach "as many as buckets".
  void incrnoverflow() {
    if (h_.B < 16) {
      h_.noverflow++;
      return;
    }
    uint32_t mask = (uint32_t{1} << (h_.B - 15)) - 1;
    if ((fastrand() & mask) == 0) h_.noverflow++;
  }

  char* newoverflow(char* b) {
    char* ovf;
    if (char* n = static_cast<char*>(h_.extra.nextOverflow)) {
      // Preallocated overflow buckets are available: bump the pointer.
      ovf = n;
      if (overflow(ovf) == nullptr) {
        h_.extra.nextOverflow = ovf + bucketsize;
      } else {
        setoverflow(ovf, nullptr);  // last preallocated: clear the sentinel
        h_.extra.nextOverflow = nullptr;
      }
    } else {
      ovf = static_cast<char*>(alloc_buckets(bucketsize, bucketalign));
    }
    incrnoverflow();
    setoverflow(b, ovf);
    return ovf;
  }

  void hashGrow(bool bigger) {
    // If we've hit the load factor, get bigger; otherwise there are too many
    // overflow buckets, so keep the same number of buckets and "grow" laterally.
    uint8_t f = flags();
    if (!bigger) f |= sameSizeGrow;
    void* oldbuckets = h_.buckets;
    auto [newbuckets, next] =
        makeBucketArray(static_cast<uint8_t>(h_.B + (bigger ? 1 : 0)), nullptr);
    uint8_t nf = f & ~(detail::iterator | oldIterator);
    if (f & detail::iterator) nf |= oldIterator;
    // (Go's order, except that nevacuate, noverflow and nextOverflow are reset
    // before buckets is replaced: a debugger stopped by a watchpoint on
    // hmap.buckets -- `gomap watch --grow` -- then reads a consistent header.)
    h_.B += bigger ? 1 : 0;
    set_flags(nf);
    h_.nevacuate = 0;
    h_.noverflow = 0;
    h_.extra.nextOverflow = next;  // Go keeps a leftover; ours must not point into the old array
    h_.oldbuckets = oldbuckets;
    h_.buckets = newbuckets;
    // the actual copying of the hash table data is done incrementally by growWork() and evacuate().
  }

  void growWork(uintptr_t bi) {
    // make sure we evacuate the oldbucket corresponding to the bucket we're about to use
    evacuate(bi & oldbucketmask());
    // evacuate one more oldbucket to make progress on growing
    if (growing()) evacuate(h_.nevacuate);
  }

  void finish_growth() {
    while (growing()) evacuate(h_.nevacuate);
  }

  struct evacDst {
    char* b;     // current destination bucket
    unsigned i;  // key/elem index into b
  };

  // append_point is where evacuation appends to new bucket b: its first slot
  // (Go: the new buckets are empty until their old bucket is evacuated),
  // or, when inserts while evacuation was paused put keys there
  // (pausedInsert), the first emptyRest slot of its chain (every later slot
  // is empty), else past its last bucket.
  evacDst append_point(char* b) {
    if (!(flags() & pausedInsert)) return {b, 0};
    for (;;) {
      if (uint64_t e = zero_bytes(load_tophash(b))) return {b, slot_of(e)};
      char* o = overflow(b);
      if (!o) return {b, bucketCnt};  // full: the first append chains a new bucket
      b = o;
    }
  }

  void evacuate(uintptr_t oldbucket) {
    char* b = bucket(h_.oldbuckets, oldbucket);
    uintptr_t newbit = noldbuckets();
    if (!evacuated(b)) {
      evacDst xy[2];
      xy[0] = append_point(bucket(h_.buckets, oldbucket));
      bool same = isSameSizeGrow();
      if (!same) xy[1] = append_point(bucket(h_.buckets, oldbucket + newbit));
      char* first = b;
      uint32_t hops = 0;
      for (; b; b = chain_next(b, hops)) {
        uint8_t* th = tophashes(b);
        for (unsigned i = 0; i < bucketCnt; i++) {
          uint8_t top = th[i];
          if (isEmpty(top)) {
            th[i] = evacuatedEmpty;
            continue;
          }
          unsigned useY = 0;
          if (!same) {
            // Compute hash to decide whether the entry goes to bucket x or y.
            const K& k = key_at(b, i);
            uintptr_t hash = hash_of(k);
            if (!kReflexiveKey && (flags() & detail::iterator) && !eq_(k, k)) {
              // NaN: hash is not reproducible; let the low bit of tophash
              // decide (iterators make the same choice), and re-randomize.
              useY = top & 1;
              top = tophash(hash);
            } else if (hash & newbit) {
              useY = 1;
            }
          }
          th[i] = static_cast<uint8_t>(evacuatedX + useY);
          evacDst& dst = xy[useY];
          if (dst.i == bucketCnt) {
            char* o = overflow(dst.b);  // (a chain inserts made while paused: pausedInsert)
            dst.b = o ? o : newoverflow(dst.b);
            dst.i = 0;
          }
          tophashes(dst.b)[dst.i] = top;
          relocate(keyslot(dst.b, dst.i), elemslot(dst.b, dst.i), keyslot(b, i), elemslot(b, i));
          dst.i++;
        }
      }
      // Unlink and free the evacuated overflow buckets; keep the main bucket
      // (its tophash holds the evacuation state tools and lookups read).
      char* o = overflow(first);
      setoverflow(first, nullptr);
      free_chain(o, h_.oldbuckets, oldB());
    }
    if (oldbucket == h_.nevacuate) advanceEvacuationMark(newbit);
  }

  void advanceEvacuationMark(uintptr_t newbit) {
    h_.nevacuate++;
    // Go: "Experiments suggest that 1024 is overkill by at least an order of
    // magnitude. Put it in there as a safeguard anyway, to ensure O(1) behavior."
    uintptr_t stop = std::min(h_.nevacuate + 1024, newbit);
    while (h_.nevacuate != stop && evacuated(bucket(h_.oldbuckets, h_.nevacuate))) h_.nevacuate++;
    if (h_.nevacuate == newbit) {  // newbit == # of oldbuckets
      // Growing is all done. Free the old main bucket array (and the chains
      // a clear() during a range loop left: oldChains). Taken with an
      // exchange: two racing writers that both finish the growth must not
      // both free it (a double free breaks the heap; the race itself is
      // reported, or faults, elsewhere). Once per growth: free.
      void* old = __atomic_exchange_n(&h_.oldbuckets, nullptr, __ATOMIC_ACQ_REL);
      if (!old) return;
      if (flags() & oldChains)
        free_array(old, oldB());
      else
        free_buckets(old);
      set_flags(flags() & ~(sameSizeGrow | pausedInsert | oldChains));
    }
  }

  // ---- Teardown ----

  // free_chain frees the overflow buckets of a chain that were individually
  // allocated (preallocated ones live inside the array [arr, arr+extent)).
  static void free_chain(char* o, void* arr, uint8_t B) {
    char* lo = static_cast<char*>(arr);
    char* hi = lo + nbucketsFor(B) * bucketsize;
    while (o) {
      char* next = overflow(o);
      if (o < lo || o >= hi) free_buckets(o);
      o = next;
    }
  }
  static void free_overflow_chains(void* arr, uint8_t B) {
    if (!arr) return;
    for (uintptr_t i = 0, n = bucketShift(B); i < n; i++) {
      char* b = bucket(arr, i);
      char* o = overflow(b);
      setoverflow(b, nullptr);
      free_chain(o, arr, B);
    }
  }
  static void free_array(void* arr, uint8_t B) {
    free_overflow_chains(arr, B);
    free_buckets(arr);
  }

  static void destroy_chain_entries(char* b) {
    if constexpr (std::is_trivially_destructible_v<KeySlot> &&
                  std::is_trivially_destructible_v<ElemSlot> && !kIndirectKey && !kIndirectElem) {
      (void)b;
    } else {
      for (; b; b = overflow(b)) {
        for (unsigned i = 0; i < bucketCnt; i++) {
          if (tophashes(b)[i] >= minTopHash) {
            destroy_key(keyslot(b, i));
            destroy_elem(elemslot(b, i));
          }
        }
      }
    }
  }

  void destroy_entries() {
    if (h_.buckets)
      for (uintptr_t i = 0, n = bucketShift(h_.B); i < n; i++)
        destroy_chain_entries(bucket(h_.buckets, i));
    if (h_.oldbuckets)
      for (uintptr_t i = 0, n = noldbuckets(); i < n; i++) {
        char* b = bucket(h_.oldbuckets, i);
        if (!evacuated(b)) destroy_chain_entries(b);
      }
  }

  // empty_in_place marks every slot empty after destroy_entries, keeping
  // every bucket where a live iterator may stand: the current array's slots
  // emptyRest, an unevacuated old bucket's evacuatedEmpty (so it counts as
  // evacuated; growth completion frees its chain: oldChains).
  void empty_in_place() noexcept {
    auto mark = [](char* b, uint8_t state) {
      for (; b; b = overflow(b)) std::memset(tophashes(b), state, bucketCnt);
    };
    if (h_.buckets)
      for (uintptr_t i = 0, n = bucketShift(h_.B); i < n; i++)
        mark(bucket(h_.buckets, i), emptyRest);
    if (h_.oldbuckets) {
      for (uintptr_t i = 0, n = noldbuckets(); i < n; i++)
        if (char* b = bucket(h_.oldbuckets, i); !evacuated(b)) mark(b, evacuatedEmpty);
      set_flags(flags() | oldChains);
    }
    h_.count = 0;
    h_.hash0 = fastrand();
  }

  void release_arrays() {
    if (h_.buckets) free_array(h_.buckets, h_.B);
    if (h_.oldbuckets) free_array(h_.oldbuckets, oldB());
    h_.buckets = h_.oldbuckets = nullptr;
    h_.extra.nextOverflow = nullptr;
  }

  void destroy_all() noexcept {
    destroy_entries();
    release_arrays();
  }

  // ---- Iterator (Go's hiter / mapiternext) ----

  template <bool Const>
  class iter {
    using map_t = basic_map;
    using elem_t = std::conditional_t<Const, const V, V>;

   public:
    using iterator_concept = std::forward_iterator_tag;
    using iterator_category = std::input_iterator_tag;
    using value_type = std::pair<K, V>;
    using difference_type = std::ptrdiff_t;
    using reference = std::pair<const K&, elem_t&>;
    struct pointer {
      reference r;
      const reference* operator->() const { return &r; }
    };

    iter() = default;
    // A const_iterator can be made from an iterator.
    template <bool C = Const, class = std::enable_if_t<C>>
    iter(const iter<false>& o)  // NOLINT(google-explicit-constructor)
        : h_(o.h_),
          m_(o.m_),
          key_(o.key_),
          elem_(o.elem_),
          buckets_(o.buckets_),
          bptr_(o.bptr_),
          startBucket_(o.startBucket_),
          bucket_(o.bucket_),
          checkBucket_(o.checkBucket_),
          newAfter_(o.newAfter_),
          offset_(o.offset_),
          B_(o.B_),
          i_(o.i_),
          wrapped_(o.wrapped_),
          hold_(o.hold_) {
      hold_again();
    }
    // A range iterator (begin()) holds the map's entries in place (hmap.iters)
    // until it reaches the end or dies; each copy holds them too.
    iter(const iter& o) noexcept { copy_from(o); }
    iter(iter&& o) noexcept {
      copy_from(o, false);
      o.hold_ = nullptr;
    }
    iter& operator=(const iter& o) noexcept {
      if (this != &o) {
        release();
        copy_from(o);
      }
      return *this;
    }
    iter& operator=(iter&& o) noexcept {
      if (this != &o) {
        release();
        copy_from(o, false);
        o.hold_ = nullptr;
      }
      return *this;
    }
    ~iter() { release(); }

    reference operator*() const { return {*key_, *elem_}; }
    pointer operator->() const { return pointer{**this}; }
    // key / value access the current entry without the pair proxy.
    const K& key() const { return *key_; }
    elem_t& value() const { return *elem_; }

    iter& operator++() {
      next();
      return *this;
    }
    iter operator++(int) {
      iter t = *this;
      next();
      return t;
    }
    friend bool operator==(const iter& a, const iter& b) { return a.key_ == b.key_; }

   private:
    friend class basic_map;
    template <bool>
    friend class iter;

    void copy_from(const iter& o, bool hold = true) noexcept {
      h_ = o.h_;
      m_ = o.m_;
      key_ = o.key_;
      elem_ = o.elem_;
      buckets_ = o.buckets_;
      bptr_ = o.bptr_;
      startBucket_ = o.startBucket_;
      bucket_ = o.bucket_;
      checkBucket_ = o.checkBucket_;
      newAfter_ = o.newAfter_;
      offset_ = o.offset_;
      B_ = o.B_;
      i_ = o.i_;
      wrapped_ = o.wrapped_;
      hold_ = o.hold_;
      if (hold) hold_again();
    }
    void hold_again() noexcept {
      if (hold_) hold_->refs.fetch_add(1, std::memory_order_relaxed);
    }
    void release() noexcept {
      if (iterhold* p = hold_) {
        hold_ = nullptr;
        if (p->refs.fetch_sub(1, std::memory_order_acq_rel) == 1) delete p;  // the map is gone
      }
    }

    // mapiterinit
    explicit iter(const map_t* m) : h_(&m->h_), m_(m) {
      if (m->h_.count == 0) return;
      m->check_read(MapOp::iterate);
      B_ = m->h_.B;
      buckets_ = static_cast<char*>(m->h_.buckets);
      // decide where to start
      uintptr_t r = fastrand();
      if (B_ > 31 - bucketCntBits) r += static_cast<uintptr_t>(fastrand()) << 31;
      startBucket_ = r & bucketMask(B_);
      offset_ = static_cast<uint8_t>((r >> B_) & (bucketCnt - 1));
      bucket_ = startBucket_;
      // Remember we have an iterator. Can run concurrently with another iterator init.
      uint8_t f = m->flags();
      if ((f & (detail::iterator | oldIterator)) != (detail::iterator | oldIterator))
        m->h_.flags.fetch_or(detail::iterator | oldIterator, std::memory_order_relaxed);
      // goro: and hold the entries in place while this range loop runs.
      iterhold* p = m->h_.iters.load(std::memory_order_acquire);
      if (!p) {  // the map's first range loop (readers may race to make it)
        auto* n = new iterhold{1};
        if (m->h_.iters.compare_exchange_strong(p, n, std::memory_order_acq_rel))
          p = n;
        else
          delete n;
      }
      p->refs.fetch_add(1, std::memory_order_relaxed);
      hold_ = p;
      next();
    }

    // An iterator at entry s of the chain for `hash` (find, try_emplace).
    iter(const map_t* m, uintptr_t hash, Slot s, bool in_old) : h_(&m->h_), m_(m) {
      B_ = m->h_.B;
      buckets_ = static_cast<char*>(m->h_.buckets);
      uintptr_t bi = hash & bucketMask(B_);
      startBucket_ = bi;
      bucket_ = bi + 1;
      if (bucket_ == bucketShift(B_)) {
        bucket_ = 0;
        wrapped_ = true;
      }
      checkBucket_ = in_old ? bi : noCheck;
      newAfter_ = in_old && (m->flags() & pausedInsert) ? bi : noCheck;
      bptr_ = s.b;
      i_ = static_cast<uint8_t>(s.i + 1);
      offset_ = 0;
      key_ = &key_at(s.b, s.i);
      elem_ = &elem_at(s.b, s.i);
    }

    [[noreturn, gnu::cold]] void invalidated() const {
      report_map_misuse(hold_ ? "map iterator used after its map was moved or swapped (goro)"
                              : "map iterator used after an insert moved the map's entries (goro)",
                        h_, MapOp::iterate);
    }

    // mapiternext
    void next() {
      const hmap& h = *h_;
      m_->check_read(MapOp::iterate);
      // A range iterator's array stays (as buckets, or as oldbuckets after a
      // growth started under it: it reads that one, as Go's it.buckets) until
      // it lets go. A position (find, try_emplace) holds nothing: an insert
      // that moved entries makes it invalid.
      if (hold_ ? buckets_ != h.buckets && buckets_ != h.oldbuckets
                : h.buckets != buckets_ || (checkBucket_ != noCheck && !h.oldbuckets)) [[unlikely]]
        invalidated();
      uintptr_t bucket = bucket_;
      char* b = bptr_;
      uintptr_t i = i_;
      uintptr_t checkBucket = checkBucket_;
      uintptr_t newAfter = newAfter_;
      bool same = h.flags.load(std::memory_order_relaxed) & sameSizeGrow;
      for (;;) {
        if (!b && newAfter != noCheck) [[unlikely]] {
          // The old bucket just read is not evacuated, and inserts while
          // evacuation was paused put keys of it in its new bucket: those too.
          b = map_t::bucket(buckets_, newAfter);
          newAfter = noCheck;
          checkBucket = noCheck;
          i = 0;
        }
        if (!b) {
          if (bucket == startBucket_ && wrapped_) {  // end of iteration
            key_ = nullptr;
            elem_ = nullptr;
            release();
            return;
          }
          if (h.oldbuckets && B_ == h.B) {
            // Started during a grow that isn't done yet. If the bucket we're
            // looking at hasn't been filled in yet (its old bucket is not
            // evacuated), iterate the old bucket and keep only the entries
            // that will migrate to this bucket.
            uintptr_t oldbucket = bucket & m_->oldbucketmask();
            b = map_t::bucket(h.oldbuckets, oldbucket);
            if (!evacuated(b)) {
              checkBucket = bucket;
              if (h.flags.load(std::memory_order_relaxed) & pausedInsert) newAfter = bucket;
            } else {
              b = map_t::bucket(buckets_, bucket);
              checkBucket = noCheck;
            }
          } else {
            b = map_t::bucket(buckets_, bucket);
            checkBucket = noCheck;
          }
          bucket++;
          if (bucket == bucketShift(B_)) {
            bucket = 0;
            wrapped_ = true;
          }
          i = 0;
        }
        if (checkBucket == noCheck) {
          // A bucket of the current array: no evacuated states, no filter.
          // Find the next live slot in the rotated order (i + offset) & 7
          // with one SWAR step: rotating the live-slot mask right by offset
          // bytes puts slot (j + offset) & 7 at byte j.
          uint64_t rot = std::rotr(live_slots(load_tophash(b)), offset_ * 8);
          rot &= i < bucketCnt ? ~uint64_t{0} << (i * 8) : 0;
          if (rot) {  // (kept apart from the slow path's copy: merging the two
                      // into one helper cost 12-15% of iteration, measured)
            uintptr_t j = slot_of(rot);
            uintptr_t offi = (j + offset_) & (bucketCnt - 1);
            key_ = &key_at(b, offi);
            elem_ = &elem_at(b, offi);
            bucket_ = bucket;
            bptr_ = b;
            i_ = static_cast<uint8_t>(j + 1);
            checkBucket_ = checkBucket;
            newAfter_ = newAfter;
            return;
          }
          b = overflow(b);
          i = 0;
          continue;
        }
        const uint8_t* th = tophashes(b);
        for (; i < bucketCnt; i++) {
          uintptr_t offi = (i + offset_) & (bucketCnt - 1);
          uint8_t top = th[offi];
          if (isEmpty(top) || top == evacuatedEmpty) continue;
          if (top == evacuatedX || top == evacuatedY) [[unlikely]]
            invalidated();  // Go would look the key up again; ours has moved.
          K& k = key_at(b, offi);
          if (checkBucket != noCheck && !same) {
            // Iterating an old bucket during a grow to a larger size: skip
            // keys that go to the other new bucket.
            if (kReflexiveKey || m_->eq_(k, k)) {
              if ((m_->hash_of(k) & bucketMask(B_)) != checkBucket) continue;
            } else if ((checkBucket >> (B_ - 1)) != static_cast<uintptr_t>(top & 1)) {
              continue;  // NaN: the low bit of tophash decides, as in evacuate
            }
          }
          key_ = &k;
          elem_ = &elem_at(b, offi);
          bucket_ = bucket;
          bptr_ = b;
          i_ = static_cast<uint8_t>(i + 1);
          checkBucket_ = checkBucket;
          newAfter_ = newAfter;
          return;
        }
        b = overflow(b);
        i = 0;
      }
    }

    const hmap* h_ = nullptr;
    const map_t* m_ = nullptr;
    const K* key_ = nullptr;  // current entry; null at end (Go: it.key == nil)
    elem_t* elem_ = nullptr;
    char* buckets_ = nullptr;    // bucket array at iterator initialization
    char* bptr_ = nullptr;       // current bucket
    uintptr_t startBucket_ = 0;  // bucket iteration started at
    uintptr_t bucket_ = 0;       // next bucket to visit
    uintptr_t checkBucket_ = noCheck;
    uintptr_t newAfter_ = noCheck;  // goro: new bucket to read after this old one (pausedInsert)
    uint8_t offset_ = 0;            // intra-bucket offset to start from
    uint8_t B_ = 0;
    uint8_t i_ = 0;
    bool wrapped_ = false;      // already wrapped around from end of bucket array to beginning
    iterhold* hold_ = nullptr;  // goro: a range iterator before its end holds the map's entries
  };

  mutable hmap
      h_;  // first member: &map == &map.h_ (tools rely on it). mutable: iterators set flags.
  [[no_unique_address]] Hash hasher_;
  [[no_unique_address]] Eq eq_;
};

}  // namespace detail

// Map is Go's map[K]V for C++: see the file comment. Hash is called as
// hash(key, seed) (or hash(key), then mixed with the seed); Eq compares keys.
//
// Iterator rules (Go's): writes during a range loop are allowed -- updates,
// inserts, erase, clear. Each entry present when the loop started and not
// erased before its turn is produced exactly once; one inserted during the
// loop at most once. No entry moves while a range loop is live; outside one,
// an insert that grows the map moves entries (references to values and
// positions from find() are then invalid; a position's use is reported).
template <class K, class V, class Hash = goro::Hash<K>, class Eq = goro::Equal<K>>
class Map : public detail::basic_map<K, V, Hash, Eq, true> {
  using base = detail::basic_map<K, V, Hash, Eq, true>;

 public:
  using base::base;
  Map() = default;
  Map(std::initializer_list<typename base::value_type> init) : base(init) {}
};

}  // namespace goro
