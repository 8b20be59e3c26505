// sources.cpp — files, the live endpoint client and the push listener.
// Design: sources.h. Sockets are blocking with poll() timeouts so every
// thread notices shutdown within 100 ms; lines are bounded (a snapshot of a
// huge map is tens of MB, refused beyond kMaxLine).
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

#include <cerrno>
#include <chrono>
#include <cstring>
#include <fstream>
#include <sstream>

namespace goroscope::view {

namespace {

constexpr size_t kMaxLine = size_t{1} << 30;  // 1 GiB: a 10M-entry map's snapshot

std::string errno_text(const char* what) { return std::string(what) + ": " + std::strerror(errno); }

void deliver(Inbox& inbox, std::string_view json, const std::string& origin) {
  std::string err;
  auto s = parse_snapshot(json, &err);
  Delivery d;
  d.origin = origin;
  if (s)
    d.snapshot = std::make_shared<const Snapshot>(std::move(*s));
  else
    d.error = err;
  inbox.put(std::move(d));
}

// LineReader reads newline-terminated lines from a socket with timeouts.
struct LineReader {
  int fd;
  std::string buf;
  // next: a complete line (true), or false on EOF/error/stop (err set).
  bool next(std::string& line, const std::atomic<bool>& stop, std::string* err) {
    for (;;) {
      size_t nl = buf.find('\n');
      if (nl != std::string::npos) {
        line.assign(buf, 0, nl);
        buf.erase(0, nl + 1);
        return true;
      }
      if (buf.size() > kMaxLine) {
        *err = "a line longer than 1 GiB";
        return false;
      }
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
      char tmp[1 << 16];
      ssize_t n = ::recv(fd, tmp, sizeof tmp, 0);
      if (n == 0) {
        *err = "the program closed the connection";
        return false;
      }
      if (n < 0) {
        if (errno == EINTR || errno == EAGAIN) continue;
        *err = errno_text("recv");
        return false;
      }
      buf.append(tmp, static_cast<size_t>(n));
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

// ---- files -------------------------------------------------------------------

class FileSource : public Source {
 public:
  FileSource(std::string path, Inbox& inbox) : path_(std::move(path)) {
    thread_ = std::thread([this, &inbox] {
      std::ifstream f(path_, std::ios::binary);
      if (!f) {
        std::string why = std::strerror(errno);
        inbox.put({nullptr, "file " + path_, "cannot open: " + why});
        set("cannot open: " + why, false);
        return;
      }
      std::stringstream ss;
      ss << f.rdbuf();
      deliver(inbox, ss.str(), "file " + path_);
      set("loaded", true);
    });
  }
  ~FileSource() override { thread_.join(); }
  SourceStatus status() const override {
    std::lock_guard<std::mutex> g(mu_);
    return {"file " + path_, state_, ok_};
  }

 private:
  void set(std::string s, bool ok) {
    std::lock_guard<std::mutex> g(mu_);
    state_ = std::move(s);
    ok_ = ok;
  }
  std::string path_;
  mutable std::mutex mu_;
  std::string state_ = "loading";
  bool ok_ = false;
  std::thread thread_;
};

// ---- the live endpoint ----------------------------------------------------------

class EndpointClient : public Source {
 public:
  EndpointClient(std::string addr, double hz, Inbox& inbox) : addr_(std::move(addr)) {
    thread_ = std::thread([this, hz, &inbox] { run(hz, inbox); });
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
  void run(double hz, Inbox& inbox) {
    double backoff = 0.2;
    while (!stop_) {
      std::string err;
      int fd = dial(addr_, &err);
      if (fd >= 0) {
        std::string req = "{\"cmd\":\"stream\",\"hz\":" + std::to_string(hz) + "}\n";
        if (::send(fd, req.data(), req.size(), MSG_NOSIGNAL) == static_cast<ssize_t>(req.size())) {
          set("connected", true);
          backoff = 0.2;
          LineReader lr{fd, {}};
          std::string line;
          while (lr.next(line, stop_, &err)) deliver(inbox, line, "live " + addr_);
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
  std::string state_ = "connecting";
  bool ok_ = false;
  std::thread thread_;
};

// ---- pushes from the debugger plugins ---------------------------------------------

class PushListener : public Source {
 public:
  PushListener(std::string addr, int lfd, Inbox& inbox) : addr_(std::move(addr)), lfd_(lfd) {
    thread_ = std::thread([this, &inbox] { run(inbox); });
  }
  ~PushListener() override {
    stop_ = true;
    thread_.join();
    ::close(lfd_);
    if (addr_.rfind("unix:", 0) == 0) ::unlink(addr_.substr(5).c_str());
  }
  SourceStatus status() const override {
    return {"listening " + addr_,
            "waiting for pushes (" + std::to_string(count_.load()) + " received)", true};
  }

 private:
  void run(Inbox& inbox) {
    while (!stop_) {
      pollfd p{lfd_, POLLIN, 0};
      if (poll(&p, 1, 100) <= 0) continue;
      int fd = ::accept(lfd_, nullptr, nullptr);
      if (fd < 0) continue;
      LineReader lr{fd, {}};
      std::string line, err;
      // One snapshot per connection; a pusher that stalls only delays itself.
      if (lr.next(line, stop_, &err)) {
        deliver(inbox, line, "pushed to " + addr_);
        count_++;
      }
      ::close(fd);
    }
  }
  std::string addr_;
  int lfd_;
  std::atomic<bool> stop_{false};
  std::atomic<int> count_{0};
  std::thread thread_;
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

std::unique_ptr<Source> connect_endpoint(const std::string& addr, double hz, Inbox& inbox) {
  return std::make_unique<EndpointClient>(addr, hz, inbox);
}

std::unique_ptr<Source> listen_pushes(const std::string& addr, Inbox& inbox, std::string* error) {
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
  if (rc < 0 || ::listen(fd, 16) < 0) {
    *error = errno_text("bind/listen");
    ::close(fd);
    return nullptr;
  }
  return std::make_unique<PushListener>(addr, fd, inbox);
}

}  // namespace goroscope::view
