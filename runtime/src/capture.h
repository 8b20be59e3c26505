// capture.h — one capture of the runtime's state, two renderers: the Go-style
// goroutine dump (traceback.cpp: fatal errors, SIGQUIT, leak reports) and the
// JSON snapshot (snapshot.cpp: goro::debug::snapshot, the live endpoint).
//
// capture_state copies, with the world stopped or not (the dump of a dying
// process does not stop it), everything a renderer needs into plain values:
// per goroutine its record fields and raw return addresses (frame-pointer
// walk of a parked stack, bounded by the stack; libbacktrace unwinding for
// the calling goroutine), the objects goroutines wait on and the named
// objects (wait queues: with the world fully stopped rebuilt afterwards
// from the copied sudogs' links, else read under the object's own lock),
// and the named
// maps' buckets (keys and elems rendered to text from raw bytes by the
// map's type descriptor, as a debugger would). Nothing captured points back
// into the runtime except object addresses used as identities. Symbolizing
// (slow: DWARF lookups) happens afterwards, outside the pause, and so do
// the frame walks of blocked goroutines (checked against G.runs: see
// walk_stacks in capture.cpp). Who references each waited-on object (the
// snapshot's referenced_by) is a scan of every goroutine's live stack,
// after the restart, each parked stack before it can change: see
// "references" in capture.cpp.
//
// Safety when the world is not (fully) stopped: G records are never freed,
// stacks are never unmapped during a run, and every pointer followed (fp
// chain, sudog list, overflow chain) is bounded; a goroutine left running
// is reported without a stack and without its labels (it may free them).
#pragma once

#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "proc.h"

