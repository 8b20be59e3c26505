// spawn_tree.cpp — goroutines started by goroutines, three levels deep: a
// supervisor starts shard workers, each starts leaf tasks. Every level
// names its goroutines (goro::set_name), as a service does for its dumps.
#include <string>

#include "corpus.h"

void leaf(int shard, int part, goro::Chan<int> out) {
  std::string name = "leaf-" + std::to_string(shard) + "." + std::to_string(part);
  goro::set_name(name);
  corpus::mark("leaf");
  out.send(shard * 10 + part);  // @park leaf x4 fn=leaf
}

void shard_worker(int shard, goro::Chan<int> out, goro::WaitGroup* stop) {
  goro::set_name("shard-" + std::to_string(shard));
  corpus::mark("shard");
  for (int part = 0; part < 2; part++) goro::go(leaf, shard, part, out);  // @go leaf
  stop->wait();                                                           // @park shard x2 fn=shard_worker
}

void supervisor(goro::Chan<int> out, goro::Chan<int> quit) {
  goro::set_name("supervisor");
  corpus::mark("supervisor");
  goro::WaitGroup stop;
  stop.add(1);
  for (int s = 0; s < 2; s++) goro::go(shard_worker, s, out, &stop);  // @go shard
  int code = quit.recv();                                             // @park supervisor fn=supervisor
  stop.done();
  std::printf("supervisor: quit %d\n", code);
}

int main() {
  return goro::run([] {
    auto out = goro::make_chan<int>();
    auto quit = goro::make_chan<int>();
    goro::go(supervisor, out, quit);  // @go supervisor
    corpus::settle();
    checkpoint();
    corpus::hold();
    return 0;
  });
}
