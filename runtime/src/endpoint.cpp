// endpoint.cpp — the live endpoint (goro::debug::serve, GORO_DEBUG=ADDR).
//
// One thread of its own (not a worker: it stops the world from outside),
// one poll(2) loop over the listening socket, the clients and a wake-up
// pipe. Protocol (docs/snapshot-format.md, "Endpoint"): newline-delimited
// JSON both ways. A request is one line of at most kMaxRequest bytes:
//   {"cmd":"hello"}                      -> {"format":"goroscope-endpoint",...}
//   {"cmd":"snapshot", options...}       -> one snapshot line
//   {"cmd":"stream","hz":10, options...} -> a snapshot line every 1/hz s
//   {"cmd":"stop"}                       -> ends the stream
// options: frames, maps, references (bool), map (string), bucket_offset,
// bucket_limit.
// Anything else gets {"error":"..."}; a longer line closes the connection.
//
// Safety rules: the Unix socket is created with mode 0600 (umask while
// binding, then chmod); TCP binds loopback addresses only unless
// allow_remote; requests are bounded; sockets are non-blocking and every
// send is MSG_NOSIGNAL, so a slow client only falls behind and a vanished
// one is closed; the only thing a request can cause is a snapshot.
//
// Hostile and careless clients (issue 18, measured before: 32 idle
// connections locked every later client out for good; 12 clients asking for
// whole-map snapshots and never reading took the program from 8 MB to
// 1.76 GB; a 60 Hz whole-map stream cut its throughput to 58%):
//   - deadlines: a request line must be complete within request_ns of its
//     first byte; a client with nothing asked and nothing to send is closed
//     after idle_ns; one whose unsent reply makes no progress for write_ns
//     is dropped.
//   - fairness: when max_clients are connected, a newcomer closes the
//     longest-idle client; it is refused only when every client is busy.
//   - memory: a client has at most one reply in flight (a stream skips
//     ticks, a one-shot waits), and no snapshot is taken while the replies
//     held for all clients together pass max_held: the held bytes stay
//     under max_held plus one snapshot. While that keeps a client waiting,
//     the biggest holder that has not read for a second is dropped.
//   - cost: snapshots are serialized and taken at most kMaxHz a second over
//     all clients, one-shot requests queue (kMaxPending, then refused); after
//     a snapshot that cost T, that client's next one waits kCostClient*T
//     (one client keeps the thread busy at most 1/(1+kCostClient) of the
//     time), and all clients together draw on a budget that grows by
//     1/kCostGlobal of the elapsed time (capped at kBudgetCap): a snapshot
//     starts only while it is not negative and spends its cost, so the
//     thread is busy at most about 1/(1+kCostGlobal) of its time whatever
//     the clients ask, and cheap requests go on between expensive ones. A
//     whole-map snapshot no longer stops the world in proportion to the map
//     (capture.cpp, "maps in slices").
#include <arpa/inet.h>
#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include <rapidjson/document.h>

#include "goro/debug.h"
#include "proc.h"

namespace goro::debug {

namespace {

constexpr size_t kMaxRequest = 4096;  // bytes per request line
constexpr double kMaxHz = 60, kMinHz = 0.01;
constexpr int64_t kMinInterval = static_cast<int64_t>(1e9 / kMaxHz);  // between two snapshots
constexpr size_t kMaxPending = 16;  // one-shot requests waiting per client
// Cost factors (see the file comment). bench/debug endpoint_stream: two
// goroutines ping-pong on 2 workers beside a named map while a client
// streams whole-map snapshots at 60 Hz; round trips with / without it:
//
//   map entries   before (one pause,   slices; next anyone's   slices; client 9T,
//                 60 Hz)               4T, client's 10T        budget 1/9 (chosen)
//   200k          0.52                 0.91                    0.95
//   1M            0.70                 0.96                    0.93
//
// (one run each; a fixed 9T/9T wait measured 0.94 and 0.95 but made cheap
// requests wait 9T behind an expensive one). By the arithmetic, a 1 ms
// snapshot can still be served at 60 Hz: 60 ms of work a second against a
// budget of 111 ms a second, and a client's own wait of 9 ms < 16.7 ms.
constexpr int64_t kCostGlobal = 9, kCostClient = 9;
constexpr int64_t kBudgetCap = 1'000'000'000;  // ns of snapshot work saved up at most

struct client {
  int fd;
  std::string in;
  std::string out;
  size_t sent = 0;  // bytes of `out` already written
  bool streaming = false;
  int64_t period_ns = 0;
  int64_t due = 0;
  SnapshotOptions opt;                // the stream's
  std::vector<SnapshotOptions> once;  // one-shot requests not yet served, oldest first
  int64_t last_in = 0;                // when a byte last arrived (or it connected)
  int64_t in_since = 0;               // when the unfinished request line began
  int64_t last_out = 0;               // when its reply last made progress
  int64_t not_before = 0;             // its next snapshot, by its last one's cost

