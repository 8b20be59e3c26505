// functor.cpp — goroutines whose entry is a function object: a struct with
// operator() holding its channels (a heartbeat select loop), std::bind of a
// member function with its arguments, and std::bind_front.
#include <functional>
#include <string>

#include "corpus.h"

namespace monitor {

struct Heartbeat {
  goro::Chan<int> beats;
  goro::Chan<int> stop;
  int missed = 0;

  void operator()() {
    corpus::mark("heartbeat");
    for (;;) {
      int v = 0;
      int which = goro::select(goro::recv(beats, v), goro::recv(stop, v));  // @park heartbeat fn=Heartbeat::operator()
      if (which == 1) return;
      missed = 0;
    }
  }
};

class Cache {
 public:
  void evict(int keep, goro::Chan<std::string> log) {
    corpus::mark("evict");
    std::lock_guard<goro::Mutex> lk(mu_);  // @park evict fn=Cache::evict
    log.send("evicted to " + std::to_string(keep));
  }
  void warm(const std::string& region, goro::RWMutex* rw) {
    corpus::mark("warm");
    rw->lock();  // @park warm fn=Cache::warm
    warmed_ = region;
    rw->unlock();
  }
  goro::Mutex mu_;

 private:
  std::string warmed_;
};

}  // namespace monitor

int main() {
  return goro::run([] {
    monitor::Heartbeat hb{goro::make_chan<int>(), goro::make_chan<int>()};
    goro::go(hb);  // @go heartbeat

    monitor::Cache cache;
    cache.mu_.lock();
    auto log = goro::make_chan<std::string>();
    goro::go(std::bind(&monitor::Cache::evict, &cache, 10, log));  // @go evict

    goro::RWMutex rw;
    rw.rlock();
    goro::go(std::bind_front(&monitor::Cache::warm, &cache, std::string("eu-west")), &rw);  // @go warm
    corpus::settle();
    checkpoint();
    corpus::hold();
    return 0;
  });
}
