// named.cpp — the registry of named objects (goro/debug.h: debug::name).
//
// Layout (what debuggers walk, described in the layout descriptor):
//   detail::named   {lock, count, head, gen}
//   head -> namedobj {next, prev, obj, syncmapstats, kind, name[47]} -> ... -> null
// Most recently named first. Invariant (under named.lock): count == the
// list's length, and no two records have the same obj.
//
// Lookup by object (rename, unname, destruction) walks the list: named
// objects are few (tens), and a side hash table would be a second structure
// for tools to distrust. Destructors of every nameable type call forget(),
// which reads `count` only (one relaxed load) unless something is named.
//
// Rejected: a flag bit in each object saying "named" (no spare bits in
// Mutex's Go layout or hmap's flags; adding a word to every Mutex for a
// debugging aid is too much); weak references / generation checks
// (tools would see stale records of destroyed objects).
#include <algorithm>
#include <cstring>

#include "goro/debug.h"
#include "proc.h"

namespace goro {
namespace detail {

constinit namedreg named{};

namespace {

namedobj* find_locked(const void* obj) {
  for (namedobj* n = named.head; n; n = n->next)
    if (n->obj == obj) return n;
  return nullptr;
}

void unlink_locked(namedobj* n) {
  if (n->prev)
    n->prev->next = n->next;
  else
    named.head = n->next;
  if (n->next) n->next->prev = n->prev;
  named.count.fetch_sub(1, std::memory_order_relaxed);
  named.gen.fetch_add(1, std::memory_order_relaxed);
}

}  // namespace

void forget_slow(const void* obj) noexcept {
  namedobj* n;
  {
    mutex_guard lk(named.lock);
    n = find_locked(obj);
    if (!n) return;
    unlink_locked(n);
  }
  delete n;
}

}  // namespace detail

namespace debug {

void detail::name_object(const void* obj, goro::detail::objkind kind, std::string_view name,
                         void (*syncmapstats)(const void*, int64_t*)) {
  using namespace goro::detail;
  auto* fresh = new namedobj{};  // allocated outside the lock; freed if obj is already named
  named.lock.lock();
  namedobj* n = find_locked(obj);
  if (!n) {
    n = fresh;
    fresh = nullptr;
    n->obj = obj;
    n->next = named.head;
    if (named.head) named.head->prev = n;
    named.head = n;
    named.count.fetch_add(1, std::memory_order_relaxed);
  }
  n->kind = kind;
  n->syncmapstats = syncmapstats;
  size_t len = std::min(name.size(), sizeof n->name - 1);
  std::memcpy(n->name, name.data(), len);
  n->name[len] = '\0';
  named.gen.fetch_add(1, std::memory_order_relaxed);
  named.lock.unlock();
  delete fresh;
}

void unname(const void* obj) noexcept { goro::detail::forget_slow(obj); }

}  // namespace debug
}  // namespace goro
