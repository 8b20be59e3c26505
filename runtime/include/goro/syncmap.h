// goro/syncmap.h — goro::SyncMap<K, V>, Go's sync.Map (Go 1.19 sync/map.go,
// plus Go 1.20's Swap, CompareAndSwap and CompareAndDelete).
//
//   goro::SyncMap<std::string, int> m;
//   m.store("a", 1);
//   if (auto v = m.load("a")) use(*v);          // std::optional<int>
//   auto [actual, loaded] = m.load_or_store("b", 2);
//   m.range([](const std::string& k, int v) { return true; });   // false stops
//
// Like Go's, SyncMap is a map safe for concurrent use by many goroutines
// without further locking, optimized for two cases: (1) a key written once
// and read many times (caches that only grow), (2) goroutines reading and
// writing disjoint sets of keys. In those cases loads, and stores to keys
// already present, do not take the map's Mutex. For other workloads a
// goro::Map guarded by a goro::Mutex is simpler and usually faster.
//
// Design (Go's; field names verbatim, so a debugger shows read / dirty /
// misses / amended / expunged exactly as for a Go program)
//
//   SyncMap { mu Mutex, read -> readOnly{m, amended}, dirty, misses }
//
//   Layout (x86-64; a std::shared_ptr is {object pointer, control block}, so
//   tools follow its first word):
//     SyncMap (88)  mu Mutex (40) | readmu u32 | pad | read shared_ptr<const readOnly>
//                   | dirty shared_ptr<Map<K, entry*>> | misses i64
//     readOnly      m shared_ptr<const Map<K, entry*>> | amended bool
//     entry (24)    mu u32 | refs u32 | p shared_ptr<const V>
//
//   read    the part that is safe for concurrent access without mu: a
//           snapshot pointer loaded atomically. Its map `m` is never written
//           once published; its entries' values are updated in place
//           (atomically) without mu. A readOnly differs from the next only
//           by replacement: new key sets -> a new readOnly.
//   dirty   under mu: every key of the map, as pointers to the *same*
//           entries as read (so a store through read is a store to dirty),
//           minus the expunged ones, plus new keys. Null right after a
//           promotion; built from read (dirtyLocked) at the next new key.
//   amended read.amended: dirty holds keys that read.m lacks. Only then does
//           a lookup that misses read.m take mu and look in dirty.
//   misses  lookups that had to take mu since the last promotion. When
//           misses >= len(dirty), dirty is promoted: read = {m: dirty},
//           dirty = nil, misses = 0 (the copy cost is amortized by misses).
//   entry   one per key: an atomic pointer p that is
//             nil       deleted; if dirty != nil, the key is in dirty too
//             expunged  deleted and not in dirty (dirtyLocked marked it so
//                       that a later store goes through mu and adds the key
//                       to dirty, instead of reviving it in read only)
//             a value   present; in read.m, and in dirty if dirty != nil
//
// Reclamation (C++ has no GC). Three things are reached without mu by
// goroutines that may be delayed arbitrarily: readOnly snapshots, entries,
// values. Choices:
//   * readOnly snapshots are std::shared_ptr<const readOnly>; `read` is that
//     pointer behind a tiny internal lock (readmu: held to copy or swap the
//     pointer, a refcount increment). A loader keeps its snapshot alive, and
//     with it the snapshot's map `m` (a shared_ptr too, shared between
//     snapshots that differ only in amended).
//   * entries are intrusively reference counted by the maps that hold them
//     (each read.m and dirty): Map<K, entry*>'s deleter drops one reference
//     per entry; the last one deletes it. A goroutine using an entry found
//     in its snapshot is covered by the snapshot; one found in dirty uses it
//     only under mu.
//   * values are immutable std::shared_ptr<const V> nodes; entry.p is
//     replaced, never written through. Readers copy the pointer under the
//     entry's lock (a refcount increment), then copy V outside any lock.
//     No user code (V's copy, ==, destructor) runs under an entry lock.
//   Rejected: std::atomic<std::shared_ptr> (libstdc++ 12's unlocks with a
//   relaxed RMW after reading the pointer: TSan reports races in it,
//   google/sanitizers#1558); hazard pointers or epochs (lock-free loads, but
//   per-thread or per-goroutine records and retire scans: much more
//   machinery than this type warrants; the natural next step if loads must
//   scale); freeing retired snapshots only in ~SyncMap (unbounded growth).
//   Cost: a load takes two short internal locks and two refcount round
//   trips, so unlike Go's, concurrent loads contend on the cache lines of
//   `read` and its snapshot (they never take mu, and never wait for a
//   writer beyond those few instructions). Measured on the project machine
//   (2 vCPUs, g++ 12 -O2; 1000 int64 keys, all in read; ns per operation):
//                                            goro       Go 1.19
//     load, 1 goroutine                      26.7-28.1  19.0-20.0
//     store to an existing key, 1 goroutine  33.4-35.4  66.4-67.4
//     load, 2 goroutines on 2 workers        115-153    18.0-18.7
//   The last line is the price of reference counting; hazard pointers for
//   the snapshot (entries are kept alive by their snapshot's map) would
//   remove it, with the restriction that Hash and Eq must not block.
//
// Differences from Go: Load returns std::optional<V>; LoadOrStore returns
// {actual, loaded}; Delete is erase (delete is a keyword); Range's f gets
// (const K&, const V&) and may return void (go on) or bool (false stops).
// Operations whose slow path takes mu block like Mutex.lock: on a plain
// thread, contention on mu is a fatal error (see goro/sync.h). Range is not
// a consistent snapshot: no key is visited more than once, but a key stored
// or deleted concurrently (including by f) may be seen with any value it
// had during the call, or not at all; f may call any method of the map.
#pragma once

