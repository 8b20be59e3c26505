// chan.cpp — channel operations and select (Go: runtime/chan.go,
// select.go), type-erased over detail::chantype. See goro/chan.h.
//
// The algorithms are Go's, step for step, so that every waiting goroutine
// is visible the way Go's are: a blocked sender or receiver has a sudog (in
// its G record; a select's are on its stack, one per case) in the channel's
// sendq/recvq naming it, and its G's `waiting` list holds the sudogs of the
// operation.
//
// Differences from Go: elements are moved (move-construct + destroy), not
// copied with memmove, so element types may own resources; a value handed
// straight to a parked receiver is constructed in the receiver's
// uninitialized slot. hchan and its buffer are one allocation (Go: when the
// element has no pointers). Channels are reference counted (no GC).
#include <algorithm>
#include <cstdlib>
#include <cstring>
#include <new>

#include "goro/chan.h"
#include "goro/sched.h"
#include "proc.h"

namespace goro::detail {

namespace {

constexpr int64_t kMaxAlloc = int64_t{1} << 40;

inline void* chanbuf(hchan* c, uint64_t i) {
  return static_cast<char*>(c->buf) + i * c->elemtype->elemsize;
}

void enqueue(waitq& q, sudog* sgp) {
  sgp->next = nullptr;
  sudog* x = q.last;
  if (!x) {
    sgp->prev = nullptr;
    q.first = sgp;
    q.last = sgp;
    return;
  }
  sgp->prev = x;
  x->next = sgp;
  q.last = sgp;
}

// dequeue pops the first waiter that can still be woken: a select waiter
// that another case already woke is skipped (Go's selectDone CAS).
sudog* dequeue(waitq& q) {
  for (;;) {
    sudog* sgp = q.first;
    if (!sgp) return nullptr;
    sudog* y = sgp->next;
    if (!y) {
      q.first = nullptr;
      q.last = nullptr;
    } else {
      y->prev = nullptr;
      q.first = y;
      sgp->next = nullptr;
    }
    if (sgp->isSelect) {
      uint32_t zero = 0;
      if (!sgp->g->selectDone.compare_exchange_strong(zero, 1, std::memory_order_acq_rel)) continue;
    }
    return sgp;
  }
}

void dequeueSudoG(waitq& q, sudog* sgp) {
  sudog* x = sgp->prev;
  sudog* y = sgp->next;
  if (x) {
    if (y) {
      x->next = y;
      y->prev = x;
      sgp->next = nullptr;
      sgp->prev = nullptr;
      return;
    }
    x->next = nullptr;
    q.last = x;
    sgp->prev = nullptr;
    return;
  }
  if (y) {
    y->prev = nullptr;
    q.first = y;
    sgp->next = nullptr;
    return;
  }
  if (q.first == sgp) {
    q.first = nullptr;
    q.last = nullptr;
  }
}

bool chanparkcommit(G*, void* lk) {
  static_cast<mutex*>(lk)->unlock_parked();
  return true;
}

// send completes a send to the parked receiver sg (c locked; unlocks it).
void send(hchan* c, sudog* sg, void* ep, bool unlock) {
  refscan_before(sg->g);  // a snapshot's scan of its parked stack first
  if (sg->elem) {
    c->elemtype->move_construct(sg->elem, ep);  // sendDirect
    sg->elem = nullptr;
  }
  G* gp = sg->g;
  if (unlock) c->lock.unlock();
  gp->param = sg;
  sg->success = true;
  goready(gp);
}

// recv completes a receive from the parked sender sg (c locked; unlocks).
void recv(hchan* c, sudog* sg, void* ep, bool unlock) {
  refscan_before(sg->g);  // a snapshot's scan of its parked stack first (its value moves out)
  if (c->dataqsiz == 0) {
    if (ep) c->elemtype->move_construct(ep, sg->elem);  // recvDirect
  } else {
    // Queue is full: take the head, put the sender's value in its place.
    void* qp = chanbuf(c, c->recvx);
    if (ep) c->elemtype->move_construct(ep, qp);
    c->elemtype->destroy(qp);
    c->elemtype->move_construct(qp, sg->elem);
    if (++c->recvx == c->dataqsiz) c->recvx = 0;
    c->sendx = c->recvx;
  }
  sg->elem = nullptr;
  G* gp = sg->g;
  if (unlock) c->lock.unlock();
  gp->param = sg;
  sg->success = true;
  goready(gp);
}

// chanpark blocks the calling goroutine in q (c's sendq or recvq) with its
// G's sudog until a counterpart or close takes it; c is locked
// on entry and unlocked once the goroutine is off the CPU. Returns whether
// a value was passed (false: woken by close).
inline bool chanpark(hchan* c, void* ep, waitq& q, waitReason reason) {
  G* gp = getg();
  if (!gp) {
    c->lock.unlock();
    throw_not_goroutine(to_string(reason));
  }
  sudog& mysg = gp->waitsg;
  mysg = sudog{};
  mysg.g = gp;
  mysg.elem = ep;
  mysg.c = c;
  mysg.kind = objkind::chan;
  mysg.isRead = &q == &c->recvq;
  gp->waiting = &mysg;
  gp->param = nullptr;
  enqueue(q, &mysg);
  gopark(chanparkcommit, &c->lock, reason);
  gp->waiting = nullptr;
  gp->param = nullptr;
  return mysg.success;
}

[[noreturn]] void panic_closed_send(hchan* c) {
  c->lock.unlock();
  throw Panic("send on closed channel");
}

}  // namespace

hchan* makechan(const chantype* t, int64_t size) {
  if (size < 0 || (t->elemsize && size > kMaxAlloc / static_cast<int64_t>(t->elemsize)))
    throw Panic("makechan: size out of range");
  size_t align = std::max<size_t>(alignof(hchan), t->elemalign);
  size_t hdr = (sizeof(hchan) + align - 1) & ~(align - 1);
  size_t total = hdr + static_cast<size_t>(size) * t->elemsize;
  void* mem = ::operator new (total, std::align_val_t{align});
  auto* c = new (mem) hchan{};
  c->buf = size ? static_cast<char*>(mem) + hdr : nullptr;
  c->dataqsiz = static_cast<uint64_t>(size);
  c->elemsize = t->elemsize <= 0xffff ? static_cast<uint16_t>(t->elemsize) : 0;
  c->elemtype = t;
  c->refs.store(1, std::memory_order_relaxed);
  return c;
}

void chanrelease(hchan* c) noexcept {
  if (c->refs.fetch_sub(1, std::memory_order_acq_rel) != 1) return;
  forget(c);  // a named channel leaves the registry with its last handle
  for (uint64_t i = 0, x = c->recvx; i < c->qcount; i++) {
    c->elemtype->destroy(chanbuf(c, x));
    if (++x == c->dataqsiz) x = 0;
  }
  size_t align = std::max<size_t>(alignof(hchan), c->elemtype->elemalign);
  c->~hchan();
  ::operator delete (c, std::align_val_t{align});
}

uint64_t chanlen(const hchan* c) noexcept {
  return reinterpret_cast<const std::atomic<uint64_t>*>(&c->qcount)
      ->load(std::memory_order_relaxed);
}

void block_forever(waitReason r) {
  if (!getg()) throw_not_goroutine(to_string(r));
  gopark(nullptr, nullptr, r);
  fatal("unreachable");
}

bool chansend(hchan* c, void* ep, bool block) {
  if (!c) {
    if (!block) return false;
    block_forever(waitReason::chanSendNilChan);
  }
  c->lock.lock();
  if (c->closed.load(std::memory_order_relaxed)) panic_closed_send(c);
  if (sudog* sg = dequeue(c->recvq)) {
    send(c, sg, ep, true);
    return true;
  }
  if (c->qcount < c->dataqsiz) {
    c->elemtype->move_construct(chanbuf(c, c->sendx), ep);
    if (++c->sendx == c->dataqsiz) c->sendx = 0;
    c->qcount++;
    c->lock.unlock();
    return true;
  }
  if (!block) {
    c->lock.unlock();
    return false;
  }
  if (!chanpark(c, ep, c->sendq, waitReason::chanSend)) throw Panic("send on closed channel");
  return true;
}

recvres chanrecv(hchan* c, void* ep, bool block) {
  if (!c) {
    if (!block) return {false, false};
    block_forever(waitReason::chanReceiveNilChan);
  }
  c->lock.lock();
  if (c->closed.load(std::memory_order_relaxed)) {
    if (c->qcount == 0) {
      c->lock.unlock();
      return {true, false};
    }
  } else if (sudog* sg = dequeue(c->sendq)) {
    recv(c, sg, ep, true);
    return {true, true};
  }
  if (c->qcount > 0) {
    void* qp = chanbuf(c, c->recvx);
    if (ep) c->elemtype->move_construct(ep, qp);
    c->elemtype->destroy(qp);
    if (++c->recvx == c->dataqsiz) c->recvx = 0;
    c->qcount--;
    c->lock.unlock();
    return {true, true};
  }
  if (!block) {
    c->lock.unlock();
    return {false, false};
  }
  return {true, chanpark(c, ep, c->recvq, waitReason::chanReceive)};
}

void closechan(hchan* c) {
  if (!c) throw Panic("close of nil channel");
  c->lock.lock();
  if (c->closed.load(std::memory_order_relaxed)) {
    c->lock.unlock();
    throw Panic("close of closed channel");
  }
  c->closed.store(1, std::memory_order_relaxed);
  // Collect every waiter, then ready them after unlocking (Go's glist).
  G* glist = nullptr;
  for (waitq* q : {&c->recvq, &c->sendq}) {
    while (sudog* sg = dequeue(*q)) {
      sg->elem = nullptr;  // receivers: slot left unconstructed (zero value)
      sg->success = false;
      G* gp = sg->g;
      gp->param = sg;
      gp->schedlink = glist;
      glist = gp;
    }
  }
  c->lock.unlock();
  // Ready in FIFO order of the list built above (reverse it).
  G* rev = nullptr;
  while (glist) {
    G* n = glist->schedlink;
    glist->schedlink = rev;
    rev = glist;
    glist = n;
  }
  while (rev) {
    G* n = rev->schedlink;
    goready(rev);
    rev = n;
  }
}

// ---------------------------------------------------------------- select

namespace {

void sellock(scase* cases, const uint16_t* lockorder, int n) {
  hchan* last = nullptr;
  for (int i = 0; i < n; i++) {
    hchan* c = cases[lockorder[i]].c;
    if (c != last) {
      last = c;
      c->lock.lock();
    }
  }
}

// selunlock unlocks every case's channel once, in reverse lock order
// (parked: for a goroutine that has just parked, see unlock_parked; the
// goroutine cannot get past its own sellock, so `cases` stays intact until
// the last unlock).
void selunlock(scase* cases, const uint16_t* lockorder, int n, bool parked = false) {
  // Unlock in reverse; a channel may appear several times (skip repeats).
  for (int i = n - 1; i >= 0; i--) {
    hchan* c = cases[lockorder[i]].c;
    if (i > 0 && c == cases[lockorder[i - 1]].c) continue;
    if (parked)
      c->lock.unlock_parked();
    else
      c->lock.unlock();
  }
}

struct selctx {
  scase* cases;
  uint16_t* lockorder;
  int n;
};

bool selparkcommit(G*, void* arg) {
  auto* s = static_cast<selctx*>(arg);
  selunlock(s->cases, s->lockorder, s->n, true);
  return true;
}

uint32_t cheaprand() {
  static thread_local uint64_t s = 0x853c49e6748fea9bull ^ reinterpret_cast<uintptr_t>(&s);
  s += 0xa0761d6478bd642full;
  __uint128_t t = static_cast<__uint128_t>(s) * (s ^ 0xe7037ed1a0b428dbull);
  return static_cast<uint32_t>((t >> 64) ^ t);
}

inline uint32_t cheaprandn(uint32_t n) {
  return static_cast<uint32_t>((static_cast<uint64_t>(cheaprand()) * n) >> 32);
}

}  // namespace

selres selectgo(scase* cases, uint16_t* order, int nsends, int nrecvs, bool block) {
  int ncases = nsends + nrecvs;
  uint16_t* pollorder = order;
  uint16_t* lockorder = order + ncases;

  // Poll order: a random permutation of the cases with a channel (nil
  // channels are never ready and never waited on, as in Go).
  int norder = 0;
  for (int i = 0; i < ncases; i++) {
    if (!cases[i].c) continue;
    int j = static_cast<int>(cheaprandn(static_cast<uint32_t>(norder + 1)));
    pollorder[norder] = pollorder[j];
    pollorder[j] = static_cast<uint16_t>(i);
    norder++;
  }
  // Lock order: by channel address (heap sort in Go; n is small).
  for (int i = 0; i < norder; i++) lockorder[i] = pollorder[i];
  std::sort(lockorder, lockorder + norder, [&](uint16_t a, uint16_t b) {
    return reinterpret_cast<uintptr_t>(cases[a].c) < reinterpret_cast<uintptr_t>(cases[b].c);
  });

  if (norder == 0) {
    if (!block) return {-1, false};
    block_forever(waitReason::selectNoCases);
  }

  sellock(cases, lockorder, norder);

  // Pass 1: look for something already waiting.
  for (int k = 0; k < norder; k++) {
    int casi = pollorder[k];
    scase* cas = &cases[casi];
    hchan* c = cas->c;
    if (casi >= nsends) {
      if (sudog* sg = dequeue(c->sendq)) {  // recv from a parked sender
        recv(c, sg, cas->elem, false);
        selunlock(cases, lockorder, norder);
        return {casi, true};
      }
      if (c->qcount > 0) {  // bufrecv
        void* qp = chanbuf(c, c->recvx);
        c->elemtype->move_construct(cas->elem, qp);
        c->elemtype->destroy(qp);
        if (++c->recvx == c->dataqsiz) c->recvx = 0;
        c->qcount--;
        selunlock(cases, lockorder, norder);
        return {casi, true};
      }
      if (c->closed.load(std::memory_order_relaxed)) {  // rclose
        selunlock(cases, lockorder, norder);
        return {casi, false};
      }
    } else {
      if (c->closed.load(std::memory_order_relaxed)) {  // sclose
        selunlock(cases, lockorder, norder);
        throw Panic("send on closed channel");
      }
      if (sudog* sg = dequeue(c->recvq)) {
        send(c, sg, cas->elem, false);
        selunlock(cases, lockorder, norder);
        return {casi, false};
      }
      if (c->qcount < c->dataqsiz) {  // bufsend
        c->elemtype->move_construct(chanbuf(c, c->sendx), cas->elem);
        if (++c->sendx == c->dataqsiz) c->sendx = 0;
        c->qcount++;
        selunlock(cases, lockorder, norder);
        return {casi, false};
      }
    }
  }

  if (!block) {
    selunlock(cases, lockorder, norder);
    return {-1, false};
  }

  G* gp = getg();
  if (!gp) {
    selunlock(cases, lockorder, norder);
    throw_not_goroutine("select");
  }

  // Pass 2: enqueue on every channel, in lock order (that is also the
  // order of gp->waiting, which debuggers show).
  constexpr int kStackSudogs = 16;
  sudog local[kStackSudogs];
  sudog* sgs = norder <= kStackSudogs ? local : new sudog[norder];
  gp->waiting = nullptr;
  sudog** nextp = &gp->waiting;
  for (int k = 0; k < norder; k++) {
    int casi = lockorder[k];
    scase* cas = &cases[casi];
    sudog* sg = &sgs[k];
    *sg = sudog{};
    sg->g = gp;
    sg->isSelect = true;
    sg->elem = cas->elem;
    sg->c = cas->c;
    sg->kind = objkind::chan;
    sg->ticket = static_cast<uint32_t>(casi);
    sg->isRead = casi >= nsends;
    *nextp = sg;
    nextp = &sg->waitlink;
    enqueue(casi < nsends ? cas->c->sendq : cas->c->recvq, sg);
  }
  gp->param = nullptr;
  gp->selectDone.store(0, std::memory_order_relaxed);
  selctx ctx{cases, lockorder, norder};
  gopark(selparkcommit, &ctx, waitReason::select);

  sellock(cases, lockorder, norder);
  gp->selectDone.store(0, std::memory_order_relaxed);
  auto* won = static_cast<sudog*>(gp->param);
  gp->param = nullptr;

  // Pass 3: dequeue from the channels we did not win.
  int casi = -1;
  bool recvOK = false;
  for (int k = 0; k < norder; k++) {
    sudog* sg = &sgs[k];
    int ci = static_cast<int>(sg->ticket);
    if (sg == won) {
      casi = ci;
      recvOK = sg->success;
    } else {
      dequeueSudoG(ci < nsends ? cases[ci].c->sendq : cases[ci].c->recvq, sg);
    }
  }
  gp->waiting = nullptr;
  if (sgs != local) delete[] sgs;
  if (casi < 0) {
    selunlock(cases, lockorder, norder);
    fatal("selectgo: bad wakeup");
  }
  if (casi < nsends && !recvOK) {
    selunlock(cases, lockorder, norder);
    throw Panic("send on closed channel");
  }
  selunlock(cases, lockorder, norder);
  return {casi, recvOK};
}

}  // namespace goro::detail
