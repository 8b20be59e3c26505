/* goro/debug_abi.h — the layout descriptor: the one contract between libgoro
 * and the tools that read it from outside (the GDB and LLDB plugins, from a
 * live process, a core file or a remote stub; the viewer via snapshots).
 *
 * libgoro exports one object, `goroscope_layout` (extern "C", default
 * visibility, kept in the dynamic symbol table by the goro::runtime link
 * options, so `strip` does not remove it):
 *
 *   offset 0   goroscope_layout_header   (32 bytes)
 *     magic        "goroscope-abi\0\0\0"  (16 bytes)
 *     version      GOROSCOPE_LAYOUT_VERSION
 *     header_size  32
 *     entry_size   64 (sizeof(goroscope_entry))
 *     count        number of entries that follow
 *   offset 32  goroscope_entry[count]    (64 bytes each)
 *     name   NUL-terminated, at most 47 characters
 *     kind   GOROSCOPE_TYPE | FIELD | CONST | ENUM | GLOBAL
 *     size   bytes (types, fields, globals); 0 for constants and enums
 *     value  see the kinds below
 *
 * Kinds (names are the C++ names, Go's where goro ports a Go structure):
 *   TYPE    "G"                     size = sizeof, value = alignof
 *   FIELD   "G.goid", "gobuf.sp"    size = sizeof the field, value = offset in
 *                                   the type named before the first '.'
 *   CONST   "tophash.emptyRest"     value (as unsigned 64-bit)
 *   ENUM    "waitReason.chan receive"  value = the number whose string is the
 *                                   text after the first '.' (Go's strings)
 *   GLOBAL  "sched"                 value = address (relocated in the running
 *                                   process, hence also in its core), size =
 *                                   sizeof the object
 *
 * A tool reads the header (checks magic and version), then all entries in
 * one memory read, and indexes them by name. Nothing is filled in by hand:
 * debug_layout.cpp builds the table with offsetof/sizeof/alignof at compile
 * time, and tests/runtime/debug_test.cpp checks it against the C++
 * definitions. docs/debug-abi.md lists every entry and how to find the
 * symbol without debug info.
 *
 * Versioning: entries are only ever added. GOROSCOPE_LAYOUT_VERSION changes
 * when an existing entry changes meaning (not when an offset moves: offsets
 * are data). A tool refuses a version it does not know.
 *
 * Rejected: a text blob ("G.goid=80:8\n...") (needs a parser in every tool
 * and cannot carry relocated addresses); pointers to name strings (one
 * memory read per entry, and unrelocated pointers in a binary without a
 * process); DWARF (stripped binaries have none; the issue requires the
 * descriptor to survive stripping).
 *
 * Plain C so that any tool (and a C compiler) can include it. */
#ifndef GORO_DEBUG_ABI_H
#define GORO_DEBUG_ABI_H

#include <stdint.h>

#define GOROSCOPE_LAYOUT_SYMBOL "goroscope_layout"
#define GOROSCOPE_LAYOUT_MAGIC "goroscope-abi"
#define GOROSCOPE_LAYOUT_VERSION 1

enum goroscope_kind {
  GOROSCOPE_TYPE = 1,
  GOROSCOPE_FIELD = 2,
  GOROSCOPE_CONST = 3,
  GOROSCOPE_ENUM = 4,
  GOROSCOPE_GLOBAL = 5
};

struct goroscope_entry {
  char name[48];
  uint32_t kind; /* enum goroscope_kind */
  uint32_t size;
  union {
    uint64_t value;
    const void* addr; /* GLOBAL: lets the compiler emit the address constant */
  };
};

struct goroscope_layout_header {
  char magic[16];
  uint32_t version;
  uint32_t header_size;
  uint32_t entry_size;
  uint32_t count;
};

#ifdef __cplusplus
static_assert(sizeof(goroscope_entry) == 64 && sizeof(goroscope_layout_header) == 32,
              "the descriptor's byte layout is the ABI (docs/debug-abi.md)");
extern "C" {
#endif

/* goroscope_layout is the header immediately followed by its entries. */
extern const struct goroscope_layout_header goroscope_layout;

/* goroscope_fatal is where a debugger stops on a fatal error, as Delve stops
 * on Go's runtime.fatalthrow. libgoro calls it once, on the thread reporting
 * the error (Go's throw: "concurrent map writes", "all goroutines are asleep
 * - deadlock!", stack overflow; or an unrecovered panic: panic != 0), after
 * the error's first line is written and before the goroutine dump and the
 * exit: a debugger breaking here sees the program as the error found it (the
 * map still hashWriting, its writer recorded; every goroutine parked). It does
 * nothing else. Like goroscope_layout it is in the dynamic symbol table. */
#define GOROSCOPE_FATAL_SYMBOL "goroscope_fatal"
void goroscope_fatal(const char* message, int panic);

/* goroscope_snapshot_stopped returns the runtime's own snapshot
 * (docs/snapshot-format.md; frames and map buckets omitted) of a process a
 * debugger has stopped, for an inferior call while every other thread stays
 * stopped (GDB: scheduler-locking on): the world counts as stopped, so
 * nothing is stopped, waited for or locked. sp is the calling thread's
 * stack pointer at the stop, where the live stack of its goroutine starts;
 * a goroutine running on another thread makes referenced_by unknown. The
 * text stays valid until the next call. For tests that hold the runtime's
 * snapshot against a debugger's at a fatal stop or a breakpoint
 * (tests/gdb/test_live_verdicts.py). */
const char* goroscope_snapshot_stopped(uintptr_t sp);

#ifdef __cplusplus
}
#endif

#endif /* GORO_DEBUG_ABI_H */
