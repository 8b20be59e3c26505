// capture.cpp — capture_state: the one capture behind dumps and snapshots.
// Design and safety rules: capture.h.
//
// Cost model (the pause): per goroutine one pass over its G record plus a
// frame-pointer walk of its stack (a few cache lines), per waited-on object
// one lock and a walk of its wait queue. Every vector is reserved up front
// from the registry's size so the pause does not reallocate. Symbolization
// and rendering happen after startTheWorld. bench/debug measures it.
#include "capture.h"

#include <time.h>

#include <algorithm>
#include <cinttypes>
#include <cstdio>
#include <cstring>
#include <map>
#include <string>

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
// pc, then the frame-pointer chain, every frame inside its stack.
GORO_NO_TSAN void parked_pcs(const G* gp, uintptr_t pc, uintptr_t bp, std::vector<uintptr_t>& pcs) {
  uintptr_t lo = gp->stack.lo, hi = gp->stack.hi;
  pcs.push_back(pc);
  for (int i = 0; i < kMaxFrames; i++) {
    if (bp < lo || bp + 16 > hi || (bp & 7)) break;
    uintptr_t next = reinterpret_cast<const uintptr_t*>(bp)[0];
    uintptr_t ret = reinterpret_cast<const uintptr_t*>(bp)[1];
    if (!ret) break;
    pcs.push_back(ret);
    if (next <= bp) break;
    bp = next;
  }
}

// waiters_of lists the goids queued on a semaphore (root.lock taken).
std::vector<uint64_t> waiters_of(const semaRoot& r) {
  std::vector<uint64_t> out;
  auto& root = const_cast<semaRoot&>(r);
  mutex_guard lk(root.lock);
  int n = 0;
  for (const sudog* s = root.head; s && n < kMaxQueue; s = s->next, n++)
    out.push_back(goidof(s->g));
  return out;
}

std::vector<uint64_t> queue_goids(const sudog* first) {
  std::vector<uint64_t> out;
  int n = 0;
  for (const sudog* s = first; s && n < kMaxQueue; s = s->next, n++) out.push_back(goidof(s->g));
  return out;
}

