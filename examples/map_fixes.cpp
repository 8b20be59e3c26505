// map_fixes.cpp — gallery scenario 4: the fix for scenarios 1-3, three ways.
//
// The workload of scenarios 1-3 (two writers, a reader, an iterating
// exporter on one map), made safe:
//   mutex   one goro::Mutex around every access (simple; readers wait too);
//   rwmutex a goro::RWMutex: readers and the exporter share it, writers
//           take it alone (readers proceed in parallel);
//   owner   one goroutine owns the map and serves get/put/snapshot requests
//           over a channel ("share memory by communicating"): no lock at all.
// Each runs clean under goro's detector, and under ThreadSanitizer and
// ASan+UBSan (ctest runs it in those builds too). `map_fixes [mutex|rwmutex|
// owner]` runs one; no argument runs all three.
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <string>

#include "goro/debug.h"
#include "goro/goro.h"

extern "C" [[gnu::noinline]] void checkpoint() { std::printf("checkpoint\n"); }

using Map = goro::Map<int64_t, int64_t>;
constexpr int64_t kOps = 20'000;

// The same four workers for each fix; Access says how to touch the map.
template <class Access>
int64_t workload(Access& a) {
  goro::WaitGroup wg;
  std::atomic<int64_t> seen{0};
  wg.add(4);
  for (int64_t first : {0, 1000})  // two writers
    goro::go([&, first] {
      for (int64_t i = 0; i < kOps; i++) a.put((first + i) % 512, i);
      wg.done();
    });
  goro::go([&] {  // a reader
    int64_t s = 0;
    for (int64_t i = 0; i < kOps; i++) s += a.get(i % 512);
    seen += s;
    wg.done();
  });
  goro::go([&] {  // an exporter, iterating
    for (int r = 0; r < 20; r++) seen += a.sum();
    wg.done();
  });
  wg.wait();
  return seen.load();
}

struct WithMutex {
  Map m;
  goro::Mutex mu;
  void put(int64_t k, int64_t v) {
    mu.lock();
    m[k] = v;
    mu.unlock();
  }
  int64_t get(int64_t k) {
    mu.lock();
    int64_t v = m.get(k).first;
    mu.unlock();
    return v;
  }
  int64_t sum() {
    mu.lock();  // iterate under the lock (or copy under it, then iterate the copy)
    int64_t s = 0;
    for (auto&& [k, v] : m) s += v;
    mu.unlock();
    return s;
  }
};

struct WithRWMutex {
  Map m;
  goro::RWMutex rw;
  void put(int64_t k, int64_t v) {
    rw.lock();
    m[k] = v;
    rw.unlock();
  }
  int64_t get(int64_t k) {
    rw.rlock();
    int64_t v = m.get(k).first;
    rw.runlock();
    return v;
  }
  int64_t sum() {
    rw.rlock();  // readers and iteration share the lock
    int64_t s = 0;
    for (auto&& [k, v] : m) s += v;
    rw.runlock();
    return s;
  }
};

struct WithOwner {
  struct Req {
    int op;  // 0 put, 1 get, 2 sum
    int64_t k, v;
    goro::Chan<int64_t> reply;
  };
  goro::Chan<Req> reqs = goro::make_chan<Req>();
  goro::WaitGroup stopped;
  WithOwner() {
    stopped.add(1);
    goro::go([this] {  // the owner: the only goroutine that touches m
      Map m;
      goro::debug::name(m, "owned");
      goro::debug::name(reqs, "requests");
      for (;;) {
        auto [r, ok] = reqs.recv_ok();
        if (!ok) break;
        if (r.op == 0) {
          m[r.k] = r.v;
        } else if (r.op == 1) {
          r.reply.send(m.get(r.k).first);
        } else {
          int64_t s = 0;
          for (auto&& [k, v] : m) s += v;
          r.reply.send(s);
        }
      }
      stopped.done();
    });
  }
  ~WithOwner() {
    reqs.close();
    stopped.wait();
  }
  int64_t ask(int op, int64_t k = 0) {
    auto reply = goro::make_chan<int64_t>(1);
    reqs.send(Req{op, k, 0, reply});
    return reply.recv();
  }
  void put(int64_t k, int64_t v) { reqs.send(Req{0, k, v, {}}); }
  int64_t get(int64_t k) { return ask(1, k); }
  int64_t sum() { return ask(2); }
};

int main(int argc, char** argv) {
  std::string only = argc > 1 ? argv[1] : "";
  return goro::run(goro::Config{2, 0}, [&] {
    if (only.empty() || only == "mutex") {
      WithMutex a;
      std::printf("mutex: ok (%zu keys, %lld)\n", a.m.size(), static_cast<long long>(workload(a)));
    }
    if (only.empty() || only == "rwmutex") {
      WithRWMutex a;
      std::printf("rwmutex: ok (%zu keys, %lld)\n", a.m.size(),
                  static_cast<long long>(workload(a)));
    }
    if (only.empty() || only == "owner") {
      WithOwner a;
      a.put(1, 1);
      a.get(1);  // answered after the put is applied: the map holds 1 key
      goro::sleep(std::chrono::milliseconds(50));  // the owner is back waiting in reqs.recv
      checkpoint();  // the owner waits for requests: the map has one user
      std::printf("owner: ok (%lld)\n", static_cast<long long>(workload(a)));
    }
    return 0;
  });
}
