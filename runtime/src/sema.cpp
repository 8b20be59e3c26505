// sema.cpp — semaphores and notify lists for goro's sync package (Go:
// runtime/sema.go). See goro/sync.h for the design; this is the runtime
// half: how a goroutine waits on a semaphore and how it is woken.
//
// A semaphore is a uint32 count (in the sync object) plus its semaRoot (next
// to it): Go's algorithm with Go's global semtable replaced by one queue per
// semaphore, so the waiters of an object are found from the object.
//
//   semacquire1(addr):  take a unit if there is one (no lock). Else, under
//                       root.lock: nwait++, try again (a release may have
//                       come in between), else queue our sudog (G.waitsg)
//                       and park; the unlockf releases root.lock once our
//                       registers are saved. On wake-up: done if the
//                       releaser handed us its unit (ticket == 1), else try
//                       to take one, and queue again if someone beat us.
//   semrelease1(addr):  count++; if nwait == 0, nobody to wake (the Dekker
//                       pair with semacquire1's nwait++ then re-check: both
//                       sides seq_cst). Else, under root.lock, dequeue the
//                       first waiter, then (lock released) ready it.
//
// Invariants
//   * A queued sudog belongs to a goroutine that is parked (or about to be:
//     it holds root.lock until its registers are saved) and whose G.waiting
//     points at it; it stays valid until goready, so the releaser reads and
//     writes it (ticket) only before calling goready.
//   * root.nwait == the queue length whenever root.lock is free.
//
// Differences from Go: no semtable, no treap (one address per queue), no
// block/mutex profiling (sudog.acquiretime is kept for tools: when the wait
// began); the direct handoff yields with goro::yield (global run queue;
// Go's goyield uses the local one), and only on a goroutine.
#include "goro/sync.h"

#include "goro/sched.h"

