// capture.cpp — capture_state: the one capture behind dumps and snapshots.
// Design and safety rules: capture.h.
//
// Cost model (the pause): one sequential pass over the G records (a wait on
// one object keeps its sudog in the record, G.waitsg, so only selects touch
// a stack), and per waited-on or named object its header and queue heads.
// No stack is walked for a blocked goroutine and no wait queue is followed
// in the pause: both are done after the restart from what the pause copied
// (walk_stacks, resolve_lists). Capture vectors are sized and touched before
// the stop; symbolization and rendering come after. Measured steps
// (bench/debug snapshot_pause/10000: 10k goroutines in one channel's recvq,
// 2 workers, 2 vCPU VM; pause_us, noisy to +-20%):
//
//   before                                                    ~4800
//   queues rebuilt after the restart (was: 10k-long walk)     ~2100
//   frame walks of blocked goroutines after the restart       ~2000
//   the one-object sudog in the G record (no stack touched)   ~750
//   capg built in place, G records prefetched                 ~520
#include "capture.h"

#include <sched.h>
#include <time.h>

#include <algorithm>
#include <cinttypes>
#include <cstdio>
#include <cstring>
#include <map>
#include <string>
#include <unordered_map>

#include "goro/chan.h"
#include "goro/map.h"
#include "goro/sync.h"

