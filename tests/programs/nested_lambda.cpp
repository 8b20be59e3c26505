// nested_lambda.cpp — lambdas inside lambdas: local helper lambdas that a
// goroutine calls (the blocking one two calls down), and a goroutine that
// starts goroutines from its own lambda.
#include <string>
#include <utility>

#include "corpus.h"

struct Job {
  int id;
  std::string payload;
};

struct Result {
  int id;
  size_t size;
};

void dispatch(goro::Chan<Job> jobs, goro::Chan<Result> results) {
  goro::go([jobs, results]() mutable {  // @go dispatcher
    corpus::mark("dispatcher");
    auto forward = [&](Job j) {
      Result r{j.id, j.payload.size()};
      results.send(r);  // @park dispatcher fn=dispatch
    };
    auto handle = [&](Job j) {
      if (j.payload.empty()) return;
      forward(std::move(j));  // @call dispatcher 1
    };
    for (Job j : jobs) handle(std::move(j));  // @call dispatcher 2
  });
}

void fan_out(int shards, goro::Chan<int> acks, goro::Chan<int> quit) {
  goro::go([=]() mutable {  // @go fanout
    corpus::mark("fanout");
    auto start_shard = [acks](int shard) {
      goro::go([shard, acks]() mutable {  // @go shard
        corpus::mark("shard");
        acks.send(shard);  // @park shard x2 fn=fan_out
      });
    };
    for (int s = 0; s < shards; s++) start_shard(s);
    quit.recv();  // @park fanout fn=fan_out
  });
}

int main() {
  return goro::run([] {
    auto jobs = goro::make_chan<Job>(4);
    auto results = goro::make_chan<Result>();
    auto acks = goro::make_chan<int>();
    auto quit = goro::make_chan<int>();
    jobs.send(Job{1, ""});
    jobs.send(Job{2, "resize 640x480"});
    dispatch(jobs, results);
    fan_out(2, acks, quit);
    corpus::settle();
    checkpoint();
    corpus::hold();
    return 0;
  });
}