#include <atomic>
#include <concepts>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <type_traits>
#include <utility>

#include "goro/hash.h"
#include "goro/lock_futex.h"
#include "goro/map.h"
#include "goro/sync.h"

namespace goro {

// SyncMap is Go's sync.Map for C++ (see the file comment). A default-
// constructed SyncMap is empty (it allocates its first, empty, snapshot).
// Not copyable or movable. K must be copyable (dirtyLocked copies keys), V
// copy-constructible (loads return copies); Hash and Eq are goro::Map's.
template <class K, class V, class Hash = goro::Hash<K>, class Eq = goro::Equal<K>>
class SyncMap {
  static_assert(std::is_copy_constructible_v<K>, "SyncMap copies keys from read into dirty");
  static_assert(std::is_copy_constructible_v<V>, "SyncMap's loads return copies of values");

 public:
  SyncMap()
      : read(std::make_shared<const readOnly>(readOnly{std::make_shared<entrymap>(), false})) {}
  SyncMap(const SyncMap&) = delete;
  SyncMap& operator=(const SyncMap&) = delete;
  ~SyncMap() {
    detail::forget(this);
  }  // read and dirty release their maps, and those their entries

  // load returns the value stored for key, or nullopt (Go's Load).
  std::optional<V> load(const K& key) {
    std::shared_ptr<const readOnly> r = loadReadOnly();
    entry* e = find(*r->m, key);
    if (!e && r->amended) {
      vptr p;
      bool inDirty = false;
      {
        std::lock_guard<Mutex> lk(mu);
        // Avoid reporting a spurious miss if dirty got promoted while we
        // were blocked on mu. (If further loads of the same key will not
        // miss, it is not worth copying the dirty map for this key.)
        r = loadReadOnly();
        e = find(*r->m, key);
        if (!e && r->amended) {
          inDirty = true;
          if (entry* d = finddirty(key)) p = d->loadp();
          // Regardless of whether the entry was present, record a miss: this
          // key will take the slow path until dirty is promoted to read.
          missLocked();
        }
      }
      if (inDirty) return value_of(p);  // V is copied after mu is released
    }
    return e ? value_of(e->loadp()) : std::nullopt;
  }

  // store sets the value for key (Go's Store).
  void store(const K& key, V value) { (void)swap_ptr(key, std::move(value)); }

