// capture_value.cpp — goroutines started from small start_* helpers with
// lambdas that capture by value: channel handles, a config struct, a
// string, and an init-capture that moves a vector in.
#include <string>
#include <utility>
#include <vector>

#include "corpus.h"

struct Sample {
  std::string key;
  double value;
};

struct Limits {
  int batch;
  double ceiling;
};

// start_consumer gives the goroutine its own handles to both channels.
void start_consumer(goro::Chan<Sample> in, goro::Chan<int> counted) {
  goro::go([in, counted]() mutable {  // @go consumer
    corpus::mark("consumer");
    int positive = 0;
    for (Sample s : in) {  // @park consumer fn=start_consumer
      if (s.value > 0) positive++;
    }
    counted.send(positive);
  });
}

// start_reporter copies everything it uses: [=] over a struct and a string.
void start_reporter(goro::Chan<std::string> out, Limits lim, const std::string& prefix) {
  goro::go([=]() mutable {  // @go reporter
    corpus::mark("reporter");
    std::string line = prefix + ": batch " + std::to_string(lim.batch);
    out.send(line);  // @park reporter fn=start_reporter
    out.send(prefix + ": ceiling " + std::to_string(lim.ceiling));
  });
}

// start_batcher moves its seed buffer into the goroutine.
void start_batcher(goro::Chan<int> ticks, std::vector<int> seed) {
  goro::go([ticks, buf = std::move(seed)]() mutable {  // @go batcher
    corpus::mark("batcher");
    while (buf.size() < 64) {
      int t = ticks.recv();  // @park batcher fn=start_batcher
      buf.push_back(t);
    }
  });
}

int main() {
  return goro::run([] {
    auto samples = goro::make_chan<Sample>();
    auto counted = goro::make_chan<int>();
    auto lines = goro::make_chan<std::string>();
    auto ticks = goro::make_chan<int>();
    start_consumer(samples, counted);
    start_reporter(lines, Limits{32, 0.75}, "cpu");
    start_batcher(ticks, {1, 2, 3});
    corpus::settle();
    checkpoint();
    corpus::hold();
    return 0;
  });
}
