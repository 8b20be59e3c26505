// mixed_store.h — a part of bench/gdb's mixed shape (mixed.cpp): a counter
// store whose writers wait for its lock in a member function.
#pragma once

#include <array>
#include <cstdint>

#include "goro/goro.h"

namespace inventory {

// Store counts updates per shard; update() takes the store's lock.
class Store {
 public:
  void update(int key, goro::WaitGroup* wg);
  // hold and release take and drop the lock from outside (the bench holds it
  // while it measures, so every writer waits in update()).
  void hold() { mu_.lock(); }
  void release() { mu_.unlock(); }
  int64_t total() const;

 private:
  goro::Mutex mu_;
  std::array<int64_t, 64> counts_{};  // guarded by mu_
};

}  // namespace inventory