namespace goro::detail {

namespace {

constexpr int kMaxFrames = 100;     // per goroutine (Go's traceback prints 100)
constexpr int kMaxWaits = 4096;     // sudogs per goroutine (a select's cases)
constexpr int kMaxQueue = 1 << 20;  // waiters listed per queue
constexpr int kMaxChain = 1 << 16;  // buckets per overflow chain

// parked_pcs appends the return addresses of a parked goroutine: its saved
// pc, then the frame-pointer chain, every frame inside its stack, at most
// kMaxFrames. Returns whether the chain goes on beyond them (Go's traceback
// then prints "...additional frames elided...").
GORO_NO_TSAN bool parked_pcs(uintptr_t lo, uintptr_t hi, uintptr_t pc, uintptr_t bp,
                             std::vector<uintptr_t>& pcs) {
  pcs.push_back(pc);
  for (int i = 0; i < kMaxFrames; i++) {
    if (bp < lo || bp + 16 > hi || (bp & 7)) return false;
    uintptr_t next = reinterpret_cast<const uintptr_t*>(bp)[0];
    uintptr_t ret = reinterpret_cast<const uintptr_t*>(bp)[1];
    if (!ret) return false;
    pcs.push_back(ret);
    if (next <= bp) return false;
    bp = next;
  }
  return bp >= lo && bp + 16 <= hi && reinterpret_cast<const uintptr_t*>(bp)[1] != 0;
}

// lister fills an object's waiter lists. With the world fully stopped every
// queued sudog belongs to a parked goroutine whose sudogs capture_g copied
// (with their queue links), so only the queue's head is read here and the
// list is rebuilt after the restart (resolve_lists): the pause touches no
// waiter's stack a second time (a 10k-long queue is 10k dependent cache and
// TLB misses: 1.8 ms here). Otherwise (partial or unstopped capture) the
// queue is walked now, under the object's lock.
struct lister {
  bool deferred;
  capobj& o;
  void queue(const char* role, const sudog* first) {
    o.lists.emplace_back(role, std::vector<uint64_t>{});
    if (deferred) {
      o.heads.resize(o.lists.size() - 1, nullptr);
      o.heads.push_back(first);
      return;
    }
    int n = 0;
    for (const sudog* s = first; s && n < kMaxQueue; s = s->next, n++)
      o.lists.back().second.push_back(goidof(s->g));
  }
  void sema(const char* role, const semaRoot& r) {
    auto& root = const_cast<semaRoot&>(r);
    if (deferred) return queue(role, root.head);
    mutex_guard lk(root.lock);
    queue(role, root.head);
  }
  void notify(const char* role, const notifyList& l) {
    auto& nl = const_cast<notifyList&>(l);
    if (deferred) return queue(role, nl.head);
    mutex_guard lk(nl.lock);
    queue(role, nl.head);
  }
};

// resolve_lists rebuilds the deferred queues from the captured sudogs.
void resolve_lists(capture& c) {
  // An RWMutex's readLockers: the goroutines whose G.rlocked names it.
  for (capobj& o : c.objs)
    if (o.kind == objkind::rwmutex) {
      std::vector<uint64_t> r;
      int64_t readers = 0;
      for (const auto& [k, v] : o.ints)
        if (std::strcmp(k, "readers") == 0) readers = v;
      for (const capg& g : c.gs)
        if (readers > 0 && g.rlocked == o.addr) r.push_back(g.goid);
      std::sort(r.begin(), r.end());
      o.lists.emplace_back("readLockers", std::move(r));
    }
  std::unordered_map<const sudog*, const capwait*> by;
  by.reserve(c.waits.size());
  for (const capwait& w : c.waits) by.emplace(w.addr, &w);
  for (capobj& o : c.objs) {
    for (size_t i = 0; i < o.heads.size(); i++) {
      auto& out = o.lists[i].second;
      int n = 0;
      for (const sudog* s = o.heads[i]; s && n < kMaxQueue; n++) {
        auto it = by.find(s);
        if (it == by.end()) break;  // not a parked goroutine's: cannot happen when stopped
        out.push_back(it->second->goid);
        s = it->second->next;
      }
    }
    o.heads.clear();
  }
}

// maybe_guard holds mu unless every thread is stopped by a debugger (one of
// them may hold it: taking it would wait forever).
struct maybe_guard {
  mutex* mu;
  maybe_guard(mutex& m, bool take) : mu(take ? &m : nullptr) {
    if (mu) mu->lock();
  }
  ~maybe_guard() {
    if (mu) mu->unlock();
  }
  maybe_guard(const maybe_guard&) = delete;
  maybe_guard& operator=(const maybe_guard&) = delete;
};

void capture_object(capobj& o, void (*syncmapstats)(const void*, int64_t*), bool deferred,
                    bool lock) {
  lister l{deferred, o};
  switch (o.kind) {
    case objkind::chan: {
      auto* c = static_cast<hchan*>(const_cast<void*>(o.addr));
      maybe_guard lk(c->lock, lock);  // (free when the world is stopped)
      o.type = c->elemtype && c->elemtype->elemname ? c->elemtype->elemname : "";
      o.ints = {{"qcount", static_cast<int64_t>(c->qcount)},
                {"dataqsiz", static_cast<int64_t>(c->dataqsiz)},
                {"closed", c->closed.load(std::memory_order_relaxed) != 0},
                {"elemsize", static_cast<int64_t>(c->elemtype ? c->elemtype->elemsize : 0)},
                {"sendx", static_cast<int64_t>(c->sendx)},
                {"recvx", static_cast<int64_t>(c->recvx)},
                {"refs", static_cast<int64_t>(c->refs.load(std::memory_order_relaxed))}};
      l.queue("recvq", c->recvq.first);
      l.queue("sendq", c->sendq.first);
      break;
    }
    case objkind::mutex: {
      auto& mu = *static_cast<const Mutex*>(o.addr);
      int32_t st = SyncDebugAccess::state(mu);
      o.ints = {{"state", st},
                {"locked", (st & mutexLocked) != 0},
                {"starving", (st & mutexStarving) != 0},
                {"owner", static_cast<int64_t>(SyncDebugAccess::owner(mu))}};
      l.sema("waiters", SyncDebugAccess::waiters(mu));
      break;
    }
    case objkind::rwmutex: {
      auto& rw = *static_cast<const RWMutex*>(o.addr);
      const Mutex& w = SyncDebugAccess::w(rw);
      int32_t rc = SyncDebugAccess::readerCount(rw);
      bool writer = rc < 0;
      o.ints = {{"readerCount", rc},
                {"readerWait", SyncDebugAccess::readerWait(rw)},
                {"readers", writer ? rc + rwmutexMaxReaders : rc},
                {"writerPending", writer},
                {"writer", static_cast<int64_t>(SyncDebugAccess::owner(w))}};
      l.sema("writers", SyncDebugAccess::waiters(w));
      l.sema("writerWaiting", SyncDebugAccess::writerWaiters(rw));
      l.sema("readerWaiters", SyncDebugAccess::readerWaiters(rw));
      break;
    }
    case objkind::waitgroup: {
      auto& wg = *static_cast<const WaitGroup*>(o.addr);
      o.ints = {{"counter", SyncDebugAccess::counter(wg)},
                {"waiters", SyncDebugAccess::waiters(wg)}};
      l.sema("waiting", SyncDebugAccess::waitqueue(wg));
      break;
    }
    case objkind::cond: {
      auto& cv = *static_cast<const Cond*>(o.addr);
      o.ints = {{"wait", SyncDebugAccess::wait(cv)}, {"notify", SyncDebugAccess::notify(cv)}};
      l.notify("waiting", SyncDebugAccess::waiters(cv));
      break;
    }
    case objkind::once: {
      auto& on = *static_cast<const Once*>(o.addr);
      const Mutex& mu = SyncDebugAccess::mutex(on);
      o.ints = {{"done", SyncDebugAccess::done(on)},
                {"owner", static_cast<int64_t>(SyncDebugAccess::owner(mu))}};
      l.sema("waiting", SyncDebugAccess::waiters(mu));
      break;
    }
    case objkind::syncmap: {
      int64_t st[4] = {0, -1, 0, 0};
      if (syncmapstats) syncmapstats(o.addr, st);
      o.ints = {{"read", st[0]}, {"dirty", st[1]}, {"misses", st[2]}, {"amended", st[3]}};
      break;
    }
    default:
      break;
  }
}

// ---- maps ----

void hexbytes(std::string& out, const unsigned char* p, size_t n) {
  static const char digits[] = "0123456789abcdef";
  out += "0x";
  for (size_t i = 0; i < n; i++) {
    out += digits[p[i] >> 4];
    out += digits[p[i] & 15];
  }
}

// render appends the text of one key or elem (slot points at the slot;
// indirect: the slot holds a pointer to the value).
void render(std::string& out, kind k, const char* slot, bool indirect, uint32_t size) {
  const char* p = indirect ? *reinterpret_cast<char* const*>(slot) : slot;
  if (!p) {
    out += "<nil>";
    return;
  }
  char b[64];
  auto num = [&](auto v) {
    using T = decltype(v);
    std::memcpy(&v, p, sizeof(T));
    if constexpr (std::is_floating_point_v<T>)
      std::snprintf(b, sizeof b, "%.17g", static_cast<double>(v));
    else if constexpr (std::is_signed_v<T>)
      std::snprintf(b, sizeof b, "%" PRId64, static_cast<int64_t>(v));
    else
      std::snprintf(b, sizeof b, "%" PRIu64, static_cast<uint64_t>(v));
    out += b;
  };
  switch (k) {
    case kind::boolean:
      out += *p ? "true" : "false";
      break;
    case kind::int8:
      num(int8_t{});
      break;
    case kind::int16:
      num(int16_t{});
      break;
    case kind::int32:
      num(int32_t{});
      break;
    case kind::int64:
      num(int64_t{});
      break;
    case kind::uint8:
      num(uint8_t{});
      break;
    case kind::uint16:
      num(uint16_t{});
      break;
    case kind::uint32:
      num(uint32_t{});
      break;
    case kind::uint64:
      num(uint64_t{});
      break;
    case kind::float32:
      num(float{});
      break;
    case kind::float64:
      num(double{});
      break;
    case kind::pointer: {
      uintptr_t v;
      std::memcpy(&v, p, sizeof v);
      std::snprintf(b, sizeof b, "0x%" PRIxPTR, v);
      out += b;
      break;
    }
    case kind::std_string: {
      const auto& s = *reinterpret_cast<const std::string*>(p);
      constexpr size_t kMax = 256;
      if (s.size() <= kMax) {
        out += s;
      } else {
        out.append(s.data(), kMax);
        out += "...";
      }
      break;
    }
    default:
      hexbytes(out, reinterpret_cast<const unsigned char*>(p), std::min<uint32_t>(size, 32));
      if (size > 32) out += "...";
      break;
  }
}

// page_array sets a's page: which buckets of the array at arr a capture copies.
void page_array(caparray& a, uintptr_t arr, uint64_t nbuckets, const captureopts& o) {
  a.addr = arr;
  a.nbuckets = nbuckets;
  if (!arr) return;
  a.first = std::min<uint64_t>(o.bucket_offset, nbuckets);
  a.count = nbuckets - a.first;
  if (o.bucket_limit) a.count = std::min<uint64_t>(a.count, o.bucket_limit);
}

// copy_buckets copies buckets [from, to) of a's page (with their overflow
// chains) into c; the world is stopped.
GORO_NO_TSAN void copy_buckets(capture& c, caparray& a, const maptype* t, uint64_t from,
                               uint64_t to) {
  uintptr_t arr = a.addr;
  bool ik = t->flags & indirectkey, ie = t->flags & indirectelem;
  for (uint64_t i = from; i < to; i++) {
    const char* b = reinterpret_cast<const char*>(arr) + i * t->bucketsize;
    for (uint32_t pos = 0; b; pos++) {
      if (pos == kMaxChain) {
        a.truncated_chain = true;
        break;
      }
      capbucket cb{};
      cb.index = i;
      cb.chainpos = pos;
      cb.addr = reinterpret_cast<uintptr_t>(b);
      std::memcpy(cb.tophash, b, 8);
      const char* next = *reinterpret_cast<char* const*>(b + t->overflowoff);
      cb.overflow = reinterpret_cast<uintptr_t>(next);
      for (unsigned s = 0; s < bucketCnt; s++) {
        if (cb.tophash[s] < minTopHash) continue;
        capslot& sl = cb.slots[s];
        sl.k = static_cast<uint32_t>(c.text.size());
        render(c.text, t->keykind, b + t->keysoff + s * t->keysize, ik, t->keytypesize);
        sl.kn = static_cast<uint32_t>(c.text.size()) - sl.k;
        sl.v = static_cast<uint32_t>(c.text.size());
        render(c.text, t->elemkind, b + t->elemsoff + s * t->elemsize, ie, t->elemtypesize);
        sl.vn = static_cast<uint32_t>(c.text.size()) - sl.v;
      }
      a.buckets.push_back(cb);
      b = next;
    }
  }
}

GORO_NO_TSAN void capture_array(capture& c, caparray& a, const maptype* t, uintptr_t arr,
                                uint64_t nbuckets, const captureopts& o) {
  page_array(a, arr, nbuckets, o);
  if (!arr) return;
  a.buckets.reserve(a.count + a.count / 4);
  copy_buckets(c, a, t, a.first, a.first + a.count);
}

// ---- maps in slices ----
//
// Copying a map's buckets costs ~0.7 us per bucket (render of 8 keys and
// elems, bench/debug map_roundtrip): a 1M-entry map (2^18 buckets) held the
// world stopped for 192 ms, and a client streaming it at 60 Hz took 42% of
// the program's throughput (issue 18). So a map whose page holds more than
// kPauseBuckets buckets is not copied in the first pause: after the
// restart it is copied in slices, each under a stop of its own that ends
// once kSliceNs of copying is spent, with kSliceGapNs of running between
// two (at most ~1/3 of the time stopped). Each bucket, with its overflow
// chain, is copied whole in one stop; the map may change between slices, so
// every stop first checks that the map is still named (not destroyed) and
// still has the arrays the first pause saw, and the last one compares the
// header (count, B, nevacuate, noverflow, flags) with the first pause's:
// `consistent` says whether the copy is of one state. A map that changed
// arrays (a growth began or ended) is copied again from the start, twice at
// most; then it is left inconsistent or, if gone, omitted. Rejected: a
// write counter in hmap (a store per write, on the hot path the misuse
// check already measures), copying raw bucket bytes in the pause and
// rendering after (string keys point into the heap the program frees).
// Measured (bench/debug map_roundtrip/1000000, 2 vCPU; "max stop" is the
// mean over 3 snapshots of each one's longest stop; "snapshot" the whole
// call, symbolizing and JSON included):
//
//   kSliceNs    max stop          stops   snapshot     runs
//   all in one  181-192 ms        1       0.43-0.48 s  several
//   400 us      1.2 ms            ~400    0.89 s       1
//   250 us      0.31-2.2 ms       600-685 1.15-1.47 s  11 (chosen)
//
// The longest stop follows the VM's scheduling more than kSliceNs (typical
// stops are ~0.3 ms at 250 us; about 1 in 2000 passes 1 ms); 250 us was
// kept for the margin it leaves under 1 ms when the VM is quiet.
constexpr uint64_t kPauseBuckets = 512;
constexpr int64_t kSliceNs = 250'000;
constexpr int64_t kSliceGapNs = 1'000'000;
constexpr int kMaxRecopies = 2;

// room makes sure v has `more` elements' capacity past its size, touched.
template <class V>
void room(V& v, size_t more) {
  size_t n = v.size();
  if (v.capacity() - n >= more) return;
  v.reserve(std::max(v.capacity() * 2, n + more));
  v.resize(v.capacity());
  v.resize(n);
}

struct mapslice {
  size_t map;  // index in c.maps
  const hmap* h;
};

bool still_named(const hmap* h) {
  mutex_guard lk(named.lock);
  for (namedobj* n = named.head; n; n = n->next)
    if (n->obj == h && n->kind == objkind::map) return true;
  return false;
}

GORO_NO_TSAN bool same_arrays(const capmap& m, const hmap* h) {
  return h->type == m.type && h->B == m.B &&
         reinterpret_cast<uintptr_t>(h->buckets) == m.cur.addr &&
         reinterpret_cast<uintptr_t>(h->oldbuckets) == m.old.addr;
}

GORO_NO_TSAN bool same_header(const capmap& m, const hmap* h) {
  return same_arrays(m, h) && h->count == m.count && h->nevacuate == m.nevacuate &&
         h->noverflow == m.noverflow &&
         ((h->flags.load(std::memory_order_relaxed) ^ m.flags) & ~hashWriting) == 0;
}

GORO_NO_TSAN void reread_header(capmap& m, const hmap* h, const captureopts& o) {
  m.count = h->count;
  m.flags = h->flags.load(std::memory_order_relaxed);
  m.B = h->B;
  m.noverflow = h->noverflow;
  m.nevacuate = h->nevacuate;
  m.writer = h->writer.load(std::memory_order_relaxed);
  m.cur = caparray{};
  m.old = caparray{};
  page_array(m.cur, reinterpret_cast<uintptr_t>(h->buckets), bucketShift(m.B), o);
  if (h->oldbuckets)
    page_array(m.old, reinterpret_cast<uintptr_t>(h->oldbuckets),
               bucketShift((m.flags & sameSizeGrow) ? m.B : static_cast<uint8_t>(m.B - 1)), o);
}

// copy_in_slices copies one deferred map (see above); the world lock is
// held, the world is running.
void copy_in_slices(capture& c, const captureopts& o, const mapslice& ms) {
  capmap& m = c.maps[ms.map];
  int64_t t0 = nanotime();
  int recopies = 0, failed_stops = 0;
  uint64_t next = m.cur.first;  // cursor: cur's page, then old's
  bool in_old = false;
  auto done = [&] { return in_old ? next >= m.old.first + m.old.count : false; };
  for (;;) {
    // Room for this slice's buckets and text, touched before the stop (a
    // first touch faults: slow on this VM, and never in a stop).
    caparray& cur = in_old ? m.old : m.cur;
    room(cur.buckets, 4096);
    room(c.text, 2u << 20);
    int64_t stop0 = nanotime();
    auto restart = [&] {
      startTheWorld();
      int64_t d = nanotime() - stop0;
      m.max_stop_ns = std::max(m.max_stop_ns, d);
      m.slow_stops += d > 1'000'000;
    };
    std::vector<int32_t> running = stopTheWorld(o.timeout_ns);
    m.stops++;
    if (!running.empty()) {  // a worker missed its safe point: try again later
      restart();
      if (++failed_stops > 8) {
        m.omitted = true;
        break;
      }
      continue;
    }
    if (!still_named(ms.h)) {
      restart();
      m.omitted = true;
      m.cur.buckets.clear();
      m.old.buckets.clear();
      break;
    }
    if (!same_arrays(m, ms.h)) {
      if (recopies++ < kMaxRecopies) {
        reread_header(m, ms.h, o);
        next = m.cur.first;
        in_old = false;
      } else {
        m.consistent = false;  // keep what was copied
        restart();
        break;
      }
    }
    int64_t start = nanotime();
    while (!done()) {
      caparray& a = in_old ? m.old : m.cur;
      uint64_t end = a.addr ? std::min(next + 16, a.first + a.count) : next;
      if (a.addr && next < end) copy_buckets(c, a, m.type, next, end);
      next = end;
      if (!in_old && (!a.addr || next >= a.first + a.count)) {
        in_old = true;
        next = m.old.first;
        if (!m.old.addr) break;
      }
      if (nanotime() - start > kSliceNs) break;
    }
    bool finished = done() || (in_old && !m.old.addr);
    if (finished) m.consistent = m.consistent && same_header(m, ms.h);
    restart();
    if (finished) break;
    timespec gap{0, kSliceGapNs};
    nanosleep(&gap, nullptr);
  }
  m.copy_ns = nanotime() - t0;
}

GORO_NO_TSAN void capture_map(capture& c, capobj& o, const captureopts& opt, bool buckets,
                              std::vector<mapslice>* later) {
  const auto* h = static_cast<const hmap*>(o.addr);
  capmap m{};
  m.count = h->count;
  m.flags = h->flags.load(std::memory_order_relaxed);
  m.B = h->B;
  m.noverflow = h->noverflow;
  m.hash0 = h->hash0;
  m.nevacuate = h->nevacuate;
  m.writer = h->writer.load(std::memory_order_relaxed);
  m.type = h->type;
  if (m.type) o.type = std::string(m.type->keyname) + " -> " + m.type->elemname;
  m.omitted = !buckets || !m.type;
  uint64_t page = 0;
  if (!m.omitted && later) {
    caparray probe;
    page_array(probe, reinterpret_cast<uintptr_t>(h->buckets), bucketShift(m.B), opt);
    page = probe.count;
    if (h->oldbuckets) page += page / 2;
  }
  if (!m.omitted && page > kPauseBuckets) {
    reread_header(m, h, opt);  // (the pages; the buckets in slices after the restart)
    later->push_back({c.maps.size(), h});
  } else if (!m.omitted) {
    capture_array(c, m.cur, m.type, reinterpret_cast<uintptr_t>(h->buckets), bucketShift(m.B), opt);
    if (h->oldbuckets) {
      uint8_t oldB = (m.flags & sameSizeGrow) ? m.B : static_cast<uint8_t>(m.B - 1);
      capture_array(c, m.old, m.type, reinterpret_cast<uintptr_t>(h->oldbuckets), bucketShift(oldB),
                    opt);
    }
  } else {
    m.cur.addr = reinterpret_cast<uintptr_t>(h->buckets);
    m.cur.nbuckets = bucketShift(m.B);
    m.old.addr = reinterpret_cast<uintptr_t>(h->oldbuckets);
    if (m.old.addr)
      m.old.nbuckets = bucketShift((m.flags & sameSizeGrow) ? m.B : static_cast<uint8_t>(m.B - 1));
  }
  o.map = static_cast<int32_t>(c.maps.size());
  c.maps.push_back(std::move(m));
}

// ---- references: who holds each waited-on object (referenced_by) ----
//
// A goroutine references an object when its live stack [sp, stack.hi)
// holds the object's address as an aligned 8-byte word, or when the object
// lies in its stack [stack.lo, stack.hi) (goro places each goroutine's
// closure at the top of its stack, so a channel captured by value is a
// word there). sp is the saved one of a parked goroutine, the snapshot's
// caller's for the capturing goroutine, where a frozen one was interrupted;
// an sp outside the stack means the whole stack. The same rule, word for
// word, as python/goroscope/deadlock.py's scan_references (the debuggers'),
// so both producers write the same lists (tests/gdb/test_live_verdicts.py).
//
// When. Reading a parked stack costs a TLB miss and a cache miss whatever
// is read. bench/debug snapshot_pause: goroutines parked in a channel
// receive, 256 live bytes each; 2 vCPU VM with nested paging, noisy host,
// medians of 7 runs each in a process of its own:
//
//                                           1k       10k       100k
//   pause, no scan                          77 us    507 us    7.6 ms
//   pause, scan in it (16 ahead prefetched)          +2.5-3 ms
//     the same scan again, data still cached         +1.6-3 ms (the TLB)
//   pause, scan after the restart (chosen)  93 us    519 us    7.2 ms
//   that scan, after the restart            0.6 ms   6.2 ms    78 ms
//
// (Each goroutine on a channel of its own: the pause also sorts the 10k
// targets, +0.15 ms.) So the pause only marks the parked goroutines
// (G.refscan, in the G record capture_g reads anyway) and the scan runs
// after the restart. A parked stack changes in two ways only: its
// goroutine runs, or a waker writes into it (a channel's direct send into
// a receiver's slot, or a receive that moves a parked sender's value out).
// Both first call refscan_before(gp), which scans the stack if it is still
// pending, as Go's GC scans a goroutine's stack before it runs; the
// snapshot scans the rest. Whoever moves G.refscan from pending to
// scanning owns that stack's scan; the others wait for done. Outside a
// snapshot refscan_before is one load (bench/sched, best of 5 interleaved
// runs with and without the two calls: pingpong 91.9 vs 90.5 ns, yield
// 39.2 vs 41.4 ns: noise). Wakers also write a sudog's links and elem
// pointer, and select's arbitration word: stack addresses and flags, never
// an object's address. Plain threads are not stopped by the pause: one
// waking a goroutine during it is seen before or after, as anything else
// it does. Rejected: the scan in the pause (above); after the restart
// checking, seqlock-style, that the goroutine has not run (as walk_stacks
// does for frames): a woken goroutine runs within microseconds, so in a
// busy program some of 10k would always have run during the ~6 ms scan
// and the lists would be unknown far too often.
//
// Bounds: a goroutine whose live stack is over kRefScanLimit bytes, or all
// of them together over kScanBudget, or one whose stack cannot be read
// (left running on a worker that did not stop) makes every list unknown:
// the snapshot then omits referenced_by (the rules fall back to "any
// goroutine that can run", never to a wrong verdict).
// bytes of all stacks together (100k parked goroutines are 25 MB: 78 ms
// after the pause, above; a deep stack scans at memory bandwidth)
constexpr uint64_t kScanBudget = 256ull << 20;

// refjob is the scan in progress after a pause (sched.refscan != 0).
struct refjob {
  capture* c;
  std::atomic<uint64_t> bytes{0};  // scanned so far (kScanBudget)
};
std::atomic<refjob*> g_refjob;  // set before sched.refscan, cleared once every stack is done
uint32_t g_refepoch;            // the last epoch handed out (guarded by the world lock)
enum : uint32_t { kRefPending = 1, kRefScanning = 2, kRefDone = 3 };

// scan_words appends the index of each target whose address is a word of
// [p, e). Targets are sorted; almost every word falls outside [t0, t0 +
// span], so four words are tested with one branch.
GORO_NO_SANITIZE_SCAN void scan_words(const uintptr_t* p, const uintptr_t* e,
                                      const std::vector<uintptr_t>& t, std::vector<uint32_t>& out) {
  const uintptr_t t0 = t.front(), span = t.back() - t.front();
  auto check = [&](uintptr_t w) {
    if (w - t0 > span) return;
    auto i = std::lower_bound(t.begin(), t.end(), w);
    if (*i == w) out.push_back(static_cast<uint32_t>(i - t.begin()));
  };
  for (; p + 4 <= e; p += 4) {
    uintptr_t a = p[0], b = p[1], c = p[2], d = p[3];
    if (__builtin_expect((a - t0 <= span) | (b - t0 <= span) | (c - t0 <= span) | (d - t0 <= span),
                         0)) {
      check(a);
      check(b);
      check(c);
      check(d);
    }
  }
  for (; p < e; p++) check(*p);
}

// scan_stack scans one goroutine's live stack into g.refs (see above).
void scan_stack(const capture& c, capg& g, std::atomic<uint64_t>& bytes) {
  uintptr_t lo = g.stacklo, hi = g.stackhi;
  uintptr_t start = lo <= g.sp && g.sp < hi ? g.sp : lo;
  if (hi <= start) return;  // no stack
  g.refbytes = hi - start;
  uint64_t total = bytes.fetch_add(g.refbytes, std::memory_order_relaxed) + g.refbytes;
  if (g.refbytes > kRefScanLimit || total > kScanBudget) {
    g.refover = true;
    return;
  }
  scan_words(reinterpret_cast<const uintptr_t*>(start & ~uintptr_t{7}),
             reinterpret_cast<const uintptr_t*>(hi), c.reftargets, g.refs);
}

// own_scan scans gp's stack if it is still pending in this epoch, else
// waits until whoever scans it is done. (gp->refscanidx and the job are
// valid once its state says this epoch: written before it in the pause.)
void own_scan(G* gp, uint32_t epoch) {
  uint32_t st = epoch * 4 + kRefPending;
  if (gp->refscan.compare_exchange_strong(st, epoch * 4 + kRefScanning,
                                          std::memory_order_acquire)) {
    refjob* job = g_refjob.load(std::memory_order_acquire);
    scan_stack(*job->c, job->c->gs[gp->refscanidx], job->bytes);
    gp->refscan.store(epoch * 4 + kRefDone, std::memory_order_release);
    return;
  }
  // (A scan takes microseconds, unless the OS has descheduled its thread.)
  for (int i = 0; gp->refscan.load(std::memory_order_acquire) == epoch * 4 + kRefScanning; i++)
    if (i < 1000)
      __builtin_ia32_pause();
    else
      sched_yield();
}

// refs_mark marks gp (captured as c.gs.back()) pending, in the pause.
void refs_mark(capture& c, const G* gp) {
  auto* g = const_cast<G*>(gp);  // (the capture's only write to a G record)
  g->refscanidx = static_cast<uint32_t>(c.gs.size() - 1);
  g->refscan.store(g_refepoch * 4 + kRefPending, std::memory_order_relaxed);
  c.gs.back().refg = g;
}

// refs_start decides, in the pause, whether the references can be known,
// and if so (and the pause is ours) publishes the scan to refscan_before.
void refs_start(capture& c, bool paused, refjob& job) {
  auto& t = c.reftargets;
  std::sort(t.begin(), t.end());
  t.erase(std::unique(t.begin(), t.end()), t.end());
  c.refs = !c.refs_unreadable;
  if (!c.refs || t.empty() || !paused) return;
  job.c = &c;
  g_refjob.store(&job, std::memory_order_relaxed);
  sched.refscan.store(g_refepoch, std::memory_order_release);
}

// refs_finish scans every stack still pending, waits for those others
// scan, then turns the lists into each object's referenced_by.
void refs_finish(capture& c, const captureopts& o, refjob& job) {
  const auto& t = c.reftargets;
  if (c.refs && !t.empty()) {
    for (capg& g : c.gs) {
      if (g.refg) {
        own_scan(g.refg, g_refepoch);
      } else if (g.current) {
        g.sp = o.self_sp;
        scan_stack(c, g, job.bytes);
        g.sp = 0;  // (reported as 0: it is running)
      } else {
        scan_stack(c, g, job.bytes);  // (the world stopped by a debugger)
      }
    }
    if (g_refjob.load(std::memory_order_relaxed)) {
      sched.refscan.store(0, std::memory_order_release);
      g_refjob.store(nullptr, std::memory_order_relaxed);
    }
    c.refs_bytes = job.bytes.load(std::memory_order_relaxed);
  }
  for (capg& g : c.gs) g.refg = nullptr;
  if (!c.refs) return;
  std::vector<std::vector<uint64_t>> by(t.size());
  for (const capg& g : c.gs) {
    if (g.refover) {
      c.refs = false;
      return;
    }
    for (uint32_t k : g.refs) by[k].push_back(g.goid);
    // The object itself on this stack (a Mutex in a goroutine's frame).
    for (auto it = std::lower_bound(t.begin(), t.end(), g.stacklo);
         it != t.end() && *it < g.stackhi; ++it)
      by[static_cast<size_t>(it - t.begin())].push_back(g.goid);
  }
  for (auto& v : by) {
    std::sort(v.begin(), v.end());
    v.erase(std::unique(v.begin(), v.end()), v.end());
  }
  for (capobj& ob : c.objs) {
    auto a = reinterpret_cast<uintptr_t>(ob.addr);
    auto it = std::lower_bound(t.begin(), t.end(), a);
    if (it == t.end() || *it != a) continue;
    ob.refknown = true;
    ob.referenced_by = by[static_cast<size_t>(it - t.begin())];
  }
}

}  // namespace

void refscan_slow(G* gp) noexcept {
  uint32_t epoch = sched.refscan.load(std::memory_order_acquire);
  if (epoch && (gp->refscan.load(std::memory_order_acquire) & ~3u) == epoch * 4)
    own_scan(gp, epoch);
}

namespace {

// prefetch_g starts loading the G record kPrefetch goroutines ahead, and a
// select's first sudog (on its stack: a page of its own) half as far ahead,
// once that G's record is in. The hardware prefetcher already streams the
// records; median pause_us of 6 runs (bench/debug, no selects):
//
//   kPrefetch   0     4     16    64
//   pause_us    571   560   522   527
constexpr uint32_t kPrefetch = 16;
GORO_NO_TSAN inline void prefetch_g(const G* chunk, uint32_t i) {
  if (i + kPrefetch < kGChunk) {
    const char* p = reinterpret_cast<const char*>(&chunk[i + kPrefetch]);
    for (size_t off = 0; off < sizeof(G); off += 64) __builtin_prefetch(p + off);
  }
  if (i + kPrefetch / 2 < kGChunk) {
    const G* gp = &chunk[i + kPrefetch / 2];
    const sudog* s = gp->waiting;
    if (s && s != &gp->waitsg) __builtin_prefetch(s);
  }
}

// capture_g appends one goroutine. running: on a worker that keeps running.
GORO_NO_TSAN void capture_g(capture& c, const G* gp, const G* self, bool stopped_worker,
                            bool defer_stack, const captureopts& o) {
  uint32_t st = gp->atomicstatus.load(std::memory_order_acquire);
  uint64_t id = goidof(gp);
  if (id == 0 || st == _Gdead || st == _Gidle) return;
  capg& g = c.gs.emplace_back();  // (in place: capg is 200+ bytes)
  g.goid = id;
  g.status = st;
  g.current = gp == self;
  // (Under a debugger's stop a running goroutine's registers are its
  // thread's, which the runtime cannot read.)
  g.nostack = !g.current && st == _Grunning && (!stopped_worker || o.debugger_stopped);
  g.parent = gp->parentGoid;
  g.m = gp->m;
  g.createtime = gp->createtime;
  g.rlocked = gp->rlocked;
  g.gopc = gp->gopc;
  g.startpc = gp->startpc;
  g.stacklo = gp->stack.lo;
  g.stackhi = gp->stack.hi;
  std::memcpy(g.name, gp->name, sizeof g.name);
  g.name[sizeof g.name - 1] = '\0';
  if (st == _Gwaiting) {
    g.reason = gp->waitreason;
    g.waitsince = gp->waitsince;
  }
  if (!g.nostack && gp->labels) {
    const char* l = gp->labels;
    size_t n = 0;
    while (n < 4096 && (l[n] || l[n + 1])) n++;
    g.labels.assign(l, n + 1);
  }
  g.pc0 = static_cast<uint32_t>(c.pcs.size());
  const m* fm =
      st == _Grunning && !g.current && gp->m >= 0 && gp->m < sched.nm ? sched.allm[gp->m] : nullptr;
  if (fm && __atomic_load_n(&fm->curg, __ATOMIC_RELAXED) == gp &&
      fm->frozen.load(std::memory_order_acquire)) {
    // Frozen for a fatal report: its stack from the registers its worker
    // was interrupted at (the first entry + 1: frames_of looks up a return
    // address at pc - 1, and this pc is the instruction itself).
    g.frozen = true;
    g.nostack = false;
    g.sp = fm->frozensp;
    g.pc = fm->frozenpc + 1;
    g.bp = fm->frozenbp;
    // The handler's own unwind from the interrupted pc on, else the frame
    // pointers from the interrupted registers.
    int k = 0;
    while (k < fm->nfrozenpcs && fm->frozenpcs[k] != g.pc) k++;
    if (o.frames && k < fm->nfrozenpcs)
      c.pcs.insert(c.pcs.end(), fm->frozenpcs + k, fm->frozenpcs + fm->nfrozenpcs);
    else if (o.frames)
      g.elided = parked_pcs(g.stacklo, g.stackhi, g.pc, g.bp, c.pcs);
  } else if (g.current) {
    if (o.frames) current_pcs(c.pcs);
  } else if (st == _Grunnable || st == _Gwaiting) {
    g.sp = gp->sched.sp;
    g.pc = gp->sched.pc;
    g.bp = gp->sched.bp;
    // Blocked goroutines (the bulk of a large program, and unlikely to run
    // in the next millisecond) are walked after the restart; runnable ones
    // (about to run) now.
    if (o.frames && defer_stack && st == _Gwaiting) {
      g.gp = gp;
      g.runs = gp->runs.load(std::memory_order_relaxed);
    } else if (o.frames) {
      g.elided = parked_pcs(g.stacklo, g.stackhi, g.pc, g.bp, c.pcs);
    }
  }
  g.npc = static_cast<uint32_t>(c.pcs.size()) - g.pc0;
  g.w0 = static_cast<uint32_t>(c.waits.size());
  // A runnable goroutine's sudogs too: woken by one case of a select, it
  // stays queued on the others until it runs (resolve_lists needs them).
  if ((st == _Gwaiting || st == _Grunnable) && o.objects) {
    // sudogs live in the G record or on the goroutine's own stack:
    // anything else is damage (e.g. a neighbour's overflow into this
    // stack), not followed.
    int n = 0;
    for (const sudog* s = gp->waiting; s && n < kMaxWaits; s = s->waitlink, n++) {
      auto a = reinterpret_cast<uintptr_t>(s);
      if (s != &gp->waitsg && (a < g.stacklo || a + sizeof(sudog) > g.stackhi || (a & 7))) break;
      c.waits.push_back(capwait{s->c, s->kind, s->isRead, s->isSelect, id, s, s->next});
    }
  }
  g.nw = st == _Gwaiting ? static_cast<uint32_t>(c.waits.size()) - g.w0 : 0;
  // Parked: its stack is scanned for references after the restart. Running
  // elsewhere: its stack is changing (or its registers are a debugger's).
  if (o.refs && defer_stack && !g.current && (st == _Gwaiting || st == _Grunnable))
    refs_mark(c, gp);
  else if (o.refs && !g.current && (g.nostack || (st == _Grunning && !g.frozen)))
    c.refs_unreadable = true;
}

// walk_stacks walks, after the restart, the stacks of the goroutines that
// were blocked in the pause, seqlock style: the walk reads the stack racily
// (bounded to it; stacks stay mapped while the world lock is held), then
// the goroutine's switch-in counter and registers are read again, and its
// frames are kept only if it has not run since the pause (a waker writes
// only sudogs and received values into a parked stack, never frame links).
// Runs after startTheWorld, so its dependent misses (one per frame) are
// off the pause: see the table at the top of this file.
GORO_NO_TSAN void walk_stacks(capture& c) {
  for (capg& g : c.gs) {
    if (!g.gp) continue;
    g.pc0 = static_cast<uint32_t>(c.pcs.size());
    g.elided = parked_pcs(g.stacklo, g.stackhi, g.pc, g.bp, c.pcs);
    std::atomic_thread_fence(std::memory_order_acquire);
    const G* gp = g.gp;
    // (Woken but not yet run is fine: only running changes frame links.)
    g.stale = gp->runs.load(std::memory_order_relaxed) != g.runs || gp->sched.sp != g.sp ||
              gp->sched.bp != g.bp || gp->sched.pc != g.pc;
    if (g.stale) {
      c.pcs.resize(g.pc0);
      g.elided = false;
    }
    g.npc = static_cast<uint32_t>(c.pcs.size()) - g.pc0;
    g.gp = nullptr;
  }
}

// prefault reserves room for n elements and touches it (see capture_state).
template <class T>
void prefault(std::vector<T>& v, size_t n) {
  v.resize(n);
  v.clear();
}

}  // namespace

void capture_state(capture& c, const captureopts& o) {
  int64_t t0 = 0;
  G* self = getg();
  bool locked = false;
  refjob job;
  std::vector<mapslice> later;  // maps too big for the pause
  if (!o.list) {
    // Room for every goroutine, touched now: a fresh multi-megabyte vector
    // is demand-zero pages, and this keeps their faults (one per 4 KiB,
    // ~900 for 10k goroutines) out of the pause.
    size_t n = static_cast<size_t>(sched.nallgchunks.load(std::memory_order_acquire)) * kGChunk;
    prefault(c.gs, n + kGChunk);
    prefault(c.pcs, (n + kGChunk) * 8);
    prefault(c.waits, n + kGChunk);
  }
  if (o.stop) {
    locked = worldlock();
    c.running = locked;
  } else {
    c.running = sched.running.load(std::memory_order_acquire) && sched.allm;
  }
  if (locked) {
    if (o.refs) g_refepoch = g_refepoch % ((1u << 30) - 1) + 1;  // (never 0)
    t0 = nanotime();
    c.running_workers = stopTheWorld(o.timeout_ns);
    c.stopped = true;
    c.partial = !c.running_workers.empty();
  }
  if (o.debugger_stopped) c.stopped = true;  // (by the debugger: nothing to restart)
  c.now = nanotime();
  timespec ts;
  clock_gettime(CLOCK_REALTIME, &ts);
  c.walltime = ts.tv_sec * 1000000000LL + ts.tv_nsec;
  if (c.running) {
    c.nm = sched.nm;
    c.maingoid = sched.maingoid;
    // Workers left running: their current goroutine has no stack to show.
    std::vector<const G*> runningg;
    // (A worker that did not stop may be switching: its curg is read
    // atomically, as gogo writes it.)
    for (int32_t i : c.running_workers)
      runningg.push_back(__atomic_load_n(&sched.allm[i]->curg, __ATOMIC_RELAXED));
    auto stopped_worker = [&](const G* gp) {
      return std::find(runningg.begin(), runningg.end(), gp) == runningg.end();
    };
    if (o.list) {
      for (const G* gp : *o.list) capture_g(c, gp, self, stopped_worker(gp), locked, o);
    } else {
      uint32_t nch = sched.nallgchunks.load(std::memory_order_acquire);
      if (self) capture_g(c, self, self, true, locked, o);  // the caller first, as Go's dump
      for (uint32_t ch = 0; ch < nch; ch++) {
        const G* chunk = sched.allgchunks[ch];
        for (uint32_t i = 0; i < kGChunk; i++) {
          prefetch_g(chunk, i);
          const G* gp = &chunk[i];
          if (gp != self) capture_g(c, gp, self, stopped_worker(gp), locked, o);
        }
      }
    }
  }

  if (o.objects) {
    // Objects goroutines wait on, then named objects (merged by address
    // and kind: a SyncMap and its first member, its Mutex, share an address).
    std::map<std::pair<const void*, objkind>, size_t> index;
    auto add = [&](const void* addr, objkind k) -> capobj& {
      auto [it, fresh] = index.try_emplace({addr, k}, c.objs.size());
      if (fresh) c.objs.push_back(capobj{addr, k, {}, {}, {}, {}, {}, -1, false, {}});
      return c.objs[it->second];
    };
    const capwait* prev = nullptr;  // (waiters of one object are often adjacent)
    for (const capg& g : c.gs)
      for (uint32_t i = g.w0; i < g.w0 + g.nw; i++) {
        const capwait& w = c.waits[i];
        if (prev && w.obj == prev->obj && w.kind == prev->kind) continue;
        prev = &w;
        if (w.obj && w.kind != objkind::none && w.kind != objkind::sema) {
          add(w.obj, w.kind);
          c.reftargets.push_back(reinterpret_cast<uintptr_t>(w.obj));
        }
      }
    maybe_guard lk(named.lock, !o.debugger_stopped);
    std::vector<void (*)(const void*, int64_t*)> stats(c.objs.size(), nullptr);
    for (namedobj* n = named.head; n; n = n->next) {
      capobj& ob = add(n->obj, n->kind);
      ob.name = n->name;
      stats.resize(c.objs.size(), nullptr);
      stats[&ob - c.objs.data()] = n->syncmapstats;
    }
    for (size_t i = 0; i < c.objs.size(); i++) {
      capobj& ob = c.objs[i];
      if (ob.kind == objkind::map) {
        bool want = o.map.empty() || o.map == ob.name;
        capture_map(c, ob, o, o.maps && want && c.stopped && !c.partial, locked ? &later : nullptr);
      } else {
        // SyncMap statistics read its maps without locks: only with the
        // world (fully) stopped.
        bool stopped = c.stopped && !c.partial;
        capture_object(ob, stopped ? stats[i] : nullptr, stopped, !o.debugger_stopped);
      }
    }
    if (o.refs && c.running && c.stopped && !c.partial) refs_start(c, locked, job);
  }
  if (locked) {
    startTheWorld();
    c.pause_ns = nanotime() - t0;
    // Before worldunlock: run_main's teardown frees stacks under it. The
    // references first: parked goroutines about to run wait for them.
    int64_t t1 = nanotime();
    if (o.refs) refs_finish(c, o, job);
    c.refs_ns = nanotime() - t1;
    walk_stacks(c);
    for (const mapslice& ms : later) copy_in_slices(c, o, ms);
    worldunlock();
  } else if (o.refs) {
    refs_finish(c, o, job);
  }
  resolve_lists(c);
}

}  // namespace goro::detail
