// shared_lib_jobs.cpp — libcorpus_jobs.so: a job queue whose goroutines are
// started inside the shared library, with goro linked into it (whole
// archive, so the program's own goro calls resolve to this copy).
#include "shared_lib_jobs.h"

#include "corpus.h"

namespace jobs {

Queue::Queue(int workers) : pending_(goro::make_chan<std::string>(8)), done_(goro::make_chan<std::string>()) {
  for (int i = 0; i < workers; i++) goro::go(&Queue::worker_loop, this, i);  // @go lib_worker
}

void Queue::submit(std::string job) { pending_.send(std::move(job)); }

void Queue::worker_loop(int id) {
  corpus::mark("lib_worker");
  for (std::string job : pending_) {
    std::string result = job + " by worker " + std::to_string(id);
    done_.send(result);  // @park lib_worker x2 fn=Queue::worker_loop
  }
}

int run_jobs(int (*main_fn)()) { return goro::run(main_fn); }

}  // namespace jobs
