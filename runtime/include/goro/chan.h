// goro/chan.h — channels and select (Go: runtime/chan.go, select.go).
//
//   auto ch = goro::make_chan<int>(3);   // make(chan int, 3); make_chan<int>() is unbuffered
//   ch.send(1);                          // ch <- 1
//   int v = ch.recv();                   // v := <-ch
//   auto [w, ok] = ch.recv_ok();         // w, ok := <-ch
//   for (int x : ch) { ... }             // for x := range ch
//   ch.close();                          // close(ch)
//   goro::Chan<int> nil;                 // var nil chan int: blocks forever
//
//   switch (goro::select(goro::recv(a, v, &ok), goro::send(b, 42), goro::default_case())) {
//     case 0: ...; case 1: ...; default: ...  // -1 never; index of the chosen case
//   }
//
// A Chan<T> is a reference to a channel (like Go's `chan T`): copies share
// it; the last copy frees it. The channel itself is the type-erased hchan
// below, Go's layout, so debuggers read any channel without knowing T.
//
// Invariants (Go's chan.go):
//   At least one of c.sendq and c.recvq is empty, except for an unbuffered
//   channel with a single goroutine blocked on it for both sending and
//   receiving using a select statement.
//   For buffered channels: qcount > 0 implies recvq is empty;
//   qcount < dataqsiz implies sendq is empty.
//
// Panics (goro::Panic, goro/panic.h): "send on closed channel", "close of
// closed channel", "close of nil channel". Blocking from a thread that is
// not a goroutine is a fatal error (goro/sched.h).
#pragma once

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <new>
#include <type_traits>
#include <typeinfo>
#include <utility>

#include "goro/lock_futex.h"
#include "goro/panic.h"
#include "goro/runtime2.h"

namespace goro {

namespace detail {

// chantype describes a channel's element type (type erasure for hchan).
struct chantype {
  uint64_t elemsize;
  uint64_t elemalign;
  const char* elemname;                          // typeid(T).name() (mangled)
  void (*move_construct)(void* dst, void* src);  // placement-move *src into dst
  void (*destroy)(void* p);
};

template <class T>
const chantype* chantype_for() {
  static const chantype t{sizeof(T), alignof(T), typeid(T).name(),
                          [](void* d, void* s) { ::new (d) T(std::move(*static_cast<T*>(s))); },
                          [](void* p) { static_cast<T*>(p)->~T(); }};
  return &t;
}

// waitq is a FIFO of sudogs (Go's waitq).
struct waitq {
  sudog* first;
  sudog* last;
};

// hchan is a channel (Go's hchan, same field order). Guarded by lock:
// everything but the refcount; closed is also read without the lock by the
// non-blocking fast paths (atomically).
struct hchan {
  uint64_t qcount;    // total data in the queue
  uint64_t dataqsiz;  // size of the circular queue
  void* buf;          // points to an array of dataqsiz elements
  uint16_t elemsize;  // Go's width; 0 if the element is larger (see elemtype)
  std::atomic<uint32_t> closed;
  const chantype* elemtype;  // element type
  uint64_t sendx;            // send index
  uint64_t recvx;            // receive index
  waitq recvq;               // list of recv waiters
  waitq sendq;               // list of send waiters
  mutex lock;
  std::atomic<uint32_t> refs;  // Chan<T> handles (goro: no GC)
};

hchan* makechan(const chantype* t, int64_t size);
void chanrelease(hchan* c) noexcept;  // drop a reference; frees at zero
// chansend moves *ep into the channel. block=false: return false instead of
// blocking. Throws Panic on a closed channel.
bool chansend(hchan* c, void* ep, bool block);
// chanrecv receives into uninitialized storage *ep. Returns {selected,
// received}: received=false means closed and *ep was not constructed.
struct recvres {
  bool selected;
  bool received;
};
recvres chanrecv(hchan* c, void* ep, bool block);
void closechan(hchan* c);
uint64_t chanlen(const hchan* c) noexcept;

// scase is one case of a select (Go's scase): c, and elem = the value to
// send or the uninitialized slot to receive into.
struct scase {
  hchan* c;
  void* elem;
};
// selectgo: cases[0:nsends] are sends, cases[nsends:nsends+nrecvs] receives
// (Go's order). Returns {chosen case index or -1 if !block and nothing is
// ready, received (for a receive case)}.
struct selres {
  int chosen;
  bool recvOK;
};
selres selectgo(scase* cases, uint16_t* order, int nsends, int nrecvs, bool block);
[[noreturn]] void block_forever(waitReason r);  // nil channel ops, select {}

}  // namespace detail

template <class T>
class Chan;

template <class T>
Chan<T> make_chan(int64_t cap = 0);

// Chan<T> is a reference to a channel of T (Go's chan T). T must be
// move-constructible; receiving from a closed channel yields T{} (Go's zero
// value), so recv()/recv_ok() need a default-constructible T.
template <class T>
class Chan {
 public:
  using value_type = T;