  // swap stores value for key and returns the previous value, if any (Go's Swap).
  std::optional<V> swap(const K& key, V value) { return value_of(swap_ptr(key, std::move(value))); }

  // load_or_store returns {the existing value, true} if key is present;
  // otherwise it stores value and returns {value, false} (Go's LoadOrStore).
  std::pair<V, bool> load_or_store(const K& key, V value) {
    vptr nv;  // value's node, made when first needed
    vptr actual;
    std::shared_ptr<const readOnly> r = loadReadOnly();
    if (entry* e = find(*r->m, key)) {
      switch (e->tryLoadOrStore(value, nv, actual)) {
        case loaded:
          return {*actual, true};
        case stored:
          return {*nv, false};
        case isexpunged:
          break;
      }
    }
    result res = stored;
    {
      std::lock_guard<Mutex> lk(mu);
      r = loadReadOnly();
      if (entry* e = find(*r->m, key)) {
        unexpungeLocked(key, e);
        res = e->tryLoadOrStore(value, nv, actual);  // not expunged: cannot fail under mu
      } else if (entry* d = finddirty(key)) {
        res = d->tryLoadOrStore(value, nv, actual);
        missLocked();
      } else {
        if (!nv) nv = std::make_shared<const V>(std::move(value));
        addLocked(r, key, nv);
      }
    }
    if (res == loaded) return {*actual, true};
    return {*nv, false};
  }

  // load_and_delete deletes the value for key and returns it, if it was
  // present (Go's LoadAndDelete).
  std::optional<V> load_and_delete(const K& key) {
    std::shared_ptr<const readOnly> r = loadReadOnly();
    entry* e = find(*r->m, key);
    if (!e && r->amended) {
      vptr old;
      bool inDirty = false;
      {
        std::lock_guard<Mutex> lk(mu);
        r = loadReadOnly();
        e = find(*r->m, key);
        if (!e && r->amended) {
          inDirty = true;
          if (entry* d = finddirty(key)) {
            dirty->erase(key);
            old = d->deleteValue();
            unref(d);  // only dirty held it: the key was never in a read map
          }
          // Regardless of whether the entry was present, record a miss.
          missLocked();
        }
      }
      if (inDirty) return value_of(old);
    }
    return e ? value_of(e->deleteValue()) : std::nullopt;
  }

  // erase deletes the value for key (Go's Delete).
  void erase(const K& key) { (void)load_and_delete(key); }

  // compare_and_swap stores new_value for key if its current value equals
  // old (Go's CompareAndSwap); false if key is absent or holds another value.
  bool compare_and_swap(const K& key, const V& old,
                        V new_value) requires std::equality_comparable<V> {
    std::shared_ptr<const readOnly> r = loadReadOnly();
    if (entry* e = find(*r->m, key)) return e->tryCompareAndSwap(old, new_value);
    if (!r->amended) return false;  // no existing value for key
    std::lock_guard<Mutex> lk(mu);
    r = loadReadOnly();
    bool swapped = false;
    if (entry* e = find(*r->m, key)) {
      swapped = e->tryCompareAndSwap(old, new_value);
    } else if (entry* d = finddirty(key)) {
      swapped = d->tryCompareAndSwap(old, new_value);
      // We needed to lock mu in order to load the entry for key, and the
      // operation did not change the set of keys in the map (so it would be
      // made more efficient by promoting the dirty map to read-only). Count
      // it as a miss so that we will eventually switch to the faster path.
      missLocked();
    }
    return swapped;
  }

  // compare_and_delete deletes the entry for key if its value equals old
  // (Go's CompareAndDelete); false if key is absent or holds another value.
  bool compare_and_delete(const K& key, const V& old) requires std::equality_comparable<V> {
    std::shared_ptr<const readOnly> r = loadReadOnly();
    entry* e = find(*r->m, key);
    if (!e && r->amended) {
      std::lock_guard<Mutex> lk(mu);
      r = loadReadOnly();
      e = find(*r->m, key);
      if (!e && r->amended) {
        // Don't delete the key from dirty: it would not speed up later
        // operations (the entry stays nil until the next promotion drops
        // it), and the miss counts toward promoting dirty.
        entry* d = finddirty(key);
        bool deleted = d && d->tryCompareAndDelete(old);  // under mu: d is held by dirty
        missLocked();
        return deleted;
      }
    }
    return e && e->tryCompareAndDelete(old);
  }

