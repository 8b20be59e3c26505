// closed_channel.cpp — gallery scenario 11: send on a closed channel, and
// close of a closed channel.
//
// The bugs: a producer keeps sending after the consumer side closed the
// channel (`closed_channel send`), or two shutdown paths both close it
// (`closed_channel close`). Go panics with
//
//   panic: send on closed channel
//   panic: close of closed channel
//
// goro throws goro::Panic with the same text; unrecovered, it ends the
// program like Go (the dump, exit 2). The fix: only the sender closes, once.
#include <cstdio>
#include <cstring>

#include "goro/goro.h"

int main(int argc, char** argv) {
  bool twice = argc > 1 && std::strcmp(argv[1], "close") == 0;
  return goro::run([twice] {
    auto jobs = goro::make_chan<int>(4);
    auto done = goro::make_chan<int>();
    goro::go([=]() mutable {  // the consumer takes two jobs, then shuts the queue
      jobs.recv();
      jobs.recv();
      jobs.close();
      if (twice) jobs.close();  // a second shutdown path: panic
      done.send(1);
    });
    for (int i = 0; i < 2; i++) jobs.send(i);
    done.recv();
    jobs.send(3);  // the producer did not notice: panic
    std::printf("not reached\n");
    return 0;
  });
}
