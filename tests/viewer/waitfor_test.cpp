// waitfor_test.cpp — the viewer's deadlock and leak rules (waitfor.h) on
// the conformance corpus (tests/conformance/README.md): every snapshot must
// give its expected verdict, the goroutine panel's marks must add up to it,
// and each rejected rule (Rules) must fail some file -- so the corpus can
// tell the rules apart. tests/python/test_conformance.py runs the same
// files through python/goroscope/deadlock.py.
#include <gtest/gtest.h>
#include <rapidjson/document.h>

#include <algorithm>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <unordered_map>
#include <vector>

#include "graph.h"
#include "snapshot.h"
#include "waitfor.h"

namespace view = goroscope::view;
namespace fs = std::filesystem;

namespace {

struct Case {
  std::string name;  // the file, relative to its directory
  view::Snapshot snap;
  view::Verdict want;
};

std::string slurp(const fs::path& p) {
  std::ifstream f(p, std::ios::binary);
  std::stringstream ss;
  ss << f.rdbuf();
  return ss.str();
}

std::vector<uint64_t> goids(const rapidjson::Value& a) {
  std::vector<uint64_t> out;
  for (const auto& x : a.GetArray()) out.push_back(x.GetUint64());
  return out;
}

// corpus loads every NAME.json that has a NAME.expect.json, from the stored
// corpus and from the build's generated one; a file that does not parse is
// a failure.
const std::vector<Case>& corpus() {
  static const std::vector<Case> cases = [] {
    std::vector<Case> out;
    for (const char* dir : {GORO_CONFORMANCE_DIR, GORO_CONFORMANCE_GENERATED}) {
      if (!fs::is_directory(dir)) {
        ADD_FAILURE() << dir << ": no corpus there (the build writes the generated cases)";
        continue;
      }
      std::vector<fs::path> files;
      for (const auto& e : fs::directory_iterator(dir)) files.push_back(e.path());
      std::sort(files.begin(), files.end());
      for (const fs::path& p : files) {
        std::string f = p.filename().string();
        const std::string suffix = ".expect.json";
        if (f.size() <= suffix.size() || f.compare(f.size() - suffix.size(), suffix.size(), suffix))
          continue;
        fs::path snap = p.parent_path() / (f.substr(0, f.size() - suffix.size()) + ".json");
        std::string err;
        auto s = view::parse_snapshot(slurp(snap), &err);
        rapidjson::Document e;
        e.Parse(slurp(p).c_str());
        if (!s || e.HasParseError()) {
          ADD_FAILURE() << snap << ": " << (s ? "the expectation does not parse" : err);
          continue;
        }
        Case c{snap.filename().string(), std::move(*s), {}};
        for (const auto& cyc : e["cycles"].GetArray()) c.want.cycles.push_back(goids(cyc));
        c.want.unwakeable = goids(e["unwakeable"]);
        c.want.leaked = goids(e["leaked"]);
        out.push_back(std::move(c));
      }
    }
    return out;
  }();
  return cases;
}

std::string str(const std::vector<uint64_t>& v) {
  std::string s = "[";
  for (size_t i = 0; i < v.size(); i++) {
    if (i == 20) return s + ", ... " + std::to_string(v.size()) + " in all]";
    s += (i ? ", " : "") + std::to_string(v[i]);
  }
  return s + "]";
}

// mismatch says how a verdict differs from the expected one ("" if not).
std::string mismatch(const view::Verdict& got, const view::Verdict& want) {
  std::string out;
  if (got.cycles != want.cycles) {
    out += " cycles:";
    for (const auto& c : got.cycles) out += " " + str(c);
    out += " (want";
    for (const auto& c : want.cycles) out += " " + str(c);
    out += ")";
  }
  if (got.unwakeable != want.unwakeable)
    out += " unwakeable: " + str(got.unwakeable) + " (want " + str(want.unwakeable) + ")";
  if (got.leaked != want.leaked)
    out += " leaked: " + str(got.leaked) + " (want " + str(want.leaked) + ")";
  return out;
}

}  // namespace