namespace goro::detail {

namespace {

// queue appends s to root's list (prepends it if lifo). root.lock held.
void queue(semaRoot* root, sudog* s, bool lifo) {
  s->next = nullptr;
  s->prev = nullptr;
  if (!root->head) {
    root->head = root->tail = s;
  } else if (lifo) {
    s->next = root->head;
    root->head->prev = s;
    root->head = s;
  } else {
    s->prev = root->tail;
    root->tail->next = s;
    root->tail = s;
  }
}

// dequeue removes and returns the first waiter, or null. root.lock held.
sudog* dequeue(semaRoot* root) {
  sudog* s = root->head;
  if (!s) return nullptr;
  root->head = s->next;
  if (root->head)
    root->head->prev = nullptr;
  else
    root->tail = nullptr;
  s->next = nullptr;
  return s;
}

// parkunlock is gopark's unlockf: releases the internal lock the parking
// goroutine queued itself under (Go's goparkunlock).
bool parkunlock(G*, void* lk) {
  static_cast<mutex*>(lk)->unlock_parked();
  return true;
}

// less reports whether ticket a comes before b (wrap-around safe).
inline bool less(uint32_t a, uint32_t b) { return static_cast<int32_t>(a - b) < 0; }

}  // namespace

void semacquire1(std::atomic<uint32_t>* addr, semaRoot* root, bool lifo, const semawhat& w,
                 int64_t since) noexcept {
  // Easy case.
  if (cansemacquire(addr)) return;

  G* gp = getg();
  if (!gp) throw_not_goroutine(to_string(w.reason));

  // Harder case: increment nwait, try once more, queue and sleep; the
  // sudog is dequeued by the releaser.
  sudog& s = gp->waitsg;
  s = sudog{};
  s.g = gp;
  s.c = w.c;
  s.kind = w.kind;
  s.isRead = w.isRead;
  s.acquiretime = since ? since : nanotime_coarse();
  for (;;) {
    root->lock.lock();
    // Add ourselves to nwait to disable the "easy case" in semrelease1.
    root->nwait.fetch_add(1);
    // Check cansemacquire to avoid a missed wake-up.
    if (cansemacquire(addr)) {
      root->nwait.fetch_sub(1);
      root->lock.unlock();
      break;
    }
    // Any semrelease1 after the cansemacquire knows we are waiting (nwait
    // above), so go to sleep.
    s.ticket = 0;
    queue(root, &s, lifo);
    gp->waiting = &s;
    gp->param = nullptr;
    gopark(parkunlock, &root->lock, w.reason);
    gp->waiting = nullptr;
    gp->param = nullptr;
    if (s.ticket != 0 || cansemacquire(addr)) break;
  }
}

void semrelease1(std::atomic<uint32_t>* addr, semaRoot* root, bool handoff) noexcept {
  addr->fetch_add(1);

  // Easy case: no waiters? Must come after the increment (see semacquire1).
  if (root->nwait.load() == 0) return;

  // Harder case: take the first waiter and wake it.
  root->lock.lock();
  if (root->nwait.load() == 0) {
    // The unit was already taken by a waiter's re-check: nobody to wake.
    root->lock.unlock();
    return;
  }
  sudog* s = dequeue(root);
  if (s) root->nwait.fetch_sub(1);
  root->lock.unlock();
  if (!s) return;
  if (s->ticket != 0) fatal("corrupted semaphore ticket");
  bool handed = false;
  if (handoff && cansemacquire(addr)) {
    s->ticket = 1;
    handed = true;
  }
  G* gp = s->g;
  gp->param = s;
  goready(gp);  // s may be gone from here on (the waiter resumes and returns)
  if (handed && getg()) {
    // Direct handoff: goready put the waiter in our worker's runnext;
    // yielding lets it run at once, so it inherits our time slice (Go:
    // issue 33747). Only in starvation mode: otherwise another waiter could
    // take the unit while we yield.
    goro::yield();
  }
}

// ---------------------------------------------------------------- notifyList

uint32_t notifyListAdd(notifyList* l) noexcept { return l->wait.fetch_add(1); }

void notifyListWait(notifyList* l, uint32_t t, const void* cond) noexcept {
  G* gp = getg();
  if (!gp) throw_not_goroutine(to_string(waitReason::syncCondWait));
  l->lock.lock();
  // Return right away if this ticket has already been notified.
  if (less(t, l->notify.load(std::memory_order_relaxed))) {
    l->lock.unlock();
    return;
  }
  sudog& s = gp->waitsg;
  s = sudog{};
  s.g = gp;
  s.ticket = t;
  s.c = cond;
  s.kind = objkind::cond;
  s.acquiretime = nanotime_coarse();
  if (!l->tail)
    l->head = &s;
  else
    l->tail->next = &s;
  l->tail = &s;
  gp->waiting = &s;
  gp->param = nullptr;
  gopark(parkunlock, &l->lock, waitReason::syncCondWait);
  gp->waiting = nullptr;
  gp->param = nullptr;
}

void notifyListNotifyAll(notifyList* l) noexcept {
  // Fast path: no new waiters since the last notification.
  if (l->wait.load() == l->notify.load()) return;

  // Take the whole list under the lock, wake it outside.
  l->lock.lock();
  sudog* s = l->head;
  l->head = nullptr;
  l->tail = nullptr;
  l->notify.store(l->wait.load());
  l->lock.unlock();

  while (s) {
    sudog* next = s->next;  // read before goready: s lives on the waiter's stack
    s->next = nullptr;
    G* gp = s->g;
    gp->param = s;
    goready(gp);
    s = next;
  }
}

void notifyListNotifyOne(notifyList* l) noexcept {
  // Fast path: no new waiters since the last notification.
  if (l->wait.load() == l->notify.load()) return;

  l->lock.lock();
  // Re-check under the lock.
  uint32_t t = l->notify.load(std::memory_order_relaxed);
  if (t == l->wait.load()) {
    l->lock.unlock();
    return;
  }
  // Update the next notify ticket number.
  l->notify.store(t + 1);

  // Find the goroutine holding ticket t. If it has not queued itself yet we
  // will not find it, but it will not park once it sees the new notify
  // number. The list is nearly in ticket order, so this stops quickly.
  for (sudog *p = nullptr, *s = l->head; s; p = s, s = s->next) {
    if (s->ticket == t) {
      sudog* n = s->next;
      if (p)
        p->next = n;
      else
        l->head = n;
      if (!n) l->tail = p;
      l->lock.unlock();
      s->next = nullptr;
      G* gp = s->g;
      gp->param = s;
      goready(gp);
      return;
    }
  }
  l->lock.unlock();
}

}  // namespace goro::detail
