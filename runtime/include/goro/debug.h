// goro/debug.h — the runtime's debug surface, in-process half: named
// objects, snapshots and the live endpoint. The out-of-process half is the
// layout descriptor (goro/debug_abi.h) that debuggers read.
//
//   goro::Map<std::string, int> sessions;
//   goro::debug::name(sessions, "sessions");     // tools list it by name
//   std::string json = goro::debug::snapshot();  // docs/snapshot-format.md
//   goro::debug::serve("unix:/tmp/app.sock");    // or GORO_DEBUG=unix:/tmp/app.sock
//
// Named objects. name() registers a Map, Chan, Mutex, RWMutex, WaitGroup,
// Once, Cond or SyncMap under a name (a registry record, detail::namedobj,
// that debuggers walk from detail::named without evaluating an
// expression). The object's destructor unregisters it (for a channel: the
// last handle's). Naming twice renames. Cost: one allocation and a lock
// per name(); a destructor pays one relaxed load while anything is named.
// Goroutines carry their own name/labels (goro::set_name, set_labels).
//
// Snapshots. snapshot() stops the world at scheduler safe points (a
// goroutine is stopped when it blocks, yields or ends; idle workers are
// stopped already), captures every goroutine, the objects they wait on and
// the named objects (maps with their bucket layout, paged), restarts the
// world, then symbolizes frames and renders JSON. A worker whose goroutine
// does not reach a safe point within stop_timeout is left running: its
// goroutine is reported "running" and the snapshot says "partial": true.
// The pause covers capture only: no symbolization, no JSON, and not the
// scan of every goroutine's stack for the waited-on objects' addresses
// (referenced_by, which the deadlock rules need to find leaks: parked
// stacks are scanned after the restart, each before it can change);
// measured in bench/debug. The SIGQUIT and fatal-error dumps render the
// same capture as text (traceback.cpp): one capture, two renderers.
//
// Endpoint. serve(addr) answers snapshot requests on a Unix socket (mode
// 0600) or a loopback TCP port from a thread of its own; the protocol is in
// docs/snapshot-format.md. It can do nothing but produce snapshots.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "goro/chan.h"
#include "goro/map.h"
#include "goro/sync.h"
#include "goro/syncmap.h"

namespace goro::debug {

namespace detail {
void name_object(const void* obj, goro::detail::objkind kind, std::string_view name,
                 void (*syncmapstats)(const void*, int64_t*) = nullptr);
void serve_from_env();  // goro::run: start the endpoint GORO_DEBUG names, once
}  // namespace detail

// name registers obj under `name` (truncated to 46 bytes) until obj is
// destroyed or unname(obj) is called. Callable from any thread.
template <class K, class V, class H, class E>
void name(const goro::Map<K, V, H, E>& m, std::string_view n) {
  detail::name_object(&m, goro::detail::objkind::map, n);
}
template <class T>
void name(const goro::Chan<T>& ch, std::string_view n) {
  if (const void* c = ch.debug_hchan()) detail::name_object(c, goro::detail::objkind::chan, n);
}
inline void name(const Mutex& mu, std::string_view n) {
  detail::name_object(&mu, goro::detail::objkind::mutex, n);
}
inline void name(const RWMutex& rw, std::string_view n) {
  detail::name_object(&rw, goro::detail::objkind::rwmutex, n);
}
inline void name(const WaitGroup& wg, std::string_view n) {
  detail::name_object(&wg, goro::detail::objkind::waitgroup, n);
}
inline void name(const Once& o, std::string_view n) {
  detail::name_object(&o, goro::detail::objkind::once, n);
}
inline void name(const Cond& c, std::string_view n) {
  detail::name_object(&c, goro::detail::objkind::cond, n);
}
template <class K, class V, class H, class E>
void name(const SyncMap<K, V, H, E>& m, std::string_view n) {
  detail::name_object(&m, goro::detail::objkind::syncmap, n,
                      &SyncDebugAccess::stats_unlocked<SyncMap<K, V, H, E>>);
}
// unname removes obj (a named object's address) from the registry.
void unname(const void* obj) noexcept;
template <class T>
void unname(const goro::Chan<T>& ch) noexcept {
  if (const void* c = ch.debug_hchan()) unname(c);
}

// SnapshotOptions selects what snapshot() captures.
struct SnapshotOptions {
  int64_t stop_timeout_ns = 20'000'000;  // wait at most this long for safe points
  bool frames = true;                    // goroutine stacks (symbolized after the pause)
  bool maps = true;                      // named maps' bucket layouts
  std::string map;                       // only the named map called this ("" = all)
  uint64_t bucket_offset = 0;            // paging: first bucket of each array to include
  uint64_t bucket_limit = 4096;          // paging: at most this many buckets per array (0 = all)
  bool references = true;                // referenced_by: scan every goroutine's stack
};

// SnapshotStats reports how the last snapshot() went (for benchmarks/tests).
struct SnapshotStats {
  int64_t pause_ns;      // world stopped: stop request to restart
  int64_t total_ns;      // the whole call
  bool partial;          // some worker did not reach a safe point in time
  size_t goroutines;     // captured
  size_t bytes;          // JSON size
  size_t stack_bytes;    // stack bytes scanned for referenced_by
  int64_t scan_ns;       // that scan, after the pause (parked stacks: see capture.cpp)
  int64_t max_pause_ns;  // the longest stop: the pause, or a big map's slice (capture.cpp)
  uint32_t stops;        // how many times the world was stopped (1 + big maps' slices)
  uint32_t slow_stops;   // of those, the ones over 1 ms
};

// snapshot captures the runtime's state and returns it as JSON (format:
// docs/snapshot-format.md, schema: docs/snapshot.schema.json). Callable
// from a goroutine or a plain thread, inside or outside goro::run (outside:
// no goroutines). Snapshots are serialized: a second caller waits.
std::string snapshot(const SnapshotOptions& opt = {}, SnapshotStats* stats = nullptr);

// serve starts the live endpoint at addr: "unix:/path" (socket mode 0600;
// an existing socket file is replaced) or "tcp:HOST:PORT" (HOST must be a
// loopback address unless allow_remote; PORT 0 picks one). Returns false
// and sets *err if it cannot. At most one endpoint; serve again replaces it.
// The environment variable GORO_DEBUG=ADDR starts one in goro::run.
bool serve(std::string_view addr, std::string* err = nullptr, bool allow_remote = false);
// serving_address is the endpoint's actual address ("tcp:127.0.0.1:43121"),
// "" if none.
std::string serving_address();
// stop_serving closes the endpoint and its connections (waits for its thread).
void stop_serving() noexcept;

}  // namespace goro::debug
