// sources_test.cpp — the viewer's socket sources, headless, over unix
// sockets in a private directory: LineBuffer (each byte searched once, the
// cap refused as bytes arrive), the push listener (many peers at once, idle
// peers closed, the peer and memory bounds, several lines per connection)
// and the endpoint client (lines split anyhow, the cap, reconnecting).
// Bounds are injected small (ListenOptions, max_line) so that no test sleeps
// for the real ones; every wait is bounded.
#include <fcntl.h>
#include <gtest/gtest.h>
#include <poll.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include <chrono>
#include <cstring>
#include <filesystem>
#include <string>
#include <thread>
#include <vector>

#include "sources.h"

namespace view = goroscope::view;
using Clock = std::chrono::steady_clock;
using namespace std::chrono_literals;

namespace {

const std::string kSnap =
    R"({"format":"goroscope-snapshot","version":1,"producer":{"name":"test","pid":1},)"
    R"("time":{"wall_ns":1,"monotonic_ns":1},"world":{"running":true,"stopped":true,)"
    R"("partial":false,"pause_ns":0,"workers":1,"running_workers":[],"main_goid":1},)"
    R"("goroutines":[],"objects":[],"maps":[]})";

double thread_cpu() {
  timespec t;
  clock_gettime(CLOCK_THREAD_CPUTIME_ID, &t);
  return static_cast<double>(t.tv_sec) + static_cast<double>(t.tv_nsec) / 1e9;
}

double process_cpu() {
  timespec t;
  clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &t);
  return static_cast<double>(t.tv_sec) + static_cast<double>(t.tv_nsec) / 1e9;
}

// Dir: a private directory for sockets, removed with what it holds.
struct Dir {
  std::string path;
  Dir() {
    char t[] = "/tmp/goroview-XXXXXX";
    path = ::mkdtemp(t);
  }
  ~Dir() { std::filesystem::remove_all(path); }
};

// connect_unix: a connected (blocking) socket, retrying a full backlog until
// the deadline; -1 then. Never blocks past the deadline.
int connect_unix(const std::string& path, std::chrono::milliseconds within = 2000ms) {
  auto end = Clock::now() + within;
  do {
    int fd = ::socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    sockaddr_un a{};
    a.sun_family = AF_UNIX;
    std::strncpy(a.sun_path, path.c_str(), sizeof a.sun_path - 1);
    if (::connect(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) == 0) {
      ::fcntl(fd, F_SETFL, 0);
      return fd;
    }
    ::close(fd);  // EAGAIN: the backlog is full
    std::this_thread::sleep_for(5ms);
  } while (Clock::now() < end);
  return -1;
}

bool send_all(int fd, const std::string& s) {
  for (size_t at = 0; at < s.size();) {
    ssize_t n = ::send(fd, s.data() + at, s.size() - at, MSG_NOSIGNAL);
    if (n <= 0) return false;
    at += static_cast<size_t>(n);
  }
  return true;
}

// closed_by_peer: true when fd reads EOF (or a reset) within the time.
bool closed_by_peer(int fd, std::chrono::milliseconds within) {
  auto end = Clock::now() + within;
  for (;;) {
    auto left = std::chrono::duration_cast<std::chrono::milliseconds>(end - Clock::now());
    if (left.count() < 0) return false;
    pollfd p{fd, POLLIN, 0};
    if (::poll(&p, 1, static_cast<int>(left.count())) <= 0) continue;
    char b[4096];
    ssize_t n = ::recv(fd, b, sizeof b, MSG_DONTWAIT);
    if (n == 0 || (n < 0 && errno != EAGAIN && errno != EINTR)) return true;
  }
}

// Taken: what an inbox delivered within a time.
struct Taken {
  int snapshots = 0;
  std::vector<std::string> refusals;
};

// take_until waits (bounded) until cond holds over everything taken so far.
template <class F>
Taken take_until(view::Inbox& inbox, F&& cond, std::chrono::milliseconds within = 3000ms) {
  Taken t;
  auto end = Clock::now() + within;
  while (!cond(t) && Clock::now() < end) {
    for (auto& d : inbox.take())
      if (d.snapshot)
        t.snapshots++;
      else
        t.refusals.push_back(d.error);
    if (!cond(t)) std::this_thread::sleep_for(1ms);
  }
  return t;
}

