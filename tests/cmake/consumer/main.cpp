// The smallest real use of goro::Map from another project.
#include <goro/map.h>

#include <cstdio>
#include <string>

int main() {
  goro::Map<std::string, int> m;
  for (int i = 0; i < 1000; i++) m[std::to_string(i)] = i;
  auto [v, ok] = m.get("999");
  int sum = 0;
  for (auto [k, x] : m) sum += x;
  std::printf("len=%zu v=%d ok=%d sum=%d\n", m.size(), v, ok, sum);
  return (m.size() == 1000 && v == 999 && ok && sum == 499500) ? 0 : 1;
}