TEST(Conformance, EveryCorpusFileGivesItsVerdict) {
  const std::vector<Case>& cases = corpus();
  EXPECT_GE(cases.size(), 30u);
  for (const Case& c : cases)
    if (std::string m = mismatch(view::analyze(c.snap), c.want); !m.empty())
      ADD_FAILURE() << c.name << ":" << m;
  std::printf("conformance: %zu files\n", cases.size());
}

// The goroutine panel marks its groups from the verdict: each group's leaked
// members and cycle membership add up to it, and a cycle's edges are marked.
TEST(Conformance, TheGraphsMarksAreTheVerdict) {
  for (const Case& c : corpus()) {
    view::Graph g = view::build_graph(c.snap);
    EXPECT_EQ(g.verdict.leaked, c.want.leaked) << c.name;
    std::unordered_map<uint64_t, bool> leaked, in_cycle;
    for (uint64_t id : g.verdict.leaked) leaked[id] = true;
    for (const auto& cyc : g.verdict.cycles)
      for (uint64_t id : cyc) in_cycle[id] = true;
    size_t marked = 0;
    int cycle_edges = 0;
    for (const auto& e : g.edges) cycle_edges += e.in_cycle;
    for (const view::GNode& n : g.nodes) {
      if (n.is_object) continue;
      int k = 0;
      bool cyc = false;
      for (uint64_t id : n.goids) {
        k += leaked.count(id) ? 1 : 0;
        cyc = cyc || in_cycle.count(id);
      }
      EXPECT_EQ(n.leaked, k) << c.name << ": group of goroutine " << n.goids[0];
      EXPECT_EQ(n.in_cycle, cyc) << c.name << ": group of goroutine " << n.goids[0];
      marked += static_cast<size_t>(n.leaked);
    }
    EXPECT_EQ(marked, c.want.leaked.size()) << c.name;
    EXPECT_EQ(cycle_edges > 0, !c.want.cycles.empty()) << c.name;
    std::string d = view::describe(g, c.snap);
    std::string head = std::to_string(c.want.cycles.size()) + " deadlock cycle(s), " +
                       std::to_string(c.want.unwakeable.size()) +
                       " goroutine(s) that no other goroutine can wake\n";
    EXPECT_NE(d.find(head), std::string::npos) << c.name << ": " << d.substr(0, 200);
  }
}

// Each rule the design rejects, applied instead of the chosen one, must
// make some file of the corpus fail: the corpus can tell them apart.
TEST(Conformance, EachRejectedRuleFailsSomeFile) {
  struct Wrong {
    const char* what;
    view::Rules rules;
  };
  std::vector<Wrong> wrong(5);
  wrong[0] = {"R2: nil channels and empty selects are like other waits", {}};
  wrong[0].rules.nil_forever = false;
  wrong[1] = {"R5: a lock wait fires when any one holder can run", {}};
  wrong[1].rules.every_holder = false;
  wrong[2] = {"R5: a Once being run is held by nobody", {}};
  wrong[2].rules.once_holds = false;
  wrong[3] = {"R7: a channel's handles beyond its referencers are ignored", {}};
  wrong[3].rules.handles = false;
  wrong[4] = {"R8: unknown references wake nobody", {}};
  wrong[4].rules.unknown_anyone = false;
  for (const Wrong& w : wrong) {
    std::vector<std::string> failed;
    for (const Case& c : corpus())
      if (!mismatch(view::analyze(c.snap, w.rules), c.want).empty()) failed.push_back(c.name);
    std::string names;
    for (const std::string& f : failed) names += " " + f;
    std::printf("conformance: rejected rule \"%s\": %zu of %zu files fail:%s\n", w.what,
                failed.size(), corpus().size(), names.c_str());
    EXPECT_FALSE(failed.empty()) << w.what;
  }
}
