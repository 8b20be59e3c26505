// sources.cpp — files, the live endpoint client and the push listener.
// Design: sources.h. Index:
//   [SECTION] LineBuffer: lines in linear time, the cap checked as bytes arrive
//   [SECTION] files
//   [SECTION] the live endpoint (one blocking socket, poll() with 100 ms timeouts)
//   [SECTION] pushes: one poll() loop over the listening socket and every peer
//
// Every thread notices shutdown within 100 ms (its poll() timeout).
//
// The push listener, in one thread:
//
//   poll(lfd, peer 1 .. peer n)           timeout: min(100 ms, the next idle deadline)
//     ready peers: recv -> LineBuffer -> each complete line parsed and delivered
//     lfd ready:   accept (non-blocking); at max_peers, the most idle peer is closed first
//     then:        peers silent for `idle` are closed; buffers past max_buffered: the
//                  largest is dropped
//
// Invariants: total_ is the sum of the peers' LineBuffer::buffered(); a peer is
// closed by exactly one path (EOF, error, refusal, idle, eviction, the memory
// bound), which says why in the inbox when it held part of a line (a peer
// that held nothing goes silently: nothing was lost). Idleness is judged
// after the reads of a round, so a peer whose bytes waited while the loop
// parsed someone's big snapshot is read, not closed.
//
// Rejected: a thread per peer (the old code served one peer at a time; a
// thread each needs its own bounds on threads and stops, for connections
// that last milliseconds); parsing on a second thread (a queue of parsed-to-be
// lines is a second memory bound to keep). So a parse delays the other
// peers' reads by its duration (0.44 s for a 1M-entry map): a pusher whose
// line fits the socket buffer (208 KiB) does not notice, a larger one waits
// in sendall, within push.py's 5 s unless the snapshot being parsed is huge.
#include "sources.h"

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
#include <chrono>
#include <cstring>
#include <fstream>
#include <sstream>

