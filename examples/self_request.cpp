// self_request.cpp — gallery scenario 9: the map's owner sends a request to
// itself.
//
// The pattern: one goroutine owns a map and serves get/put requests over a
// channel (the fix of scenarios 1-3). The bug: while handling a request it
// needs another value and asks through the same unbuffered channel, which
// only it receives from. It waits for itself: a cycle of one goroutine.
//
//   fatal error: all goroutines are asleep - deadlock!
//
// `deadlocks` prints the one-goroutine cycle. The fix: inside the owner, read
// the map directly; never send to your own request channel.
#include <cstdint>
#include <cstdio>

#include "goro/debug.h"
#include "goro/goro.h"

struct Request {
  int64_t key;
  goro::Chan<int64_t> reply;
};

void owner(goro::Chan<Request> requests) {
  goro::Map<int64_t, int64_t> prices;
  goro::debug::name(prices, "prices");
  prices[1] = 100;
  for (;;) {
    auto [req, ok] = requests.recv_ok();
    if (!ok) return;
    int64_t price = prices.get(req.key).first;
    if (req.key == 2) {  // a bundle: priced from item 1 ...
      auto inner = goro::make_chan<int64_t>();
      requests.send(Request{1, inner});  // ... asked of itself: blocks forever
      price = inner.recv() * 2;
    }
    req.reply.send(price);
  }
}

int main() {
  return goro::run([] {
    auto requests = goro::make_chan<Request>();
    goro::debug::name(requests, "requests");
    goro::go(owner, requests);
    auto reply = goro::make_chan<int64_t>(1);
    requests.send(Request{1, reply});
    std::printf("item 1: %lld\n", static_cast<long long>(reply.recv()));
    requests.send(Request{2, reply});
    std::printf("bundle: %lld\n", static_cast<long long>(reply.recv()));  // never
    return 0;
  });
}