  // range calls f(key, value) for each key present, sequentially; if f
  // returns false, range stops. See the file comment for its consistency.
  // O(N) even if f stops early. f may call any method of this map.
  template <class F>
  void range(F&& f) {
    // We need to be able to iterate over all of the keys that were already
    // present at the start of the call. If read.amended is false, read.m
    // satisfies that property without holding mu for a long time.
    std::shared_ptr<const readOnly> r = loadReadOnly();
    if (r->amended) {
      // m.dirty contains keys not in read.m. Fortunately, range is already
      // O(N) (assuming the caller does not break out early), so a call to
      // range amortizes an entire copy of the map: we can promote the dirty
      // copy immediately!
      std::lock_guard<Mutex> lk(mu);
      r = loadReadOnly();
      if (r->amended) {
        promoteLocked();
        r = loadReadOnly();
      }
    }
    for (auto it = r->m->begin(); it != r->m->end(); ++it) {
      vptr p = it.value()->loadp();
      if (!p || p.get() == expunged_ptr()) continue;
      if constexpr (std::is_invocable_r_v<bool, F&, const K&, const V&>) {
        if (!std::invoke(f, it.key(), *p)) break;
      } else {
        std::invoke(f, it.key(), *p);
      }
    }
  }

 private:
  friend class SyncDebugAccess;
  friend struct detail::debug_layout;

  using vptr = std::shared_ptr<const V>;
  enum result { isexpunged, loaded, stored };

  // expunged's address marks entries deleted from the map and absent from
  // dirty (Go's `expunged`: an arbitrary unique pointer). Never dereferenced.
  alignas(V) static constexpr unsigned char expunged[1] = {0};
  static const V* expunged_ptr() noexcept { return reinterpret_cast<const V*>(expunged); }
  static vptr expunged_vptr() noexcept { return vptr(vptr(), expunged_ptr()); }  // non-owning

  // entry is a slot in the map for one key (Go's entry).
  struct entry {
    explicit entry(vptr v) noexcept : p(std::move(v)) {}

    mutable detail::mutex mu;       // guards p (held to copy or replace the pointer, nothing else)
    std::atomic<uint32_t> refs{1};  // maps holding this entry (read snapshots' m, dirty)
    vptr p;                         // nil, expunged, or the value (see the file comment)

