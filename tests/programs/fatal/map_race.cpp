// map_race: two goroutines write one goro::Map<std::string, int> with no
// lock, in a plain function a user would write; built -O2 -g as a user's
// release build. At the fatal stop ("concurrent map writes") both writers
// must show at the write line, in GDB and LLDB (test_fatal.py): the dying
// one's path is in writer's cold part (GCC splits the report path off), the
// other is frozen wherever it was (freeze_others), maybe inside libc.
#include <goro/goro.h>

#include <chrono>
#include <string>

static goro::Map<std::string, int> cache;

void writer(int id) {
  for (int i = 0;; i++) cache["k" + std::to_string((i * 7 + id) % 5000)] = i;  // @write
}

int main() {
  return goro::run([] {
    goro::go(writer, 1);
    goro::go(writer, 2);
    goro::sleep(std::chrono::seconds(30));
    return 0;
  });
}
