// snapshot.cpp — parse_snapshot: JSON (RapidJSON DOM) into the model.
// Design: snapshot.h. Every accessor checks the JSON type and range and, on
// failure, records "path: what" and makes the parse fail; nothing is read
// without a check, so no input can crash it, and every count is bounded.
#include "snapshot.h"

#include <cstdlib>
#include <string>

#include <rapidjson/document.h>
#include <rapidjson/error/en.h>

namespace goroscope::view {

namespace {

using Value = rapidjson::Value;

// Reader tracks the JSON path for error messages.
struct Reader {
  std::string* error;
  std::vector<std::string> path;
  bool ok = true;

  bool fail(const std::string& what) {
    if (ok) {
      std::string p;
      for (const auto& s : path) p += (s.empty() || s[0] == '[' || p.empty() ? "" : ".") + s;
      *error = (p.empty() ? "" : p + ": ") + what;
    }
    ok = false;
    return false;
  }

  struct Scope {
    Reader& r;
    Scope(Reader& r, std::string s) : r(r) { r.path.push_back(std::move(s)); }
    ~Scope() { r.path.pop_back(); }
  };

  const Value* member(const Value& o, const char* key, bool required = true) {
    if (!ok) return nullptr;
    if (!o.IsObject()) return fail("not an object"), nullptr;
    auto it = o.FindMember(key);
    if (it == o.MemberEnd()) {
      if (required) {
        Scope s(*this, key);
        fail("missing");
      }
      return nullptr;
    }
    return &it->value;
  }

  bool str(const Value& o, const char* key, std::string& out, bool required = true) {
    const Value* v = member(o, key, required);
    if (!v) return ok;
    Scope s(*this, key);
    if (!v->IsString()) return fail("not a string");
    out.assign(v->GetString(), v->GetStringLength());
    return true;
  }

  bool boolean(const Value& o, const char* key, bool& out, bool required = true) {
    const Value* v = member(o, key, required);
    if (!v) return ok;
    Scope s(*this, key);
    if (!v->IsBool()) return fail("not a boolean");
    out = v->GetBool();
    return true;
  }

  template <class T>
  bool integer(const Value& o, const char* key, T& out, int64_t lo, int64_t hi,
               bool required = true) {
    const Value* v = member(o, key, required);
    if (!v) return ok;
    Scope s(*this, key);
    if (!v->IsInt64()) return fail(v->IsNumber() ? "out of range" : "not an integer");
    int64_t x = v->GetInt64();
    if (x < lo || x > hi) return fail("out of range (" + std::to_string(x) + ")");
    out = static_cast<T>(x);
    return true;
  }

  bool u64(const Value& o, const char* key, uint64_t& out, bool required = true) {
    const Value* v = member(o, key, required);
    if (!v) return ok;
    Scope s(*this, key);
    if (!v->IsUint64()) return fail("not a non-negative integer");
    out = v->GetUint64();
    return true;
  }

  bool number(const Value& o, const char* key, double& out) {
    const Value* v = member(o, key);
    if (!v) return ok;
    Scope s(*this, key);
    if (!v->IsNumber()) return fail("not a number");
    out = v->GetDouble();
    return true;
  }

  // addr reads "0x..." (the format's addresses).
  bool addr(const Value& o, const char* key, uint64_t& out, bool required = true) {
    const Value* v = member(o, key, required);
    if (!v) return ok;
    Scope s(*this, key);
    return addr_value(*v, out);
  }
  bool addr_value(const Value& v, uint64_t& out) {
    if (!v.IsString()) return fail("not an address string");
    std::string_view t(v.GetString(), v.GetStringLength());
    if (t.size() < 3 || t.size() > 18 || t[0] != '0' || t[1] != 'x') return fail("not 0x...");
    uint64_t x = 0;
    for (char c : t.substr(2)) {
      int d = c >= '0' && c <= '9' ? c - '0' : c >= 'a' && c <= 'f' ? c - 'a' + 10 : -1;
      if (d < 0) return fail("not 0x...");
      x = x << 4 | static_cast<uint64_t>(d);
    }
    out = x;
    return true;
  }

  const Value* array(const Value& o, const char* key, size_t max, bool required = true) {
    const Value* v = member(o, key, required);
    if (!v) return nullptr;
    Scope s(*this, key);
    if (!v->IsArray()) return fail("not an array"), nullptr;
    if (v->Size() > max) return fail("more than " + std::to_string(max) + " items"), nullptr;
    return v;
  }

