// mixed_store.cpp — Store (mixed_store.h), in its own translation unit as an
// application's classes are.
#include "mixed_store.h"

#include <mutex>
#include <numeric>

namespace inventory {

__attribute__((noinline)) void Store::update(int key, goro::WaitGroup* wg) {
  {
    std::lock_guard<goro::Mutex> lk(mu_);  // parks: the bench holds mu_
    counts_[static_cast<size_t>(key) % counts_.size()]++;
  }
  wg->done();
}

int64_t Store::total() const { return std::accumulate(counts_.begin(), counts_.end(), int64_t{0}); }

}  // namespace inventory
