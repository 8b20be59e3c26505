// traceback.cpp — goroutine dumps in Go's traceback shape (Go:
// runtime/traceback.go), fatal errors and uncaught exceptions ("panics").
//
//   goroutine 7 [chan send, 2 minutes]:
//   main::producer(...)
//   	/src/app.cpp:41 +0x5b
//   main::{lambda()#2}::operator()(...)
//   	/src/app.cpp:77 +0x1f
//   created by main::run_pipeline in goroutine 1
//   	/src/app.cpp:77 +0x93
//
// Stacks: the running goroutine's is unwound with DWARF CFI (libgcc through
// gcc's libbacktrace, so frames of libraries built without frame pointers
// are fine); a parked goroutine's from its saved registers by walking the
// frame-pointer chain (the build uses -fno-omit-frame-pointer and the
// goro::runtime target passes it on to users), bounded by its stack. PCs
// are symbolized by libbacktrace from the binary's DWARF: inlined calls get
// their own frames, names are demangled, and the parameter list is shown as
// Go shows elided arguments: `(...)`. Frames of the runtime itself (goro::,
// goro_*, the C++ exception machinery) are hidden, as Go hides runtime.*
// frames, unless GOROTRACEBACK=system. A goroutine running on another
// worker cannot be unwound from here: "goroutine running on other thread;
// stack unavailable" (Go's words).
//
// Goroutines with a name get it after the id: `goroutine 7 "worker" [...]`
// (Go has no names; everything else is Go's format).
//
// What is printed comes from capture_state (capture.cpp), the same capture
// that goro::debug::snapshot renders as JSON: this file is the text renderer
// plus the symbolizer both use.
#include <backtrace.h>
#include <cxxabi.h>
#include <pthread.h>
#include <signal.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <cinttypes>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <exception>
#include <map>
#include <string>
#include <string_view>
#include <typeinfo>
#include <unordered_map>
#include <utility>
#include <vector>

#include "capture.h"
#include "goro/debug_abi.h"
#include "goro/panic.h"
#include "goro/sched.h"
#include "proc.h"

