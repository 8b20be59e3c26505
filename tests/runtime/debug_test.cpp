// debug_test.cpp — the debug surface: the layout descriptor against the C++
// definitions, named objects, snapshots of every scheduler state validated
// against docs/snapshot.schema.json, a map snapshot during growth, and
// partial snapshots when a worker never reaches a safe point.
#include <dlfcn.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>
#include <cstring>
#include <fstream>
#include <map>
#include <memory>
#include <set>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include <rapidjson/document.h>
#include <rapidjson/schema.h>
#include <rapidjson/stringbuffer.h>

#include "goro/debug.h"
#include "goro/debug_abi.h"
#include "goro/map_debug.h"
#include "proc.h"
#include "sched_fixture.h"

namespace {

using goro::detail::G;

// ---- the descriptor --------------------------------------------------------

struct Layout {
  std::map<std::string, goroscope_entry> byname;
  std::vector<std::string> names;
  const goroscope_layout_header* h;

  Layout() {
    h = static_cast<const goroscope_layout_header*>(dlsym(RTLD_DEFAULT, GOROSCOPE_LAYOUT_SYMBOL));
    if (!h) return;
    auto* e =
        reinterpret_cast<const goroscope_entry*>(reinterpret_cast<const char*>(h) + h->header_size);
    for (uint32_t i = 0; i < h->count; i++) {
      names.emplace_back(e[i].name, strnlen(e[i].name, sizeof e[i].name));
      byname[names.back()] = e[i];
    }
  }
  const goroscope_entry& at(const std::string& n) const {
    auto it = byname.find(n);
    if (it == byname.end()) throw std::runtime_error("no entry " + n);
    return it->second;
  }
  uint64_t off(const std::string& n) const { return at(n).value; }
};

TEST(DebugLayout, IsInTheDynamicSymbolTableWithHeader) {
  // dlsym sees only .dynsym: this is what survives `strip`.
  Layout l;
  ASSERT_NE(l.h, nullptr) << "goroscope_layout is not exported";
  EXPECT_STREQ(l.h->magic, GOROSCOPE_LAYOUT_MAGIC);
  EXPECT_EQ(l.h->version, GOROSCOPE_LAYOUT_VERSION);
  EXPECT_EQ(l.h->header_size, sizeof(goroscope_layout_header));
  EXPECT_EQ(l.h->entry_size, sizeof(goroscope_entry));
  EXPECT_GT(l.h->count, 200u);
  std::set<std::string> uniq(l.names.begin(), l.names.end());
  EXPECT_EQ(uniq.size(), l.names.size()) << "entry names must be unique";
  for (const auto& [n, e] : l.byname) {
    EXPECT_TRUE(e.kind >= GOROSCOPE_TYPE && e.kind <= GOROSCOPE_GLOBAL) << n;
    EXPECT_NE(n.find_first_not_of(' '), std::string::npos);
  }
}

TEST(DebugLayout, TheFatalErrorBreakpointIsExported) {
  // Debuggers break on goroscope_fatal (its callers are tested end to end
  // in tests/gdb and tests/lldb, which stop there before the process exits).
  EXPECT_EQ(dlsym(RTLD_DEFAULT, GOROSCOPE_FATAL_SYMBOL), reinterpret_cast<void*>(&goroscope_fatal));
}

TEST(DebugLayout, MatchesTheDefinitions) {
  using namespace goro::detail;
  Layout l;
  ASSERT_NE(l.h, nullptr);
  EXPECT_EQ(l.at("G").size, sizeof(G));
  EXPECT_EQ(l.off("G.goid"), offsetof(G, goid));
  EXPECT_EQ(l.at("G.goid").size, 8u);
  EXPECT_EQ(l.off("G.sched"), offsetof(G, sched));
  EXPECT_EQ(l.off("gobuf.sp"), offsetof(gobuf, sp));
  EXPECT_EQ(l.off("gobuf.pc"), offsetof(gobuf, pc));
  EXPECT_EQ(l.off("gobuf.bp"), offsetof(gobuf, bp));
  EXPECT_EQ(l.off("gobuf.r15"), offsetof(gobuf, r15));
  EXPECT_EQ(l.off("G.atomicstatus"), offsetof(G, atomicstatus));
  EXPECT_EQ(l.off("G.waitreason"), offsetof(G, waitreason));
  EXPECT_EQ(l.off("G.waiting"), offsetof(G, waiting));
  EXPECT_EQ(l.off("G.waitsg"), offsetof(G, waitsg));
  EXPECT_EQ(l.off("G.runs"), offsetof(G, runs));
  EXPECT_EQ(l.off("G.labels"), offsetof(G, labels));
  EXPECT_EQ(l.at("G.name").size, sizeof(G::name));
  EXPECT_EQ(l.off("sudog.c"), offsetof(sudog, c));
  EXPECT_EQ(l.off("sudog.waitlink"), offsetof(sudog, waitlink));
  EXPECT_EQ(l.off("schedt.allgchunks"), offsetof(schedt, allgchunks));
  EXPECT_EQ(l.off("schedt.goidx"), offsetof(schedt, goidx));
  EXPECT_EQ(l.at("goidxstripe").size, sizeof(schedt::goidxstripe));
  EXPECT_EQ(l.off("allg.chunk"), kGChunk);
  EXPECT_EQ(l.off("goidx.stripes"), schedt::kGoidxStripes);
  EXPECT_EQ(l.at("sched").kind, GOROSCOPE_GLOBAL);
  EXPECT_EQ(l.at("sched").addr, &sched);
  EXPECT_EQ(l.at("named").addr, &named);
  EXPECT_EQ(l.off("hmap.buckets"), offsetof(hmap, buckets));
  EXPECT_EQ(l.off("hmap.nevacuate"), offsetof(hmap, nevacuate));
  EXPECT_EQ(l.off("maptype.keysoff"), offsetof(maptype, keysoff));
  EXPECT_EQ(l.off("hchan.recvq"), offsetof(hchan, recvq));
  EXPECT_EQ(l.off("hchan.lock"), offsetof(hchan, lock));
  EXPECT_EQ(l.off("tophash.evacuatedY"), evacuatedY);
  EXPECT_EQ(l.off("flags.hashWriting"), hashWriting);
  EXPECT_EQ(l.off("mutexWaiterShift"), static_cast<uint64_t>(mutexWaiterShift));
  // Private fields: against the addresses SyncDebugAccess hands out.
  goro::Mutex mu;
  EXPECT_EQ(
      l.off("Mutex.waiters"),
      static_cast<uint64_t>(reinterpret_cast<const char*>(&goro::SyncDebugAccess::waiters(mu)) -
                            reinterpret_cast<const char*>(&mu)));
  goro::RWMutex rw;
  EXPECT_EQ(l.off("RWMutex.readerWaiters"),
            static_cast<uint64_t>(
                reinterpret_cast<const char*>(&goro::SyncDebugAccess::readerWaiters(rw)) -
                reinterpret_cast<const char*>(&rw)));
  EXPECT_EQ(l.at("Mutex").size, sizeof(goro::Mutex));
  EXPECT_EQ(l.at("SyncMap").size, sizeof(goro::SyncMap<int, int>));
  // Every wait reason and status with Go's string.
  for (int r = 1; r < static_cast<int>(waitReason::count_); r++)
    EXPECT_EQ(l.off(std::string("waitReason.") + waitReasonStrings[r]), static_cast<uint64_t>(r));
  EXPECT_EQ(l.off("gstatus.waiting"), _Gwaiting);
  EXPECT_EQ(l.off("gstatus.dead"), _Gdead);
  EXPECT_EQ(l.off("objkind.chan"), static_cast<uint64_t>(objkind::chan));
}

// ---- snapshots ---------------------------------------------------------------

rapidjson::Document parse(const std::string& s) {
  rapidjson::Document d;
  d.Parse(s.c_str(), s.size());
  EXPECT_FALSE(d.HasParseError()) << "offset " << d.GetErrorOffset();
  return d;
}

// validate checks a snapshot against docs/snapshot.schema.json.
void validate(const rapidjson::Document& d) {
  struct Schema {
    rapidjson::Document doc;
    std::unique_ptr<rapidjson::SchemaDocument> schema;
    Schema() {
      std::ifstream f(GORO_SOURCE_DIR "/docs/snapshot.schema.json");
      std::stringstream ss;
      ss << f.rdbuf();
      doc.Parse(ss.str().c_str());
      EXPECT_FALSE(doc.HasParseError());
      schema = std::make_unique<rapidjson::SchemaDocument>(doc);
    }
  };
  static Schema s;  // destroyed at exit: no leak reports
  const rapidjson::SchemaDocument* schema = s.schema.get();
  rapidjson::SchemaValidator v(*schema);
  if (!d.Accept(v)) {
    rapidjson::StringBuffer a, b;
    v.GetInvalidSchemaPointer().StringifyUriFragment(a);
    v.GetInvalidDocumentPointer().StringifyUriFragment(b);
    ADD_FAILURE() << "snapshot violates the schema: keyword " << v.GetInvalidSchemaKeyword()
                  << " at schema " << a.GetString() << ", document " << b.GetString();
  }
}

const rapidjson::Value* goroutine(const rapidjson::Document& d, uint64_t goid) {
  for (const auto& g : d["goroutines"].GetArray())
    if (g["goid"].GetUint64() == goid) return &g;
  return nullptr;
}

const rapidjson::Value* object(const rapidjson::Document& d, const void* addr) {
  char b[32];
  std::snprintf(b, sizeof b, "%#lx", reinterpret_cast<unsigned long>(addr));
  for (const auto& o : d["objects"].GetArray())
    if (std::strcmp(o["addr"].GetString(), b) == 0) return &o;
  return nullptr;
}

bool has_goid(const rapidjson::Value& list, uint64_t goid) {
  for (const auto& v : list.GetArray())
    if (v.GetUint64() == goid) return true;
  return false;
}

// wait_until spins (yielding) until cond holds or 5 s pass.
template <class F>
bool wait_until(F&& cond) {
  for (int i = 0; i < 5000; i++) {
    if (cond()) return true;
    goro::sleep(std::chrono::milliseconds(1));
  }
  return false;
}

G* gof(uint64_t goid) { return goro::detail::findg(goid); }
bool waiting(uint64_t goid, goro::detail::waitReason r) {
  G* g = gof(goid);
  return g && g->atomicstatus.load() == goro::detail::_Gwaiting && g->waitreason == r;
}

class Snapshot : public goro_test::Sched {};

TEST_P(Snapshot, EveryWaitReasonIsCapturedWithItsObjects) {
  using goro::detail::waitReason;
  run([] {
    auto unbuf = goro::make_chan<int>();
    auto full = goro::make_chan<int>(1);
    full.send(0);
    auto sel1 = goro::make_chan<int>(), sel2 = goro::make_chan<int>();
    goro::Mutex mu;
    goro::RWMutex rw, rw2;
    goro::WaitGroup wg, done;
    goro::Mutex cmu;
    goro::Cond cv(cmu);
    bool go_on = false;
    goro::debug::name(unbuf, "unbuf");
    goro::debug::name(mu, "mu");
    std::atomic<uint64_t> ids[9] = {};
    auto spawn = [&](int i, auto f) {
      done.add(1);
      goro::go([&, i, f]() mutable {
        ids[i] = goro::goid();
        f();
        done.done();
      });
    };
    mu.lock();
    rw.lock();
    rw2.rlock();
    wg.add(1);
    spawn(0, [&] { unbuf.recv(); });
    spawn(1, [&] { full.send(1); });
    spawn(2, [&] {
      int v;
      goro::select(goro::recv(sel1, v), goro::send(sel2, 5));
    });
    spawn(3, [&] { std::lock_guard<goro::Mutex> g(mu); });
    spawn(4, [&] {
      rw.rlock();
      rw.runlock();
    });
    spawn(5, [&] {
      rw2.lock();
      rw2.unlock();
    });
    spawn(6, [&] { wg.wait(); });
    spawn(7, [&] {
      std::unique_lock<goro::Mutex> g(cmu);
      while (!go_on) cv.wait();
    });
    spawn(8, [&] { goro::sleep(std::chrono::milliseconds(300)); });
    std::pair<int, waitReason> want[] = {{0, waitReason::chanReceive},
                                         {1, waitReason::chanSend},
                                         {2, waitReason::select},
                                         {3, waitReason::syncMutexLock},
                                         {4, waitReason::syncRWMutexRLock},
                                         {5, waitReason::syncRWMutexLock},
                                         {6, waitReason::syncWaitGroupWait},
                                         {7, waitReason::syncCondWait},
                                         {8, waitReason::sleep}};
    for (const auto& w : want) {
      int i = w.first;
      waitReason r = w.second;  // (clang 14 cannot capture structured bindings)
      ASSERT_TRUE(wait_until([&] { return ids[i] && waiting(ids[i], r); }))
          << "goroutine " << i << " never blocked in " << to_string(r);
    }

    goro::debug::SnapshotStats st{};
    auto d = parse(goro::debug::snapshot({}, &st));
    validate(d);
    EXPECT_TRUE(d["world"]["stopped"].GetBool());
    EXPECT_FALSE(d["world"]["partial"].GetBool());
    EXPECT_GE(st.goroutines, 10u);
    for (auto [i, r] : want) {
      const auto* g = goroutine(d, ids[i]);
      ASSERT_NE(g, nullptr) << i;
      EXPECT_STREQ((*g)["status"].GetString(), "waiting");
      EXPECT_STREQ((*g)["wait_reason"].GetString(), to_string(r));
      EXPECT_GT((*g)["frames"].Size(), 0u);
    }
    // The caller is "current" and running.
    const auto* me = goroutine(d, goro::goid());
    ASSERT_NE(me, nullptr);
    EXPECT_TRUE((*me)["current"].GetBool());
    EXPECT_STREQ((*me)["status"].GetString(), "running");
    // Blocked-on objects, with the waiters by goid.
    const auto* c = object(d, unbuf.debug_hchan());
    ASSERT_NE(c, nullptr);
    EXPECT_STREQ((*c)["name"].GetString(), "unbuf");
    EXPECT_TRUE(has_goid((*c)["recvq"], ids[0]));
    const auto* f = object(d, full.debug_hchan());
    ASSERT_NE(f, nullptr);
    EXPECT_EQ((*f)["qcount"].GetInt(), 1);
    EXPECT_EQ((*f)["dataqsiz"].GetInt(), 1);
    EXPECT_TRUE(has_goid((*f)["sendq"], ids[1]));
    const auto& selw = (*goroutine(d, ids[2]))["waiting_on"];
    ASSERT_EQ(selw.Size(), 2u);  // every case of the select
    EXPECT_TRUE(selw[0]["select"].GetBool());
    std::set<std::string> ops{selw[0]["op"].GetString(), selw[1]["op"].GetString()};
    EXPECT_EQ(ops, (std::set<std::string>{"recv", "send"}));
    const auto* m = object(d, &mu);
    ASSERT_NE(m, nullptr);
    EXPECT_STREQ((*m)["name"].GetString(), "mu");
    EXPECT_TRUE((*m)["locked"].GetBool());
    EXPECT_EQ((*m)["owner"].GetUint64(), goro::goid());
    EXPECT_TRUE(has_goid((*m)["waiters"], ids[3]));
    const auto* r1 = object(d, &rw);
    ASSERT_NE(r1, nullptr);
    EXPECT_TRUE((*r1)["writerPending"].GetBool());
    EXPECT_TRUE(has_goid((*r1)["readerWaiters"], ids[4]));
    const auto* r2 = object(d, &rw2);
    ASSERT_NE(r2, nullptr);
    EXPECT_EQ((*r2)["readers"].GetInt(), 1);
    EXPECT_TRUE(has_goid((*r2)["writerWaiting"], ids[5]));
    const auto* w = object(d, &wg);
    ASSERT_NE(w, nullptr);
    EXPECT_EQ((*w)["counter"].GetInt(), 1);
    EXPECT_TRUE(has_goid((*w)["waiting"], ids[6]));
    const auto* cvo = object(d, &cv);
    ASSERT_NE(cvo, nullptr);
    EXPECT_TRUE(has_goid((*cvo)["waiting"], ids[7]));

    // Release everyone.
    unbuf.send(1);
    full.recv();
    sel1.send(1);
    mu.unlock();
    rw.unlock();
    rw2.runlock();
    wg.done();
    {
      std::lock_guard<goro::Mutex> g(cmu);
      go_on = true;
    }
    cv.broadcast();
    done.wait();
  });
}

TEST_P(Snapshot, RunnableGoroutinesHaveTheirStacks) {
  run([] {
    goro::WaitGroup wg;
    std::atomic<bool> release{false};
    // On one worker a fresh goroutine stays runnable while main runs.
    wg.add(1);
    uint64_t id = 0;
    goro::go([&] {
      while (!release.load()) goro::yield();
      wg.done();
    });
    goro::yield();  // let it start and yield: now it is runnable (or running elsewhere)
    auto d = parse(goro::debug::snapshot());
    validate(d);
    for (const auto& g : d["goroutines"].GetArray())
      if (!g["current"].GetBool()) id = g["goid"].GetUint64();
    ASSERT_NE(id, 0u);
    const auto* g = goroutine(d, id);
    std::string st = (*g)["status"].GetString();
    EXPECT_TRUE(st == "runnable" || st == "running") << st;
    if (st == "runnable") {
      EXPECT_GT((*g)["frames"].Size(), 0u);
    }
    release = true;
    wg.wait();
  });
}

TEST_P(Snapshot, AWorkerThatNeverReachesASafePointMakesItPartial) {
  if (GetParam() < 2) GTEST_SKIP() << "needs a second worker to spin on";
  run([] {
    std::atomic<bool> spinning{false}, stop{false};
    goro::WaitGroup wg;
    wg.add(1);
    std::atomic<uint64_t> id{0};
    goro::go([&] {
      id = goro::goid();
      spinning = true;
      while (!stop.load(std::memory_order_relaxed)) {
      }  // no safe point
      wg.done();
    });
    ASSERT_TRUE(wait_until([&] { return spinning.load(); }));
    goro::debug::SnapshotOptions o;
    o.stop_timeout_ns = 5'000'000;
    goro::debug::SnapshotStats st{};
    auto d = parse(goro::debug::snapshot(o, &st));
    stop = true;
    wg.wait();
    validate(d);
    EXPECT_TRUE(d["world"]["partial"].GetBool());
    EXPECT_TRUE(st.partial);
    EXPECT_GE(d["world"]["running_workers"].Size(), 1u);
    const auto* g = goroutine(d, id);
    ASSERT_NE(g, nullptr);
    EXPECT_STREQ((*g)["status"].GetString(), "running");
    EXPECT_TRUE((*g)["stack_unavailable"].GetBool());
    EXPECT_EQ((*g)["frames"].Size(), 0u);
  });
}

GORO_INSTANTIATE_SCHED(Snapshot);

TEST(SnapshotForever, NilChannelsAndEmptySelectAreCaptured) {
  // These block forever: run's end abandons them (they own nothing).
  goro::run(goro::Config{2, 0}, [] {
    std::atomic<uint64_t> a{0}, b{0}, c{0};
    goro::go([&] {
      a = goro::goid();
      goro::Chan<int> nilc;
      nilc.recv();
    });
    goro::go([&] {
      b = goro::goid();
      goro::Chan<int> nilc;
      nilc.send(1);
    });
    goro::go([&] {
      c = goro::goid();
      goro::select();
    });
    using goro::detail::waitReason;
    ASSERT_TRUE(wait_until([&] {
      return a && b && c && waiting(a, waitReason::chanReceiveNilChan) &&
             waiting(b, waitReason::chanSendNilChan) && waiting(c, waitReason::selectNoCases);
    }));
    auto d = parse(goro::debug::snapshot());
    validate(d);
    EXPECT_STREQ((*goroutine(d, a))["wait_reason"].GetString(), "chan receive (nil chan)");
    EXPECT_STREQ((*goroutine(d, b))["wait_reason"].GetString(), "chan send (nil chan)");
    EXPECT_STREQ((*goroutine(d, c))["wait_reason"].GetString(), "select (no cases)");
    EXPECT_EQ((*goroutine(d, c))["waiting_on"].Size(), 0u);
  });
}

// goids lists a waiter list.
std::vector<uint64_t> goids(const rapidjson::Value& list) {
  std::vector<uint64_t> out;
  for (const auto& v : list.GetArray()) out.push_back(v.GetUint64());
  return out;
}

// Wait queues are rebuilt after the restart from the sudogs copied in the
// pause: they must come out whole and in queue order.
TEST_P(Snapshot, WaitQueuesKeepTheirOrder) {
  run([] {
    auto ch = goro::make_chan<int>();
    goro::Mutex mu;
    mu.lock();
    goro::WaitGroup done;
    std::vector<uint64_t> recvs, lockers;
    using goro::detail::waitReason;
    for (int i = 0; i < 5; i++) {
      std::atomic<uint64_t> id{0};
      done.add(2);
      goro::go([&, ch]() mutable {
        id = goro::goid();
        ch.recv();
        done.done();
      });
      ASSERT_TRUE(wait_until([&] { return id && waiting(id, waitReason::chanReceive); }));
      recvs.push_back(id);
      id = 0;
      goro::go([&] {
        id = goro::goid();
        std::lock_guard<goro::Mutex> g(mu);
        done.done();
      });
      ASSERT_TRUE(wait_until([&] { return id && waiting(id, waitReason::syncMutexLock); }));
      lockers.push_back(id);
    }
    auto d = parse(goro::debug::snapshot());
    validate(d);
    const auto* c = object(d, ch.debug_hchan());
    ASSERT_NE(c, nullptr);
    EXPECT_EQ(goids((*c)["recvq"]), recvs);
    const auto* m = object(d, &mu);
    ASSERT_NE(m, nullptr);
    EXPECT_EQ(goids((*m)["waiters"]), lockers);
    for (int i = 0; i < 5; i++) ch.send(i);
    mu.unlock();
    done.wait();
  });
}

// A select woken by one case stays queued on its other cases until it
// runs: the queues behind it must still come out whole.
TEST(SnapshotQueues, AWokenSelectStillQueuedOnItsOtherCases) {
  goro::run(goro::Config{1, 0}, [] {
    auto a = goro::make_chan<int>(), b = goro::make_chan<int>();
    std::atomic<uint64_t> sel{0}, after{0};
    goro::WaitGroup done;
    done.add(2);
    goro::go([&] {
      sel = goro::goid();
      int v;
      goro::select(goro::recv(a, v), goro::recv(b, v));
      done.done();
    });
    using goro::detail::waitReason;
    ASSERT_TRUE(wait_until([&] { return sel && waiting(sel, waitReason::select); }));
    goro::go([&, b]() mutable {
      after = goro::goid();
      b.recv();
      done.done();
    });
    ASSERT_TRUE(wait_until([&] { return after && waiting(after, waitReason::chanReceive); }));
    a.send(1);  // readies the select; on one worker it cannot run before the snapshot
    ASSERT_EQ(gof(sel)->atomicstatus.load(), goro::detail::_Grunnable);
    auto d = parse(goro::debug::snapshot());
    validate(d);
    EXPECT_STREQ((*goroutine(d, sel))["status"].GetString(), "runnable");
    const auto* q = object(d, b.debug_hchan());
    ASSERT_NE(q, nullptr);
    EXPECT_EQ(goids((*q)["recvq"]), (std::vector<uint64_t>{sel, after}));
    b.send(2);
    done.wait();
  });
}

// referenced_by lists the goroutines whose live stack holds the object's
// address (closures included: they are at the top of the stack) or the
// object itself; references=false leaves it out.
TEST_P(Snapshot, ReferencedByIsWhoseStackHoldsTheObject) {
  using goro::detail::waitReason;
  run([] {
    std::atomic<uint64_t> priv{0}, reader{0}, holder{0}, owner{0}, locker{0};
    std::atomic<const void*> mine{nullptr};
    // (main holds the box, not the channel's address: nor may its frame)
    auto box = std::make_unique<goro::Chan<int>>();
    auto privch = std::make_unique<std::atomic<const void*>>(nullptr);
    auto shared = goro::make_chan<int>();
    auto release = goro::make_chan<int>();
    goro::WaitGroup done;
    done.add(5);
    goro::go([&] {  // a channel nobody else has (the timeout leak)
      priv = goro::goid();
      auto c = goro::make_chan<int>();
      *privch = c.debug_hchan();
      *box = c;
      c.send(1);  // until main receives through the box
      done.done();
    });
    goro::go([&, shared]() mutable {
      reader = goro::goid();
      shared.recv();
      done.done();
    });
    goro::go([&, shared, release]() mutable {  // holds `shared`, waits elsewhere
      holder = goro::goid();
      release.recv();
      shared.send(1);
      done.done();
    });
    goro::go([&, release]() mutable {  // a Mutex in its own frame, locked
      owner = goro::goid();
      goro::Mutex mu;
      mu.lock();
      mine = &mu;
      auto fin = goro::make_chan<int>();
      goro::go([&, p = &mu, fin]() mutable {
        locker = goro::goid();
        p->lock();
        p->unlock();
        fin.send(1);  // (before mu leaves its owner's frame)
        done.done();
      });
      release.recv();
      mu.unlock();
      fin.recv();
      done.done();
    });
    ASSERT_TRUE(wait_until([&] {
      return priv && waiting(priv, waitReason::chanSend) && reader &&
             waiting(reader, waitReason::chanReceive) && holder &&
             waiting(holder, waitReason::chanReceive) && owner &&
             waiting(owner, waitReason::chanReceive) && locker &&
             waiting(locker, waitReason::syncMutexLock);
    }));
    // (A worker the OS does not run for 20 ms makes a snapshot partial, and
    // then referenced_by unknown: 8 workers on 2 CPUs under TSan.)
    rapidjson::Document d;
    for (int i = 0; i < 20; i++)
      if (!(d = parse(goro::debug::snapshot()))["world"]["partial"].GetBool()) break;
    ASSERT_FALSE(d["world"]["partial"].GetBool());
    validate(d);
    auto refs = [&](const void* a) {
      const auto* o = object(d, a);
      EXPECT_NE(o, nullptr);
      EXPECT_TRUE(o && o->HasMember("referenced_by"));
      return o && o->HasMember("referenced_by") ? goids((*o)["referenced_by"])
                                                : std::vector<uint64_t>{};
    };
    EXPECT_EQ(refs(privch->load()), (std::vector<uint64_t>{priv}));
    auto s = refs(shared.debug_hchan());  // main's own frame holds it too
    EXPECT_EQ(std::set<uint64_t>(s.begin(), s.end()).count(reader), 1u);
    EXPECT_EQ(std::set<uint64_t>(s.begin(), s.end()).count(holder), 1u);
    EXPECT_EQ(std::set<uint64_t>(s.begin(), s.end()).count(goro::goid()), 1u);
    EXPECT_EQ(std::set<uint64_t>(s.begin(), s.end()).count(priv), 0u);
    auto m = refs(mine.load());
    EXPECT_EQ(std::set<uint64_t>(m.begin(), m.end()).count(owner), 1u);   // on its stack
    EXPECT_EQ(std::set<uint64_t>(m.begin(), m.end()).count(locker), 1u);  // in its closure
    goro::debug::SnapshotOptions o;
    o.references = false;
    auto d2 = parse(goro::debug::snapshot(o));
    for (const auto& ob : d2["objects"].GetArray()) EXPECT_FALSE(ob.HasMember("referenced_by"));
    box->recv();
    release.send(1);
    release.send(1);
    done.wait();
  });
}

// The stack scan runs after the pause, racing goroutines that run and
// wakers that write into parked stacks (refscan_before): pairs ping-pong
// over channels their closures hold, a plain thread sends to one more,
// and every snapshot must still name both holders of each channel waited
// on (under TSan: the scan's handover is race-free).
TEST_P(Snapshot, ReferencesSurviveWakeupsAfterThePause) {
  run([] {
    constexpr int kPairs = 8;
    struct Pair {
      goro::Chan<int> ab = goro::make_chan<int>(), ba = goro::make_chan<int>();
      std::atomic<uint64_t> a{0}, b{0};
    };
    std::vector<std::unique_ptr<Pair>> pairs;
    std::atomic<bool> stop{false};
    goro::WaitGroup done;
    for (int i = 0; i < kPairs; i++) {
      pairs.push_back(std::make_unique<Pair>());
      Pair* p = pairs.back().get();
      done.add(2);
      goro::go([&, p, ab = p->ab, ba = p->ba]() mutable {
        p->a = goro::goid();
        while (!stop.load(std::memory_order_relaxed)) ab.send(1), ba.recv();
        ab.send(-1);
        done.done();
      });
      goro::go([&, p, ab = p->ab, ba = p->ba]() mutable {
        p->b = goro::goid();
        while (ab.recv() > 0) ba.send(1);
        done.done();
      });
    }
    auto fromthread = goro::make_chan<int>();
    done.add(1);
    goro::go([&, fromthread]() mutable {
      while (fromthread.recv() > 0) {
      }
      done.done();
    });
    auto waker = std::make_unique<goro::ExternalWaker>();
    std::thread t([&stop, fromthread]() mutable {
      for (int k = 1; k > 0; k = stop.load(std::memory_order_relaxed) ? 0 : 1)
        while (!fromthread.try_send(k)) std::this_thread::yield();  // into a parked receiver
      while (!fromthread.try_send(-1)) std::this_thread::yield();
    });
    int checked = 0;
    for (int n = 0; n < 40; n++) {
      auto d = parse(goro::debug::snapshot());
      if (d["world"]["partial"].GetBool()) continue;  // (a worker the OS did not run: unknown)
      for (const auto& p : pairs) {
        if (!p->a || !p->b) continue;
        for (const void* c : {p->ab.debug_hchan(), p->ba.debug_hchan()}) {
          const auto* o = object(d, c);
          if (!o) continue;  // nobody waited on it at that moment
          ASSERT_TRUE(o->HasMember("referenced_by"));
          auto r = goids((*o)["referenced_by"]);
          EXPECT_EQ(std::count(r.begin(), r.end(), p->a.load()), 1);
          EXPECT_EQ(std::count(r.begin(), r.end(), p->b.load()), 1);
          checked++;
        }
      }
      goro::sleep(std::chrono::microseconds(200));
    }
    stop = true;
    done.wait();  // (parks: a join here would hold the only worker)
    t.join();
    waker.reset();
    EXPECT_GT(checked, 0);
  });
}

// Key and elem text that is not UTF-8 (overlong forms and surrogates are
// not either) is written as hex, the rest as it is.
TEST(SnapshotMap, TextThatIsNotUtf8IsWrittenAsHex) {
  goro::run(goro::Config{1, 0}, [] {
    goro::Map<std::string, int> m;
    goro::debug::name(m, "texts");
    const std::pair<std::string, std::string> keys[] = {{"plain", "plain"},
                                                        {"caf\xc3\xa9", "caf\xc3\xa9"},
                                                        {"\xf0\x9f\x97\xba", "\xf0\x9f\x97\xba"},
                                                        {"\xc0\xaf", "0xc0af"},
                                                        {"\xed\xa0\x80", "0xeda080"},
                                                        {"\xf4\x90\x80\x80", "0xf4908080"},
                                                        {"\xe0\x80\xaf", "0xe080af"},
                                                        {"abc\xff", "0x616263ff"},
                                                        {"\xc3", "0xc3"}};
    for (const auto& k : keys) m[k.first] = 1;
    auto d = parse(goro::debug::snapshot());
    validate(d);
    std::set<std::string> seen;
    for (const auto& ch : d["maps"][0]["buckets"]["chains"].GetArray())
      for (const auto& bk : ch["buckets"].GetArray())
        for (const auto& k : bk["keys"].GetArray())
          if (k.IsString()) seen.insert(k.GetString());
    for (const auto& k : keys) EXPECT_TRUE(seen.count(k.second)) << k.second;
  });
}

// live_entries_times_ten counts a map snapshot's live entries: each in the
// new array or in an old bucket not yet evacuated, found once, each elem
// 10x its key.
int64_t live_entries_times_ten(const rapidjson::Value& mp) {
  std::set<int64_t> seen;
  auto collect = [&](const rapidjson::Value& arr, bool old) {
    for (const auto& ch : arr["chains"].GetArray()) {
      if (old && ch["evacuated"].GetBool()) continue;
      for (const auto& b : ch["buckets"].GetArray())
        for (int s = 0; s < 8; s++) {
          if (b["keys"][s].IsNull()) continue;
          int64_t k = std::stoll(b["keys"][s].GetString());
          EXPECT_EQ(std::stoll(b["elems"][s].GetString()), k * 10);
          EXPECT_TRUE(seen.insert(k).second) << "key " << k << " twice";
        }
    }
  };
  collect(mp["buckets"], false);
  if (mp["oldbuckets"].IsObject()) collect(mp["oldbuckets"], true);
  return static_cast<int64_t>(seen.size());
}

TEST(SnapshotMap, DuringGrowthShowsBothArraysAndNevacuate) {
  goro::run(goro::Config{1, 0}, [] {
    goro::Map<int64_t, int64_t> m;
    goro::debug::name(m, "growing");
    int64_t n = 0;
    while (!goro::MapDebugAccess::growing(m) || goro::MapDebugAccess::B(m) < 4) {
      m[n] = n * 10;
      n++;
    }
    goro::debug::SnapshotOptions o;
    o.bucket_limit = 0;
    auto d = parse(goro::debug::snapshot(o));
    validate(d);
    ASSERT_EQ(d["maps"].Size(), 1u);
    const auto& mp = d["maps"][0];
    EXPECT_STREQ(mp["name"].GetString(), "growing");
    EXPECT_EQ(mp["count"].GetInt64(), n);
    EXPECT_TRUE(mp["growing"].GetBool());
    EXPECT_FALSE(mp["buckets_omitted"].GetBool());
    ASSERT_TRUE(mp["oldbuckets"].IsObject());
    EXPECT_EQ(mp["nevacuate"].GetUint64(), goro::MapDebugAccess::nevacuate(m));
    EXPECT_EQ(mp["buckets"]["nbuckets"].GetUint64(), uint64_t{1} << goro::MapDebugAccess::B(m));
    EXPECT_EQ(mp["oldbuckets"]["nbuckets"].GetUint64() * 2, mp["buckets"]["nbuckets"].GetUint64());
    EXPECT_STREQ(mp["type"]["keykind"].GetString(), "int64");
    EXPECT_EQ(live_entries_times_ten(mp), n);
    // Paging: a page of 2 buckets starting at 1.
    o.bucket_offset = 1;
    o.bucket_limit = 2;
    auto p = parse(goro::debug::snapshot(o));
    validate(p);
    EXPECT_EQ(p["maps"][0]["buckets"]["first"].GetUint64(), 1u);
    EXPECT_EQ(p["maps"][0]["buckets"]["count"].GetUint64(), 2u);
    EXPECT_EQ(p["maps"][0]["buckets"]["chains"][0]["index"].GetUint64(), 1u);
  });
}

// A map too big for the pause is copied in slices, each under a stop of its
// own (capture.cpp, "maps in slices"): every entry is still found once,
// during growth too, and the copy says it is of one state.
TEST(SnapshotMap, ABigMapIsCopiedInSlicesWithEveryEntry) {
  goro::run(goro::Config{2, 0}, [] {
    goro::Map<int64_t, int64_t> m;
    goro::debug::name(m, "big");
    int64_t n = 0;
    while (!goro::MapDebugAccess::growing(m) || goro::MapDebugAccess::B(m) < 14) {
      m[n] = n * 10;
      n++;
    }
    goro::debug::SnapshotOptions o;
    o.bucket_limit = 0;
    o.frames = false;
    goro::debug::SnapshotStats st{};
    auto d = parse(goro::debug::snapshot(o, &st));
    validate(d);
    EXPECT_GT(st.stops, 10u);
    const auto& mp = d["maps"][0];
    ASSERT_TRUE(mp.HasMember("copy"));
    EXPECT_TRUE(mp["copy"]["consistent"].GetBool());
    EXPECT_EQ(mp["copy"]["stops"].GetUint(), st.stops - 1);
    EXPECT_FALSE(mp["buckets_omitted"].GetBool());
    EXPECT_EQ(live_entries_times_ten(mp), n);
  });
}

// Between slices the program runs: a map written meanwhile is marked
// inconsistent, and one destroyed meanwhile is omitted (never read freed).
TEST(SnapshotMap, AMapChangedOrDestroyedDuringItsCopyIsMarked) {
  goro::run(goro::Config{2, 0}, [] {
    auto m = std::make_unique<goro::Map<int64_t, int64_t>>();
    goro::debug::name(*m, "busy");
    for (int64_t i = 0; i < 300000; i++) (*m)[i] = i;
    goro::debug::SnapshotOptions o;
    o.bucket_limit = 0;
    o.frames = false;
    for (int round = 0; round < 2; round++) {
      bool destroy = round == 1;
      std::atomic<bool> stop{false}, started{false};
      std::atomic<int64_t> writes{0};
      goro::WaitGroup wg;
      wg.add(1);
      goro::go([&] {
        started = true;
        if (destroy) {
          goro::sleep(std::chrono::milliseconds(30));
          m.reset();
        } else {
          for (int64_t i = 0; !stop.load(); i++) {
            (*m)[300000 + i] = i;  // the count grows (and maybe the arrays)
            writes++;
            if (i % 64 == 0) goro::yield();
          }
        }
        wg.done();
      });
      while (!started) goro::yield();
      int64_t w0 = writes.load();
      auto d = parse(goro::debug::snapshot(o));
      int64_t during = writes.load() - w0;
      stop = true;
      wg.wait();
      validate(d);
      if (destroy) {
        bool omitted = d["maps"].Empty() || d["maps"][0]["buckets_omitted"].GetBool();
        EXPECT_TRUE(omitted) << "a map destroyed during its copy must be omitted";
      } else {
        ASSERT_EQ(d["maps"].Size(), 1u);
        // (A writer that got no CPU between the slices -- a loaded machine
        // -- changed nothing: then the copy is of one state.)
        if (during > 256) {
          EXPECT_FALSE(d["maps"][0]["copy"]["consistent"].GetBool()) << during << " writes";
        }
      }
    }
  });
}

TEST(NamedObjects, RegisterRenameAndLeaveOnDestruction) {
  using goro::detail::named;
  uint32_t before = named.count.load();
  {
    goro::Map<std::string, int> m;
    m["a"] = 1;
    goro::Mutex mu;
    auto ch = goro::make_chan<int>(4);
    goro::SyncMap<int, int> sm;
    sm.store(1, 2);
    goro::debug::name(m, "sessions");
    goro::debug::name(mu, "lock");
    goro::debug::name(ch, "jobs");
    goro::debug::name(sm, "cache");
    EXPECT_EQ(named.count.load(), before + 4);
    goro::debug::name(mu, "lock2");  // rename, not a second record
    EXPECT_EQ(named.count.load(), before + 4);
    std::set<std::string> names;
    for (auto* n = named.head; n; n = n->next) names.insert(n->name);
    EXPECT_TRUE(names.count("sessions") && names.count("lock2") && names.count("jobs") &&
                names.count("cache"));
    EXPECT_FALSE(names.count("lock"));
    {
      auto ch2 = ch;  // a second handle: the channel stays named
    }
    EXPECT_EQ(named.count.load(), before + 4);
    goro::run(goro::Config{1, 0}, [&] {
      auto d = parse(goro::debug::snapshot());
      validate(d);
      bool saw = false;
      for (const auto& o : d["objects"].GetArray())
        if (std::strcmp(o["name"].GetString(), "cache") == 0) {
          saw = true;
          EXPECT_EQ(o["read"].GetInt() + (o["dirty"].GetInt() > 0 ? o["dirty"].GetInt() : 0) > 0,
                    true);
        }
      EXPECT_TRUE(saw);
      ASSERT_EQ(d["maps"].Size(), 1u);
      EXPECT_STREQ(d["maps"][0]["type"]["keykind"].GetString(), "std_string");
    });
    goro::debug::unname(ch);
    EXPECT_EQ(named.count.load(), before + 3);
  }
  EXPECT_EQ(named.count.load(), before);  // destructors unregistered the rest
  EXPECT_EQ(named.head == nullptr, before == 0);
}

TEST(SnapshotOutsideRun, HasNoGoroutinesAndSaysSo) {
  auto d = parse(goro::debug::snapshot());
  validate(d);
  EXPECT_FALSE(d["world"]["running"].GetBool());
  EXPECT_EQ(d["goroutines"].Size(), 0u);
}

TEST(DebuggerAutoLoad, ProgramsCarryTheGdbScriptsEntry) {
  // The .debug_gdb_scripts section of this very test binary.
  std::string cmd = "readelf -p .debug_gdb_scripts /proc/" + std::to_string(getpid()) + "/exe";
  FILE* p = popen(cmd.c_str(), "r");
  ASSERT_NE(p, nullptr);
  std::string out;
  char buf[512];
  while (size_t n = fread(buf, 1, sizeof buf, p)) out.append(buf, n);
  pclose(p);
  EXPECT_NE(out.find("gdb.inlined-script"), std::string::npos) << out;
  EXPECT_NE(out.find("gdb_plugin/goroscope-gdb.py"), std::string::npos) << out;
}

}  // namespace
