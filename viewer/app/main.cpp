// main.cpp — goroscope-view: command line, sources, the window loop, and
// the headless screenshot mode.
//
//   goroscope-view [--connect ADDR [--hz N]] [--listen ADDR] [FILE...]
//                  [--screenshot OUT.png [--frames N] [--snapshots K]
//                   [--panel map|goroutines|table] [--map NAME] [--size WxH]
//                   [--timeout SECONDS]]
//   goroscope-view --describe FILE...
//
// ADDR: unix:/path or tcp:HOST:PORT. In screenshot mode the viewer waits
// for the first snapshot (or for K of them, --snapshots K: a timeline fed by
// pushes; at most --timeout seconds), renders N more frames (default 5),
// writes the PNG, prints its path and how many snapshots the timeline holds,
// and exits: 0, or 1 with the reason (no snapshot, a refused snapshot, no
// display). When every source is finished (files only: each read, accepted
// or refused) and too few snapshots came, it exits at once rather than at
// the timeout: nothing else can arrive. --describe prints each file's
// wait-for graph as text (graph.h: describe) and exits, without a window.
#include <cerrno>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "graph.h"
#include "snapshot.h"
#include "sources.h"
#include "view.h"
#include "window.h"

using namespace goroscope::view;

namespace {

int usage(const char* why) {
  if (why) std::fprintf(stderr, "goroscope-view: %s\n", why);
  std::fprintf(stderr,
               "usage: goroscope-view [--connect ADDR [--hz N]] [--listen ADDR] [FILE...]\n"
               "                      [--screenshot OUT.png [--frames N] [--snapshots K] [--panel "
               "map|goroutines|table]\n"
               "                       [--map NAME] [--size WxH] [--timeout SECONDS]]\n"
               "       goroscope-view --describe FILE...\n"
               "ADDR: unix:/path or tcp:HOST:PORT\n");
  return 2;
}

// describe_files: --describe, the model alone (no window, no I/O thread).
int describe_files(const std::vector<std::string>& files) {
  if (files.empty()) return usage("--describe: give snapshot files");
  for (const auto& f : files) {
    std::FILE* fp = std::fopen(f.c_str(), "rb");
    if (!fp) {
      std::fprintf(stderr, "goroscope-view: %s: %s\n", f.c_str(), std::strerror(errno));
      return 1;
    }
    std::string text;
    char buf[1 << 16];
    for (size_t n; (n = std::fread(buf, 1, sizeof buf, fp)) > 0;) text.append(buf, n);
    std::fclose(fp);
    std::string err;
    auto snap = parse_snapshot(text, &err);
    if (!snap) {
      std::fprintf(stderr, "goroscope-view: %s: refused: %s\n", f.c_str(), err.c_str());
      return 1;
    }
    std::fputs(describe(build_graph(*snap), *snap).c_str(), stdout);
  }
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  std::string connect, listen, shot, map_name;
  std::vector<std::string> files;
  double hz = 10, timeout = 20;
  int frames = 5, width = 1600, height = 1000;
  size_t want = 1;  // --snapshots: received before the screenshot
  Panel panel = Panel::map;
  bool describe_only = false;
  for (int i = 1; i < argc; i++) {
    std::string a = argv[i];
    auto need = [&](const char* what) -> const char* {
      if (i + 1 >= argc) return nullptr;
      (void)what;
      return argv[++i];
    };
    const char* v = nullptr;
    if (a == "--connect" && (v = need("ADDR"))) {
      connect = v;
    } else if (a == "--hz" && (v = need("N"))) {
      hz = std::atof(v);
    } else if (a == "--listen" && (v = need("ADDR"))) {
      listen = v;
    } else if (a == "--screenshot" && (v = need("OUT"))) {
      shot = v;
    } else if (a == "--snapshots" && (v = need("K"))) {
      want = static_cast<size_t>(std::max(1, std::atoi(v)));
    } else if (a == "--frames" && (v = need("N"))) {
      frames = std::max(1, std::atoi(v));
    } else if (a == "--timeout" && (v = need("S"))) {
      timeout = std::atof(v);
    } else if (a == "--map" && (v = need("NAME"))) {
      map_name = v;
    } else if (a == "--panel" && (v = need("PANEL"))) {
      if (!parse_panel(v, &panel)) return usage("--panel: map, goroutines or table");
    } else if (a == "--size" && (v = need("WxH"))) {
      if (std::sscanf(v, "%dx%d", &width, &height) != 2) return usage("--size WxH");
    } else if (a == "--describe") {
      describe_only = true;
    } else if (a == "-h" || a == "--help") {
      return usage(nullptr), 0;
    } else if (!a.empty() && a[0] != '-') {
      files.push_back(a);
    } else {
      return usage(("unknown or incomplete argument " + a).c_str());
    }
  }
  if (describe_only) return describe_files(files);
  Inbox inbox;
  std::vector<std::unique_ptr<Source>> sources;
  if (!listen.empty()) {
    std::string err;
    auto s = listen_pushes(listen, inbox, &err);
    if (!s) {
      std::fprintf(stderr, "goroscope-view: --listen %s: %s\n", listen.c_str(), err.c_str());
      return 1;
    }
    sources.push_back(std::move(s));
  }
  if (!connect.empty()) sources.push_back(connect_endpoint(connect, hz, inbox));
  for (const auto& f : files) sources.push_back(load_file(f, inbox));

  std::string err;
  Window win(width, height, "goroscope-view", &err);
  if (!win.ok()) {
    std::fprintf(stderr, "goroscope-view: %s\n", err.c_str());
    return 1;
  }
  View view(inbox, sources);
  view.panel = panel;
  view.headless_ = !shot.empty();
  auto start = std::chrono::steady_clock::now();
  int after = -1;  // frames rendered since the first snapshot (screenshot mode)
  while (!win.should_close()) {
    for (const auto& p : win.take_drops()) view.open(p);
    // Only finished sources (files, all read; checked before the frame takes
    // the inbox): what this frame takes is all there will ever be.
    bool finished = !sources.empty();
    for (const auto& src : sources) finished = finished && src->status().finished;
    win.frame([&](float w, float h) {
      if (!map_name.empty() && view.shown_)
        for (size_t i = 0; i < view.shown_->maps.size(); i++)
          if (view.shown_->maps[i].name == map_name) view.map_index_ = static_cast<int>(i);
      view.frame(w, h);
    });
    if (shot.empty()) continue;
    if (win.shot_done()) {
      if (!win.shot_result().empty()) {
        std::fprintf(stderr, "goroscope-view: %s\n", win.shot_result().c_str());
        return 1;
      }
      std::printf("%s\n%zu snapshot(s) received, %zu kept in the timeline\n", shot.c_str(),
                  view.received(), view.history_.size());
      return 0;
    }
    if (view.has_snapshot() && view.received() >= want) after++;
    if (after + 1 >= frames) win.capture_next(shot);
    double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    if (after < 0 && (secs > timeout || finished)) {
      std::string why =
          !view.refusal_.empty()
              ? "the snapshot was refused: " + view.refusal_ + " (" + view.refusal_origin_ + ")"
          : finished ? "every source is read and too few snapshots came (" +
                           std::to_string(view.received()) + " of " + std::to_string(want) + ")"
                     : "no snapshot arrived in time";
      // and why, if a live source knows (a socket nobody listens on, a
      // refused connection); a finished one's reason is the refusal's
      for (const auto& src : sources)
        if (SourceStatus st = src->status(); !st.ok && !st.finished)
          why += " (" + st.name + ": " + st.state + ")";
      std::fprintf(stderr, "goroscope-view: %s\n", why.c_str());
      return 1;
    }
  }
  return 0;
}