namespace goroscope::view {

namespace {

using Clock = std::chrono::steady_clock;

// kReadChunk: one recv()'s size. A newline-less 256 MiB line pushed over a
// unix socket in 1 MiB sends, CPU seconds of the whole process (sender
// included), median of 6 runs on the 2-CPU dev VM:
//
//   chunk     CPU s
//   64 KiB    0.42
//   256 KiB   0.58
//   1 MiB     0.56
//
// Reading a socket buffer's worth (208 KiB here) at a time does not pay.
// (The old reader, searching from the line's start on every read: 36 s.)
constexpr size_t kReadChunk = 64 << 10;

std::string errno_text(const char* what) { return std::string(what) + ": " + std::strerror(errno); }

// bytes_text: 1073741824 -> "1 GiB", 4096 -> "4 KiB", 100 -> "100 bytes".
std::string bytes_text(size_t n) {
  const char* unit[] = {"bytes", "KiB", "MiB", "GiB"};
  int u = 0;
  while (u < 3 && n >= 1024 && n % 1024 == 0) n /= 1024, u++;
  return std::to_string(n) + " " + unit[u];
}

// deliver parses one snapshot into the inbox; returns the refusal's reason
// (empty when accepted).
std::string deliver(Inbox& inbox, std::string_view json, const std::string& origin) {
  std::string err;
  auto s = parse_snapshot(json, &err);
  Delivery d;
  d.origin = origin;
  if (s)
    d.snapshot = std::make_shared<const Snapshot>(std::move(*s));
  else
    d.error = err.empty() ? "not a snapshot" : err;
  std::string why = d.error;
  inbox.put(std::move(d));
  return why;
}

void refuse(Inbox& inbox, const std::string& origin, std::string why) {
  inbox.put({nullptr, origin, std::move(why)});
}

}  // namespace

// ---- [SECTION] LineBuffer ------------------------------------------------------

void LineBuffer::find() {
  if (nl_ == std::string::npos && scan_ < buf_.size()) {
    size_t n = buf_.size() - scan_;
    const void* p = std::memchr(buf_.data() + scan_, '\n', n);
    if (p) {
      nl_ = static_cast<size_t>(static_cast<const char*>(p) - buf_.data());
      n = nl_ + 1 - scan_;
    }
    scanned_ += n;
    scan_ += n;
  }
  size_t len = (nl_ == std::string::npos ? buf_.size() : nl_) - head_;
  if (len > max_line_) {
    error_ = "a line longer than " + bytes_text(max_line_) + " (refused after " +
             std::to_string(std::min(len, buf_.size() - head_)) + " bytes)";
    std::string().swap(buf_);
    head_ = scan_ = 0;
    nl_ = std::string::npos;
  }
}

bool LineBuffer::append(const char* p, size_t n) {
  if (!error_.empty()) return false;
  buf_.append(p, n);
  find();
  return error_.empty();
}

bool LineBuffer::next(std::string& line) {
  if (!error_.empty()) return false;
  if (nl_ == std::string::npos) {
    // No complete line: drop the consumed prefix now. What moves is the
    // start of one line, and it is never moved again (head_ becomes 0).
    if (head_ > 0) {
      buf_.erase(0, head_);
      scan_ -= head_;
      head_ = 0;
    }
    return false;
  }
  line.assign(buf_, head_, nl_ - head_);
  head_ = nl_ + 1;
  nl_ = std::string::npos;
  if (head_ == buf_.size()) {
    buf_.clear();
    head_ = scan_ = 0;
  }
  find();  // the next line's end, if it is here; and the cap on it
  return true;
}

namespace {

// LineReader reads lines from a blocking socket with 100 ms poll timeouts.
struct LineReader {
  int fd;
  LineBuffer lines;
  std::vector<char> tmp = std::vector<char>(kReadChunk);
  // next: a complete line (true), or false on EOF/error/stop/refusal (err set).
  bool next(std::string& line, const std::atomic<bool>& stop, std::string* err) {
    for (;;) {
      if (lines.next(line)) return true;
      if (!lines.error().empty()) return *err = lines.error(), false;
      pollfd p{fd, POLLIN, 0};
      int r = poll(&p, 1, 100);
      if (stop.load()) {
        *err = "stopped";
        return false;
      }
      if (r < 0 && errno != EINTR) {
        *err = errno_text("poll");
        return false;
      }
      if (r <= 0) continue;
      ssize_t n = ::recv(fd, tmp.data(), tmp.size(), 0);
      if (n == 0) {
        *err = "the program closed the connection";
        return false;
      }
      if (n < 0) {
        if (errno == EINTR || errno == EAGAIN) continue;
        *err = errno_text("recv");
        return false;
      }
      lines.append(tmp.data(), static_cast<size_t>(n));
    }
  }
};

bool parse_addr(const std::string& addr, sockaddr_storage& ss, socklen_t& len, int& family,
                std::string* err) {
  std::memset(&ss, 0, sizeof ss);
  if (addr.rfind("unix:", 0) == 0) {
    auto* sun = reinterpret_cast<sockaddr_un*>(&ss);
    std::string path = addr.substr(5);
    if (path.empty() || path.size() >= sizeof sun->sun_path) return *err = "bad unix path", false;
    sun->sun_family = AF_UNIX;
    std::memcpy(sun->sun_path, path.c_str(), path.size() + 1);
    len = sizeof(sockaddr_un);
    family = AF_UNIX;
    return true;
  }
  if (addr.rfind("tcp:", 0) == 0) {
    std::string hp = addr.substr(4);
    size_t c = hp.rfind(':');
    if (c == std::string::npos) return *err = "tcp address must be tcp:HOST:PORT", false;
    std::string host = hp.substr(0, c), port = hp.substr(c + 1);
    if (host.size() > 2 && host.front() == '[') host = host.substr(1, host.size() - 2);
    addrinfo hints{}, *res = nullptr;
    hints.ai_socktype = SOCK_STREAM;
    if (getaddrinfo(host.c_str(), port.c_str(), &hints, &res) != 0 || !res)
      return *err = "cannot resolve " + host, false;
    std::memcpy(&ss, res->ai_addr, res->ai_addrlen);
    len = res->ai_addrlen;
    family = res->ai_family;
    freeaddrinfo(res);
    return true;
  }
  *err = "address must be unix:PATH or tcp:HOST:PORT";
  return false;
}

// ---- [SECTION] files -------------------------------------------------------------

class FileSource : public Source {
 public:
  FileSource(std::string path, Inbox& inbox) : path_(std::move(path)) {
    thread_ = std::thread([this, &inbox] {
      std::ifstream f(path_, std::ios::binary);
      if (!f) {
        std::string why = "cannot open: " + std::string(std::strerror(errno));
        refuse(inbox, "file " + path_, why);
        set(why, false);
        return;
      }
      std::stringstream ss;
      ss << f.rdbuf();
      std::string why = deliver(inbox, ss.str(), "file " + path_);
      set(why.empty() ? "loaded" : "refused: " + why, why.empty());
    });
  }
  ~FileSource() override { thread_.join(); }
  SourceStatus status() const override {
    std::lock_guard<std::mutex> g(mu_);
    return {"file " + path_, state_, ok_, finished_};
  }

