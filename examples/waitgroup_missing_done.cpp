// waitgroup_missing_done.cpp — gallery scenario 10: a WaitGroup that never
// reaches zero.
//
// The bug: a worker returns early on an error path and skips `wg.done()`.
// `wg.wait()` waits for a Done that never comes; nothing else is left to run:
//
//   fatal error: all goroutines are asleep - deadlock!
//
// and the dump shows who waits in `sync.WaitGroup.Wait`. The fix: `done()`
// on every path (a scope guard; Go's `defer wg.Done()`).
#include <cstdio>

#include "goro/debug.h"
#include "goro/goro.h"

void resize(int image, goro::WaitGroup* wg) {
  if (image == 3) {
    std::printf("image %d: corrupt, skipped\n", image);
    return;  // the bug: no wg->done() on this path
  }
  wg->done();
}

int main() {
  return goro::run([] {
    goro::WaitGroup wg;
    goro::debug::name(wg, "pending");
    for (int image = 0; image < 5; image++) {
      wg.add(1);
      goro::go(resize, image, &wg);
    }
    wg.wait();  // waits forever: counter stays at 1
    std::printf("all resized\n");
    return 0;
  });
}
