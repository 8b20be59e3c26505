// exceptions.cpp — goroutines that throw and catch before they park: a
// parse error thrown three calls down and caught in the goroutine, goro's
// own Panic ("send on closed channel") recovered, and an exception rethrown
// through a catch-all. Each parks after its handler has finished (parking
// inside a catch block would carry the thread's exception state to another
// worker).
#include <stdexcept>
#include <string>
#include <vector>

#include "corpus.h"

struct ParseError : std::runtime_error {
  using std::runtime_error::runtime_error;
};

int parse_digit(char c) {
  if (c < '0' || c > '9') throw ParseError(std::string("not a digit: ") + c);
  return c - '0';
}

int parse_port(const std::string& s) {
  int port = 0;
  for (char c : s) port = port * 10 + parse_digit(c);
  return port;
}

void load_ports(std::vector<std::string> specs, goro::Chan<std::string> errors) {
  corpus::mark("loader");
  for (const auto& spec : specs) {
    std::string err;
    try {
      parse_port(spec);
    } catch (const ParseError& e) {
      err = e.what();
    }
    if (!err.empty()) errors.send(err);  // @park loader fn=load_ports
  }
}

void notify_closed(goro::Chan<int> done, goro::Mutex* mu) {
  corpus::mark("recover");
  bool recovered = false;
  try {
    done.send(1);
  } catch (const goro::Panic& p) {
    recovered = std::string(p.what()) == "send on closed channel";
  }
  if (recovered) mu->lock();  // @park recover fn=notify_closed
}

void guarded(goro::WaitGroup* wg) {
  corpus::mark("guarded");
  int attempts = 0;
  try {
    try {
      throw std::out_of_range("shard 9");
    } catch (...) {
      attempts++;
      throw;
    }
  } catch (const std::exception& e) {
    attempts += std::string(e.what()).size() > 0;
  }
  if (attempts == 2) wg->wait();  // @park guarded fn=guarded
}

int main() {
  return goro::run([] {
    auto errors = goro::make_chan<std::string>();
    auto done = goro::make_chan<int>();
    done.close();
    goro::Mutex mu;
    goro::WaitGroup wg;
    mu.lock();
    wg.add(1);
    goro::go(load_ports, std::vector<std::string>{"8080", "80x", "443"}, errors);  // @go loader
    goro::go(notify_closed, done, &mu);                                            // @go recover
    goro::go(guarded, &wg);                                                        // @go guarded
    corpus::settle();
    checkpoint();
    corpus::hold();
    return 0;
  });
}