namespace goro::detail {

namespace {

backtrace_state* bt_state() {
  static backtrace_state* st = backtrace_create_state(nullptr, 1, nullptr, nullptr);
  return st;
}

}  // namespace

bool show_system_frames() {
  static int v = [] {
    const char* e = std::getenv("GOROTRACEBACK");
    return e && (std::strcmp(e, "system") == 0 || std::strcmp(e, "crash") == 0) ? 1 : 0;
  }();
  return v;
}

namespace {

std::string demangle(const char* name) {
  if (!name) return "?";
  int status = 0;
  char* d = abi::__cxa_demangle(name, nullptr, nullptr, &status);
  if (status != 0 || !d) return name;
  std::string s(d);
  std::free(d);
  return s;
}

}  // namespace

// elide_params turns "ns::f<int>(int, char) const" into "ns::f<int>(...)".
std::string elide_params(const std::string& s) {
  // Find the '(' that opens the last top-level parameter list.
  int depth = 0;
  size_t open = std::string::npos;
  for (size_t i = 0; i < s.size(); i++) {
    char c = s[i];
    if (s.compare(i, 10, "operator()") == 0) {
      i += 9;
      continue;
    }
    if (s.compare(i, 9, "operator<") == 0 || s.compare(i, 9, "operator>") == 0) {
      i += 8;
      while (i + 1 < s.size() && (s[i + 1] == '<' || s[i + 1] == '>' || s[i + 1] == '=')) i++;
      continue;
    }
    if (c == '(' || c == '<' || c == '{' || c == '[') {
      if (depth == 0 && c == '(') open = i;
      depth++;
    } else if (c == ')' || c == '>' || c == '}' || c == ']') {
      depth--;
    }
  }
  if (open == std::string::npos) return s + "(...)";
  return s.substr(0, open) + "(...)";
}

namespace {
// (frame: capture.h)
}  // namespace

// is_runtime_frame: a frame of goro itself (by function name, or by source
// file: the runtime's sources and installed headers), of the C++ runtime
// (exception machinery, <functional>/<tuple> plumbing) or of a sanitizer;
// or a pc nothing names ("?"). Dumps hide these frames, and everything that
// picks "the topmost user frame" (ignore_top_function, a snapshot's
// location) skips them too, so the two can never disagree.
bool is_runtime_frame(const frame& f) {
  if (f.fn == "?") return true;
  static const char* const prefixes[] = {
      "goro::",         "goro_",        "goroscope_",  "__cxa",        "_Unwind",
      "std::terminate", "__cxxabiv1::", "__gnu_cxx::", "backtrace_",   "std::__terminate",
      "__sanitizer",    "__asan",       "__tsan",      "__interceptor"};
  for (const char* p : prefixes)
    if (f.fn.compare(0, std::strlen(p), p) == 0) return true;
  // A reserved identifier (leading underscore, global namespace): glibc's
  // and the C++ implementation's, never a user's (__memcpy_avx512_..., _int_malloc).
  if (!f.fn.empty() && f.fn[0] == '_') return true;
  if (f.file.empty()) return false;
  static const std::string rtdir = GORO_RUNTIME_DIR "/";
  // (/usr/include: a system library's inline code, e.g. xxhash.h's XXH3
  // inside goro::Hash, where a worker frozen for a fatal report may be.)
  return f.file.compare(0, rtdir.size(), rtdir) == 0 ||
         f.file.find("/include/goro/") != std::string::npos ||
         f.file.find("/include/c++/") != std::string::npos ||
         f.file.compare(0, 13, "/usr/include/") == 0;
}

namespace {

struct pcinfo_ctx {
  std::vector<frame>* out;
  uintptr_t pc;
};

void syminfo_cb(void* data, uintptr_t, const char* symname, uintptr_t symval, uintptr_t) {
  auto* f = static_cast<frame*>(data);
  if (symname && f->fn.empty()) f->fn = demangle(symname);
  f->entry = symval;
}

void error_cb(void*, const char*, int) {}

// ---- naming inlined lambdas ---------------------------------------------------
// A lambda's operator() inlined into its caller has only its bare name in the
// debug info (GCC emits no linkage name for it): "operator()". Its name is
// recovered from its callers in the same inline chain: its own static invoker
// ("f()::{lambda(void*)#1}::_FUN", a captureless lambda made a function
// pointer) names its closure; library callers (std::__invoke_impl<void,
// f()::<lambda()>&>, std::_Function_handler<void (), f::{lambda()#1}>, goro's
// closure<...>::entry) spell the closure type in their template arguments,
// in the demangler's spelling when one of them (an ELF symbol) has it, else
// DWARF's with the enclosing functions' parameter lists dropped. Inlined
// straight into a user function, it stays bare. python/goroscope/stacks.py
// (qualify_lambdas) applies the same rule to the debuggers' frames.

// template_args returns the top-level arguments of name's first template
// argument list ("a<b, c<d>>::f" -> {"b", "c<d>"}), or none.
std::vector<std::string> template_args(const std::string& name) {
  std::vector<std::string> args;
  size_t i = name.find('<');
  if (i == std::string::npos || (i >= 8 && name.compare(i - 8, 8, "operator") == 0)) return args;
  int depth = 0;
  size_t start = i + 1;
  for (size_t j = i; j < name.size(); j++) {
    char c = name[j];
    if (c == '<' || c == '(' || c == '{' || c == '[') {
      depth++;
    } else if (c == '>' || c == ')' || c == '}' || c == ']') {
      if (--depth == 0) {
        args.push_back(name.substr(start, j - start));
        return args;
      }
    } else if (c == ',' && depth == 1) {
      args.push_back(name.substr(start, j - start));
      start = j + 1;
    }
  }
  return {};
}

std::string trim(std::string s) {
  while (!s.empty() && s.front() == ' ') s.erase(0, 1);
  while (!s.empty() && s.back() == ' ') s.pop_back();
  return s;
}

// closure_type strips a template argument to its type: "const T&" -> "T".
std::string closure_type(std::string a) {
  a = trim(a);
  for (;;) {
    if (!a.empty() && (a.back() == '&' || a.back() == '*')) {
      a = trim(a.substr(0, a.size() - 1));
    } else if (a.size() > 6 && a.compare(a.size() - 6, 6, " const") == 0) {
      a = trim(a.substr(0, a.size() - 6));
    } else {
      break;
    }
  }
  return a.compare(0, 6, "const ") == 0 ? a.substr(6) : a;
}

// lambda_spelling: 0 not a closure type, 1 DWARF's ("f()::<lambda()>",
// clang's "$_0"), 2 the demangler's ("f::{lambda()#1}").
// The last "::" component counts at nesting depth 0 only:
// "std::_Invoker<std::tuple<f::{lambda()#1}> >" is no closure type.
int lambda_spelling(const std::string& t) {
  size_t start = 0;
  int depth = 0;
  for (size_t j = 0; j + 1 < t.size(); j++) {
    char c = t[j];
    if (c == '<' || c == '(' || c == '{' || c == '[') depth++;
    if (c == '>' || c == ')' || c == '}' || c == ']') depth--;
    if (c == ':' && t[j + 1] == ':' && depth == 0) start = j + 2;
  }
  std::string_view last = std::string_view(t).substr(start);
  if (last.starts_with("{lambda")) return 2;
  return last.starts_with("<lambda") || last.starts_with("$_") ? 1 : 0;
}

// lambda_in: the first closure type among name's template arguments, looking
// through wrappers ("std::_Invoker<std::tuple<f::{lambda()#1}> >"); "" if none.
std::string lambda_in(const std::string& name, int depth = 3) {
  for (const std::string& a : template_args(name)) {
    std::string t = closure_type(a);
    if (lambda_spelling(t)) return t;
    if (depth > 0)
      if (std::string inner = lambda_in(t, depth - 1); !inner.empty()) return inner;
  }
  return "";
}

// drop_scope_params turns "f(int)::<lambda()>" into "f::<lambda()>" (and
// "A::run() const::" into "A::run::").
std::string drop_scope_params(const std::string& t) {
  std::string out;
  int depth = 0;
  for (size_t i = 0; i < t.size(); i++) {
    char c = t[i];
    if (c == '(' && depth == 0 && !out.ends_with("operator") && !out.ends_with("lambda")) {
      size_t j = i;
      for (int d = 0; j < t.size(); j++) {
        d += (t[j] == '(') - (t[j] == ')');
        if (d == 0) break;
      }
      if (t.compare(j + 1, 2, "::") == 0) {
        i = j;
        continue;
      }
      if (t.compare(j + 1, 8, " const::") == 0) {
        i = j + 6;
        continue;
      }
    }
    if (c == '<' || c == '{' || c == '[') depth++;
    if (c == '>' || c == '}' || c == ']') depth--;
    out += c;
  }
  return out;
}

// qualify_lambdas names each bare "operator()" frame of fs[from..] (one pc's
// frames, innermost first) after the closure its callers name, or, inlined
// straight into a user function F, "F::{lambda}" (F's own lambda: number and
// parameters unknown); outermost first, so a chain of them nests.
void qualify_lambdas(std::vector<frame>& fs, size_t from) {
  for (size_t i = fs.size() - 1; i-- > from;) {
    frame& f = fs[i];
    if (f.fn.compare(0, 10, "operator()") != 0 || f.fn.find("::") != std::string::npos) continue;
    std::string scope, outer = elide_params(fs[i + 1].fn);  // "...(...)"
    outer.resize(outer.size() - 5);
    if (outer.ends_with("::_FUN")) {
      scope = outer.substr(0, outer.size() - 6);
    } else {
      std::string dwarf, gnu;
      for (size_t o = i + 1; o < fs.size() && gnu.empty(); o++) {
        // (libbacktrace names inlined library frames by DW_AT_name: "__invoke_impl<...>")
        const std::string& n = fs[o].fn;
        std::string t = lambda_in(n);
        int sp = t.empty() ? 0 : lambda_spelling(t);
        if (sp == 2) gnu = t;
        if (sp == 1 && dwarf.empty()) dwarf = t;
        if (n.compare(0, 5, "std::") != 0 && n.compare(0, 22, "goro::detail::closure<") != 0 &&
            fs[o].file.find("/include/c++/") == std::string::npos)
          break;
      }
      scope = !gnu.empty() ? gnu : dwarf.empty() ? "" : drop_scope_params(dwarf);
      const frame& o = fs[i + 1];
      if (scope.empty() && !o.fn.empty() && !is_runtime_frame(o) &&
          o.fn.compare(0, 5, "std::") != 0 && o.file.find("/include/c++/") == std::string::npos)
        scope = o.fn + "::{lambda}";
    }
    if (!scope.empty()) f.fn = scope + "::" + f.fn + (f.fn == "operator()" ? "()" : "");
  }
}

// symbolize appends the frames (innermost inline first) for one pc. `lookup`
// is the pc to look up (return address - 1 for calls).
void symbolize(uintptr_t pc, uintptr_t lookup, std::vector<frame>& out) {
  pcinfo_ctx ctx{&out, pc};
  size_t before = out.size();
  backtrace_pcinfo(
      bt_state(), lookup,
      [](void* data, uintptr_t, const char* file, int line, const char* function) -> int {
        auto* c = static_cast<pcinfo_ctx*>(data);
        if (!function && !file) return 0;
        c->out->push_back(frame{function ? demangle(function) : std::string(),
                                file ? file : "",
                                line,
                                c->pc,
                                0,
                                true,
                                false,
                                {}});
        return 0;
      },
      error_cb, &ctx);
  frame sym{{}, {}, 0, pc, 0, false, false, {}};
  backtrace_syminfo(bt_state(), lookup, syminfo_cb, error_cb, &sym);
  if (out.size() == before) {
    out.push_back(sym);
  } else {
    // The last entry libbacktrace reports is the outermost (real) function;
    // its ELF symbol gives the qualified name (DWARF's may be the bare one).
    out.back().inlined = false;
    out.back().entry = sym.entry;
    if (!sym.fn.empty()) out.back().fn = sym.fn;
  }
  for (size_t i = before; i < out.size(); i++)
    if (out[i].fn.empty()) out[i].fn = "?";
  qualify_lambdas(out, before);
}

std::string hex(uintptr_t v) {
  char b[32];
  std::snprintf(b, sizeof b, "%#" PRIxPTR, v);
  return b;
}

std::string render_frames(const capture& c, const capg& g) {
  bool all = show_system_frames();
  std::string out;
  // Hide runtime frames at the top (the blocking call's internals) and
  // everywhere below the first user frame too (the start trampoline).
  for (const frame* fp : stack_frames(c, g)) {
    const frame& f = *fp;
    if (!all && f.runtime) continue;
    out += f.brief;
    out += "\n\t";
    out += f.file.empty() ? "?" : f.file;
    out += ":" + std::to_string(f.line);
    if (!f.inlined && f.entry && f.pc > f.entry) out += " +" + hex(f.pc - f.entry);
    out += "\n";
  }
  if (g.elided) out += "...additional frames elided...\n";
  return out;
}

// creation_site renders "created by F in goroutine K\n\tfile:line +0xoff\n".
std::string creation_site(uintptr_t gopc, uint64_t parent) {
  if (!gopc) return {};
  const std::vector<frame>& frames = frames_of(gopc);
  const frame* f = nullptr;
  for (const frame& fr : frames)
    if (!fr.runtime) {
      f = &fr;
      break;
    }
  if (!f && !frames.empty()) f = &frames.back();
  if (!f) return {};
  // DWARF names inlined lambdas just "operator()"; the enclosing real
  // function's ELF symbol is qualified and says more.
  const std::string& name = (f->inlined && f->fn.find("::") == std::string::npos &&
                             !frames.back().fn.empty() && frames.back().fn != "?")
                                ? frames.back().fn
                                : f->fn;
  std::string fn = elide_params(name);
  fn.resize(fn.size() - 5);  // Go prints "created by main.main", no parentheses
  std::string s = "created by " + fn;
  if (parent) s += " in goroutine " + std::to_string(parent);
  s += "\n\t" + (f->file.empty() ? std::string("?") : f->file) + ":" + std::to_string(f->line);
  if (frames.back().entry && gopc > frames.back().entry)
    s += " +" + hex(gopc - frames.back().entry);
  return s + "\n";
}

}  // namespace

void current_pcs(std::vector<uintptr_t>& pcs) {
  size_t base = pcs.size();
  struct ctx {
    std::vector<uintptr_t>* v;
    size_t base;
  } cx{&pcs, base};
  backtrace_simple(
      bt_state(), 0,
      [](void* data, uintptr_t pc) -> int {
        auto* c = static_cast<ctx*>(data);
        if (c->v->size() - c->base >= 100) return 1;
        c->v->push_back(pc + 1);  // libbacktrace gives pc-1 for calls; store return addresses
        return 0;
      },
      error_cb, &cx);
}

int unwind_pcs(uintptr_t* pcs, int max) noexcept {
  struct ctx {
    uintptr_t* pcs;
    int n, max;
  } cx{pcs, 0, max};
  backtrace_simple(
      bt_state(), 0,
      [](void* data, uintptr_t pc) -> int {
        auto* c = static_cast<ctx*>(data);
        if (c->n >= c->max) return 1;
        c->pcs[c->n++] = pc + 1;  // (as current_pcs: return addresses)
        return 0;
      },
      error_cb, &cx);
  return cx.n;
}

const std::vector<frame>& frames_of(uintptr_t pc, bool is_return) {
  static mutex lock;
  // Keyed by the address looked up: a return address's lookup is pc - 1, a
  // function entry's is itself, so the two never collide.
  static auto* cache = new std::unordered_map<uintptr_t, std::vector<frame>>();
  uintptr_t lookup = is_return ? pc - 1 : pc;
  {
    mutex_guard lk(lock);
    auto it = cache->find(lookup);
    if (it != cache->end()) return it->second;
  }
  std::vector<frame> fs;
  symbolize(pc, lookup, fs);
  for (frame& f : fs) {
    f.runtime = is_runtime_frame(f);
    f.brief = elide_params(f.fn);
  }
  mutex_guard lk(lock);
  return cache->try_emplace(lookup, std::move(fs)).first->second;  // node-based: stays valid
}

namespace {

struct symrange {
  uintptr_t start = 0, size = 0;
};

symrange symbol_range(uintptr_t pc) {
  symrange r;
  backtrace_syminfo(
      bt_state(), pc,
      [](void* data, uintptr_t, const char* name, uintptr_t val, uintptr_t size) {
        if (name) *static_cast<symrange*>(data) = symrange{val, size};
      },
      error_cb, &r);
  return r;
}

// The bytes of a caller searched for a tail call's jump (a function larger
// than this is not searched).
constexpr uintptr_t kTailScanMax = 1 << 16;

int32_t rel32(const unsigned char* p) {
  int32_t v;
  std::memcpy(&v, p, 4);
  return v;
}

uintptr_t find_tail_call(uintptr_t ret, uintptr_t callee) {
  symrange caller = symbol_range(ret - 1);
  if (!caller.start || ret < caller.start + 5 || ret > caller.start + caller.size) return 0;
  const auto* call = reinterpret_cast<const unsigned char*>(ret - 5);
  if (call[0] != 0xE8) return 0;
  uintptr_t f = ret + static_cast<intptr_t>(rel32(call + 1));
  symrange g = symbol_range(callee - 1);
  if (!g.start || g.start == f) return 0;
  symrange fr = symbol_range(f);
  if (fr.start != f || fr.size < 5 || fr.size > kTailScanMax) return 0;
  const auto* code = reinterpret_cast<const unsigned char*>(f);
  uintptr_t hit = 0;
  int hits = 0;
  for (uintptr_t i = 0; i + 5 <= fr.size; i++)
    if (code[i] == 0xE9 && f + i + 5 + static_cast<intptr_t>(rel32(code + i + 1)) == g.start) {
      hit = f + i;
      hits++;
    }
  return hits == 1 ? hit : 0;
}

}  // namespace

uintptr_t tail_call(uintptr_t ret, uintptr_t callee) {
  static mutex lock;
  static auto* cache = new std::map<std::pair<uintptr_t, uintptr_t>, uintptr_t>();
  {
    mutex_guard lk(lock);
    auto it = cache->find({ret, callee});
    if (it != cache->end()) return it->second;
  }
  uintptr_t hit = find_tail_call(ret, callee);
  mutex_guard lk(lock);
  cache->emplace(std::make_pair(ret, callee), hit);
  return hit;
}

std::vector<const frame*> stack_frames(const capture& c, const capg& g) {
  std::vector<const frame*> out;
  for (uint32_t i = 0; i < g.npc; i++) {
    uintptr_t pc = c.pcs[g.pc0 + i];
    for (const frame& f : frames_of(pc)) out.push_back(&f);
    if (i + 1 < g.npc)
      if (uintptr_t t = tail_call(c.pcs[g.pc0 + i + 1], pc))
        for (const frame& f : frames_of(t, false)) out.push_back(&f);
  }
  return out;
}

std::string symbolize_pc(uintptr_t pc, bool* user) {
  const std::vector<frame>& frames = frames_of(pc);
  for (const frame& f : frames) {
    if (!f.runtime) {
      if (user) *user = true;
      const std::string& e = f.brief;
      return e.substr(0, e.size() - 5);
    }
  }
  if (user) *user = false;
  return frames.empty() ? "?" : frames.front().fn;
}

std::string origin_string(uintptr_t gopc, uint64_t parent) {
  if (!gopc) return "the main goroutine";
  std::string cs =
      creation_site(gopc, parent);  // "created by F in goroutine K\n\tfile:line +0x..\n"
  size_t nl = cs.find('\n');
  if (nl == std::string::npos) return "created at an unknown site";
  std::string loc = cs.substr(nl + 2);
  loc = loc.substr(0, loc.find_first_of(" \n"));
  return cs.substr(0, nl) + " at " + loc;
}

std::string render_header(const capture& c, const capg& g) {
  std::string s = "goroutine " + std::to_string(g.goid);
  if (g.name[0]) s += std::string(" \"") + g.name + "\"";
  s += " [";
  if (g.status == _Gwaiting) {
    s += to_string(g.reason);
    int64_t mins = g.waitsince ? (c.now - g.waitsince) / 60000000000LL : 0;
    if (mins >= 1) s += ", " + std::to_string(mins) + (mins == 1 ? " minute" : " minutes");
  } else {
    s += gstatus_string(g.status);
  }
  return s + "]:\n";
}

std::string render_stack(const capture& c, const capg& g) {
  std::string s;
  if (g.nostack || (g.status == _Grunning && !g.current && !g.frozen))
    s = "\tgoroutine running on other thread; stack unavailable\n";
  else if (g.stale)
    s = "\tgoroutine ran before its stack was read; stack unavailable\n";
  else
    s = render_frames(c, g);
  return s + creation_site(g.gopc, g.parent);
}

std::string render_dump(const capture& c) {
  std::string out;
  for (const capg& g : c.gs) {
    if (!out.empty()) out += "\n";
    out += render_header(c, g) + render_stack(c, g);
  }
  return out;
}

namespace {
// capture_list captures the given goroutines as a dump does (no stop, no objects).
void capture_list(capture& c, const std::vector<G*>& gs) {
  captureopts o;
  o.stop = false;
  o.objects = false;
  o.list = &gs;
  capture_state(c, o);
}
}  // namespace

std::string top_function(const G* gp) {
  capture c;
  capture_list(c, {const_cast<G*>(gp)});
  if (c.gs.empty() || c.gs[0].status != _Gwaiting) return {};
  const capg& g = c.gs[0];
  for (uint32_t i = 0; i < g.npc; i++)
    for (const frame& f : frames_of(c.pcs[g.pc0 + i]))
      if (!f.runtime) {
        const std::string& s = f.brief;
        return s.substr(0, s.size() - 5);
      }
  return {};
}

std::string dump_of(const std::vector<G*>& gs) {
  capture c;
  capture_list(c, gs);
  return render_dump(c);
}

void dump_current_thread(int fd) noexcept {
  capture c;
  capg g{};
  g.current = true;
  current_pcs(c.pcs);
  g.npc = static_cast<uint32_t>(c.pcs.size());
  char name[32] = "";
  pthread_getname_np(pthread_self(), name, sizeof name);
  std::string s = "thread " + std::to_string(syscall(SYS_gettid)) +
                  (name[0] ? std::string(" [") + name + "]" : std::string()) + ":\n" +
                  render_frames(c, g);
  (void)!write(fd, s.data(), s.size());
}

void dump_goroutines(int fd) noexcept {
  captureopts o;
  o.stop = false;  // a dying process: nothing may wait
  o.objects = false;
  capture c;
  capture_state(c, o);
  std::string s = render_dump(c);
  (void)!write(fd, s.data(), s.size());
}

namespace {

// kFatalDeadline: seconds a fatal report may take before the watchdog ends
// it. The slowest measured: a 10k-goroutine dump, symbolizing cold, 0.9 s.
constexpr unsigned kFatalDeadline = 5;

std::atomic<pid_t> g_reporter{0};  // the reporting thread's tid, 0: none

pid_t gettid_raw() noexcept { return static_cast<pid_t>(syscall(SYS_gettid)); }

void write_str(const char* s) noexcept { (void)!::write(2, s, std::strlen(s)); }

void on_watchdog(int) {
  write_str("\n[goroscope: the fatal report did not finish in time; exiting]\n");
  _exit(2);
}

}  // namespace

void fatal_begin() noexcept {
  pid_t me = gettid_raw(), none = 0;
  if (g_reporter.load(std::memory_order_acquire) == me) return;
  if (!g_reporter.compare_exchange_strong(none, me, std::memory_order_acq_rel)) fatal_park();
  struct sigaction sa {};
  sa.sa_handler = on_watchdog;
  sigemptyset(&sa.sa_mask);
  sigaction(SIGALRM, &sa, nullptr);
  alarm(kFatalDeadline);
}

void fatal_debugger_stop(const char* msg, int panic) noexcept {
  // A debugger stops the program here (the plugins' breakpoint) for as long
  // as its user looks around, running inferior calls: no watchdog meanwhile.
  alarm(0);
  goroscope_fatal(msg, panic);
  alarm(kFatalDeadline);
}

bool fatal_reporting() noexcept {
  return g_reporter.load(std::memory_order_acquire) == gettid_raw();
}
bool fatal_pending() noexcept { return g_reporter.load(std::memory_order_acquire) != 0; }

void fatal_park() noexcept {
  for (;;) pause();
}

void fatal_interrupted(int sig) noexcept {
  char buf[160];
  std::snprintf(buf, sizeof buf,
                "\n[goroscope: signal %d (%s) inside the fatal report: the heap is likely "
                "corrupted; the rest of the report is lost]\n",
                sig, sigabbrev_np(sig) ? sigabbrev_np(sig) : "?");
  write_str(buf);
  _exit(2);
}

void fatal_with_dump(const std::string& msg, bool panic) noexcept {
  fatal_begin();
  freeze_others();
  std::fflush(stdout);
  std::string head = (panic ? "panic: " : "fatal error: ") + msg + "\n\n";
  (void)!write(2, head.data(), head.size());
  fatal_debugger_stop(msg.c_str(), panic);
  dump_goroutines(2);
  std::fflush(stderr);
  _exit(2);
}

void fatal(const char* msg) noexcept {
  // Go's throw: a broken runtime invariant or an unrecoverable misuse.
  fatal_with_dump(msg, false);
}

namespace {

std::terminate_handler g_prev_terminate;

// on_terminate runs when an exception escapes a goroutine: the trampoline's
// CFI ends every goroutine stack, so the unwinder's search phase finds no
// handler and __cxa_throw calls std::terminate *before* unwinding: the
// stack at the throw is intact and the dump shows it.
[[noreturn]] void on_terminate() {
  if (!getg()) {
    if (g_prev_terminate) g_prev_terminate();
    std::abort();
  }
  std::string msg = "unknown C++ exception";
  if (std::exception_ptr e = std::current_exception()) {
    try {
      std::rethrow_exception(e);
    } catch (const goro::Panic& p) {
      msg = p.what();
    } catch (const std::exception& ex) {
      msg = std::string(ex.what()) + " [C++ exception " + demangle(typeid(ex).name()) + "]";
    } catch (...) {
      if (const std::type_info* t = abi::__cxa_current_exception_type())
        msg = "C++ exception of type " + demangle(t->name());
    }
  } else {
    msg = "std::terminate called";
  }
  fatal_with_dump(msg, true);
}

}  // namespace

void install_terminate_handler() noexcept {
  static bool once = [] {
    g_prev_terminate = std::set_terminate(on_terminate);
    return true;
  }();
  (void)once;
}

}  // namespace goro::detail
