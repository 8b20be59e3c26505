// goro/misuse.h — Go's always-on map misuse detection, and who to blame.
//
// Go's runtime catches unsynchronized map use with a single header bit:
// writers set hashWriting while they mutate, and every reader, iterator and
// writer that finds the bit already set throws "concurrent map read and map
// write", "concurrent map iteration and map write" or "concurrent map
// writes". Go names only the victim (the goroutine that noticed). goro also
// names the holder: the writer stores its identity in hmap.writer when it
// sets hashWriting, so the report names both sides.
//
// Protocol (per map operation; h is the map header)
//   read / iterate:  if h.flags & hashWriting      -> report(read|iterate)
//   write begin:     if h.flags & hashWriting      -> report(writes)
//                    h.writer = me; h.flags ^= hashWriting
//   write end:       if !(h.flags & hashWriting)   -> report(writes)
//                    h.flags &^= hashWriting
// flags and writer are std::atomic accessed with relaxed loads and stores
// (plain MOVs on x86, exactly Go's plain stores) so the detector itself is
// free of data races and TSan builds stay possible. Like Go's, it is a
// best-effort detector: it catches overlapping operations, not every race.
//
// The writer identity is stored only when it differs from the one recorded
// (a store per write cost 11-15% of 1M-entry inserts, measured; see map.h).
// Identities are 64-bit tokens: the top two bits give the kind (OS thread
// now; goroutine once the scheduler sets the token on every switch), the
// rest the id (Linux tid or goid). They are read from one constinit
// thread_local, so recording the writer costs one TLS load and one store.
//
// Actions: Go's default (print `fatal error: <message>` and both parties to
// stderr, exit 2), throw goro::ConcurrentMapMisuse (tests), or call a
// handler. The action is process-wide and may be changed at any time.
#pragma once

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <stdexcept>
#include <string>

namespace goro {

namespace detail {
struct hmap;
struct maptype;
}  // namespace detail

// MapOp is what the party that noticed a misuse was doing.
enum class MapOp : uint8_t { read, write, iterate };

// Who is a thread or goroutine identity token (see file comment).
struct Who {
  enum Kind : uint8_t { none = 0, thread = 1, goroutine = 2 };
  uint64_t token = 0;
  // For goroutines, where it was created (captured when the misuse is
  // detected: the goroutine may have ended by the time it is rendered).
  uintptr_t gopc = 0;   // return address of its go() call; 0: main goroutine / unknown
  uint64_t parent = 0;  // creator's goid
  bool found = false;   // the goroutine existed at detection

  Kind kind() const { return static_cast<Kind>(token >> 62); }
  uint64_t id() const { return token & ((uint64_t{1} << 62) - 1); }
  static Who make(Kind k, uint64_t id) { return Who{(uint64_t{k} << 62) | id}; }
  // describe renders "thread 4711 [name]" (or "goroutine 7 (created by
  // ...)"); "unknown" when empty. It is id_text (formatted into buf, no
  // allocation) followed by details (symbolized).
  std::string describe() const;
  const char* id_text(char* buf, std::size_t size) const;
  std::string details() const;
  friend bool operator==(Who a, Who b) { return a.token == b.token; }
  // capture fills gopc/parent/found from the goroutine registry.
  void capture();
};

// MapMisuse describes one detected misuse.
struct MapMisuse {
  const char* message;          // Go's text, e.g. "concurrent map writes"
  const void* map;              // address of the goro::Map (== its hmap)
  const detail::maptype* type;  // the map's type descriptor
  MapOp op;                     // what the victim was doing
  Who victim;                   // who noticed
  Who holder;                   // who had set hashWriting (may be empty)
  // describe renders the report as printed after "fatal error: <message>".
  std::string describe() const;
  // each_party_piece calls put(const char*) with the pieces of its last two
  // lines (who noticed, who held hashWriting) in order; the ids come before
  // the details (with_details: symbolized, allocating), so a writer that
  // writes each piece at once gets the ids out whatever happens next.
  template <class Put>
  void each_party_piece(bool with_details, Put put) const;
};

template <class Put>
void MapMisuse::each_party_piece(bool with_details, Put put) const {
  static constexpr const char* kOp[] = {"map read", "map write", "map iteration"};
  char buf[48];
  auto party = [&](const Who& w) {
    put(w.id_text(buf, sizeof buf));
    if (with_details && w.token) put(w.details().c_str());
  };
  put("\tthis ");
  put(kOp[static_cast<int>(op)]);
  put(": ");
  party(victim);
  put("\n\tconflicting map write: ");
  party(holder);
  if (holder.token)
    put(holder == victim ? " (the same party: the flag was cleared under it by another writer)"
                         : " (set hashWriting)");
  put("\n");
}

// ConcurrentMapMisuse is thrown when the action is MisuseAction::throw_exception.
class ConcurrentMapMisuse : public std::runtime_error {
 public:
  explicit ConcurrentMapMisuse(const MapMisuse& m);
  const MapMisuse& info() const { return info_; }

 private:
  MapMisuse info_;
};

enum class MisuseAction : uint8_t {
  fatal,            // Go's behaviour: print to stderr, exit status 2 (default)
  throw_exception,  // throw ConcurrentMapMisuse from the detecting call
  handler,          // call the function set by set_misuse_handler, then as fatal
};

using MisuseHandler = void (*)(const MapMisuse&);

// set_misuse_action selects what happens on a detected misuse. Thread-safe.
void set_misuse_action(MisuseAction a);
MisuseAction misuse_action();
// set_misuse_handler installs h and selects MisuseAction::handler. h may
// throw its own exception; if it returns, the program exits as in fatal mode
// (the map's state is unknown: continuing would risk memory corruption).
void set_misuse_handler(MisuseHandler h);

namespace detail {

// tls_who is the calling thread's identity token; 0 until first use. The
// scheduler (later) stores the running goroutine's token here on every switch.
extern constinit thread_local uint64_t tls_who;
uint64_t init_who() noexcept;

inline uint64_t current_who() noexcept {
  uint64_t w = tls_who;
  if (__builtin_expect(w == 0, 0)) w = init_who();
  return w;
}

// tls_mapop is the map whose write the calling thread is inside (between
// begin_write and end_write), else null: when a fault or a heap abort
// interrupts a map write -- two writers evacuating one bucket array, a
// free of an array the other writer already freed -- the signal handler
// reports "unexpected signal during map operation" with the map and the
// conflicting writer instead of dying in silence (signal.cpp). A write that
// runs a nested map write (a user's Hash writing another map) clears it
// early; the cost is two stores to a thread-private line per write.
extern constinit thread_local const hmap* tls_mapop;

// report_map_misuse performs the configured action and never returns
// normally (it exits, throws, or the handler does; a handler that returns
// ends the program as in fatal mode). Cold, out of line. [[noreturn]] lets
// the map's fast paths keep header fields in registers across the check.
[[noreturn, gnu::cold, gnu::noinline]] void report_map_misuse(const char* message, const hmap* h,
                                                              MapOp op);

}  // namespace detail
}  // namespace goro