 private:
  // set: the final state, after the delivery is in the inbox (so a reader
  // that sees finished and then takes the inbox has the delivery).
  void set(std::string s, bool ok) {
    std::lock_guard<std::mutex> g(mu_);
    state_ = std::move(s);
    ok_ = ok;
    finished_ = true;
  }
  std::string path_;
  mutable std::mutex mu_;
  std::string state_ = "loading";  // guarded by mu_
  bool ok_ = false;                // guarded by mu_
  bool finished_ = false;          // guarded by mu_
  std::thread thread_;
};

// ---- [SECTION] the live endpoint -------------------------------------------------

class EndpointClient : public Source {
 public:
  EndpointClient(std::string addr, double hz, Inbox& inbox, size_t max_line)
      : addr_(std::move(addr)) {
    thread_ = std::thread([this, hz, &inbox, max_line] { run(hz, inbox, max_line); });
  }
  ~EndpointClient() override {
    stop_ = true;
    thread_.join();
  }
  SourceStatus status() const override {
    std::lock_guard<std::mutex> g(mu_);
    return {"live " + addr_, state_, ok_};
  }

 private:
  void set(std::string s, bool ok) {
    std::lock_guard<std::mutex> g(mu_);
    state_ = std::move(s);
    ok_ = ok;
  }
  void run(double hz, Inbox& inbox, size_t max_line) {
    double backoff = 0.2;
    while (!stop_) {
      std::string err;
      int fd = dial(addr_, &err);
      if (fd >= 0) {
        std::string req = "{\"cmd\":\"stream\",\"hz\":" + std::to_string(hz) + "}\n";
        if (::send(fd, req.data(), req.size(), MSG_NOSIGNAL) == static_cast<ssize_t>(req.size())) {
          set("connected", true);
          backoff = 0.2;
          LineReader lr{fd, LineBuffer(max_line)};
          std::string line;
          while (lr.next(line, stop_, &err)) deliver(inbox, line, "live " + addr_);
          if (!lr.lines.error().empty()) refuse(inbox, "live " + addr_, lr.lines.error());
        } else {
          err = errno_text("send");
        }
        ::close(fd);
      }
      if (stop_) break;
      char b[64];
      std::snprintf(b, sizeof b, " (retrying in %.1f s)", backoff);
      set("disconnected: " + err + b, false);
      for (double t = 0; t < backoff && !stop_; t += 0.05)
        std::this_thread::sleep_for(std::chrono::milliseconds(50));
      backoff = std::min(backoff * 2, 2.0);
    }
  }

  std::string addr_;
  std::atomic<bool> stop_{false};
  mutable std::mutex mu_;
  std::string state_ = "connecting";  // guarded by mu_
  bool ok_ = false;                   // guarded by mu_
  std::thread thread_;
};

// ---- [SECTION] pushes from the debugger plugins -------------------------------------
//
// The bounds (ListenOptions's defaults, sources.h):
//
//   idle 10 s     push.py connects and sendall()s a line it built beforehand, with a
//                 5 s socket timeout: a pusher silent for twice that has given up. A
//                 peer that is sending resets its clock with every read, so a slow
//                 1 GiB push is not cut; only silence is.
//   64 peers      a push holds its connection for one sendall (milliseconds for tens
//                 of MB); 64 is dozens of debuggers pushing at the same stop. When
//                 full, a newcomer closes the peer silent the longest: idle holders
//                 cannot lock pushers out until their 10 s are up.
//   1.25 GiB      buffered across peers: one line at the cap (1 GiB) plus 256 MiB of
//                 ordinary snapshots (tens of MB each) arriving beside it. Past it the
//                 peer holding the most is dropped: it frees the most.

constexpr ListenOptions kListenDefaults{};
constexpr std::chrono::seconds kPushTimeout{5};  // python/goroscope/push.py: TIMEOUT
static_assert(kListenDefaults.idle >= 2 * kPushTimeout,
              "a pusher still inside its own timeout must not be cut as idle");
static_assert(kListenDefaults.max_buffered > kListenDefaults.max_line,
              "one line at the cap must fit the memory bound, or a legal push is dropped");

class PushListener : public Source {
 public:
  PushListener(std::string addr, int lfd, Inbox& inbox, const ListenOptions& opts)
      : addr_(std::move(addr)), lfd_(lfd), opts_(opts) {
    ::fcntl(lfd_, F_SETFL, ::fcntl(lfd_, F_GETFL) | O_NONBLOCK);
    thread_ = std::thread([this, &inbox] { run(inbox); });
  }
  ~PushListener() override {
    stop_ = true;
    thread_.join();
    ::close(lfd_);
    if (addr_.rfind("unix:", 0) == 0) ::unlink(addr_.substr(5).c_str());
  }
  SourceStatus status() const override {
    std::string s = "waiting for pushes (" + std::to_string(count_.load()) + " received, " +
                    std::to_string(npeers_.load()) + " connected";
    if (int n = idle_closed_.load()) s += ", " + std::to_string(n) + " closed idle";
    return {"listening " + addr_, s + ")", true};
  }

