// shared_inner_map.cpp — gallery scenario 14: a "copy" that shares its inner
// maps.
//
// The bug: each worker gets its own copy of `by_user`, a map from user to a
// pointer to that user's counters. Copying the outer map copies the pointers,
// not the inner maps: both copies point at the same inner map, and two
// goroutines write it. Each "has its own copy", yet the detector fires, on
// the inner map:
//
//   fatal error: concurrent map writes
//
// The fix: a deep copy (copy each inner map), or one owner for each user.
#include <cstdint>
#include <cstdio>
#include <memory>

#include "goro/debug.h"
#include "goro/goro.h"

using Counters = goro::Map<int64_t, int64_t>;
using ByUser = goro::Map<int64_t, std::shared_ptr<Counters>>;

void count(ByUser mine, goro::WaitGroup* wg) {  // "my own copy"
  auto alice = mine.get(1).first;               // ... shares alice's counters
  for (int64_t i = 0; i < 50'000'000; i++) (*alice)[i % 512] += 1;
  wg->done();
}

int main() {
  return goro::run(goro::Config{2, 0}, [] {
    ByUser by_user;
    auto alice = std::make_shared<Counters>();
    goro::debug::name(*alice, "alice");
    by_user[1] = alice;
    goro::WaitGroup wg;
    wg.add(2);
    goro::go(count, by_user, &wg);  // a copy of the outer map
    goro::go(count, by_user, &wg);  // another copy
    wg.wait();
    std::printf("no race observed\n");
    return 0;
  });
}
