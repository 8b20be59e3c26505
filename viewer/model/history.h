// history.h — the last N snapshots, oldest first, for the timeline scrubber.
// No ImGui. A snapshot is shared (shared_ptr<const Snapshot>) so the UI
// thread can hold the one it draws while the I/O thread pushes newer ones.
#pragma once

#include <cstddef>
#include <deque>
#include <memory>

#include "snapshot.h"

namespace goroscope::view {

class History {
 public:
  explicit History(size_t capacity = 256) : cap_(capacity ? capacity : 1) {}
  // push appends a snapshot, dropping the oldest beyond the capacity.
  void push(std::shared_ptr<const Snapshot> s) {
    items_.push_back(std::move(s));
    if (items_.size() > cap_) items_.pop_front();
  }
  size_t size() const { return items_.size(); }
  size_t capacity() const { return cap_; }
  bool empty() const { return items_.empty(); }
  // at(i): 0 is the oldest kept; latest() the newest.
  const std::shared_ptr<const Snapshot>& at(size_t i) const { return items_[i]; }
  const std::shared_ptr<const Snapshot>& latest() const { return items_.back(); }
  void clear() { items_.clear(); }

 private:
  size_t cap_;
  std::deque<std::shared_ptr<const Snapshot>> items_;
};

}  // namespace goroscope::view