namespace goro::detail {

struct maptype;

// capwait is one sudog of a blocked goroutine: what it waits on.
struct capwait {
  const void* obj;
  objkind kind;
  bool isRead;        // channels: receive; rwmutex: as a reader
  bool isSelect;      // one case of a select
  uint64_t goid;      // the waiting goroutine
  const sudog* addr;  // the sudog, and its wait-queue successor: queues are
  const sudog* next;  // rebuilt from these after the world restarts
};

// capg is one goroutine.
struct capg {
  uint64_t goid;
  uint64_t parent;
  uint32_t status;  // gstatus
  waitReason reason;
  bool current;        // the capturing goroutine (its stack is the caller's)
  bool nostack;        // running on a worker that was not stopped
  bool frozen;         // running on a worker frozen for a fatal report (freeze_others)
  bool elided;         // its frame chain goes on past kMaxFrames (dumps say so, as Go does)
  bool stale;          // it ran before its stack could be read (see capture_state)
  int32_t m;           // worker while running, -1 otherwise
  int64_t waitsince;   // nanotime clock (coarse), 0 if unknown
  int64_t createtime;  // nanotime clock (coarse)
  uintptr_t gopc, startpc;
  uintptr_t stacklo, stackhi;
  uintptr_t sp, pc, bp;  // saved registers (parked), 0 otherwise
  char name[32];
  std::string labels;   // "k=v\0k=v\0" (without the final extra NUL)
  uint32_t pc0, npc;    // its return addresses: capture::pcs[pc0, pc0+npc)
  uint32_t w0, nw;      // its waits: capture::waits[w0, w0+nw)
  const void* rlocked;  // G.rlocked: the RWMutex it holds a read lock of (readLockers)
  const G* gp;          // while its stack walk is pending (capture_state), else null
  uint16_t runs;        // gp->runs when captured
  // References (capture.cpp's scan_stack): the waited-on objects its live
  // stack holds (indices into capture::reftargets, unsorted, repeated), and
  // its G while that scan is left to after the pause (G.refscan), else null.
  std::vector<uint32_t> refs;
  G* refg;
  uint64_t refbytes;  // live stack bytes scanned
  bool refover;       // not scanned: its live stack is over the bound
};

// capobj is one object: waited on by some goroutine, or named (or both).
struct capobj {
  const void* addr;
  objkind kind;
  std::string name;  // "" unless named
  std::string type;  // element type (channels), key/elem types (maps)
  std::vector<std::pair<const char*, int64_t>> ints;                 // kind-specific fields
  std::vector<std::pair<const char*, std::vector<uint64_t>>> lists;  // waiter goids by role
  std::vector<const sudog*> heads;      // lists[i]'s queue head while it is still to be resolved
  int32_t map = -1;                     // index into capture::maps for named maps
  bool refknown = false;                // referenced_by below is known (see capture::refs)
  std::vector<uint64_t> referenced_by;  // goids whose live stack holds it, ascending
};

// capslot is one occupied slot's text: [k, k+kn) and [v, v+vn) of capture::text.
struct capslot {
  uint32_t k, kn, v, vn;
};
// capbucket is one bucket of a chain (chainpos 0: the array's own bucket).
struct capbucket {
  uint64_t index;  // bucket number in its array
  uint32_t chainpos;
  uint8_t tophash[8];
  uintptr_t addr;
  uintptr_t overflow;
  capslot slots[8];
};
// caparray is one bucket array (current or old), or the captured page of it.
struct caparray {
  uintptr_t addr = 0;
  uint64_t nbuckets = 0;  // 2^B (or 2^oldB)
  uint64_t first = 0;     // captured page: buckets [first, first+count)
  uint64_t count = 0;
  bool truncated_chain = false;  // some overflow chain was longer than the bound
  std::vector<capbucket> buckets;
};
struct capmap {
  int64_t count;
  uint8_t flags, B;
  uint16_t noverflow;
  uint32_t hash0;
  uintptr_t nevacuate;
  uint64_t writer;  // Who token of the last writer that set hashWriting
  const maptype* type;
  caparray cur, old;  // old.addr == 0 unless growing
  bool omitted;       // buckets not captured (world not stopped, or maps off)
  // Incremental copy (capture.cpp, "maps in slices"): the stops its buckets
  // took (0: copied in the first pause), and whether the header -- count,
  // arrays, B, nevacuate, noverflow, flags but hashWriting -- was the same
  // at the last stop as at the first.
  uint32_t stops = 0;
  bool consistent = true;
  int64_t copy_ns = 0;      // first stop to last restart
  int64_t max_stop_ns = 0;  // the longest of those stops (stop request to restart)
  uint32_t slow_stops = 0;  // of those, the ones over 1 ms
};

struct captureopts {
  bool stop = true;  // stop the world (false: the dump of a dying process)
  int64_t timeout_ns = 20'000'000;
  bool frames = true;
  bool objects = true;  // waited-on and named objects
  bool maps = true;     // named maps' buckets (needs the world stopped)
  std::string map;      // only this named map ("" = all)
  uint64_t bucket_offset = 0;
  uint64_t bucket_limit = 4096;           // 0 = all
  bool refs = false;                      // referenced_by (needs the world stopped)
  uintptr_t self_sp = 0;                  // the capturing goroutine's live stack starts here (refs)
  bool debugger_stopped = false;          // every thread is stopped by a debugger: no stop,
                                          // no locks (goroscope_snapshot_stopped)
  const G* only = nullptr;                // capture just these goroutines (leak reports) ...
  const std::vector<G*>* list = nullptr;  // ... (list != null)
};

struct capture {
  int64_t now = 0;       // nanotime when captured
  int64_t walltime = 0;  // CLOCK_REALTIME ns when captured
  bool running = false;  // inside goro::run
  bool stopped = false;  // the world was stopped
  bool partial = false;  // some worker did not reach a safe point
  int64_t pause_ns = 0;  // stop request to restart
  int32_t nm = 0;
  uint64_t maingoid = 0;
  std::vector<int32_t> running_workers;
  std::vector<capg> gs;
  std::vector<uintptr_t> pcs;
  std::vector<capwait> waits;
  std::vector<capobj> objs;
  std::vector<capmap> maps;
  std::string text;                   // map keys/elems
  bool refs = false;                  // referenced_by known for every waited-on object
  bool refs_unreadable = false;       // some goroutine's stack cannot be scanned (running)
  uint64_t refs_bytes = 0;            // stack bytes scanned for it
  int64_t refs_ns = 0;                // the scan after the restart (stop-the-world captures)
  std::vector<uintptr_t> reftargets;  // the waited-on objects' addresses, sorted
};

// capture_state fills `out` (see the file comment). Callable from a
// goroutine, a worker, or a plain thread.
void capture_state(capture& out, const captureopts& o);

// frame is one symbolized frame.
struct frame {
  std::string fn;    // demangled, with parameters
  std::string file;  // may be empty
  int line;
  uintptr_t pc;     // return address (or faulting pc)
  uintptr_t entry;  // function start (0 if unknown / inlined)
  bool inlined;
  bool runtime;       // is_runtime_frame, computed once
  std::string brief;  // elide_params(fn), computed once
};
// frames_of returns the frames (innermost first, inlined calls expanded)
// of a return address (is_return: looked up at pc - 1) or of a function
// entry; cached for the process's life (thread-safe).
const std::vector<frame>& frames_of(uintptr_t pc, bool is_return = true);
// tail_call returns the address of the jump by which the function called
// just before return address `ret` handed over to the function running at
// return address `callee` (a call compiled as a jump leaves no frame: clang
// -O2 makes `[this] { serve(); }` a `jmp Server::serve`), or 0: the call
// before `ret` is a direct `call F`, F is not the callee's function, and F
// holds exactly one direct `jmp` to the callee's entry. Indirect calls,
// chains of tail calls and ambiguous jumps give 0 (GDB 13 declines the same
// cases; python/goroscope/stacks.py Symbolizer.tail_calls is this rule for
// the debuggers). Cached for the process's life (thread-safe).
uintptr_t tail_call(uintptr_t ret, uintptr_t callee);
// stack_frames returns goroutine g's frames in c, innermost first: each
// pc's (frames_of), then those of a tail call into it (tail_call).
std::vector<const frame*> stack_frames(const capture& c, const capg& g);
bool is_runtime_frame(const frame& f);
bool show_system_frames();                       // GOROTRACEBACK=system
std::string elide_params(const std::string& s);  // "f(int) const" -> "f(...)"

// Text renderers (traceback.cpp): Go's goroutine dump.
std::string render_header(const capture& c, const capg& g);
std::string render_stack(const capture& c, const capg& g);  // frames + "created by"
std::string render_dump(const capture& c);

}  // namespace goro::detail