 private:
  struct Peer {
    int fd;                  // non-blocking; owned
    LineBuffer lines;        // its partial line
    Clock::time_point last;  // when it connected or last sent a byte
  };

  // close_peer closes peers_[i]; why goes to the inbox when it held part of a line.
  void close_peer(Inbox& inbox, size_t i, const std::string& why) {
    Peer& p = peers_[i];
    if (p.lines.buffered() > 0 && !why.empty())
      refuse(inbox, origin(),
             why + " (" + std::to_string(p.lines.buffered()) + " bytes of a line dropped)");
    total_ -= p.lines.buffered();
    ::close(p.fd);
    peers_.erase(peers_.begin() + static_cast<ptrdiff_t>(i));
    npeers_ = static_cast<int>(peers_.size());
  }
  std::string origin() const { return "pushed to " + addr_; }

  // read_peer: one recv, its complete lines delivered; the peer closed
  // here when it is done (EOF, an error, a refused line).
  void read_peer(Inbox& inbox, size_t i, std::vector<char>& tmp) {
    Peer& p = peers_[i];
    ssize_t n = ::recv(p.fd, tmp.data(), tmp.size(), 0);
    if (n < 0 && (errno == EINTR || errno == EAGAIN || errno == EWOULDBLOCK)) return;
    if (n <= 0) {
      close_peer(
          inbox, i,
          n == 0 ? "the pusher closed the connection in the middle of a line" : errno_text("recv"));
      return;
    }
    p.last = Clock::now();
    size_t before = p.lines.buffered();
    bool ok = p.lines.append(tmp.data(), static_cast<size_t>(n));
    std::string line;
    while (p.lines.next(line)) {
      if (line.empty()) continue;  // a blank line is no snapshot, and no harm
      deliver(inbox, line, origin());
      count_++;
    }
    total_ = total_ - before + p.lines.buffered();
    if (!ok || !p.lines.error().empty()) {
      refuse(inbox, origin(), p.lines.error());
      close_peer(inbox, i, "");
    }
  }

  void accept_peers(Inbox& inbox) {
    for (int k = 0; k < 64; k++) {
      int fd = ::accept4(lfd_, nullptr, nullptr, SOCK_NONBLOCK | SOCK_CLOEXEC);
      if (fd < 0) {
        if (errno == EMFILE || errno == ENFILE) {
          // Out of descriptors: make room (the most idle peer), or stop
          // polling the listening socket for a moment rather than spin.
          if (!peers_.empty())
            close_peer(inbox, most_idle(), "closed to make room (out of file descriptors)");
          else
            accept_pause_ = Clock::now() + std::chrono::milliseconds(100);
        }
        return;  // EAGAIN: no one else is waiting; ECONNABORTED and the like: next round
      }
      if (!peers_.empty() && peers_.size() >= opts_.max_peers)
        close_peer(inbox, most_idle(),
                   "closed to make room: " + std::to_string(opts_.max_peers) + " peers at once");
      peers_.push_back(Peer{fd, LineBuffer(opts_.max_line), Clock::now()});
      npeers_ = static_cast<int>(peers_.size());
    }
  }

  size_t most_idle() const {
    size_t m = 0;
    for (size_t i = 1; i < peers_.size(); i++)
      if (peers_[i].last < peers_[m].last) m = i;
    return m;
  }

