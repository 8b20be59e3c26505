// member_fn.cpp — goroutines that run member functions: started with a
// pointer to member and `this`, with a lambda capturing `this`, through a
// virtual call, and a const member taking an argument. Classes live in a
// namespace, as application code does.
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "corpus.h"

namespace app::net {

class Handler {
 public:
  virtual ~Handler() = default;
  virtual void run() = 0;
};

class Echo : public Handler {
 public:
  explicit Echo(goro::Chan<std::string> in) : in_(in) {}
  void run() override {
    corpus::mark("echo");
    for (;;) {
      std::string msg = in_.recv();  // @park echo fn=Echo::run
      if (msg == "quit") return;
    }
  }

 private:
  goro::Chan<std::string> in_;
};

class Server {
 public:
  explicit Server(int workers) : workers_(workers), conns_(goro::make_chan<int>()) {}

  void start(std::shared_ptr<Handler> h) {
    goro::go(&Server::accept_loop, this);                                  // @go accept
    for (int i = 0; i < workers_; i++) goro::go([this, i] { serve(i); });  // @go serve @call serve 1
    goro::go(&Server::report, this, std::string("stats"));                 // @go report
    goro::go([h] { h->run(); });                                           // @go echo @call echo 1
  }
  void pause() { mu_.lock(); }

 private:
  void accept_loop() {
    corpus::mark("accept");
    for (;;) {
      int fd = conns_.recv();  // @park accept fn=Server::accept_loop
      open_.push_back(fd);
    }
  }
  void serve(int id) {
    corpus::mark("serve");
    std::lock_guard<goro::Mutex> lk(mu_);  // @park serve x2 fn=Server::serve
    served_ += id;
  }
  void report(std::string label) const {
    corpus::mark("report");
    drained_.wait();  // @park report fn=Server::report
    std::printf("%s: %d\n", label.c_str(), served_);
  }

  int workers_;
  goro::Chan<int> conns_;
  goro::Mutex mu_;
  mutable goro::WaitGroup drained_;
  std::vector<int> open_;
  int served_ = 0;

 public:
  void expect_drain() { drained_.add(1); }
};

}  // namespace app::net

int main() {
  return goro::run([] {
    app::net::Server srv(2);
    srv.pause();
    srv.expect_drain();
    srv.start(std::make_shared<app::net::Echo>(goro::make_chan<std::string>()));
    corpus::settle();
    checkpoint();
    corpus::hold();
    return 0;
  });
}
