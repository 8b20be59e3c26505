// debug_layout.cpp — builds `goroscope_layout`, the layout descriptor
// (format: goro/debug_abi.h; every entry: docs/debug-abi.md).
//
// The table is a constinit object made by a constexpr function from
// offsetof/sizeof/alignof and the runtime's own constants, so it cannot
// drift from the definitions; tests/runtime/debug_test.cpp checks a
// sample of it against them again and that every name is unique. Entry
// names longer than 47 characters fail the build (ent() is not a constant
// expression then).
//
// Private fields are reached through detail::debug_layout, a friend of each
// type (the same door idea as SyncDebugAccess / MapDebugAccess).
//
// The object is exported from executables too: goro::runtime's link options
// (runtime/CMakeLists.txt) pass --export-dynamic-symbol=goroscope_layout and
// -u goroscope_layout, so it sits in .dynsym and survives `strip`.
#include <cstddef>
#include <cstdint>
#include <iterator>

#include "goro/chan.h"
#include "goro/debug_abi.h"
#include "goro/map.h"
#include "goro/sync.h"
#include "goro/syncmap.h"
#include "proc.h"

#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC diagnostic ignored \
    "-Winvalid-offsetof"  // private members of standard-layout-in-practice types
#endif
#if defined(__clang__)
#pragma clang diagnostic ignored "-Winvalid-offsetof"
#endif