bool any_contains(const std::vector<std::string>& v, const std::string& s) {
  for (const auto& x : v)
    if (x.find(s) != std::string::npos) return true;
  return false;
}

}  // namespace

// ---- LineBuffer -------------------------------------------------------------------

TEST(LineBuffer, SplitsLinesAcrossAndWithinChunks) {
  view::LineBuffer lb;
  std::string all = "one\ntwo\n\nthree is longer\nfour", line;
  std::vector<std::string> got;
  for (char c : all) {  // byte by byte: every line spans several appends
    ASSERT_TRUE(lb.append(&c, 1));
    while (lb.next(line)) got.push_back(line);
  }
  EXPECT_EQ(got, (std::vector<std::string>{"one", "two", "", "three is longer"}));
  EXPECT_EQ(lb.buffered(), 4u);                 // "four", no newline yet
  ASSERT_TRUE(lb.append("\nfive\nsix\n", 10));  // three lines in one append
  got.clear();
  while (lb.next(line)) got.push_back(line);
  EXPECT_EQ(got, (std::vector<std::string>{"four", "five", "six"}));
  EXPECT_EQ(lb.buffered(), 0u);
  EXPECT_EQ(lb.scanned(), all.size() + 10);  // each byte once
}

// 64 MiB without a newline, in 64 KiB reads: the old reader searched the whole
// buffer on every read (1024 reads, 32 GiB searched); this one searches each
// byte once (scanned()). CPU: 0.15 to 0.19 s, 0.21 to 0.25 s under ASan.
TEST(LineBuffer, SearchesEachByteOnce) {
  view::LineBuffer lb;
  std::string chunk(64 << 10, 'x'), line;
  double t0 = thread_cpu();
  for (int i = 0; i < 1024; i++) {
    ASSERT_TRUE(lb.append(chunk.data(), chunk.size()));
    ASSERT_FALSE(lb.next(line));
  }
  ASSERT_TRUE(lb.append("\n", 1));
  ASSERT_TRUE(lb.next(line));
  double cpu = thread_cpu() - t0;
  EXPECT_EQ(line.size(), size_t{64} << 20);
  EXPECT_EQ(lb.scanned(), (size_t{64} << 20) + 1);
  EXPECT_LT(cpu, 1.0) << "64 MiB took " << cpu << " s of CPU";
}

TEST(LineBuffer, RefusesALineAsSoonAsItPassesTheCap) {
  view::LineBuffer lb(64);
  std::string line;
  ASSERT_TRUE(lb.append(std::string(60, 'a').data(), 60));
  ASSERT_TRUE(lb.append("aaaa", 4));  // 64: at the cap, still a line
  EXPECT_EQ(lb.error(), "");
  EXPECT_FALSE(lb.append("a", 1));  // 65 bytes and no newline: refused now
  EXPECT_NE(lb.error().find("a line longer than 64 bytes"), std::string::npos) << lb.error();
  EXPECT_FALSE(lb.next(line));
  EXPECT_FALSE(lb.append("\n", 1));  // nothing more after a refusal
  EXPECT_EQ(lb.buffered(), 0u);      // and its memory is given back

  // A line of exactly the cap, then one over it, in one append: the second is
  // refused when the reader comes to it (at most one read past the cap).
  view::LineBuffer exact(8);
  std::string two = std::string(8, 'b') + "\n" + std::string(9, 'c') + "\n";
  EXPECT_TRUE(exact.append(two.data(), two.size()));
  ASSERT_TRUE(exact.next(line));
  EXPECT_EQ(line, std::string(8, 'b'));
  EXPECT_FALSE(exact.next(line));
  EXPECT_NE(exact.error().find("longer than 8 bytes"), std::string::npos) << exact.error();
}

// ---- the push listener ---------------------------------------------------------------

