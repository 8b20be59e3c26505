// lock_order.cpp — gallery scenario 8: lock-order inversion.
//
// The bug: a transfer locks the source account, then the destination. Two
// transfers in opposite directions each take their first lock and wait for
// the other's: a cycle. When every goroutine is blocked, goro (like Go)
// reports
//
//   fatal error: all goroutines are asleep - deadlock!
//
// with every goroutine's stack; `deadlocks` prints the cycle (goroutine ->
// mutex -> holder -> ... -> the first goroutine) and the viewer draws it red.
// The fix: always lock in one global order (e.g. by account id).
#include <cstdint>
#include <cstdio>

#include "goro/debug.h"
#include "goro/goro.h"

struct Account {
  goro::Mutex mu;
  int64_t balance = 100;
};

void transfer(Account* from, Account* to, int64_t amount, goro::WaitGroup* wg) {
  from->mu.lock();
  goro::sleep(std::chrono::milliseconds(50));  // the window: the other transfer takes its lock
  to->mu.lock();                               // the inversion: blocks forever
  from->balance -= amount;
  to->balance += amount;
  to->mu.unlock();
  from->mu.unlock();
  wg->done();
}

int main() {
  return goro::run([] {
    Account alice, bob;
    goro::debug::name(alice.mu, "alice");
    goro::debug::name(bob.mu, "bob");
    goro::WaitGroup wg;
    wg.add(2);
    goro::go(transfer, &alice, &bob, 10, &wg);  // alice -> bob
    goro::go(transfer, &bob, &alice, 20, &wg);  // bob -> alice
    wg.wait();
    std::printf("balances %lld %lld\n", static_cast<long long>(alice.balance),
                static_cast<long long>(bob.balance));
    return 0;
  });
}
