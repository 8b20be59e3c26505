// twin.cpp — goro's side of the map differential suite: go/main.go in C++,
// printing the same lines (see go/main.go and test_go_diff.py).
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <limits>
#include <map>
#include <string>
#include <vector>

#include "goro/map.h"
#include "goro/map_debug.h"

using goro::Map;
using D = goro::MapDebugAccess;

namespace {

void stat(const std::string& name, const std::vector<double>& xs) {
  double n = static_cast<double>(xs.size()), mean = 0, ss = 0;
  for (double x : xs) mean += x;
  if (n > 0) mean /= n;
  for (double x : xs) ss += (x - mean) * (x - mean);
  double sd = n > 1 ? std::sqrt(ss / (n - 1)) : 0;
  std::printf("stat %s %zu %.4f %.4f\n", name.c_str(), xs.size(), mean, sd);
}

const char* tf(bool b) { return b ? "true" : "false"; }

template <class M>
bool same_size(const M& m) {
  return D::flags(m) & goro::detail::sameSizeGrow;
}

// m[0] = 1; m[-0] = 2 (Go: one key, -0, value 2).
template <class F>
void zero_keys(const char* kind) {
  Map<F, int> m;
  m[F(0)] = 1;
  m[std::copysign(F(0), F(-1))] = 2;
  for (auto&& [k, v] : m)
    std::printf("exact %s-zero len=%zu signbit=%s value=%d\n", kind, m.size(), tf(std::signbit(k)),
                v);
}

}  // namespace

int main(int argc, char** argv) {
  int runs = argc > 1 ? std::atoi(argv[1]) : 200;
  {
    Map<int64_t, int64_t> m;
    for (int64_t i = 0; i < 20000; i++) {
      bool growing = D::growing(m);
      m[i] = i;
      if (!growing && D::growing(m))
        std::printf("exact growth-start count=%lld B=%d same=%s\n",
                    static_cast<long long>(D::count(m)), D::B(m), tf(same_size(m)));
    }
  }
  for (int hint : {0, 1, 8, 9, 13, 14, 52, 53, 100, 1000, 6656, 6657, 100000}) {
    Map<int64_t, int64_t> m(static_cast<size_t>(hint));
    std::printf("exact hint=%d B=%d\n", hint, D::B(m));
  }
  for (int B : {3, 7, 9}) {
    std::vector<double> at;
    for (int r = 0; r < runs; r++) {
      Map<int64_t, int64_t> m;
      for (int64_t i = 0;; i++) {
        m[i] = i;
        if (D::B(m) == B && !D::growing(m)) {
          at.push_back(static_cast<double>(D::count(m)));
          break;
        }
      }
    }
    stat("growth-complete-B=" + std::to_string(B), at);
  }
  {
    std::vector<double> at;
    for (int r = 0; r < runs; r++) {
      Map<std::string, int64_t> m;
      for (int64_t i = 0;; i++) {
        m["key" + std::to_string(i)] = i;
        if (D::B(m) == 7 && !D::growing(m)) {
          at.push_back(static_cast<double>(D::count(m)));
          break;
        }
      }
    }
    stat("growth-complete-string-keys-B=7", at);
  }
  for (int64_t L : {50, 400}) {
    std::vector<double> count, first;
    for (int r = 0; r < runs; r++) {
      Map<int64_t, int64_t> m;
      for (int64_t i = 0; i < L; i++) m[i] = i;
      int n = 0, f = -1;
      for (int64_t step = 1; step <= 10000; step++) {
        bool growing = D::growing(m);
        m.erase(step - 1);
        m[L + step - 1] = step;
        if (!growing && D::growing(m) && same_size(m)) {
          n++;
          if (f < 0) f = static_cast<int>(step);
        }
      }
      count.push_back(n);
      if (f >= 0) first.push_back(f);
    }
    stat("churn-live=" + std::to_string(L) + " same-size-growths", count);
    stat("churn-live=" + std::to_string(L) + " first-same-size-growth", first);
  }
  for (int64_t n : {1, 8, 9, 52, 53, 100, 415, 416, 3000}) {
    Map<int64_t, int64_t> m;
    for (int64_t i = 0; i < n; i++) m[i] = i;
    std::map<int64_t, int> seen;
    for (auto&& [k, v] : m) {
      seen[k]++;
      m[k] = v + 1000;
    }
    bool ok = static_cast<int64_t>(seen.size()) == n;
    for (int64_t k = 0; k < n; k++) ok = ok && seen[k] == 1 && m[k] == k + 1000;
    std::printf("exact range-update n=%lld ok=%s len=%zu\n", static_cast<long long>(n), tf(ok),
                m.size());
    seen.clear();
    int64_t next = int64_t{1} << 40;
    for (auto&& [k, v] : m) {
      (void)v;
      seen[k]++;
      for (int j = 0; j < 3; j++) m[next++] = -1;
    }
    ok = true;
    for (int64_t k = 0; k < n; k++) ok = ok && seen[k] == 1;
    for (auto& [k, c] : seen) ok = ok && c == 1;
    std::printf("exact range-insert n=%lld each-once=%s\n", static_cast<long long>(n), tf(ok));
    for (auto&& [k, v] : m) {
      (void)v;
      if (k < n && k % 2 == 0) m.erase(k + 1);
    }
    ok = true;
    for (int64_t k = 0; k < n; k++) ok = ok && m.contains(k) == (k % 2 == 0);
    std::printf("exact range-delete n=%lld odd-gone=%s\n", static_cast<long long>(n), tf(ok));
  }
  {
    zero_keys<double>("float64");
    zero_keys<float>("float32");
    std::vector<double> ovf;
    for (int r = 0; r < runs; r++) {
      Map<double, int> nm;
      for (int i = 0; i < 1000; i++) nm[std::numeric_limits<double>::quiet_NaN()] = i;
      bool found = nm.contains(std::numeric_limits<double>::quiet_NaN());
      if (r == 0) std::printf("exact nan len=%zu found=%s B=%d\n", nm.size(), tf(found), D::B(nm));
      ovf.push_back(D::noverflow(nm));
    }
    stat("nan-1000-noverflow", ovf);
  }
  {
    Map<int64_t, int64_t> m;
    for (int64_t i = 0; i < 5000; i++) m[i] = i;
    for (auto&& [k, v] : m) {
      (void)v;
      m.erase(k);
    }
    size_t before = m.size();
    for (int64_t i = 0; i < 100; i++) m[i] = i;
    std::printf("exact clear len=%zu then=%zu\n", before, m.size());
  }
}