// The old listener read one line from each connection before accepting the
// next: the first idle connection held every later push (and past the
// backlog of 16, connecting at all failed).
TEST(PushListener, ManyIdlePeersDoNotDelayAPush) {
  Dir d;
  std::string path = d.path + "/v.sock", err;
  view::Inbox inbox;
  auto src = view::listen_pushes("unix:" + path, inbox, &err);
  ASSERT_TRUE(src) << err;
  std::vector<int> idle;
  for (int i = 0; i < 32; i++) {
    int fd = connect_unix(path);
    ASSERT_GE(fd, 0) << "idle connection " << i << ": the listener's backlog stayed full";
    idle.push_back(fd);
  }
  auto t0 = Clock::now();
  int fd = connect_unix(path);
  ASSERT_GE(fd, 0);
  ASSERT_TRUE(send_all(fd, kSnap + "\n"));
  ::close(fd);
  Taken t = take_until(inbox, [](const Taken& t) { return t.snapshots == 1; });
  double secs = std::chrono::duration<double>(Clock::now() - t0).count();
  EXPECT_EQ(t.snapshots, 1) << "the push did not arrive";
  EXPECT_LT(secs, 1.0);
  // (The pusher's own connection is closed by then, maybe not yet reaped.)
  for (int i = 0; i < 100 && src->status().state.find("32 connected") == std::string::npos; i++)
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  EXPECT_NE(src->status().state.find("32 connected"), std::string::npos) << src->status().state;
  for (int f : idle) ::close(f);
}

// A newline-less 128 MiB line over the socket: the old reader's quadratic
// search took 8.7 CPU-seconds for it (2.1 s for 64 MiB, 36 s for 256 MiB);
// now the whole process, sender included, spends 0.17 to 0.25 s (with
// ASan too).
TEST(PushListener, ALongLineIsReadInLinearTime) {
  Dir d;
  std::string path = d.path + "/v.sock", err;
  view::Inbox inbox;
  auto src = view::listen_pushes("unix:" + path, inbox, &err);
  ASSERT_TRUE(src) << err;
  double c0 = process_cpu();
  int fd = connect_unix(path);
  ASSERT_GE(fd, 0);
  std::string chunk(1 << 20, 'x');
  for (int i = 0; i < 128; i++) ASSERT_TRUE(send_all(fd, chunk));
  ::close(fd);  // mid-line: refused with the reason
  int fd2 = connect_unix(path, 10000ms);
  ASSERT_GE(fd2, 0);
  ASSERT_TRUE(send_all(fd2, kSnap + "\n"));
  ::close(fd2);
  Taken t = take_until(
      inbox, [](const Taken& t) { return t.snapshots == 1 && t.refusals.size() == 1; }, 20000ms);
  double cpu = process_cpu() - c0;
  EXPECT_EQ(t.snapshots, 1);
  EXPECT_TRUE(any_contains(t.refusals, "closed the connection in the middle of a line (134217728"))
      << ::testing::PrintToString(t.refusals);
  EXPECT_LT(cpu, 1.5) << "128 MiB took " << cpu << " s of CPU";
}

TEST(PushListener, AnIdlePeerIsClosedAndASlowOneIsNot) {
  Dir d;
  std::string path = d.path + "/v.sock", err;
  view::Inbox inbox;
  view::ListenOptions opts;
  opts.idle = 300ms;
  auto src = view::listen_pushes("unix:" + path, inbox, &err, opts);
  ASSERT_TRUE(src) << err;
  int quiet = connect_unix(path), slow = connect_unix(path);
  ASSERT_GE(quiet, 0);
  ASSERT_GE(slow, 0);
  auto t0 = Clock::now();
  // slow: a byte every 100 ms for 900 ms (three idle timeouts), then the rest.
  std::string line = kSnap + "\n";
  for (int i = 0; i < 9; i++) {
    ASSERT_TRUE(send_all(slow, line.substr(i, 1)));
    std::this_thread::sleep_for(100ms);
  }
  EXPECT_TRUE(closed_by_peer(quiet, 0ms)) << "the quiet peer was not closed";
  double secs = std::chrono::duration<double>(Clock::now() - t0).count();
  ASSERT_TRUE(send_all(slow, line.substr(9)));
  Taken t = take_until(inbox, [](const Taken& t) { return t.snapshots == 1; });
  EXPECT_EQ(t.snapshots, 1) << "the slow peer's line did not arrive";
  EXPECT_TRUE(t.refusals.empty()) << t.refusals[0];  // the quiet one held nothing
  EXPECT_GE(secs, 0.3);
  EXPECT_NE(src->status().state.find("1 closed idle"), std::string::npos) << src->status().state;
  ::close(quiet);
  ::close(slow);
}

