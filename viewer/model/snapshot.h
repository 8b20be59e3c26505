// snapshot.h — the viewer's model of one snapshot (docs/snapshot-format.md,
// version 1), decoded from JSON. No ImGui: the model library is shared by
// the UI, the headless screenshot mode and command-line tools.
//
// Layout: plain structs in vectors, indexed by position; strings own their
// text. A goroutine's frames, an object's waiter lists and a map's buckets
// are owned by their parent. Addresses are uint64 (JSON: "0x..." strings).
//
// parse_snapshot is the one door in: it accepts only a well-formed version-1
// document and refuses anything else with a reason that names the JSON path
// ("goroutines[3].goid: not an integer"), never crashes and never runs
// unbounded (counts are limited, see kMax*). It is fuzzed (tests/viewer).
// Rejected: validating with the JSON Schema at run time (RapidJSON's
// SchemaValidator costs as much as the parse itself on a 1M-entry map, and
// its messages point at schema keywords, not at what is wrong for a user).
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

namespace goroscope::view {

inline constexpr size_t kMaxGoroutines = 1u << 24;  // far above what a program holds
inline constexpr size_t kMaxFrames = 4096;          // per goroutine
inline constexpr size_t kMaxBuckets = 1u << 26;     // per array (a 2^26-bucket map)
inline constexpr size_t kMaxList = 1u << 24;        // goids per waiter list

struct Frame {
  std::string function, file;
  int line = 0;
  uint64_t pc = 0;
  bool inlined = false, runtime = false;
};

struct WaitOn {
  uint64_t object = 0;
  std::string kind;  // chan, mutex, rwmutex, waitgroup, cond, sema, none
  std::string op;    // recv, send, lock, rlock, wait
  bool select = false;
};

struct Goroutine {
  uint64_t goid = 0;
  std::string status;       // runnable, running, waiting, ...
  std::string wait_reason;  // Go's string, "" unless waiting
  int64_t waiting_ns = 0;
  int64_t created_ns_ago = 0;
  int worker = -1;
  bool current = false, stack_unavailable = false;
  std::string name;
  std::vector<std::pair<std::string, std::string>> labels;
  uint64_t parent = 0;
  uint64_t start_pc = 0;
  std::string start_function;
  uint64_t created_pc = 0;
  std::string created_function, created_file;
  int created_line = 0;
  std::vector<WaitOn> waiting_on;
  std::vector<Frame> frames;
};

// Object is a channel or sync object: the common keys plus the kind's
// integer fields and goid lists by name (see the format's objects table).
struct Object {
  uint64_t addr = 0;
  std::string kind, name, type;
  std::vector<std::pair<std::string, int64_t>> ints;  // qcount, locked (0/1), owner, ...
  std::vector<std::pair<std::string, std::vector<uint64_t>>> lists;  // recvq, waiters, ...
  int64_t get(std::string_view key, int64_t dflt = 0) const;
  const std::vector<uint64_t>* list(std::string_view key) const;
};

// TextRef is a slot's key or elem text: [off, off+len) of its BucketArray's
// text arena; len == kNoText: the slot has none (JSON null).
struct TextRef {
  uint32_t off = 0, len = 0xffffffff;
  bool present() const { return len != 0xffffffff; }
};
inline constexpr uint32_t kNoText = 0xffffffff;

// Bucket is one bucket of a chain. tophash values are Go's (0 emptyRest,
// 1 emptyOne, 2/3 evacuatedX/Y, 4 evacuatedEmpty, >= 5 occupied). Slot
// texts live in the array's arena, not in 16 strings per bucket: a
// 2^20-bucket array is 170 MB this way instead of 700 MB (and parses in a
// third of the time; bench/viewer).
struct Bucket {
  uint64_t addr = 0, overflow = 0;
  uint8_t tophash[8] = {};
  TextRef keys[8], elems[8];
};

struct Chain {
  uint64_t index = 0;
  bool evacuated = false;       // old arrays: the bucket's first tophash says so
  std::vector<Bucket> buckets;  // [0] is the array's own bucket
};

struct BucketArray {
  uint64_t addr = 0, nbuckets = 0, first = 0, count = 0;
  bool truncated_chain = false;
  std::vector<Chain> chains;  // the captured page: chains[i].index in [first, first+count)
  std::string text;           // the slots' key and elem texts (TextRef)
  std::string_view get(TextRef r) const { return {text.data() + r.off, r.len}; }
};

struct MapType {
  std::string key, elem, keykind, elemkind;
  uint32_t keysize = 0, elemsize = 0, bucketsize = 0;
  bool indirectkey = false, indirectelem = false;
};

struct Map {
  uint64_t addr = 0;
  std::string name;
  int64_t count = 0;
  int B = 0;
  uint32_t flags = 0;
  uint32_t noverflow = 0;
  uint64_t hash0 = 0;
  uint64_t nevacuate = 0;
  bool growing = false;
  double load_factor = 0;
  std::string writer_kind;  // none, thread, goroutine
  uint64_t writer_id = 0;
  MapType type;
  bool buckets_omitted = false;
  BucketArray buckets;
  std::optional<BucketArray> oldbuckets;
};

inline constexpr uint32_t kFlagIterator = 1, kFlagOldIterator = 2, kFlagHashWriting = 4,
                          kFlagSameSizeGrow = 8;

struct Snapshot {
  std::string producer;
  int64_t pid = 0;
  int64_t wall_ns = 0, monotonic_ns = 0;
  bool running = false, stopped = false, partial = false;
  int64_t pause_ns = 0;
  int workers = 0;
  uint64_t main_goid = 0;
  std::vector<Goroutine> goroutines;
  std::vector<Object> objects;
  std::vector<Map> maps;

  // Lookups (built by parse_snapshot).
  std::unordered_map<uint64_t, size_t> goroutine_index;  // goid -> goroutines[i]
  std::unordered_map<uint64_t, size_t> object_index;     // addr -> objects[i]
  const Goroutine* goroutine(uint64_t goid) const;
  const Object* object(uint64_t addr) const;
};

// parse_snapshot decodes one snapshot; on failure returns nullopt and sets
// *error to one line naming the JSON path and what is wrong with it.
std::optional<Snapshot> parse_snapshot(std::string_view json, std::string* error);

}  // namespace goroscope::view