  bool goids(const Value& v, std::vector<uint64_t>& out) {
    if (!v.IsArray()) return fail("not an array");
    if (v.Size() > kMaxList) return fail("too many goids");
    out.reserve(v.Size());
    for (const auto& x : v.GetArray()) {
      if (!x.IsUint64()) return fail("not a goid");
      out.push_back(x.GetUint64());
    }
    return true;
  }
};

bool goroutine(Reader& r, const Value& v, Goroutine& g) {
  r.u64(v, "goid", g.goid);
  r.str(v, "status", g.status);
  r.str(v, "wait_reason", g.wait_reason);
  r.integer(v, "waiting_ns", g.waiting_ns, 0, INT64_MAX);
  r.integer(v, "created_ns_ago", g.created_ns_ago, 0, INT64_MAX);
  r.integer(v, "worker", g.worker, -1, 1 << 20);
  r.boolean(v, "current", g.current);
  r.boolean(v, "stack_unavailable", g.stack_unavailable);
  r.str(v, "name", g.name);
  r.u64(v, "parent", g.parent);
  if (const Value* l = r.member(v, "labels")) {
    Reader::Scope s(r, "labels");
    if (!l->IsObject()) return r.fail("not an object");
    for (auto it = l->MemberBegin(); it != l->MemberEnd(); ++it) {
      if (!it->value.IsString()) return r.fail("a label's value is not a string");
      g.labels.emplace_back(it->name.GetString(), it->value.GetString());
    }
  }
  if (const Value* st = r.member(v, "start"); st && !st->IsNull()) {
    Reader::Scope s(r, "start");
    r.addr(*st, "pc", g.start_pc);
    r.str(*st, "function", g.start_function);
  }
  if (const Value* c = r.member(v, "created_by"); c && !c->IsNull()) {
    Reader::Scope s(r, "created_by");
    r.addr(*c, "pc", g.created_pc);
    r.str(*c, "function", g.created_function);
    r.str(*c, "file", g.created_file);
    r.integer(*c, "line", g.created_line, 0, INT32_MAX);
  }
  if (const Value* w = r.array(v, "waiting_on", 4096)) {
    Reader::Scope s(r, "waiting_on");
    for (rapidjson::SizeType i = 0; i < w->Size() && r.ok; i++) {
      Reader::Scope si(r, "[" + std::to_string(i) + "]");
      WaitOn on;
      r.addr((*w)[i], "object", on.object);
      r.str((*w)[i], "kind", on.kind);
      r.str((*w)[i], "op", on.op);
      r.boolean((*w)[i], "select", on.select);
      g.waiting_on.push_back(std::move(on));
    }
  }
  if (const Value* f = r.array(v, "frames", kMaxFrames)) {
    Reader::Scope s(r, "frames");
    g.frames.reserve(f->Size());
    for (rapidjson::SizeType i = 0; i < f->Size() && r.ok; i++) {
      Reader::Scope si(r, "[" + std::to_string(i) + "]");
      Frame fr;
      r.str((*f)[i], "function", fr.function);
      r.str((*f)[i], "file", fr.file);
      r.integer((*f)[i], "line", fr.line, 0, INT32_MAX);
      r.addr((*f)[i], "pc", fr.pc);
      r.boolean((*f)[i], "inlined", fr.inlined);
      r.boolean((*f)[i], "runtime", fr.runtime);
      g.frames.push_back(std::move(fr));
    }
  }
  return r.ok;
}

bool object(Reader& r, const Value& v, Object& o) {
  r.addr(v, "addr", o.addr);
  r.str(v, "kind", o.kind);
  r.str(v, "name", o.name);
  r.str(v, "type", o.type);
  if (!r.ok) return false;
  for (auto it = v.MemberBegin(); it != v.MemberEnd() && r.ok; ++it) {
    std::string k(it->name.GetString(), it->name.GetStringLength());
    if (k == "addr" || k == "kind" || k == "name" || k == "type") continue;
    Reader::Scope s(r, k);
    const Value& x = it->value;
    if (x.IsBool()) {
      o.ints.emplace_back(k, x.GetBool() ? 1 : 0);
    } else if (x.IsInt64()) {
      o.ints.emplace_back(k, x.GetInt64());
    } else if (x.IsArray()) {
      std::vector<uint64_t> ids;
      if (!r.goids(x, ids)) return false;
      o.lists.emplace_back(k, std::move(ids));
    } else {
      return r.fail("not a boolean, integer or goid list");
    }
  }
  return r.ok;
}

bool bucket_array(Reader& r, const Value& v, BucketArray& a) {
  r.addr(v, "addr", a.addr);
  r.u64(v, "nbuckets", a.nbuckets);
  r.u64(v, "first", a.first);
  r.u64(v, "count", a.count);
  r.boolean(v, "truncated_chain", a.truncated_chain);
  if (!r.ok) return false;
  if (a.nbuckets > (uint64_t{1} << 40) || a.count > kMaxBuckets || a.first > a.nbuckets ||
      a.count > a.nbuckets - a.first)
    return r.fail("bucket page out of range (nbuckets " + std::to_string(a.nbuckets) + ", first " +
                  std::to_string(a.first) + ", count " + std::to_string(a.count) + ")");
  const Value* chains = r.array(v, "chains", kMaxBuckets);
  if (!chains) return r.ok;
  Reader::Scope s(r, "chains");
  a.chains.reserve(chains->Size());
  for (rapidjson::SizeType i = 0; i < chains->Size() && r.ok; i++) {
    Reader::Scope si(r, "[" + std::to_string(i) + "]");
    const Value& cv = (*chains)[i];
    Chain c;
    r.u64(cv, "index", c.index);
    r.boolean(cv, "evacuated", c.evacuated, false);
    if (r.ok && (c.index < a.first || c.index >= a.first + a.count))
      return r.fail("index " + std::to_string(c.index) + " outside the page");
    const Value* bs = r.array(cv, "buckets", 1u << 16);
    if (!bs) return false;
    Reader::Scope sb(r, "buckets");
    if (bs->Size() == 0) return r.fail("empty chain");
    for (rapidjson::SizeType j = 0; j < bs->Size() && r.ok; j++) {
      Reader::Scope sj(r, "[" + std::to_string(j) + "]");
      const Value& bv = (*bs)[j];
      Bucket b;
      r.addr(bv, "addr", b.addr);
      r.addr(bv, "overflow", b.overflow);
      const Value* th = r.array(bv, "tophash", 8);
      if (!th) return false;
      if (th->Size() != 8) return r.fail("tophash: not 8 values");
      for (int k = 0; k < 8; k++) {
        const Value& t = (*th)[k];
        if (!t.IsUint() || t.GetUint() > 255) return r.fail("tophash: not a byte");
        b.tophash[k] = static_cast<uint8_t>(t.GetUint());
      }
      for (const char* side : {"keys", "elems"}) {
        const Value* sv = r.array(bv, side, 8);
        if (!sv) return false;
        if (sv->Size() != 8) return r.fail(std::string(side) + ": not 8 values");
        auto& dst = side[0] == 'k' ? b.keys : b.elems;
        for (int k = 0; k < 8; k++) {
          const Value& t = (*sv)[k];
          if (t.IsString()) {
            if (a.text.size() + t.GetStringLength() >= kNoText)
              return r.fail("more than 4 GiB of key and elem text");
            dst[k].off = static_cast<uint32_t>(a.text.size());
            dst[k].len = t.GetStringLength();
            a.text.append(t.GetString(), t.GetStringLength());
          } else if (!t.IsNull()) {
            return r.fail(std::string(side) + ": not a string or null");
          }
        }
      }
      c.buckets.push_back(std::move(b));
    }
    a.chains.push_back(std::move(c));
  }
  return r.ok;
}

bool map(Reader& r, const Value& v, Map& m) {
  r.addr(v, "addr", m.addr);
  r.str(v, "name", m.name);
  r.integer(v, "count", m.count, 0, INT64_MAX);
  r.integer(v, "B", m.B, 0, 63);
  r.integer(v, "flags", m.flags, 0, 255);
  r.integer(v, "noverflow", m.noverflow, 0, 65535);
  r.u64(v, "hash0", m.hash0);
  r.u64(v, "nevacuate", m.nevacuate);
  r.boolean(v, "growing", m.growing);
  r.number(v, "load_factor", m.load_factor);
  if (const Value* w = r.member(v, "writer")) {
    Reader::Scope s(r, "writer");
    r.str(*w, "kind", m.writer_kind);
    r.u64(*w, "id", m.writer_id);
  }
  if (const Value* t = r.member(v, "type")) {
    Reader::Scope s(r, "type");
    if (!t->IsObject()) return r.fail("not an object");
    if (t->MemberCount()) {
      r.str(*t, "key", m.type.key);
      r.str(*t, "elem", m.type.elem);
      r.str(*t, "keykind", m.type.keykind);
      r.str(*t, "elemkind", m.type.elemkind);
      r.integer(*t, "keysize", m.type.keysize, 0, 1 << 16);
      r.integer(*t, "elemsize", m.type.elemsize, 0, 1 << 16);
      r.integer(*t, "bucketsize", m.type.bucketsize, 0, 1 << 20);
      r.boolean(*t, "indirectkey", m.type.indirectkey);
      r.boolean(*t, "indirectelem", m.type.indirectelem);
    }
  }
  r.boolean(v, "buckets_omitted", m.buckets_omitted);
  if (const Value* b = r.member(v, "buckets")) {
    Reader::Scope s(r, "buckets");
    bucket_array(r, *b, m.buckets);
  }
  if (const Value* o = r.member(v, "oldbuckets"); o && !o->IsNull()) {
    Reader::Scope s(r, "oldbuckets");
    m.oldbuckets.emplace();
    bucket_array(r, *o, *m.oldbuckets);
  }
  return r.ok;
}

}  // namespace

int64_t Object::get(std::string_view key, int64_t dflt) const {
  for (const auto& [k, v] : ints)
    if (k == key) return v;
  return dflt;
}

const std::vector<uint64_t>* Object::list(std::string_view key) const {
  for (const auto& [k, v] : lists)
    if (k == key) return &v;
  return nullptr;
}

const Goroutine* Snapshot::goroutine(uint64_t goid) const {
  auto it = goroutine_index.find(goid);
  return it == goroutine_index.end() ? nullptr : &goroutines[it->second];
}

const Object* Snapshot::object(uint64_t addr) const {
  auto it = object_index.find(addr);
  return it == object_index.end() ? nullptr : &objects[it->second];
}

std::optional<Snapshot> parse_snapshot(std::string_view json, std::string* error) {
  std::string dummy;
  if (!error) error = &dummy;
  rapidjson::Document d;
  // Iterative: a deeply nested input cannot exhaust the stack.
  d.Parse<rapidjson::kParseStopWhenDoneFlag | rapidjson::kParseIterativeFlag>(json.data(),
                                                                              json.size());
  if (d.HasParseError()) {
    *error = std::string("not JSON: ") + rapidjson::GetParseError_En(d.GetParseError()) +
             " at offset " + std::to_string(d.GetErrorOffset());
    return std::nullopt;
  }
  Reader r{error, {}};
  Snapshot s;
  std::string format;
  int version = 0;
  r.str(d, "format", format);
  if (r.ok && format != "goroscope-snapshot") {
    r.fail("not a goroscope snapshot (format \"" + format.substr(0, 40) + "\")");
    return std::nullopt;
  }
  r.integer(d, "version", version, 0, 1 << 20);
  if (r.ok && version != 1) {
    r.fail("snapshot version " + std::to_string(version) + " (this viewer reads version 1)");
    return std::nullopt;
  }
  if (const Value* p = r.member(d, "producer")) {
    Reader::Scope sc(r, "producer");
    r.str(*p, "name", s.producer);
    r.integer(*p, "pid", s.pid, 0, INT64_MAX);
  }
  if (const Value* t = r.member(d, "time")) {
    Reader::Scope sc(r, "time");
    r.integer(*t, "wall_ns", s.wall_ns, INT64_MIN, INT64_MAX);
    r.integer(*t, "monotonic_ns", s.monotonic_ns, INT64_MIN, INT64_MAX);
  }
  if (const Value* w = r.member(d, "world")) {
    Reader::Scope sc(r, "world");
    r.boolean(*w, "running", s.running);
    r.boolean(*w, "stopped", s.stopped);
    r.boolean(*w, "partial", s.partial);
    r.integer(*w, "pause_ns", s.pause_ns, 0, INT64_MAX);
    r.integer(*w, "workers", s.workers, 0, 1 << 20);
    r.u64(*w, "main_goid", s.main_goid);
  }
  if (const Value* gs = r.array(d, "goroutines", kMaxGoroutines)) {
    Reader::Scope sc(r, "goroutines");
    s.goroutines.resize(gs->Size());
    for (rapidjson::SizeType i = 0; i < gs->Size() && r.ok; i++) {
      Reader::Scope si(r, "[" + std::to_string(i) + "]");
      goroutine(r, (*gs)[i], s.goroutines[i]);
    }
  }
  if (const Value* os = r.array(d, "objects", kMaxGoroutines)) {
    Reader::Scope sc(r, "objects");
    s.objects.resize(os->Size());
    for (rapidjson::SizeType i = 0; i < os->Size() && r.ok; i++) {
      Reader::Scope si(r, "[" + std::to_string(i) + "]");
      object(r, (*os)[i], s.objects[i]);
    }
  }
  if (const Value* ms = r.array(d, "maps", 4096)) {
    Reader::Scope sc(r, "maps");
    s.maps.resize(ms->Size());
    for (rapidjson::SizeType i = 0; i < ms->Size() && r.ok; i++) {
      Reader::Scope si(r, "[" + std::to_string(i) + "]");
      map(r, (*ms)[i], s.maps[i]);
    }
  }
  if (!r.ok) return std::nullopt;
  s.goroutine_index.reserve(s.goroutines.size());
  for (size_t i = 0; i < s.goroutines.size(); i++) s.goroutine_index[s.goroutines[i].goid] = i;
  for (size_t i = 0; i < s.objects.size(); i++) s.object_index[s.objects[i].addr] = i;
  return s;
}

}  // namespace goroscope::view
