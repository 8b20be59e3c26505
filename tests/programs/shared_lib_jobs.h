// shared_lib_jobs.h — the interface of libcorpus_jobs.so (shared_lib.cpp's
// job library), which links goro itself: the program reaches goro through it.
#pragma once

#include <string>

#include "goro/goro.h"

namespace jobs {

// Queue runs submitted jobs on goroutines started inside the library.
class Queue {
 public:
  explicit Queue(int workers);
  void submit(std::string job);
  goro::Chan<std::string> done() const { return done_; }

 private:
  void worker_loop(int id);

  goro::Chan<std::string> pending_;
  goro::Chan<std::string> done_;
};

// run_jobs is goro::run, called from inside the library.
int run_jobs(int (*main_fn)());

}  // namespace jobs