  // A default-constructed Chan is nil: send and receive block forever.
  Chan() noexcept = default;
  Chan(std::nullptr_t) noexcept {}
  Chan(const Chan& o) noexcept : c_(o.c_) { retain(); }
  Chan(Chan&& o) noexcept : c_(std::exchange(o.c_, nullptr)) {}
  Chan& operator=(Chan o) noexcept {
    std::swap(c_, o.c_);
    return *this;
  }
  ~Chan() {
    if (c_) detail::chanrelease(c_);
  }

  // send sends v, blocking until a receiver takes it or buffer space frees.
  // Throws Panic("send on closed channel").
  void send(T v) {
    detail::chansend(c_, &v, true);
    detail::keep_frame();
  }
  // try_send sends only if it can do so without blocking (Go's select with a
  // default case). On false, v is untouched.
  bool try_send(T& v) { return detail::chansend(c_, &v, false); }
  bool try_send(T&& v) { return detail::chansend(c_, &v, false); }

  struct recv_result {
    T value;
    bool ok;  // false: the channel is closed and drained; value is T{}
  };
  // recv receives a value, blocking until one is available; T{} once the
  // channel is closed and drained.
  T recv() { return recv_ok().value; }
  recv_result recv_ok() {
    alignas(T) unsigned char slot[sizeof(T)];
    auto r = detail::chanrecv(c_, slot, true);
    return take(slot, r.received);
  }
  // try_recv receives only if it can without blocking: nullopt-like {false}
  // in `selected` when it would block.
  struct try_result {
    bool selected;
    recv_result r;
  };
  try_result try_recv() {
    alignas(T) unsigned char slot[sizeof(T)];
    auto r = detail::chanrecv(c_, slot, false);
    if (!r.selected) return {false, {T{}, false}};
    return {true, take(slot, r.received)};
  }

  // close closes the channel (Go's close). Throws Panic("close of nil
  // channel") or Panic("close of closed channel").
  void close() { detail::closechan(c_); }

  std::size_t len() const noexcept { return c_ ? detail::chanlen(c_) : 0; }
  std::size_t cap() const noexcept { return c_ ? c_->dataqsiz : 0; }
  bool is_nil() const noexcept { return c_ == nullptr; }
  explicit operator bool() const noexcept { return c_ != nullptr; }
  friend bool operator==(const Chan& a, const Chan& b) noexcept { return a.c_ == b.c_; }
  // debug_hchan is the channel object (Go's hchan) tools see; null for a nil channel.
  const void* debug_hchan() const noexcept { return c_; }

  // Range: `for (T v : ch)` receives until the channel is closed and drained.
  class iterator {
   public:
    explicit iterator(Chan* ch) : ch_(ch) { next(); }
    iterator() = default;
    T& operator*() { return v_; }
    iterator& operator++() {
      next();
      return *this;
    }
    bool operator==(const iterator& o) const { return ch_ == o.ch_; }

   private:
    void next() {
      auto r = ch_->recv_ok();
      if (r.ok)
        v_ = std::move(r.value);
      else
        ch_ = nullptr;
    }
    Chan* ch_ = nullptr;
    T v_{};
  };
  iterator begin() { return iterator(this); }
  iterator end() { return iterator(); }

  detail::hchan* raw() const noexcept { return c_; }

 private:
  friend Chan make_chan<T>(int64_t);
  explicit Chan(detail::hchan* c) noexcept : c_(c) {}
  void retain() noexcept {
    if (c_) c_->refs.fetch_add(1, std::memory_order_relaxed);
  }
  // (GCC 12 at -O2 warns -Wmaybe-uninitialized inside std::string's move
  // constructor here: it cannot see chanrecv construct the slot. A user's
  // -Werror build must not fail on goro's header.)
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#endif
  static recv_result take(unsigned char* slot, bool received) {
    if (!received) return {T{}, false};
    T* p = std::launder(reinterpret_cast<T*>(slot));
    recv_result r{std::move(*p), true};
    p->~T();
    return r;
  }
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC diagnostic pop
#endif

