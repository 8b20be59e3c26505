// The smallest real use of goro from another project: a map filled by
// goroutines over a channel (links the scheduler's assembly and the
// libbacktrace-based dumps through goro::runtime).
#include <goro/goro.h>

#include <cstdio>
#include <string>

int main() {
  return goro::run([] {
    auto ch = goro::make_chan<int>(16);
    for (int w = 0; w < 4; w++)
      goro::go([ch, w]() mutable {
        for (int i = w; i < 1000; i += 4) ch.send(i);
      });
    goro::Map<std::string, int> m;
    for (int i = 0; i < 1000; i++) {
      int x = ch.recv();
      m[std::to_string(x)] = x;
    }
    auto [v, ok] = m.get("999");
    int sum = 0;
    for (auto [k, x] : m) sum += x;
    std::printf("len=%zu v=%d ok=%d sum=%d\n", m.size(), v, ok, sum);
    return (m.size() == 1000 && v == 999 && ok && sum == 499500) ? 0 : 1;
  });
}
