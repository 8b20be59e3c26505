// pipeline.cpp — a callback-style pipeline: the user hands std::function
// stages and a sink callback to a small Pipeline class, which runs each on a
// goroutine between channels. The sink's callback blocks (nobody reads its
// results), so the whole pipeline backs up: every stage parks on the line
// that moves values, the sink inside the user's callback.
#include <functional>
#include <string>
#include <utility>
#include <vector>

#include "corpus.h"

class Pipeline {
 public:
  using Stage = std::function<int(int)>;
  using Sink = std::function<void(int)>;

  Pipeline& then(Stage f) {
    stages_.push_back(std::move(f));
    return *this;
  }

  void run(goro::Chan<int> in, Sink sink) {
    goro::Chan<int> prev = in;
    for (auto& f : stages_) {
      auto next = goro::make_chan<int>();
      goro::go([f, prev, next]() mutable {  // @go stage
        corpus::mark("stage");
        for (int v : prev) next.send(f(v));  // @park stage x3 fn=Pipeline::run
        next.close();
      });
      prev = next;
    }
    goro::go([prev, sink]() mutable {  // @go sink
      corpus::mark("sink");
      for (int v : prev) sink(v);  // @call sink 1
    });
  }

 private:
  std::vector<Stage> stages_;
};

void build_report(goro::Chan<int> source, goro::Chan<std::string> report) {
  Pipeline p;
  p.then([](int v) { return v * 2; })
      .then([](int v) { return v + 1; })
      .then([](int v) { return v % 1000; });
  p.run(source, [report](int v) mutable {
    report.send("row " + std::to_string(v));  // @park sink fn=build_report
  });
}

// start_source feeds the pipeline for as long as it accepts values.
void start_source(goro::Chan<int> source) {
  goro::go([source]() mutable {  // @go source
    corpus::mark("source");
    for (int i = 0;; i++) source.send(i);  // @park source fn=start_source
  });
}

int main() {
  return goro::run([] {
    auto source = goro::make_chan<int>();
    auto report = goro::make_chan<std::string>();
    build_report(source, report);
    start_source(source);
    corpus::settle();
    checkpoint();
    corpus::hold();
    return 0;
  });
}
