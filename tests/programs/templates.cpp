// templates.cpp — templated code on goroutines: a function template started
// with two instantiations, a class template's method (a bounded queue on a
// Cond), a generic lambda, and a template taking a callable.
#include <array>
#include <cstddef>
#include <string>
#include <vector>

#include "corpus.h"

template <class T>
void drain(goro::Chan<T> ch, std::vector<T>* out) {
  corpus::mark("drain");
  for (;;) {
    T v = ch.recv();  // @park drain x2 fn=drain
    out->push_back(std::move(v));
  }
}

template <class T, std::size_t N>
class Ring {
 public:
  Ring() : not_full_(mu_) {}
  void push(T v) {
    std::lock_guard<goro::Mutex> lk(mu_);
    while (n_ == N) not_full_.wait();  // @park pump fn=Ring
    buf_[(head_ + n_++) % N] = std::move(v);
  }
  void pump(goro::Chan<T> src) {
    corpus::mark("pump");
    for (T v : src) push(std::move(v));  // @call pump 1
  }

 private:
  goro::Mutex mu_;
  goro::Cond not_full_;
  std::array<T, N> buf_{};
  std::size_t head_ = 0, n_ = 0;
};

template <class F>
void with_retries(int n, F&& attempt) {
  for (int i = 0; i < n; i++)
    if (attempt(i)) return;  // @call retry 1
}

// start_generic runs a generic lambda, the channel passed as its argument.
template <class T>
void start_generic(goro::Chan<T> replies) {
  auto await_reply = [](auto ch) mutable {
    corpus::mark("generic");
    auto v = ch.recv();  // @park generic fn=start_generic
    return v;
  };
  goro::go(await_reply, replies);  // @go generic
}

void start_retry(goro::Chan<int> tokens) {
  goro::go([tokens]() mutable {  // @go retry
    corpus::mark("retry");
    with_retries(3, [&](int attempt) { return tokens.recv() > attempt; });  // @park retry fn=start_retry @call retry 2
  });
}

int main() {
  return goro::run([] {
    auto ints = goro::make_chan<int>();
    auto names = goro::make_chan<std::string>();
    std::vector<int> got_ints;
    std::vector<std::string> got_names;
    goro::go(drain<int>, ints, &got_ints);            // @go drain
    goro::go(drain<std::string>, names, &got_names);  // @go drain

    Ring<std::string, 2> ring;
    auto feed = goro::make_chan<std::string>(4);
    for (const char* s : {"a", "b", "c"}) feed.send(s);
    goro::go(&Ring<std::string, 2>::pump, &ring, feed);  // @go pump

    start_generic(goro::make_chan<double>());
    start_retry(goro::make_chan<int>());
    corpus::settle();
    checkpoint();
    corpus::hold();
    return 0;
  });
}