TEST(PushListener, AnIdlePeerHoldingHalfALineIsClosedWithTheReason) {
  Dir d;
  std::string path = d.path + "/v.sock", err;
  view::Inbox inbox;
  view::ListenOptions opts;
  opts.idle = 200ms;
  auto src = view::listen_pushes("unix:" + path, inbox, &err, opts);
  ASSERT_TRUE(src) << err;
  int fd = connect_unix(path);
  ASSERT_GE(fd, 0);
  ASSERT_TRUE(send_all(fd, kSnap.substr(0, 100)));
  auto t0 = Clock::now();
  EXPECT_TRUE(closed_by_peer(fd, 3000ms));
  double secs = std::chrono::duration<double>(Clock::now() - t0).count();
  EXPECT_GT(secs, 0.1);
  EXPECT_LT(secs, 2.0);
  Taken t = take_until(inbox, [](const Taken& t) { return !t.refusals.empty(); });
  EXPECT_TRUE(any_contains(t.refusals, "nothing received for 0.2 s (100 bytes of a line dropped)"))
      << ::testing::PrintToString(t.refusals);
  ::close(fd);
}

TEST(PushListener, AFullListenerClosesTheMostIdlePeer) {
  Dir d;
  std::string path = d.path + "/v.sock", err;
  view::Inbox inbox;
  view::ListenOptions opts;
  opts.max_peers = 4;
  auto src = view::listen_pushes("unix:" + path, inbox, &err, opts);
  ASSERT_TRUE(src) << err;
  std::vector<int> held;
  for (int i = 0; i < 4; i++) {
    held.push_back(connect_unix(path));
    ASSERT_GE(held.back(), 0);
    std::this_thread::sleep_for(20ms);  // accepted in order: held[0] is the most idle
  }
  ASSERT_TRUE(send_all(held[1], "{"));  // and held[1] is no longer idle at all
  int fd = connect_unix(path);
  ASSERT_GE(fd, 0);
  ASSERT_TRUE(send_all(fd, kSnap + "\n"));
  Taken t = take_until(inbox, [](const Taken& t) { return t.snapshots == 1; });
  EXPECT_EQ(t.snapshots, 1);
  EXPECT_TRUE(closed_by_peer(held[0], 2000ms)) << "the most idle peer is still open";
  EXPECT_FALSE(closed_by_peer(held[1], 0ms));
  EXPECT_FALSE(closed_by_peer(held[2], 0ms));
  ::close(fd);
  for (int f : held) ::close(f);
}

TEST(PushListener, SeveralLinesPerConnectionAndTheCap) {
  Dir d;
  std::string path = d.path + "/v.sock", err;
  view::Inbox inbox;
  view::ListenOptions opts;
  opts.max_line = 1000;
  auto src = view::listen_pushes("unix:" + path, inbox, &err, opts);
  ASSERT_TRUE(src) << err;
  int fd = connect_unix(path);
  ASSERT_GE(fd, 0);
  ASSERT_TRUE(send_all(fd, kSnap + "\n\n" + kSnap + "\n{\"format\":1}\n"));
  Taken t = take_until(inbox, [](const Taken& t) { return t.snapshots + t.refusals.size() == 3; });
  EXPECT_EQ(t.snapshots, 2);
  EXPECT_EQ(t.refusals.size(), 1u);  // the third line is no snapshot; the blank one is skipped
  ASSERT_TRUE(send_all(fd, std::string(1500, ' ')));
  t = take_until(inbox, [](const Taken& t) { return !t.refusals.empty(); });
  EXPECT_TRUE(any_contains(t.refusals, "a line longer than 1000 bytes"))
      << ::testing::PrintToString(t.refusals);
  EXPECT_TRUE(closed_by_peer(fd, 2000ms));
  ::close(fd);
}

