// from_thread.cpp — goroutines started from plain std::threads while
// goro::run is running (goro::go is callable from any thread then): a
// legacy event loop hands each event to a goroutine through a callback,
// and a thread starts a poller directly.
#include <string>
#include <thread>
#include <vector>

#include "corpus.h"

struct Event {
  int fd;
  std::string kind;
};

// on_event is the event loop's callback: one goroutine per event.
void on_event(goro::Chan<Event> sink, Event e) {
  goro::go([sink, e]() mutable {  // @go handler
    corpus::mark("handler");
    sink.send(e);  // @park handler x3 fn=on_event
  });
}

void event_loop(goro::Chan<Event> sink, int n) {
  for (int fd = 3; fd < 3 + n; fd++) on_event(sink, Event{fd, "readable"});
}

void poll_devices(goro::Chan<int> irq, std::string bus) {
  corpus::mark("poller");
  for (;;) {
    int line = irq.recv();  // @park poller fn=poll_devices
    std::printf("%s: irq %d\n", bus.c_str(), line);
  }
}

int main() {
  return goro::run([] {
    auto sink = goro::make_chan<Event>();
    auto irq = goro::make_chan<int>();
    std::thread loop(event_loop, sink, 3);
    std::thread hw([irq] { goro::go(poll_devices, irq, std::string("pci0")); });  // @go poller
    loop.join();
    hw.join();
    corpus::settle();
    checkpoint();
    corpus::hold();
    return 0;
  });
}