namespace goro::detail {

constexpr goroscope_entry ent(const char* n, uint32_t kind, uint64_t size, uint64_t value) {
  goroscope_entry e{};
  size_t i = 0;
  for (; n[i]; i++) {
    if (i + 1 >= sizeof e.name) throw "goroscope_layout: entry name longer than 47 characters";
    e.name[i] = n[i];
  }
  e.kind = kind;
  e.size = static_cast<uint32_t>(size);
  e.value = value;
  return e;
}
constexpr goroscope_entry global(const char* n, const void* addr, uint64_t size) {
  goroscope_entry e = ent(n, GOROSCOPE_GLOBAL, size, 0);
  e.addr = addr;
  return e;
}

#define GORO_TYPE(name, T) ent(name, GOROSCOPE_TYPE, sizeof(T), alignof(T))
#define GORO_FIELD(name, T, f) \
  ent(name "." #f, GOROSCOPE_FIELD, sizeof(static_cast<T*>(nullptr)->f), offsetof(T, f))
#define GORO_CONST(name, v) ent(name, GOROSCOPE_CONST, 0, static_cast<uint64_t>(v))

struct debug_layout {
  using SM =
      SyncMap<int, int>;  // SyncMap's layout does not depend on K, V (static_assert in syncmap.h)
  using BM = basic_map<int, int, goro::Hash<int>, goro::Equal<int>, true>;

  static constexpr goroscope_entry entries[] = {
      // ---- goroutines: G, gobuf, stack, sudog (runtime2.h)
      GORO_TYPE("G", G),
      GORO_FIELD("G", G, sched),
      GORO_FIELD("G", G, stack),
      GORO_FIELD("G", G, goid),
      GORO_FIELD("G", G, atomicstatus),
      GORO_FIELD("G", G, waitreason),
      GORO_FIELD("G", G, stackguarded),
      GORO_FIELD("G", G, waitsince),
      GORO_FIELD("G", G, waiting),
      GORO_FIELD("G", G, waitsg),
      GORO_FIELD("G", G, runs),
      GORO_FIELD("G", G, m),
      GORO_FIELD("G", G, selectDone),
      GORO_FIELD("G", G, parentGoid),
      GORO_FIELD("G", G, gopc),
      GORO_FIELD("G", G, startpc),
      GORO_FIELD("G", G, labels),
      GORO_FIELD("G", G, name),
      GORO_FIELD("G", G, createtime),
      GORO_FIELD("G", G, rlocked),
      GORO_FIELD("G", G, schedlink),  // global run queue / free list link
      GORO_TYPE("gobuf", gobuf),
      GORO_FIELD("gobuf", gobuf, sp),
      GORO_FIELD("gobuf", gobuf, pc),
      GORO_FIELD("gobuf", gobuf, bp),
      GORO_FIELD("gobuf", gobuf, rbx),
      GORO_FIELD("gobuf", gobuf, r12),
      GORO_FIELD("gobuf", gobuf, r13),
      GORO_FIELD("gobuf", gobuf, r14),
      GORO_FIELD("gobuf", gobuf, r15),
      GORO_TYPE("stack", stack),
      GORO_FIELD("stack", stack, lo),
      GORO_FIELD("stack", stack, hi),
      GORO_TYPE("sudog", sudog),
      GORO_FIELD("sudog", sudog, g),
      GORO_FIELD("sudog", sudog, next),
      GORO_FIELD("sudog", sudog, prev),
      GORO_FIELD("sudog", sudog, elem),
      GORO_FIELD("sudog", sudog, c),
      GORO_FIELD("sudog", sudog, waitlink),
      GORO_FIELD("sudog", sudog, acquiretime),
      GORO_FIELD("sudog", sudog, ticket),
      GORO_FIELD("sudog", sudog, kind),
      GORO_FIELD("sudog", sudog, isSelect),
      GORO_FIELD("sudog", sudog, success),
      GORO_FIELD("sudog", sudog, isRead),
      GORO_CONST("refs.scan_limit", kRefScanLimit),
      GORO_CONST("stack.guard_page", 1),
      GORO_CONST("stack.private", kStackPrivate),
      GORO_CONST("stack.canary_bytes", kCanaryBytes),

      // ---- workers and the registry: m, schedt (proc.h)
      GORO_TYPE("m", m),
      GORO_FIELD("m", m, id),
      GORO_FIELD("m", m, procid),
      GORO_FIELD("m", m, curg),
      GORO_FIELD("m", m, g0),
      GORO_FIELD("m", m, runqhead),
      GORO_FIELD("m", m, runqtail),
      GORO_FIELD("m", m, runq),
      GORO_FIELD("m", m, runnext),
      GORO_FIELD("m", m, parked),
      GORO_FIELD("m", m, spinning),
      GORO_FIELD("m", m, gcount),
      GORO_FIELD("m", m, gcstop),
      GORO_FIELD("m", m, frozen),
      GORO_FIELD("m", m, frozensp),
      GORO_TYPE("schedt", schedt),
      GORO_FIELD("schedt", schedt, lock),
      GORO_FIELD("schedt", schedt, runqhead),
      GORO_FIELD("schedt", schedt, runqtail),
      GORO_FIELD("schedt", schedt, runqsize),
      GORO_FIELD("schedt", schedt, allm),
      GORO_FIELD("schedt", schedt, nm),
      GORO_FIELD("schedt", schedt, npidle),
      GORO_FIELD("schedt", schedt, running),
      GORO_FIELD("schedt", schedt, done),
      GORO_FIELD("schedt", schedt, gcwaiting),
      GORO_FIELD("schedt", schedt, goidgen),
      GORO_FIELD("schedt", schedt, gcount),
      GORO_FIELD("schedt", schedt, allgchunks),
      GORO_FIELD("schedt", schedt, nallgchunks),
      GORO_FIELD("schedt", schedt, goidx),
      GORO_FIELD("schedt", schedt, stacksize),
      GORO_FIELD("schedt", schedt, maingoid),
      GORO_FIELD("schedt", schedt, walltime0),
      GORO_FIELD("schedt", schedt, nanotime0),
      GORO_TYPE("goidxstripe", schedt::goidxstripe),
      GORO_FIELD("goidxstripe", schedt::goidxstripe, lock),
      GORO_FIELD("goidxstripe", schedt::goidxstripe, bits),
      GORO_FIELD("goidxstripe", schedt::goidxstripe, count),
      GORO_FIELD("goidxstripe", schedt::goidxstripe, tab),
      GORO_TYPE("goidxent", schedt::goidxent),
      GORO_FIELD("goidxent", schedt::goidxent, goid),
      GORO_FIELD("goidxent", schedt::goidxent, g),
      GORO_CONST("goidx.stripes", schedt::kGoidxStripes),
      GORO_CONST("goidx.multiplier", 0x9E3779B97F4A7C15ull),  // slot = goid*mult >> (64-bits)
      GORO_CONST("allg.chunk", kGChunk),
      GORO_CONST("allg.maxchunks", kMaxGChunks),
      GORO_CONST("Who.kindshift", 62),  // Who token: kind << 62 | id (misuse.h)
      GORO_CONST("Who.thread", goro::Who::thread),
      GORO_CONST("Who.goroutine", goro::Who::goroutine),

      // ---- named objects (runtime2.h)
      GORO_TYPE("namedobj", namedobj),
      GORO_FIELD("namedobj", namedobj, next),
      GORO_FIELD("namedobj", namedobj, prev),
      GORO_FIELD("namedobj", namedobj, obj),
      GORO_FIELD("namedobj", namedobj, kind),
      GORO_FIELD("namedobj", namedobj, name),
      GORO_TYPE("namedreg", namedreg),
      GORO_FIELD("namedreg", namedreg, lock),
      GORO_FIELD("namedreg", namedreg, count),
      GORO_FIELD("namedreg", namedreg, head),
      GORO_FIELD("namedreg", namedreg, gen),

      // ---- maps (map.h)
      GORO_TYPE("hmap", hmap),
      GORO_FIELD("hmap", hmap, count),
      GORO_FIELD("hmap", hmap, flags),
      GORO_FIELD("hmap", hmap, B),
      GORO_FIELD("hmap", hmap, noverflow),
      GORO_FIELD("hmap", hmap, hash0),
      GORO_FIELD("hmap", hmap, buckets),
      GORO_FIELD("hmap", hmap, oldbuckets),
      GORO_FIELD("hmap", hmap, nevacuate),
      GORO_FIELD("hmap", hmap, extra),
      GORO_FIELD("hmap", hmap, type),
      GORO_FIELD("hmap", hmap, writer),
      GORO_FIELD("hmap", hmap, iters),
      GORO_FIELD("mapextra", mapextra, nextOverflow),
      GORO_CONST("Map.hmap", offsetof(BM, h_)),  // offset of the hmap in a goro::Map
      GORO_TYPE("maptype", maptype),
      GORO_FIELD("maptype", maptype, keysize),
      GORO_FIELD("maptype", maptype, elemsize),
      GORO_FIELD("maptype", maptype, bucketsize),
      GORO_FIELD("maptype", maptype, keysoff),
      GORO_FIELD("maptype", maptype, elemsoff),
      GORO_FIELD("maptype", maptype, overflowoff),
      GORO_FIELD("maptype", maptype, bucketalign),
      GORO_FIELD("maptype", maptype, keytypesize),
      GORO_FIELD("maptype", maptype, elemtypesize),
      GORO_FIELD("maptype", maptype, flags),
      GORO_FIELD("maptype", maptype, keykind),
      GORO_FIELD("maptype", maptype, elemkind),
      GORO_FIELD("maptype", maptype, keyname),
      GORO_FIELD("maptype", maptype, elemname),
      GORO_CONST("maptype.indirectkey", indirectkey),
      GORO_CONST("maptype.indirectelem", indirectelem),
      GORO_CONST("maptype.reflexivekey", reflexivekey),
      GORO_CONST("bucket.tophash", 0),  // uint8[bucketCnt] at the start of every bucket
      GORO_CONST("bucketCnt", bucketCnt),
      GORO_CONST("loadFactorNum", loadFactorNum),
      GORO_CONST("loadFactorDen", loadFactorDen),
      GORO_CONST("tophash.emptyRest", emptyRest),
      GORO_CONST("tophash.emptyOne", emptyOne),
      GORO_CONST("tophash.evacuatedX", evacuatedX),
      GORO_CONST("tophash.evacuatedY", evacuatedY),
      GORO_CONST("tophash.evacuatedEmpty", evacuatedEmpty),
      GORO_CONST("tophash.minTopHash", minTopHash),
      GORO_CONST("flags.iterator", iterator),
      GORO_CONST("flags.oldIterator", oldIterator),
      GORO_CONST("flags.hashWriting", hashWriting),
      GORO_CONST("flags.sameSizeGrow", sameSizeGrow),
      GORO_CONST("flags.pausedInsert", pausedInsert),
      GORO_CONST("flags.oldChains", oldChains),
      ent("kind.other", GOROSCOPE_ENUM, 0, static_cast<uint64_t>(kind::other)),
      ent("kind.bool", GOROSCOPE_ENUM, 0, static_cast<uint64_t>(kind::boolean)),
      ent("kind.int8", GOROSCOPE_ENUM, 0, static_cast<uint64_t>(kind::int8)),
      ent("kind.int16", GOROSCOPE_ENUM, 0, static_cast<uint64_t>(kind::int16)),
      ent("kind.int32", GOROSCOPE_ENUM, 0, static_cast<uint64_t>(kind::int32)),
      ent("kind.int64", GOROSCOPE_ENUM, 0, static_cast<uint64_t>(kind::int64)),
      ent("kind.uint8", GOROSCOPE_ENUM, 0, static_cast<uint64_t>(kind::uint8)),
      ent("kind.uint16", GOROSCOPE_ENUM, 0, static_cast<uint64_t>(kind::uint16)),
      ent("kind.uint32", GOROSCOPE_ENUM, 0, static_cast<uint64_t>(kind::uint32)),
      ent("kind.uint64", GOROSCOPE_ENUM, 0, static_cast<uint64_t>(kind::uint64)),
      ent("kind.float32", GOROSCOPE_ENUM, 0, static_cast<uint64_t>(kind::float32)),
      ent("kind.float64", GOROSCOPE_ENUM, 0, static_cast<uint64_t>(kind::float64)),
      ent("kind.pointer", GOROSCOPE_ENUM, 0, static_cast<uint64_t>(kind::pointer)),
      ent("kind.std_string", GOROSCOPE_ENUM, 0, static_cast<uint64_t>(kind::std_string)),

      // ---- channels (chan.h)
      GORO_TYPE("hchan", hchan),
      GORO_FIELD("hchan", hchan, qcount),
      GORO_FIELD("hchan", hchan, dataqsiz),
      GORO_FIELD("hchan", hchan, buf),
      GORO_FIELD("hchan", hchan, elemsize),
      GORO_FIELD("hchan", hchan, closed),
      GORO_FIELD("hchan", hchan, elemtype),
      GORO_FIELD("hchan", hchan, sendx),
      GORO_FIELD("hchan", hchan, recvx),
      GORO_FIELD("hchan", hchan, recvq),
      GORO_FIELD("hchan", hchan, sendq),
      GORO_FIELD("hchan", hchan, lock),
      GORO_FIELD("hchan", hchan, refs),
      GORO_FIELD("waitq", waitq, first),
      GORO_FIELD("waitq", waitq, last),
      GORO_TYPE("chantype", chantype),
      GORO_FIELD("chantype", chantype, elemsize),
      GORO_FIELD("chantype", chantype, elemalign),
      GORO_FIELD("chantype", chantype, elemname),
      GORO_CONST("Chan.hchan", 0),  // a goro::Chan<T> is one hchan* (null: nil channel)

      // ---- sync (sync.h, syncmap.h)
      GORO_TYPE("mutex", mutex),  // the runtime's internal lock: byte 0 = key (1: held)
      GORO_TYPE("semaRoot", semaRoot),
      GORO_FIELD("semaRoot", semaRoot, lock),
      GORO_FIELD("semaRoot", semaRoot, nwait),
      GORO_FIELD("semaRoot", semaRoot, head),
      GORO_FIELD("semaRoot", semaRoot, tail),
      GORO_TYPE("Mutex", Mutex),
      GORO_FIELD("Mutex", Mutex, state),
      GORO_FIELD("Mutex", Mutex, sema),
      GORO_FIELD("Mutex", Mutex, owner),
      GORO_FIELD("Mutex", Mutex, waiters),
      GORO_CONST("mutexLocked", mutexLocked),
      GORO_CONST("mutexWoken", mutexWoken),
      GORO_CONST("mutexStarving", mutexStarving),
      GORO_CONST("mutexWaiterShift", mutexWaiterShift),
      GORO_TYPE("RWMutex", RWMutex),
      GORO_FIELD("RWMutex", RWMutex, w),
      GORO_FIELD("RWMutex", RWMutex, writerSem),
      GORO_FIELD("RWMutex", RWMutex, readerSem),
      GORO_FIELD("RWMutex", RWMutex, readerCount),
      GORO_FIELD("RWMutex", RWMutex, readerWait),
      GORO_FIELD("RWMutex", RWMutex, writerWaiters),
      GORO_FIELD("RWMutex", RWMutex, readerWaiters),
      GORO_CONST("rwmutexMaxReaders", rwmutexMaxReaders),
      GORO_TYPE("WaitGroup", WaitGroup),
      GORO_FIELD("WaitGroup", WaitGroup, state),  // counter << 32 | waiters
      GORO_FIELD("WaitGroup", WaitGroup, sema),
      GORO_FIELD("WaitGroup", WaitGroup, waiters),
      GORO_TYPE("Once", Once),
      GORO_FIELD("Once", Once, done),
      GORO_FIELD("Once", Once, m),
      GORO_TYPE("Cond", Cond),
      GORO_FIELD("Cond", Cond, L),
      GORO_FIELD("Cond", Cond, notify),
      GORO_TYPE("notifyList", notifyList),
      GORO_FIELD("notifyList", notifyList, wait),
      GORO_FIELD("notifyList", notifyList, notify),
      GORO_FIELD("notifyList", notifyList, lock),
      GORO_FIELD("notifyList", notifyList, head),
      GORO_FIELD("notifyList", notifyList, tail),
      GORO_TYPE("SyncMap", SM),
      GORO_FIELD("SyncMap", SM, mu),
      GORO_FIELD("SyncMap", SM, readmu),
      GORO_FIELD("SyncMap", SM, read),   // shared_ptr<const readOnly>: pointer first
      GORO_FIELD("SyncMap", SM, dirty),  // shared_ptr<Map<K, entry*>>: pointer first, null: nil
      GORO_FIELD("SyncMap", SM, misses),
      GORO_FIELD("SyncMap.readOnly", SM::readOnly, m),  // shared_ptr<const Map<K, entry*>>
      GORO_FIELD("SyncMap.readOnly", SM::readOnly, amended),
      GORO_FIELD("SyncMap.entry", SM::entry, mu),
      GORO_FIELD("SyncMap.entry", SM::entry, refs),
      GORO_FIELD("SyncMap.entry", SM::entry, p),  // shared_ptr<const V>: null, expunged or value

      // ---- clocks: G.waitsince, G.createtime, sudog.acquiretime
      GORO_CONST("clock.monotonic_ns", 1),  // CLOCK_MONOTONIC nanoseconds

      // ---- globals (addresses in the running process)
      global("sched", &sched, sizeof sched),
      global("named", &named, sizeof named),
  };
};

// Enumerations with Go's strings (name = "enum.string").
template <size_t N, size_t M>
constexpr auto enum_entries(const char* prefix, const char* const (&strs)[N],
                            const int (&skip)[M]) {
  struct {
    goroscope_entry e[N];
    size_t n = 0;
  } out{};
  for (size_t i = 0; i < N; i++) {
    bool skipped = false;
    for (int s : skip) skipped |= static_cast<size_t>(s) == i;
    if (skipped) continue;
    char name[48] = {};
    size_t k = 0;
    for (const char* p = prefix; *p; p++) name[k++] = *p;
    name[k++] = '.';
    for (const char* p = strs[i]; *p; p++) {
      if (k + 1 >= sizeof name) throw "goroscope_layout: enum name too long";
      name[k++] = *p;
    }
    out.e[out.n++] = ent(name, GOROSCOPE_ENUM, 0, i);
  }
  return out;
}

constexpr auto kWaitReasons = enum_entries("waitReason", waitReasonStrings, {0});
constexpr auto kStatuses = enum_entries("gstatus", gstatusStrings, {5});
constexpr auto kObjkinds = enum_entries("objkind", objkindStrings, {-1});

constexpr size_t kCount =
    std::size(debug_layout::entries) + kWaitReasons.n + kStatuses.n + kObjkinds.n;

struct layout_t {
  goroscope_layout_header h;
  goroscope_entry e[kCount];
};

constexpr layout_t make_layout() {
  layout_t l{};
  const char magic[] = GOROSCOPE_LAYOUT_MAGIC;
  for (size_t i = 0; i < sizeof magic; i++) l.h.magic[i] = magic[i];
  l.h.version = GOROSCOPE_LAYOUT_VERSION;
  l.h.header_size = sizeof(goroscope_layout_header);
  l.h.entry_size = sizeof(goroscope_entry);
  l.h.count = kCount;
  size_t k = 0;
  for (const goroscope_entry& e : debug_layout::entries) l.e[k++] = e;
  for (size_t i = 0; i < kWaitReasons.n; i++) l.e[k++] = kWaitReasons.e[i];
  for (size_t i = 0; i < kStatuses.n; i++) l.e[k++] = kStatuses.e[i];
  for (size_t i = 0; i < kObjkinds.n; i++) l.e[k++] = kObjkinds.e[i];
  return l;
}

}  // namespace goro::detail

// The exported object: the header's symbol name, the full table's type.
// (Default visibility is the build's default; --export-dynamic-symbol puts
// it into .dynsym of executables.)
extern const goro::detail::layout_t goroscope_layout_impl __asm__("goroscope_layout");
[[gnu::used]] constinit const goro::detail::layout_t goroscope_layout_impl =
    goro::detail::make_layout();

// The debuggers' fatal-error breakpoint (goro/debug_abi.h). Not inlined, not
// folded with another empty function: the asm keeps its body and arguments.
extern "C" [[gnu::noinline, gnu::used]] void goroscope_fatal(const char* message, int panic) {
  asm volatile("" : : "r"(message), "r"(panic) : "memory");
}

// ---- debugger auto-load ------------------------------------------------------
// A .debug_gdb_scripts entry (as Go and Rust binaries carry): GDB runs it
// when it loads a program linked with goro, if the program's path is in
// `set auto-load safe-path`. Kind 4 is an inline script; it sources the
// goroscope GDB plugin, once per GDB session, from the first of these that
// exists, and does nothing if none does:
//   1. $GOROSCOPE_GDB_PLUGIN;
//   2. next to the program: <its dir>/GORO_PLUGIN_FROM_BIN (../share/goroscope),
//      for a program installed in the same prefix as goroscope;
//   3. the source tree the library was built from (GORO_PLUGIN_DIR);
//   4. where `cmake --install` puts it under the CMAKE_INSTALL_PREFIX given
//      at configure time (GORO_PLUGIN_INSTALL_DIR). (`cmake --install
//      --prefix P` with another P is found through 2, or 1.)
// The source tree comes before the install: a developer's tests load the
// plugin they are editing, not one installed earlier; an installed library
// whose checkout is gone finds its installed copy. The library is static, so
// the one object serves the build tree and the install: both paths are in it.
// The manual alternative: `source gdb_plugin/goroscope-gdb.py` (docs/debug-abi.md).
// Like Go's runtime-gdb.py entry, GDB declines it (with a warning naming
// the safe-path setting) for programs outside the safe path, and `strip`
// removes the section; `source gdb_plugin/goroscope-gdb.py` always works.
// Rejected: kind 1 (a script file name): GDB then looks for the file next
// to the program and warns about a missing script in every session where
// it is not there.
#define GORO_GDB_LINE(s) ".ascii \"" s "\\n\"\n"
asm(".pushsection \".debug_gdb_scripts\", \"MS\", @progbits, 1\n"
    ".byte 4\n" GORO_GDB_LINE("gdb.inlined-script")  //
    GORO_GDB_LINE("import gdb, os")                  //
    GORO_GDB_LINE("f = 'gdb_plugin/goroscope-gdb.py'")
    GORO_GDB_LINE("o = gdb.current_objfile()")
    GORO_GDB_LINE("c = [os.environ.get('GOROSCOPE_GDB_PLUGIN')]")
    GORO_GDB_LINE("if o and o.filename:")
    GORO_GDB_LINE("    c.append(os.path.join(os.path.dirname(o.filename), '" GORO_PLUGIN_FROM_BIN
                  "', f))")
    GORO_GDB_LINE("c += [os.path.join('" GORO_PLUGIN_DIR "', f), os.path.join('" GORO_PLUGIN_INSTALL_DIR
                  "', f)]")
    GORO_GDB_LINE("p = next((x for x in c if x and os.path.isfile(x)), None)")
    GORO_GDB_LINE("if p and not getattr(gdb, 'goroscope_autoloaded', False):")
    GORO_GDB_LINE("    gdb.goroscope_autoloaded = True")
    GORO_GDB_LINE("    gdb.execute('source ' + p)")
    ".byte 0\n"
    ".popsection\n");
