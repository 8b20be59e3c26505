// sources.h — where snapshots come from, all off the UI thread: files, the
// runtime's live endpoint (--connect ADDR: a stream at a requested rate,
// reconnecting with backoff when the program goes away), and pushes from the
// debugger plugins (--listen ADDR: one connection per snapshot, one JSON
// line). Every source parses on its own thread and hands complete
// snapshots (or a refusal's reason) to the UI through an Inbox; the UI
// thread never blocks on I/O. No ImGui.
#pragma once

#include <atomic>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "snapshot.h"

namespace goroscope::view {

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
  std::vector<Delivery> items_;
};

// SourceStatus is one line for the UI's status bar.
struct SourceStatus {
  std::string name;   // "live unix:/tmp/app.sock", "listening tcp:127.0.0.1:7070"
  std::string state;  // "connected", "disconnected (retrying in 1.0 s): ...", ...
  bool ok = false;
};

class Source {
 public:
  virtual ~Source() = default;
  virtual SourceStatus status() const = 0;
};

// load_file parses a snapshot file on a detached-but-joined thread.
std::unique_ptr<Source> load_file(const std::string& path, Inbox& inbox);
// connect_endpoint streams snapshots from the runtime's endpoint at hz.
std::unique_ptr<Source> connect_endpoint(const std::string& addr, double hz, Inbox& inbox);
// listen_pushes accepts snapshots pushed by the debugger plugins.
std::unique_ptr<Source> listen_pushes(const std::string& addr, Inbox& inbox, std::string* error);

// dial/listen helpers shared with tests: "unix:/path" or "tcp:HOST:PORT".
int dial(const std::string& addr, std::string* error);

}  // namespace goroscope::view