TEST(PushListener, TheMemoryBoundDropsThePeerHoldingTheMost) {
  Dir d;
  std::string path = d.path + "/v.sock", err;
  view::Inbox inbox;
  view::ListenOptions opts;
  opts.max_buffered = 4096;
  opts.max_line = 8192;
  auto src = view::listen_pushes("unix:" + path, inbox, &err, opts);
  ASSERT_TRUE(src) << err;
  int big = connect_unix(path), small = connect_unix(path);
  ASSERT_GE(big, 0);
  ASSERT_GE(small, 0);
  ASSERT_TRUE(send_all(big, std::string(3000, ' ')));
  std::string padded = kSnap + std::string(1200 - kSnap.size(), ' ');
  ASSERT_TRUE(send_all(small, padded));  // 4200 bytes buffered across the two
  EXPECT_TRUE(closed_by_peer(big, 2000ms));
  ASSERT_TRUE(send_all(small, "\n"));
  Taken t = take_until(inbox, [](const Taken& t) { return t.snapshots == 1; });
  EXPECT_EQ(t.snapshots, 1);
  EXPECT_TRUE(any_contains(t.refusals, "passed 4 KiB (3000 bytes of a line dropped)"))
      << ::testing::PrintToString(t.refusals);
  ::close(big);
  ::close(small);
}

// ---- the endpoint client -------------------------------------------------------------

// A stand-in for the runtime's endpoint: the client's lines split anyhow, then
// a line past the cap (refused, the connection dropped), then a reconnection.
TEST(EndpointClient, ReadsSplitLinesRefusesTheCapAndReconnects) {
  Dir d;
  std::string path = d.path + "/e.sock";
  int lfd = ::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  sockaddr_un a{};
  a.sun_family = AF_UNIX;
  std::strncpy(a.sun_path, path.c_str(), sizeof a.sun_path - 1);
  ASSERT_EQ(::bind(lfd, reinterpret_cast<sockaddr*>(&a), sizeof a), 0);
  ASSERT_EQ(::listen(lfd, 4), 0);
  auto accept_within = [&](std::chrono::milliseconds ms) {
    pollfd p{lfd, POLLIN, 0};
    return ::poll(&p, 1, static_cast<int>(ms.count())) == 1 ? ::accept(lfd, nullptr, nullptr) : -1;
  };
  view::Inbox inbox;
  auto src = view::connect_endpoint("unix:" + path, 10, inbox, 1000);
  int fd = accept_within(3000ms);
  ASSERT_GE(fd, 0);
  std::string two = kSnap + "\n" + kSnap + "\n";
  for (size_t at = 0; at < two.size(); at += 7) {  // 7-byte pieces: lines split mid-way
    ASSERT_TRUE(send_all(fd, two.substr(at, 7)));
    std::this_thread::sleep_for(at < 21 ? 5ms : 0ms);
  }
  Taken t = take_until(inbox, [](const Taken& t) { return t.snapshots == 2; });
  EXPECT_EQ(t.snapshots, 2);
  ASSERT_TRUE(send_all(fd, std::string(2000, ' ')));
  t = take_until(inbox, [](const Taken& t) { return !t.refusals.empty(); });
  EXPECT_TRUE(any_contains(t.refusals, "a line longer than 1000 bytes"))
      << ::testing::PrintToString(t.refusals);
  EXPECT_TRUE(closed_by_peer(fd, 2000ms));
  ::close(fd);
  int again = accept_within(3000ms);  // backoff 0.2 s
  EXPECT_GE(again, 0) << "the client did not reconnect";
  if (again >= 0) {
    ASSERT_TRUE(send_all(again, kSnap + "\n"));
    t = take_until(inbox, [](const Taken& t) { return t.snapshots == 1; });
    EXPECT_EQ(t.snapshots, 1);
    ::close(again);
  }
  src.reset();
  ::close(lfd);
}

// ---- files -------------------------------------------------------------------------

// A file source says when it is done (main.cpp's screenshot mode then stops
// waiting), having delivered the refusal first.
TEST(FileSource, FinishesAfterDeliveringARefusal) {
  view::Inbox inbox;
  auto src = view::load_file("/nonexistent/goroview.json", inbox);
  auto end = Clock::now() + 3s;
  while (!src->status().finished && Clock::now() < end) std::this_thread::sleep_for(1ms);
  view::SourceStatus st = src->status();
  EXPECT_TRUE(st.finished);
  EXPECT_FALSE(st.ok);
  auto got = inbox.take();
  ASSERT_EQ(got.size(), 1u);
  EXPECT_EQ(got[0].error, "cannot open: No such file or directory");
}
