// sources.h — where snapshots come from, all off the UI thread: files, the
// runtime's live endpoint (--connect ADDR: a stream at a requested rate,
// reconnecting with backoff when the program goes away), and pushes from the
// debugger plugins (--listen ADDR: one JSON line per snapshot, usually one
// connection per snapshot: python/goroscope/push.py). Every source parses on
// its own thread and hands complete snapshots (or a refusal's reason) to the
// UI through an Inbox; the UI thread never blocks on I/O. No ImGui.
//
// Both sockets speak newline-delimited JSON, read by one LineBuffer per
// connection: each byte is searched for '\n' once (the buffer remembers how
// far it has looked), and a line is refused as soon as its buffered part
// passes the cap, not when it ends. The push listener serves every peer from
// one poll() loop (ListenOptions: idle timeout, peer and memory bounds), so
// a peer that connects and says nothing delays no one.
#pragma once

#include <atomic>
#include <chrono>
#include <cstddef>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "snapshot.h"

namespace goroscope::view {

// kMaxLine: the longest line (one snapshot) a socket source accepts. A
// 10M-entry map's snapshot is about 0.6 GiB (parse_1M_map: 62 MB per
// million entries, docs/viewer.md), so 1 GiB refuses nothing real.
constexpr size_t kMaxLine = size_t{1} << 30;

// Inbox: what sources deliver, taken by the UI once per frame.
struct Delivery {
  std::shared_ptr<const Snapshot> snapshot;  // null: a refusal
  std::string origin;                        // "file x.json", "unix:/tmp/a.sock"
  std::string error;                         // why it was refused
};

class Inbox {
 public:
  void put(Delivery d);
  std::vector<Delivery> take();

 private:
  std::mutex mu_;
  std::vector<Delivery> items_;  // guarded by mu_
};

// SourceStatus is one line for the UI's status bar.
struct SourceStatus {
  std::string name;   // "live unix:/tmp/app.sock", "listening tcp:127.0.0.1:7070"
  std::string state;  // "connected", "disconnected (retrying in 1.0 s): ...", ...
  bool ok = false;
  bool finished = false;  // it will deliver nothing more (a file, once read)
};

class Source {
 public:
  virtual ~Source() = default;
  virtual SourceStatus status() const = 0;
};

// LineBuffer splits a byte stream into lines, in time linear in the bytes:
// append() searches only the bytes it has not searched yet, and the
// consumed prefix is dropped only when no complete line is left (each byte
// is moved at most once). A line (without its '\n') longer than max_line is
// refused as soon as max_line + 1 of its bytes are buffered (by append(); a
// line behind another in the same append, by the next() that reaches it):
// error() says so, the memory is given back, and the buffer takes and gives
// nothing more. Not thread-safe: one connection's reader owns it.
class LineBuffer {
 public:
  explicit LineBuffer(size_t max_line = kMaxLine) : max_line_(max_line) {}
  // append adds n bytes; false when the buffer has refused a line (error()).
  bool append(const char* p, size_t n);
  // next moves the next complete line, without its '\n', into line; false
  // when no complete line is buffered (or after a refusal).
  bool next(std::string& line);
  size_t buffered() const { return buf_.size() - head_; }  // bytes not yet returned
  size_t scanned() const { return scanned_; }              // bytes searched for '\n', in total
  const std::string& error() const { return error_; }      // empty until a refusal

 private:
  void find();  // advance scan_ to the next '\n' (nl_) or the end; check the cap

  std::string buf_;
  size_t max_line_;
  size_t head_ = 0;                // start of the first line not yet returned
  size_t scan_ = 0;                // [head_, scan_) searched; its one '\n', if any, at nl_
  size_t nl_ = std::string::npos;  // the '\n' ending the line at head_, if found
  size_t scanned_ = 0;             // bytes memchr has looked at, ever
  std::string error_;              // why a line was refused
};

// ListenOptions: the push listener's bounds (listen_pushes). The defaults
// and their reasons are in sources.cpp, beside the loop that applies them.
struct ListenOptions {
  std::chrono::milliseconds idle{10000};          // a peer that sends nothing this long is closed
  size_t max_peers = 64;                          // connections open at once; the most idle goes
  size_t max_buffered = kMaxLine + (256u << 20);  // bytes buffered across all peers
  size_t max_line = kMaxLine;                     // one snapshot's line
};

// load_file parses a snapshot file on a detached-but-joined thread.
std::unique_ptr<Source> load_file(const std::string& path, Inbox& inbox);
// connect_endpoint streams snapshots from the runtime's endpoint at hz;
// a line longer than max_line is refused (delivered as a refusal) and the
// client reconnects.
std::unique_ptr<Source> connect_endpoint(const std::string& addr, double hz, Inbox& inbox,
                                         size_t max_line = kMaxLine);
// listen_pushes accepts snapshots pushed by the debugger plugins: any number
// of lines per connection, any number of connections at once (within opts).
std::unique_ptr<Source> listen_pushes(const std::string& addr, Inbox& inbox, std::string* error,
                                      const ListenOptions& opts = {});

// dial/listen helpers shared with tests: "unix:/path" or "tcp:HOST:PORT".
int dial(const std::string& addr, std::string* error);

}  // namespace goroscope::view
