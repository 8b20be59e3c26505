// shared_lib.cpp — a program that links goro from a shared library
// (libcorpus_jobs.so, shared_lib_jobs.cpp): its goro::run and worker
// goroutines live in the library; the program starts goroutines of its own
// with the same headers, resolved against the library's copy of goro.
#include <string>

#include "corpus.h"
#include "shared_lib_jobs.h"

void collect(goro::Chan<std::string> done, goro::Chan<int> quit) {
  corpus::mark("collector");
  quit.recv();  // @park collector fn=collect
  std::printf("%s\n", done.recv().c_str());
}

int app_main() {
  jobs::Queue q(2);
  q.submit("thumbnail a.png");
  q.submit("thumbnail b.png");
  auto quit = goro::make_chan<int>();
  goro::go(collect, q.done(), quit);  // @go collector
  corpus::settle();
  checkpoint();
  corpus::hold();
  return 0;
}

int main() { return jobs::run_jobs(app_main); }