  void run(Inbox& inbox) {
    std::vector<char> tmp(kReadChunk);
    std::vector<pollfd> pfds;
    while (!stop_) {
      // The wait: until the most idle peer's deadline, at most 100 ms.
      auto now = Clock::now();
      auto wait = std::chrono::milliseconds(100);
      for (const Peer& p : peers_) {
        auto left = std::chrono::ceil<std::chrono::milliseconds>(p.last + opts_.idle - now);
        wait = std::max(std::chrono::milliseconds(0), std::min(wait, left));
      }
      bool listening = now >= accept_pause_;
      pfds.clear();
      pfds.push_back({listening ? lfd_ : -1, POLLIN, 0});
      for (const Peer& p : peers_) pfds.push_back({p.fd, POLLIN, 0});
      int r = ::poll(pfds.data(), pfds.size(), static_cast<int>(wait.count()));
      if (r < 0 && errno != EINTR) {
        std::this_thread::sleep_for(std::chrono::milliseconds(100));  // ENOMEM: try again
        continue;
      }
      // Peers first, last to first: closing one does not shift those not yet
      // seen. The memory bound is applied after the round (closing another
      // peer would shift them): it is passed by at most max_peers reads.
      for (size_t i = peers_.size(); r > 0 && i-- > 0;)
        if (pfds[i + 1].revents) read_peer(inbox, i, tmp);
      if (r > 0 && (pfds[0].revents & POLLIN)) accept_peers(inbox);
      now = Clock::now();
      for (size_t i = peers_.size(); i-- > 0;)
        if (now - peers_[i].last >= opts_.idle) {
          char why[64];
          std::snprintf(why, sizeof why, "closed: nothing received for %.1f s",
                        std::chrono::duration<double>(opts_.idle).count());
          close_peer(inbox, i, why);
          idle_closed_++;
        }
      while (total_ > opts_.max_buffered && !peers_.empty()) {
        size_t big = 0;
        for (size_t i = 1; i < peers_.size(); i++)
          if (peers_[i].lines.buffered() > peers_[big].lines.buffered()) big = i;
        close_peer(inbox, big,
                   "dropped: the peers' buffered lines passed " + bytes_text(opts_.max_buffered));
      }
    }
    while (!peers_.empty()) close_peer(inbox, peers_.size() - 1, "");
  }

  std::string addr_;
  int lfd_;  // non-blocking, listening; owned
  ListenOptions opts_;
  std::atomic<bool> stop_{false};
  std::atomic<int> count_{0};        // snapshots delivered (accepted or refused)
  std::atomic<int> npeers_{0};       // peers_.size(), for status()
  std::atomic<int> idle_closed_{0};  // peers closed for idleness
  std::thread thread_;
  // The loop thread's own:
  std::vector<Peer> peers_;           // in accept order
  size_t total_ = 0;                  // sum of peers_[i].lines.buffered()
  Clock::time_point accept_pause_{};  // no accept() before (out of descriptors)
};

}  // namespace

void Inbox::put(Delivery d) {
  std::lock_guard<std::mutex> g(mu_);
  items_.push_back(std::move(d));
}

std::vector<Delivery> Inbox::take() {
  std::lock_guard<std::mutex> g(mu_);
  std::vector<Delivery> out;
  out.swap(items_);
  return out;
}

int dial(const std::string& addr, std::string* err) {
  sockaddr_storage ss;
  socklen_t len;
  int family;
  if (!parse_addr(addr, ss, len, family, err)) return -1;
  int fd = ::socket(family, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return *err = errno_text("socket"), -1;
  if (::connect(fd, reinterpret_cast<sockaddr*>(&ss), len) < 0) {
    *err = errno_text("connect");
    ::close(fd);
    return -1;
  }
  return fd;
}

std::unique_ptr<Source> load_file(const std::string& path, Inbox& inbox) {
  return std::make_unique<FileSource>(path, inbox);
}

std::unique_ptr<Source> connect_endpoint(const std::string& addr, double hz, Inbox& inbox,
                                         size_t max_line) {
  return std::make_unique<EndpointClient>(addr, hz, inbox, max_line);
}

std::unique_ptr<Source> listen_pushes(const std::string& addr, Inbox& inbox, std::string* error,
                                      const ListenOptions& opts) {
  sockaddr_storage ss;
  socklen_t len;
  int family;
  if (!parse_addr(addr, ss, len, family, error)) return nullptr;
  if (family == AF_UNIX) ::unlink(addr.substr(5).c_str());
  int fd = ::socket(family, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return *error = errno_text("socket"), nullptr;
  int one = 1;
  setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
  mode_t old = family == AF_UNIX ? umask(0177) : 0;
  int rc = ::bind(fd, reinterpret_cast<sockaddr*>(&ss), len);
  if (family == AF_UNIX) umask(old);
  // The backlog: a burst of max_peers connecting before the loop's next accept.
  if (rc < 0 || ::listen(fd, static_cast<int>(std::max<size_t>(16, opts.max_peers))) < 0) {
    *error = errno_text("bind/listen");
    ::close(fd);
    return nullptr;
  }
  return std::make_unique<PushListener>(addr, fd, inbox, opts);
}

}  // namespace goroscope::view