  detail::hchan* c_ = nullptr;
};

// make_chan makes a channel with room for cap buffered values (Go's
// make(chan T, cap)). cap < 0 throws Panic("makechan: size out of range").
template <class T>
Chan<T> make_chan(int64_t cap) {
  static_assert(std::is_move_constructible_v<T>, "channel elements must be movable");
  return Chan<T>(detail::makechan(detail::chantype_for<T>(), cap));
}

// ---- select ----

// Cases refer to their channel without touching its reference count; a
// case made from a temporary Chan (e.g. recv_discard(goro::after(d))) keeps
// that temporary alive in `keep` for the select.
template <class T>
struct recv_case {
  using value_type = T;
  detail::hchan* c;
  Chan<T> keep;
  T* out;    // may be null: value discarded
  bool* ok;  // may be null
  alignas(T) unsigned char slot[sizeof(T)];
  static constexpr bool is_send = false;
};
template <class T>
struct send_case {
  using value_type = T;
  detail::hchan* c;
  Chan<T> keep;
  T value;
  static constexpr bool is_send = true;
};
struct default_case_t {};

// recv(ch, out, ok): a receive case; on selection *out = value (or T{} if
// closed), *ok = whether a value was received.
template <class T>
recv_case<T> recv(const Chan<T>& ch, T& out, bool* ok = nullptr) {
  return recv_case<T>{ch.raw(), {}, &out, ok, {}};
}
template <class T>
recv_case<T> recv(Chan<T>&& ch, T& out, bool* ok = nullptr) {
  detail::hchan* c = ch.raw();
  return recv_case<T>{c, std::move(ch), &out, ok, {}};
}
// recv_discard(ch, ok): a receive case whose value is dropped.
template <class T>
recv_case<T> recv_discard(const Chan<T>& ch, bool* ok = nullptr) {
  return recv_case<T>{ch.raw(), {}, nullptr, ok, {}};
}
template <class T>
recv_case<T> recv_discard(Chan<T>&& ch, bool* ok = nullptr) {
  detail::hchan* c = ch.raw();
  return recv_case<T>{c, std::move(ch), nullptr, ok, {}};
}
// send(ch, v): a send case; v is moved into the channel only if chosen.
template <class T, class U>
send_case<T> send(const Chan<T>& ch, U&& v) {
  return send_case<T>{ch.raw(), {}, T(std::forward<U>(v))};
}
inline default_case_t default_case() { return {}; }

namespace detail {
template <class C>
inline constexpr bool is_default_v = std::is_same_v<std::decay_t<C>, default_case_t>;
}

// select waits until one of the cases can proceed and performs it (Go's
// select statement). Cases are chosen uniformly at random among the ready
// ones. Returns the chosen case's index in the argument list; with a
// default_case() argument, returns its index when no other case is ready.
// select() with no arguments blocks forever ("select (no cases)").
template <class... Cases>
int select(Cases&&... cases) {
  constexpr int ndefault = (0 + ... + (detail::is_default_v<Cases> ? 1 : 0));
  static_assert(ndefault <= 1, "select: at most one default case");
  constexpr int n = static_cast<int>(sizeof...(Cases)) - ndefault;
  if constexpr (n == 0) {
    if constexpr (ndefault == 1) {
      return 0;
    } else {
      detail::block_forever(detail::waitReason::selectNoCases);
    }
  } else {
    detail::scase sc[n];
    uint16_t order[2 * n];
    int argidx[n];  // scase slot -> argument index
    int nsends = 0, nrecvs = 0, defidx = -1;
    // Sends first, then receives (selectgo's layout).
    int ai = 0;
    auto place_send = [&](auto& c) {
      using C = std::decay_t<decltype(c)>;
      if constexpr (!detail::is_default_v<C>) {
        if constexpr (C::is_send) {
          sc[nsends] = {c.c, &c.value};
          argidx[nsends++] = ai;
        }
      } else {
        defidx = ai;
      }
      ai++;
    };
    (place_send(cases), ...);
    ai = 0;
    auto place_recv = [&](auto& c) {
      using C = std::decay_t<decltype(c)>;
      if constexpr (!detail::is_default_v<C>) {
        if constexpr (!C::is_send) {
          sc[nsends + nrecvs] = {c.c, c.slot};
          argidx[nsends + nrecvs++] = ai;
        }
      }
      ai++;
    };
    (place_recv(cases), ...);
    auto r = detail::selectgo(sc, order, nsends, nrecvs, defidx < 0);
    if (r.chosen < 0) return defidx;
    int chosen_arg = argidx[r.chosen];
    ai = 0;
    auto finish = [&](auto& c) {
      using C = std::decay_t<decltype(c)>;
      if constexpr (!detail::is_default_v<C>) {
        if constexpr (!C::is_send) {
          if (ai == chosen_arg) {
            using T = typename C::value_type;
            if (r.recvOK) {
              T* p = std::launder(reinterpret_cast<T*>(c.slot));
              if (c.out) *c.out = std::move(*p);
              p->~T();
            } else if (c.out) {
              *c.out = T{};
            }
            if (c.ok) *c.ok = r.recvOK;
          }
        }
      }
      ai++;
    };
    (finish(cases), ...);
    return chosen_arg;
  }
}

}  // namespace goro
