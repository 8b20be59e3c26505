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
// Safety rules (the issue's): the Unix socket is created with mode 0600
// (umask while binding, then chmod); TCP binds loopback addresses only
// unless allow_remote; requests are bounded; sockets are non-blocking and
// every send is MSG_NOSIGNAL, so a slow client only falls behind (a stream
// skips snapshots while the previous one is still unsent, and a client
// whose unsent output passes kMaxBacklog is dropped) and a vanished one is
// closed; the only thing a request can cause is a snapshot, and snapshots
// (each one stops the world) are taken at most kMaxHz times a second over
// all clients: one-shot requests wait in a short per-client queue
// (kMaxPending, then refused) for their turn like stream ticks do.
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

constexpr size_t kMaxRequest = 4096;        // bytes per request line
constexpr size_t kMaxBacklog = 256u << 20;  // unsent bytes before a client is dropped
constexpr size_t kMaxClients = 32;
constexpr double kMaxHz = 60, kMinHz = 0.01;
constexpr int64_t kMinInterval = static_cast<int64_t>(1e9 / kMaxHz);  // between two snapshots
constexpr size_t kMaxPending = 16;  // one-shot requests waiting per client

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
};

struct server {
  int lfd = -1;
  int wake[2] = {-1, -1};
  std::string address;  // as reported by serving_address
  std::string unixpath;
  std::thread thread;
  std::vector<std::unique_ptr<client>> clients;
  int64_t next_snapshot = 0;  // rate limit: no snapshot before this (nanotime)
  size_t turn = 0;            // the client served first at the next turn (round robin)
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
    c.in.append(buf, static_cast<size_t>(n));
    size_t nl;
    while ((nl = c.in.find('\n')) != std::string::npos) {
      std::string line = c.in.substr(0, nl);
      c.in.erase(0, nl + 1);
      if (!line.empty() && line.back() == '\r') line.pop_back();
      if (!line.empty()) handle_line(c, line, now);
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
  if (!c.once.empty()) return 0;
  if (c.streaming && c.sent == c.out.size()) return c.due;
  return INT64_MAX;
}

// serve takes at most one snapshot (the rate limit) for the first client,
// round robin from s->turn, that wants one now.
void serve_turn(server* s, int64_t now) {
  if (now < s->next_snapshot) return;
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
    s->turn = (s->turn + k + 1) % n;
    s->next_snapshot = goro::detail::nanotime() + kMinInterval;
    return;
  }
}

void loop(server* s) {
  for (;;) {
    int64_t now = goro::detail::nanotime();
    int timeout = -1;
    for (auto& c : s->clients) {
      int64_t at = wants(*c);  // (behind: POLLOUT wakes us instead)
      if (at == INT64_MAX) continue;
      int64_t ms = std::max<int64_t>(0, (std::max(at, s->next_snapshot) - now + 999999) / 1000000);
      timeout = timeout < 0 ? static_cast<int>(ms) : std::min(timeout, static_cast<int>(ms));
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
        if (s->clients.size() >= kMaxClients) {
          const char msg[] = "{\"error\":\"too many clients\"}\n";
          (void)!::send(fd, msg, sizeof msg - 1, MSG_NOSIGNAL);
          close(fd);
          continue;
        }
        auto c = std::make_unique<client>();
        c->fd = fd;
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
      if (!dead[i] && (!flush(c) || c.out.size() - c.sent > kMaxBacklog)) dead[i] = true;
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