  bool idle() const { return !streaming && once.empty() && sent == out.size() && in.empty(); }
  size_t held() const { return out.size() - sent; }
};

struct server {
  int lfd = -1;
  int wake[2] = {-1, -1};
  std::string address;  // as reported by serving_address
  std::string unixpath;
  std::thread thread;
  std::vector<std::unique_ptr<client>> clients;
  int64_t next_snapshot = 0;    // rate limit: no snapshot before this (nanotime)
  int64_t budget = kBudgetCap;  // snapshot work (ns) that may be spent now; see the file comment
  int64_t budget_at = 0;        // when budget was last brought up to date
  size_t turn = 0;              // the client served first at the next turn (round robin)
};

goro::detail::mutex srvlock;  // guards `srv` (the pointer, not the running server's state)
server* srv = nullptr;

void set_nonblock(int fd) { fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK); }

std::string errno_text(const char* what) { return std::string(what) + ": " + std::strerror(errno); }

void queue(client& c, std::string s) {
  s += '\n';
  if (c.sent == c.out.size()) {
    c.out = std::move(s);
    c.sent = 0;
  } else {
    c.out += s;
  }
}

void queue_error(client& c, const std::string& msg) {
  std::string e = "{\"error\":\"";
  for (char ch : msg)
    e += (ch == '"') ? '\'' : (ch == '\\' || static_cast<unsigned char>(ch) < 0x20) ? ' ' : ch;
  queue(c, e + "\"}");
}

// flush writes what it can; false: the client is gone.
bool flush(client& c) {
  while (c.sent < c.out.size()) {
    ssize_t n = ::send(c.fd, c.out.data() + c.sent, c.out.size() - c.sent, MSG_NOSIGNAL);
    if (n < 0) return errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR;
    c.sent += static_cast<size_t>(n);
    c.last_out = goro::detail::nanotime();
  }
  c.out.clear();
  c.sent = 0;
  return true;
}

bool parse_options(const rapidjson::Value& d, SnapshotOptions& o, std::string& err) {
  for (auto it = d.MemberBegin(); it != d.MemberEnd(); ++it) {
    std::string k(it->name.GetString(), it->name.GetStringLength());
    const auto& v = it->value;
    if (k == "cmd" || k == "hz") continue;
    if ((k == "frames" || k == "maps" || k == "references") && v.IsBool()) {
      (k == "frames" ? o.frames : k == "maps" ? o.maps : o.references) = v.GetBool();
    } else if (k == "map" && v.IsString()) {
      o.map.assign(v.GetString(), std::min<size_t>(v.GetStringLength(), 64));
    } else if ((k == "bucket_offset" || k == "bucket_limit") && v.IsUint64()) {
      (k == "bucket_offset" ? o.bucket_offset : o.bucket_limit) = v.GetUint64();
    } else {
      err = "bad option '" + k.substr(0, 40) + "'";
      return false;
    }
  }
  return true;
}

void handle_line(client& c, const std::string& line, int64_t now) {
  rapidjson::Document d;
  d.Parse(line.c_str(), line.size());
  if (d.HasParseError() || !d.IsObject() || !d.HasMember("cmd") || !d["cmd"].IsString()) {
    queue_error(c, "request must be a JSON object with a string \"cmd\"");
    return;
  }
  std::string cmd = d["cmd"].GetString();
  if (cmd == "hello") {
    queue(c, "{\"format\":\"goroscope-endpoint\",\"version\":1,\"pid\":" +
                 std::to_string(getpid()) + "}");
    return;
  }
  if (cmd == "stop") {
    c.streaming = false;
    return;
  }
  SnapshotOptions o;
  std::string err;
  if (cmd != "snapshot" && cmd != "stream") {
    queue_error(c, "unknown cmd (hello, snapshot, stream, stop)");
    return;
  }
  if (!parse_options(d, o, err)) {
    queue_error(c, err);
    return;
  }
  if (cmd == "snapshot") {
    if (c.once.size() >= kMaxPending)
      queue_error(c, "too many snapshot requests waiting");
    else
      c.once.push_back(o);
    return;
  }
  double hz = 10;
  if (d.HasMember("hz")) {
    if (!d["hz"].IsNumber()) {
      queue_error(c, "hz must be a number");
      return;
    }
    hz = std::clamp(d["hz"].GetDouble(), kMinHz, kMaxHz);
  }
  c.opt = o;
  c.streaming = true;
  c.period_ns = static_cast<int64_t>(1e9 / hz);
  c.due = now;
}

// read_client consumes input; false: close the client.
bool read_client(client& c, int64_t now) {
  char buf[2048];
  for (;;) {
    ssize_t n = ::recv(c.fd, buf, sizeof buf, 0);
    if (n == 0) return false;
    if (n < 0) return errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR;
    if (c.in.empty()) c.in_since = now;
    c.in.append(buf, static_cast<size_t>(n));
    c.last_in = now;
    size_t nl;
    while ((nl = c.in.find('\n')) != std::string::npos) {
      std::string line = c.in.substr(0, nl);
      c.in.erase(0, nl + 1);
      if (!line.empty() && line.back() == '\r') line.pop_back();
      if (!line.empty()) handle_line(c, line, now);
      c.in_since = now;  // (what is left began now)
    }
    if (c.in.size() > kMaxRequest) {
      queue_error(c, "request too long");
      flush(c);
      return false;
    }
  }
}

// wants reports when c next wants a snapshot (INT64_MAX: not now): a
// waiting one-shot request right away, else its stream's next tick once
// the previous snapshot is out (a client behind skips ticks).
int64_t wants(const client& c) {
  if (c.sent != c.out.size()) return INT64_MAX;  // one reply in flight at most
  if (!c.once.empty()) return c.not_before;
  if (c.streaming) return std::max(c.due, c.not_before);
  return INT64_MAX;
}

size_t held(const server* s) {
  size_t n = 0;
  for (const auto& c : s->clients) n += c->held();
  return n;
}

// serve takes at most one snapshot (the rate limit) for the first client,
// round robin from s->turn, that wants one now.
// kStallWhileFull: while the held replies are over max_held and another
// client waits for a snapshot, the client holding the most that has not
// read for this long is dropped (not after write_ns): ten clients that
// never read held everyone else's snapshots for the full 10 s before.
constexpr int64_t kStallWhileFull = 1'000'000'000;

// shed drops the biggest stalled holder when the cap keeps others waiting.
void shed(server* s, int64_t now) {
  bool waiting = false;
  client* biggest = nullptr;
  for (auto& c : s->clients) {
    waiting |= wants(*c) <= now;
    if (c->held() && now - c->last_out > kStallWhileFull &&
        (!biggest || c->held() > biggest->held()))
      biggest = c.get();
  }
  if (waiting && biggest) biggest->last_out = INT64_MIN / 2;  // (write_stalled drops it)
}

void serve_turn(server* s, int64_t now) {
  if (held(s) > goro::detail::endpoint_limits().max_held) {
    shed(s, now);
    return;
  }
  if (now < s->next_snapshot) return;
  if (s->budget_at)
    s->budget = std::min(kBudgetCap, s->budget + (now - s->budget_at) / kCostGlobal);
  s->budget_at = now;
  if (s->budget < 0) return;
  size_t n = s->clients.size();
  for (size_t k = 0; k < n; k++) {
    client& c = *s->clients[(s->turn + k) % n];
    if (wants(c) > now) continue;
    if (!c.once.empty()) {
      queue(c, snapshot(c.once.front()));
      c.once.erase(c.once.begin());
    } else {
      queue(c, snapshot(c.opt));
      c.due = std::max(c.due + c.period_ns, now);
    }
    c.last_out = goro::detail::nanotime();
    int64_t cost = c.last_out - now;
    auto& peak = goro::detail::endpoint_stats().peak_held;
    peak.store(std::max(peak.load(std::memory_order_relaxed), held(s)), std::memory_order_relaxed);
    s->turn = (s->turn + k + 1) % n;
    s->budget -= cost;
    s->next_snapshot = c.last_out + kMinInterval;
    if (s->budget < 0) s->next_snapshot = std::max(s->next_snapshot, now - s->budget * kCostGlobal);
    c.not_before = c.last_out + kCostClient * cost;
    return;
  }
}

// deadline_of is when c must next be looked at for its deadlines.
int64_t deadline_of(const client& c) {
  const auto& L = goro::detail::endpoint_limits();
  int64_t t = INT64_MAX;
  if (!c.in.empty()) t = std::min(t, c.in_since + L.request_ns);
  if (c.idle()) t = std::min(t, c.last_in + L.idle_ns);
  if (c.held()) t = std::min(t, c.last_out + L.write_ns);
  return t;
}

// expired says why c is past a deadline (null: it is not).
const char* expired(const client& c, int64_t now) {
  const auto& L = goro::detail::endpoint_limits();
  if (!c.in.empty() && now - c.in_since > L.request_ns) return "request not finished in time";
  if (c.idle() && now - c.last_in > L.idle_ns) return "idle for too long";
  return nullptr;
}

bool write_stalled(const client& c, int64_t now) {
  return c.held() && now - c.last_out > goro::detail::endpoint_limits().write_ns;
}

// make_room closes the longest-idle client for a newcomer; false: all busy.
bool make_room(server* s) {
  client* oldest = nullptr;
  for (auto& c : s->clients)
    if (c->idle() && (!oldest || c->last_in < oldest->last_in)) oldest = c.get();
  if (!oldest) return false;
  goro::detail::endpoint_stats().evicted++;
  const char msg[] =
      "{\"error\":\"closed for a newcomer: the endpoint is full and this "
      "connection was the longest idle\"}\n";
  (void)!::send(oldest->fd, msg, sizeof msg - 1, MSG_NOSIGNAL);
  close(oldest->fd);
  for (size_t i = 0; i < s->clients.size(); i++)
    if (s->clients[i].get() == oldest) {
      s->clients.erase(s->clients.begin() + static_cast<std::ptrdiff_t>(i));
      break;
    }
  return true;
}

void loop(server* s) {
  for (;;) {
    int64_t now = goro::detail::nanotime();
    int timeout = -1;
    auto wake_at = [&](int64_t at) {
      if (at == INT64_MAX) return;
      int64_t ms = std::clamp<int64_t>((at - now + 999999) / 1000000, 0, 3'600'000);
      timeout = timeout < 0 ? static_cast<int>(ms) : std::min(timeout, static_cast<int>(ms));
    };
    for (auto& c : s->clients) {
      int64_t at = wants(*c);  // (behind: POLLOUT wakes us instead)
      if (at != INT64_MAX) wake_at(std::max(at, s->next_snapshot));
      wake_at(deadline_of(*c));
    }
    std::vector<pollfd> fds;
    fds.push_back({s->wake[0], POLLIN, 0});
    fds.push_back({s->lfd, POLLIN, 0});
    for (auto& c : s->clients)
      fds.push_back(
          {c->fd, static_cast<short>(POLLIN | (c->out.size() > c->sent ? POLLOUT : 0)), 0});
    if (poll(fds.data(), fds.size(), timeout) < 0 && errno != EINTR) return;
    if (fds[0].revents) return;  // stop_serving
    now = goro::detail::nanotime();
    if (fds[1].revents & POLLIN) {
      for (;;) {
        int fd = accept4(s->lfd, nullptr, nullptr, SOCK_NONBLOCK | SOCK_CLOEXEC);
        if (fd < 0) break;
        if (s->clients.size() >= goro::detail::endpoint_limits().max_clients && !make_room(s)) {
          const char msg[] = "{\"error\":\"too many clients, all busy\"}\n";
          (void)!::send(fd, msg, sizeof msg - 1, MSG_NOSIGNAL);
          close(fd);
          continue;
        }
        auto c = std::make_unique<client>();
        c->fd = fd;
        c->last_in = c->last_out = now;
        s->clients.push_back(std::move(c));
      }
    }
    std::vector<bool> dead(s->clients.size(), false);
    for (size_t i = 0; i < s->clients.size(); i++) {
      client& c = *s->clients[i];
      short re = i + 2 < fds.size() && fds[i + 2].fd == c.fd ? fds[i + 2].revents : 0;
      if ((re & (POLLIN | POLLHUP | POLLERR)) && !read_client(c, now)) dead[i] = true;
    }
    serve_turn(s, now);
    for (size_t i = 0; i < s->clients.size(); i++) {
      client& c = *s->clients[i];
      if (dead[i]) continue;
      if (!flush(c)) {
        dead[i] = true;
      } else if (write_stalled(c, now)) {
        goro::detail::endpoint_stats().expired++;
        dead[i] = true;
      } else if (const char* why = expired(c, now)) {
        goro::detail::endpoint_stats().expired++;
        queue_error(c, why);
        flush(c);
        dead[i] = true;
      }
    }
    for (size_t i = s->clients.size(); i-- > 0;)
      if (dead[i]) {
        close(s->clients[i]->fd);
        s->clients.erase(s->clients.begin() + static_cast<std::ptrdiff_t>(i));
      }
  }
}

bool is_loopback(const sockaddr* sa) {
  if (sa->sa_family == AF_INET)
    return (ntohl(reinterpret_cast<const sockaddr_in*>(sa)->sin_addr.s_addr) >> 24) == 127;
  if (sa->sa_family == AF_INET6)
    return IN6_IS_ADDR_LOOPBACK(&reinterpret_cast<const sockaddr_in6*>(sa)->sin6_addr);
  return false;
}

// listen_on opens the listening socket for addr; "" on success, else the error.
std::string listen_on(server& s, std::string_view addr, bool allow_remote) {
  std::string a(addr);
  if (a.rfind("unix:", 0) == 0) {
    std::string path = a.substr(5);
    sockaddr_un sun{};
    if (path.empty() || path.size() >= sizeof sun.sun_path) return "bad unix socket path";
    sun.sun_family = AF_UNIX;
    std::memcpy(sun.sun_path, path.c_str(), path.size() + 1);
    struct stat st;
    if (lstat(path.c_str(), &st) == 0) {
      if (!S_ISSOCK(st.st_mode)) return path + " exists and is not a socket";
      unlink(path.c_str());
    }
    s.lfd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (s.lfd < 0) return errno_text("socket");
    mode_t old = umask(0177);
    int rc = bind(s.lfd, reinterpret_cast<sockaddr*>(&sun), sizeof sun);
    umask(old);
    if (rc < 0) return errno_text("bind");
    chmod(path.c_str(), 0600);
    s.unixpath = path;
    s.address = "unix:" + path;
  } else if (a.rfind("tcp:", 0) == 0) {
    std::string hp = a.substr(4);
    size_t colon = hp.rfind(':');
    if (colon == std::string::npos) return "tcp address must be tcp:HOST:PORT";
    std::string host = hp.substr(0, colon), port = hp.substr(colon + 1);
    if (host.size() > 2 && host.front() == '[' && host.back() == ']')
      host = host.substr(1, host.size() - 2);
    addrinfo hints{}, *res = nullptr;
    hints.ai_socktype = SOCK_STREAM;
    hints.ai_flags = AI_NUMERICSERV;
    if (int e = getaddrinfo(host.c_str(), port.c_str(), &hints, &res); e != 0)
      return "tcp address " + hp + ": " + gai_strerror(e);
    std::unique_ptr<addrinfo, void (*)(addrinfo*)> guard(res, freeaddrinfo);
    if (!allow_remote && !is_loopback(res->ai_addr))
      return "refusing to listen on non-loopback address " + host +
             " (pass allow_remote to serve to allow it)";
    s.lfd = socket(res->ai_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (s.lfd < 0) return errno_text("socket");
    int one = 1;
    setsockopt(s.lfd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    if (bind(s.lfd, res->ai_addr, res->ai_addrlen) < 0) return errno_text("bind");
    sockaddr_storage ss{};
    socklen_t len = sizeof ss;
    getsockname(s.lfd, reinterpret_cast<sockaddr*>(&ss), &len);
    char hbuf[NI_MAXHOST], pbuf[NI_MAXSERV];
    getnameinfo(reinterpret_cast<sockaddr*>(&ss), len, hbuf, sizeof hbuf, pbuf, sizeof pbuf,
                NI_NUMERICHOST | NI_NUMERICSERV);
    s.address = std::string("tcp:") + (ss.ss_family == AF_INET6 ? "[" : "") + hbuf +
                (ss.ss_family == AF_INET6 ? "]" : "") + ":" + pbuf;
  } else {
    return "address must be unix:/path or tcp:HOST:PORT";
  }
  if (listen(s.lfd, 16) < 0) return errno_text("listen");
  return {};
}

void destroy(server* s) {
  if (s->wake[1] >= 0) (void)!write(s->wake[1], "x", 1);
  if (s->thread.joinable()) s->thread.join();
  for (auto& c : s->clients) close(c->fd);
  if (s->lfd >= 0) close(s->lfd);
  if (s->wake[0] >= 0) close(s->wake[0]);
  if (s->wake[1] >= 0) close(s->wake[1]);
  if (!s->unixpath.empty()) unlink(s->unixpath.c_str());
  delete s;
}

}  // namespace

bool serve(std::string_view addr, std::string* err, bool allow_remote) {
  auto* s = new server;
  std::string e = listen_on(*s, addr, allow_remote);
  if (e.empty() && pipe2(s->wake, O_CLOEXEC) < 0) e = errno_text("pipe");
  if (!e.empty()) {
    s->unixpath.clear();  // not ours to remove
    destroy(s);
    if (err) *err = e;
    return false;
  }
  set_nonblock(s->wake[0]);
  s->thread = std::thread([s] {
    pthread_setname_np(pthread_self(), "goro-debug");
    loop(s);
  });
  server* old;
  {
    goro::detail::mutex_guard lk(srvlock);
    old = srv;
    srv = s;
  }
  if (old && old->unixpath == s->unixpath) old->unixpath.clear();  // now the new server's file
  if (old) destroy(old);
  static bool registered = [] { return std::atexit([] { stop_serving(); }) == 0; }();
  (void)registered;
  return true;
}

std::string serving_address() {
  goro::detail::mutex_guard lk(srvlock);
  return srv ? srv->address : std::string();
}

void stop_serving() noexcept {
  server* s;
  {
    goro::detail::mutex_guard lk(srvlock);
    s = srv;
    srv = nullptr;
  }
  if (s) destroy(s);
}

namespace detail {

// serve_from_env starts the endpoint named by GORO_DEBUG unless one is
// serving already (a second run reuses the first's).
void serve_from_env() {
  const char* a = std::getenv("GORO_DEBUG");
  if (!a || !*a || !serving_address().empty()) return;
  std::string err;
  if (!serve(a, &err)) std::fprintf(stderr, "goroscope: GORO_DEBUG=%s: %s\n", a, err.c_str());
}

}  // namespace detail

}  // namespace goro::debug

namespace goro::detail {

endpoint_limits_t& endpoint_limits() noexcept {
  static endpoint_limits_t limits;
  return limits;
}

endpoint_stats_t& endpoint_stats() noexcept {
  static endpoint_stats_t stats;
  return stats;
}

}  // namespace goro::detail