    vptr loadp() const {
      detail::mutex_guard g(mu);
      return p;
    }
    bool isExpungedLocked() const {  // SyncMap.mu held: only mu holders (un)expunge
      detail::mutex_guard g(mu);
      return p.get() == expunged_ptr();
    }
    // trySwap swaps in *v (which receives the old pointer) unless the entry
    // is expunged: then it returns false and the entry is left alone.
    bool trySwap(vptr& v) {
      detail::mutex_guard g(mu);
      if (p.get() == expunged_ptr()) return false;
      p.swap(v);
      return true;
    }
    // swapLocked swaps in v unconditionally (the entry is known not to be
    // expunged: SyncMap.mu held) and returns the old pointer.
    vptr swapLocked(vptr v) {
      detail::mutex_guard g(mu);
      p.swap(v);
      return v;
    }
    // unexpungeLocked makes an expunged entry nil; true if it was expunged.
    // SyncMap.mu held (the caller puts the entry back in dirty first).
    bool unexpungeLocked() {
      detail::mutex_guard g(mu);
      if (p.get() != expunged_ptr()) return false;
      p.reset();
      return true;
    }
    // tryExpungeLocked marks a nil entry expunged; true if it is (now)
    // expunged. SyncMap.mu held.
    bool tryExpungeLocked() {
      detail::mutex_guard g(mu);
      if (!p) p = expunged_vptr();
      return p.get() == expunged_ptr();
    }
    // tryLoadOrStore loads the value if present, else stores *nv (made from
    // value on first need). Fails (isexpunged) if the entry is expunged.
    result tryLoadOrStore(V& value, vptr& nv, vptr& actual) {
      vptr cur = loadp();
      if (cur.get() == expunged_ptr()) return isexpunged;
      if (cur) {
        actual = std::move(cur);
        return loaded;
      }
      if (!nv) nv = std::make_shared<const V>(std::move(value));  // outside the entry lock
      detail::mutex_guard g(mu);
      if (!p) {
        p = nv;
        return stored;
      }
      if (p.get() == expunged_ptr()) return isexpunged;
      actual = p;
      return loaded;
    }
    // deleteValue makes the entry nil and returns the old value pointer
    // (null if there was none; an expunged entry is left alone).
    vptr deleteValue() {
      vptr old;
      detail::mutex_guard g(mu);
      if (!p || p.get() == expunged_ptr()) return old;
      old.swap(p);
      return old;
    }
    // tryCompareAndSwap stores new_value if the value equals old. V's == runs
    // outside the entry lock, on a pointer copy; the swap then checks that p
    // is still that pointer (held, so its address cannot be reused).
    bool tryCompareAndSwap(const V& old, V& new_value) {
      vptr cur = loadp();
      if (!cur || cur.get() == expunged_ptr() || !(*cur == old)) return false;
      vptr nc = std::make_shared<const V>(std::move(new_value));
      for (;;) {
        {
          detail::mutex_guard g(mu);
          if (p.get() == cur.get()) {
            p.swap(nc);  // nc: the old value, released after the lock
            return true;
          }
          cur = p;
        }
        if (!cur || cur.get() == expunged_ptr() || !(*cur == old)) return false;
      }
    }
    // tryCompareAndDelete makes the entry nil if its value equals old.
    bool tryCompareAndDelete(const V& old) {
      vptr cur = loadp();
      for (;;) {
        if (!cur || cur.get() == expunged_ptr() || !(*cur == old)) return false;
        vptr gone;
        {
          detail::mutex_guard g(mu);
          if (p.get() == cur.get()) {
            gone.swap(p);
            return true;
          }
          cur = p;
        }
      }
    }
  };

  static_assert(sizeof(entry) == 24, "entry is three words: mu and refs share the first");

  // unref drops one map's reference to e; the last one deletes it.
  static void unref(entry* e) noexcept {
    if (e->refs.fetch_sub(1, std::memory_order_acq_rel) == 1) delete e;
  }
  using entrymap = Map<K, entry*, Hash, Eq>;
  // unref_map is the deleter of every entrymap: unref each entry, then free.
  struct unref_map {
    void operator()(entrymap* m) const noexcept {
      for (auto it = m->begin(); it != m->end(); ++it) unref(it.value());
      delete m;
    }
  };

  // readOnly is an immutable struct stored atomically in read (Go's readOnly).
  struct readOnly {
    std::shared_ptr<const entrymap> m;  // never written once published
    bool amended;                       // true if dirty contains some key not in m
  };

  static entry* find(const entrymap& m, const K& key) {
    auto it = m.find(key);
    return it == m.end() ? nullptr : it.value();
  }
  entry* finddirty(const K& key) const { return dirty ? find(*dirty, key) : nullptr; }  // mu held

  static std::optional<V> value_of(const vptr& p) {
    if (!p || p.get() == expunged_ptr()) return std::nullopt;
    return *p;
  }

  std::shared_ptr<const readOnly> loadReadOnly() const {
    detail::mutex_guard g(readmu);
    return read;
  }
  // storeReadOnly publishes r; the old snapshot is released after readmu
  // (its map's deleter may run here). mu held.
  void storeReadOnly(std::shared_ptr<const readOnly> r) {
    {
      detail::mutex_guard g(readmu);
      read.swap(r);
    }
  }