void capture_object(capobj& o, void (*syncmapstats)(const void*, int64_t*)) {
  switch (o.kind) {
    case objkind::chan: {
      auto* c = static_cast<hchan*>(const_cast<void*>(o.addr));
      mutex_guard lk(c->lock);
      o.type = c->elemtype && c->elemtype->elemname ? c->elemtype->elemname : "";
      o.ints = {{"qcount", static_cast<int64_t>(c->qcount)},
                {"dataqsiz", static_cast<int64_t>(c->dataqsiz)},
                {"closed", c->closed.load(std::memory_order_relaxed) != 0},
                {"elemsize", static_cast<int64_t>(c->elemtype ? c->elemtype->elemsize : 0)},
                {"sendx", static_cast<int64_t>(c->sendx)},
                {"recvx", static_cast<int64_t>(c->recvx)}};
      o.lists = {{"recvq", queue_goids(c->recvq.first)}, {"sendq", queue_goids(c->sendq.first)}};
      break;
    }
    case objkind::mutex: {
      auto& mu = *static_cast<const Mutex*>(o.addr);
      int32_t st = SyncDebugAccess::state(mu);
      o.ints = {{"state", st},
                {"locked", (st & mutexLocked) != 0},
                {"starving", (st & mutexStarving) != 0},
                {"owner", static_cast<int64_t>(SyncDebugAccess::owner(mu))}};
      o.lists = {{"waiters", waiters_of(SyncDebugAccess::waiters(mu))}};
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
      o.lists = {{"writers", waiters_of(SyncDebugAccess::waiters(w))},
                 {"writerWaiting", waiters_of(SyncDebugAccess::writerWaiters(rw))},
                 {"readerWaiters", waiters_of(SyncDebugAccess::readerWaiters(rw))}};
      break;
    }
    case objkind::waitgroup: {
      auto& wg = *static_cast<const WaitGroup*>(o.addr);
      o.ints = {{"counter", SyncDebugAccess::counter(wg)},
                {"waiters", SyncDebugAccess::waiters(wg)}};
      o.lists = {{"waiting", waiters_of(SyncDebugAccess::waitqueue(wg))}};
      break;
    }
    case objkind::cond: {
      auto& cv = *static_cast<const Cond*>(o.addr);
      auto& nl = const_cast<notifyList&>(SyncDebugAccess::waiters(cv));
      std::vector<uint64_t> ws;
      {
        mutex_guard lk(nl.lock);
        ws = queue_goids(nl.head);
      }
      o.ints = {{"wait", SyncDebugAccess::wait(cv)}, {"notify", SyncDebugAccess::notify(cv)}};
      o.lists = {{"waiting", std::move(ws)}};
      break;
    }
    case objkind::once: {
      auto& on = *static_cast<const Once*>(o.addr);
      const Mutex& mu = SyncDebugAccess::mutex(on);
      o.ints = {{"done", SyncDebugAccess::done(on)},
                {"owner", static_cast<int64_t>(SyncDebugAccess::owner(mu))}};
      o.lists = {{"waiting", waiters_of(SyncDebugAccess::waiters(mu))}};
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

GORO_NO_TSAN void capture_array(capture& c, caparray& a, const maptype* t, uintptr_t arr,
                                uint64_t nbuckets, const captureopts& o) {
  a.addr = arr;
  a.nbuckets = nbuckets;
  if (!arr) return;
  a.first = std::min<uint64_t>(o.bucket_offset, nbuckets);
  a.count = nbuckets - a.first;
  if (o.bucket_limit) a.count = std::min<uint64_t>(a.count, o.bucket_limit);
  a.buckets.reserve(a.count + a.count / 4);
  bool ik = t->flags & indirectkey, ie = t->flags & indirectelem;
  for (uint64_t i = a.first; i < a.first + a.count; i++) {
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

GORO_NO_TSAN void capture_map(capture& c, capobj& o, const captureopts& opt, bool buckets) {
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
  if (!m.omitted) {
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

// capture_g appends one goroutine. running: on a worker that keeps running.
GORO_NO_TSAN void capture_g(capture& c, const G* gp, const G* self, bool stopped_worker,
                            const captureopts& o) {
  uint32_t st = gp->atomicstatus.load(std::memory_order_acquire);
  uint64_t id = goidof(gp);
  if (id == 0 || st == _Gdead || st == _Gidle) return;
  capg g{};
  g.goid = id;
  g.status = st;
  g.current = gp == self;
  g.nostack = !g.current && st == _Grunning && !stopped_worker;
  g.parent = gp->parentGoid;
  g.m = gp->m;
  g.createtime = gp->createtime;
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
  if (g.current) {
    if (o.frames) current_pcs(c.pcs);
  } else if (st == _Grunnable || st == _Gwaiting) {
    g.sp = gp->sched.sp;
    g.pc = gp->sched.pc;
    g.bp = gp->sched.bp;
    if (o.frames) parked_pcs(gp, g.pc, g.bp, c.pcs);
  }
  g.npc = static_cast<uint32_t>(c.pcs.size()) - g.pc0;
  g.w0 = static_cast<uint32_t>(c.waits.size());
  if (st == _Gwaiting && o.objects) {
    // sudogs live on the goroutine's own stack: anything else is damage
    // (e.g. a neighbour's overflow into this stack), not followed.
    int n = 0;
    for (const sudog* s = gp->waiting; s && n < kMaxWaits; s = s->waitlink, n++) {
      auto a = reinterpret_cast<uintptr_t>(s);
      if (a < g.stacklo || a + sizeof(sudog) > g.stackhi || (a & 7)) break;
      c.waits.push_back(capwait{s->c, s->kind, s->isRead, s->isSelect});
    }
  }
  g.nw = static_cast<uint32_t>(c.waits.size()) - g.w0;
  c.gs.push_back(std::move(g));
}

}  // namespace

void capture_state(capture& c, const captureopts& o) {
  int64_t t0 = nanotime();
  G* self = getg();
  bool locked = false;
  if (o.stop) {
    locked = worldlock();
    c.running = locked;
  } else {
    c.running = sched.running.load(std::memory_order_acquire) && sched.allm;
  }
  if (locked) {
    c.running_workers = stopTheWorld(o.timeout_ns);
    c.stopped = true;
    c.partial = !c.running_workers.empty();
  }
  c.now = nanotime();
  timespec ts;
  clock_gettime(CLOCK_REALTIME, &ts);
  c.walltime = ts.tv_sec * 1000000000LL + ts.tv_nsec;
  if (c.running) {
    c.nm = sched.nm;
    c.maingoid = sched.maingoid;
    // Workers left running: their current goroutine has no stack to show.
    std::vector<const G*> runningg;
    for (int32_t i : c.running_workers) runningg.push_back(sched.allm[i]->curg);
    auto stopped_worker = [&](const G* gp) {
      return std::find(runningg.begin(), runningg.end(), gp) == runningg.end();
    };
    if (o.list) {
      for (const G* gp : *o.list) capture_g(c, gp, self, stopped_worker(gp), o);
    } else {
      uint32_t nch = sched.nallgchunks.load(std::memory_order_acquire);
      c.gs.reserve(static_cast<size_t>(nch) * kGChunk);
      c.pcs.reserve(static_cast<size_t>(nch) * kGChunk * 8);
      c.waits.reserve(static_cast<size_t>(nch) * kGChunk);
      if (self) capture_g(c, self, self, true, o);  // the caller first, as Go's dump
      for (uint32_t ch = 0; ch < nch; ch++)
        for (uint32_t i = 0; i < kGChunk; i++) {
          const G* gp = &sched.allgchunks[ch][i];
          if (gp != self) capture_g(c, gp, self, stopped_worker(gp), o);
        }
    }
  }
  if (o.objects) {
    // Objects goroutines wait on, then named objects (merged by address
    // and kind: a SyncMap and its first member, its Mutex, share an address).
    std::map<std::pair<const void*, objkind>, size_t> index;
    auto add = [&](const void* addr, objkind k) -> capobj& {
      auto [it, fresh] = index.try_emplace({addr, k}, c.objs.size());
      if (fresh) c.objs.push_back(capobj{addr, k, {}, {}, {}, {}, -1});
      return c.objs[it->second];
    };
    std::vector<std::pair<size_t, void (*)(const void*, int64_t*)>> todo;
    for (const capwait& w : c.waits)
      if (w.obj && w.kind != objkind::none && w.kind != objkind::sema) add(w.obj, w.kind);
    mutex_guard lk(named.lock);
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
        capture_map(c, ob, o, o.maps && want && c.stopped && !c.partial);
      } else {
        // SyncMap statistics read its maps without locks: only with the
        // world (fully) stopped.
        capture_object(ob, c.stopped && !c.partial ? stats[i] : nullptr);
      }
    }
  }
  if (locked) {
    startTheWorld();
    worldunlock();
  }
  c.pause_ns = locked ? nanotime() - t0 : 0;
}

}  // namespace goro::detail
