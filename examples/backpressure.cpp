// backpressure.cpp — gallery scenario 7: a full queue and its cause.
//
// The bug: six producers feed a buffered channel `work` (capacity 4) whose
// only consumer needs the `audit` mutex for each item; the auditor holds it
// while it sleeps. The queue fills, and every producer waits in `chan send`.
// The symptom is six blocked producers; the cause is one goroutine further
// on. `goroutines -group` folds the six; the viewer draws one channel with
// "x6" senders, the consumer on the mutex, and the auditor holding it.
// The fix: never block a consumer on something slow while holding the line;
// bound the critical section.
#include <chrono>
#include <cstdio>

#include "goro/debug.h"
#include "goro/goro.h"

extern "C" [[gnu::noinline]] void checkpoint() { std::printf("checkpoint\n"); }

using namespace std::chrono_literals;

void produce(goro::Chan<int> work, int id) {
  for (int i = 0;; i++) work.send(id * 1000 + i);  // blocks while the queue is full
}

void consume(goro::Chan<int> work, goro::Mutex* audit) {
  for (;;) {
    auto [item, ok] = work.recv_ok();
    if (!ok) return;
    audit->lock();  // stuck: the auditor holds it
    (void)item;
    audit->unlock();
  }
}

int main() {
  return goro::run([] {
    auto work = goro::make_chan<int>(4);
    goro::debug::name(work, "work");
    goro::Mutex audit;
    goro::debug::name(audit, "audit");
    goro::go([&audit] {  // the auditor: holds the lock for a long time
      goro::set_name("auditor");
      audit.lock();
      goro::sleep(400ms);
      audit.unlock();
    });
    goro::sleep(10ms);
    goro::go(consume, work, &audit);
    for (int id = 0; id < 6; id++) goro::go(produce, work, id);
    goro::sleep(100ms);
    checkpoint();  // the queue is full: 6 producers in chan send
    std::printf("queue %zu/%zu\n", work.len(), work.cap());
    return 0;  // (main returning ends the program, as in Go)
  });
}