  // swap_ptr is Swap returning the previous value's node.
  vptr swap_ptr(const K& key, V value) {
    vptr nv = std::make_shared<const V>(std::move(value));
    std::shared_ptr<const readOnly> r = loadReadOnly();
    if (entry* e = find(*r->m, key)) {
      vptr prev = nv;
      if (e->trySwap(prev)) return prev;
    }
    vptr prev;
    std::lock_guard<Mutex> lk(mu);
    r = loadReadOnly();
    if (entry* e = find(*r->m, key)) {
      unexpungeLocked(key, e);
      prev = e->swapLocked(std::move(nv));
    } else if (entry* d = finddirty(key)) {
      prev = d->swapLocked(std::move(nv));
    } else {
      addLocked(r, key, std::move(nv));
    }
    return prev;
  }

  // unexpungeLocked: if e (in read) is expunged, there is a non-nil dirty
  // map and e is not in it: put it back there, then make it nil. (In that
  // order, so that a throwing key copy leaves e expunged.) mu held.
  void unexpungeLocked(const K& key, entry* e) {
    if (!e->isExpungedLocked()) return;
    dirty->try_emplace(key, e);
    e->refs.fetch_add(1, std::memory_order_relaxed);
    e->unexpungeLocked();
  }

  // addLocked adds a new key to dirty. If it is the first new key since the
  // last promotion, make sure dirty exists and mark read as amended. mu held.
  void addLocked(const std::shared_ptr<const readOnly>& r, const K& key, vptr v) {
    if (!r->amended) {
      dirtyLocked();
      storeReadOnly(std::make_shared<const readOnly>(readOnly{r->m, true}));
    }
    std::unique_ptr<entry> e(new entry(std::move(v)));  // refs = 1: dirty's
    dirty->try_emplace(key, e.get());
    e.release();
  }

  // missLocked counts a lookup that needed mu; promotes dirty when the
  // misses have paid for the copy. mu held.
  void missLocked() {
    misses++;
    if (!dirty || misses < static_cast<int64_t>(dirty->size())) return;
    promoteLocked();
  }

  // promoteLocked makes dirty the read map: read = {m: dirty}, dirty = nil.
  void promoteLocked() {
    auto ro = std::make_shared<readOnly>();  // may throw: nothing changed yet
    ro->m = dirty ? std::move(dirty) : std::make_shared<entrymap>();
    ro->amended = false;
    dirty = nullptr;
    storeReadOnly(std::move(ro));
    misses = 0;
  }

  // dirtyLocked builds dirty from read: every entry not expunged (nil ones
  // become expunged and stay out). mu held.
  void dirtyLocked() {
    if (dirty) return;
    std::shared_ptr<const readOnly> r = loadReadOnly();
    std::shared_ptr<entrymap> d(new entrymap(r->m->size()), unref_map{});
    try {
      for (auto it = r->m->begin(); it != r->m->end(); ++it) {
        entry* e = it.value();
        if (!e->tryExpungeLocked()) {
          d->try_emplace(it.key(), e);
          e->refs.fetch_add(1, std::memory_order_relaxed);
        }
      }
    } catch (...) {
      // A key copy threw. Undo the expunges: read held no expunged entry
      // before (entries are expunged only here, and only while dirty is
      // nil, i.e. since the last promotion nothing was), so every expunged
      // entry of read was expunged by this call. d releases what it took.
      for (auto it = r->m->begin(); it != r->m->end(); ++it) it.value()->unexpungeLocked();
      throw;
    }
    dirty = std::move(d);
  }

  Mutex mu;                              // guards dirty, misses and the replacement of read
  mutable detail::mutex readmu;          // guards read's pointer (Go: read is an atomic.Pointer)
  std::shared_ptr<const readOnly> read;  // current snapshot, never null; loadReadOnly() to use
  std::shared_ptr<entrymap> dirty;       // guarded by mu; null: no dirty map (see file comment)
  int64_t misses = 0;                    // guarded by mu: lookups that needed mu since promotion
};
static_assert(sizeof(SyncMap<int, int>) == 88,
              "Mutex, readmu, read, dirty, misses: the layout tools decode (file comment)");

}  // namespace goro
