// corpus.h — the hooks every corpus program shares (README.md): the only
// code in tests/programs/ that is there for the harness, not the story.
//
//   corpus::mark("NAME")  the calling goroutine is the one parked at the line
//                         marked `// @park NAME` (the harness maps goids to
//                         markers with it, independently of any symbolizer)
//   corpus::settle()      waits until every other goroutine is parked (no
//                         goroutine runnable, only the caller running), then
//                         prints each mark as `corpus: goroutine GOID NAME`
//   checkpoint()          where the debuggers stop (`break checkpoint`)
//   corpus::hold()        GOROSCOPE_PROGRAM_HOLD=1: the main goroutine sleeps
//                         an hour, so a core or a SIGQUIT dump can be taken;
//                         otherwise returns and main returns: goro::run
//                         abandons the parked goroutines and the program
//                         exits 0
#pragma once

#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <mutex>
#include <string>
#include <utility>
#include <vector>

#include "goro/debug.h"
#include "goro/goro.h"

// checkpoint: every marked goroutine is parked. Prints a line (also the cue
// for a SIGQUIT when held).
extern "C" __attribute__((noinline)) inline void checkpoint() {
  std::printf("corpus: checkpoint\n");
  std::fflush(stdout);
}

namespace corpus {

inline std::mutex marks_mu;  // guards marks (a plain mutex: never held across a park)
inline std::vector<std::pair<uint64_t, std::string>> marks;

inline void mark(const char* name) {
  std::lock_guard<std::mutex> lk(marks_mu);
  marks.emplace_back(goro::goid(), name);
}

inline int count(const std::string& s, const char* what) {
  int n = 0;
  for (size_t at = s.find(what); at != std::string::npos; at = s.find(what, at + 1)) n++;
  return n;
}

inline void settle() {
  goro::debug::SnapshotOptions o;
  o.frames = false;
  o.maps = false;
  for (int i = 0; i < 10000; i++) {  // 10 s at most
    std::string s = goro::debug::snapshot(o);
    if (count(s, "\"status\":\"runnable\"") == 0 && count(s, "\"status\":\"running\"") == 1) break;
    goro::sleep(std::chrono::milliseconds(1));
  }
  std::lock_guard<std::mutex> lk(marks_mu);
  for (auto& [goid, name] : marks)
    std::printf("corpus: goroutine %llu %s\n", static_cast<unsigned long long>(goid), name.c_str());
  std::fflush(stdout);
}

inline void hold() {
  if (const char* h = std::getenv("GOROSCOPE_PROGRAM_HOLD"); h && *h == '1')
    goro::sleep(std::chrono::hours(1));
}

}  // namespace corpus
