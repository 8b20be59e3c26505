// std_function.cpp — goroutines whose entry is a std::function: tasks built
// by factories and started through one spawn() helper, and handlers kept in
// a table of std::function<void(int)> started with an argument.
#include <functional>
#include <map>
#include <string>
#include <utility>
#include <vector>

#include "corpus.h"

using Task = std::function<void()>;

// spawn is the one place this program starts goroutines from a Task.
void spawn(Task t) {
  goro::go(std::move(t));  // @go audit @go flush
}

Task start_audit(goro::Chan<std::string> log, std::string who) {
  return [log, who]() mutable {
    corpus::mark("audit");
    log.send("audit by " + who);  // @park audit fn=start_audit
  };
}

Task make_flush(goro::WaitGroup& pending) {
  return [&pending] {
    corpus::mark("flush");
    pending.wait();  // @park flush fn=make_flush
    std::printf("flushed\n");
  };
}

void install_handlers(std::map<std::string, std::function<void(int)>>& handlers,
                      goro::Chan<int> sizes) {
  handlers["resize"] = [sizes](int w) mutable {
    corpus::mark("resize");
    sizes.send(w * 3 / 4);  // @park resize fn=install_handlers
  };
}

int main() {
  return goro::run([] {
    auto log = goro::make_chan<std::string>();
    auto sizes = goro::make_chan<int>();
    goro::WaitGroup pending;
    pending.add(1);
    spawn(start_audit(log, "ops"));
    spawn(make_flush(pending));

    std::map<std::string, std::function<void(int)>> handlers;
    install_handlers(handlers, sizes);
    goro::go(handlers["resize"], 640);  // @go resize
    corpus::settle();
    checkpoint();
    corpus::hold();
    return 0;
  });
}
