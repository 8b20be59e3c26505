"""stacks: goroutine stacks from saved registers, symbolized.

A parked goroutine's registers are in its G record (G.sched: sp, pc, bp
and the callee-saved registers); a running one's are its worker thread's
(m.procid is the thread's tid). goro builds with frame pointers, so a
stack is the saved pc followed by the frame-pointer chain: [bp] is the
caller's bp, [bp+8] the return address. The chain is read in one window
from sp (usually a page holds all of it) and bounded by [stack.lo,
stack.hi), at most MAX_FRAMES frames, strictly increasing bp: a corrupt
stack ends the walk, it never loops.

Frames are symbolized by the Target (the debugger's symbol tables),
cached per address, and classified as runtime or user frames by the same
rule as the runtime's own dumps (traceback.cpp: is_runtime_frame).
"""

import functools
import os
import re
from typing import Dict, List

from .errors import MemoryReadError
from .target import Frame

MAX_FRAMES = 100
TAIL_SCAN_MAX = 1 << 16  # bytes of a caller searched for a tail call's jump
WINDOW = 4096

# (goroscope_: goroscope_fatal, the debuggers' stop, which has no file:line
# in a runtime built without -g)
RUNTIME_PREFIXES = ("goro::", "goro_", "goroscope_", "__cxa", "_Unwind", "std::terminate",
                    "__cxxabiv1::", "__gnu_cxx::", "backtrace_", "std::__terminate",
                    "__sanitizer", "__asan", "__tsan", "__interceptor")


def is_runtime_frame(f: Frame) -> bool:
    """goro's own frames and the C++ library's plumbing (std::invoke, std::apply...).

    By name first (a user function's frame may point into a header whose
    code was inlined into it), then, for frames without a name, by file.
    """
    if f.function and (f.function.startswith(RUNTIME_PREFIXES) or f.function.startswith("std::")):
        return True
    if f.function.startswith("_"):
        # A reserved identifier (a leading underscore in the global
        # namespace): the C/C++ implementation's, never a user's function
        # (glibc's __memcpy_avx512_unaligned_erms, _int_malloc: where a
        # worker frozen for a fatal report may be).
        return True
    if not f.function and not f.file:
        return True  # a pc nothing names (a signal trampoline): not the user's
    if "/include/goro/" in f.file or "/runtime/src/" in f.file:
        return True  # goro's sources (a debugger may name an anonymous-namespace function bare)
    if f.file.startswith("/usr/include/"):
        return True  # a system library's inline code (xxhash.h's XXH3 inside goro::Hash)
    return not f.function and "/include/c++/" in f.file


# The C and C++ runtime libraries (by module file name): a frame in one of
# them is never the user's, whatever its name (glibc's sysmalloc, where a
# race that broke the heap aborts; memcpy's ifunc targets).
SYSTEM_LIBRARIES = re.compile(r"^(libc|libm|libstdc\+\+|libgcc_s|ld-linux[-\w]*|libpthread|libdl|"
                              r"librt|libasan|libtsan|libubsan)\.so(\.|$)")


def is_system_library(module: str) -> bool:
    return bool(module) and bool(SYSTEM_LIBRARIES.match(module))


def strip_return_type(name: str) -> str:
    """"int goro::select<A, B>(...)" -> "goro::select<A, B>(...)": the GNU demangler
    prints a template function's return type; GDB's DWARF names do not."""
    if name.startswith("decltype("):  # "decltype(auto) std::apply<...>(...)"
        depth = 0
        for i, c in enumerate(name):
            depth += (c == "(") - (c == ")")
            if depth == 0 and c == ")":
                return strip_return_type(name[i + 1:].lstrip())
    depth = 0
    for i, c in enumerate(name):
        if c in "<({[":
            if c == "(" and depth == 0:
                break
            depth += 1
        elif c in ">)}]":
            depth -= 1
        elif c == " " and depth == 0:
            return strip_return_type(name[i + 1:])
    return name


@functools.lru_cache(maxsize=1 << 16)
def elide_params(s: str) -> str:
    """"ns::f<int>(int, char) const" -> "ns::f<int>" (the runtime's rule, without "(...)")."""
    depth, open_ = 0, -1
    i = 0
    while i < len(s):
        if s.startswith("operator()", i):
            i += 10
            continue
        if s.startswith("(anonymous namespace)", i):
            i += 21
            continue
        if s.startswith("operator<", i) or s.startswith("operator>", i):
            i += 9
            while i < len(s) and s[i] in "<>=":
                i += 1
            continue
        c = s[i]
        if c in "(<{[":
            if depth == 0 and c == "(":
                open_ = i
            depth += 1
        elif c in ")>}]":
            depth -= 1
        i += 1
    return s if open_ < 0 else s[:open_]


def short_path(path: str) -> str:
    """Delve's ShortenFilePath: "./rel" for files under the working directory."""
    return _short_path(os.getcwd(), path)


@functools.lru_cache(maxsize=1 << 14)
def _short_path(cwd: str, path: str) -> str:
    if not path:
        return "?"
    if path.startswith(cwd + "/"):
        return "./" + path[len(cwd) + 1:]
    return path


def template_args(name: str):
    """The top-level arguments of name's first template argument list, or []."""
    i = name.find("<")
    if i < 0 or name.startswith("operator<", max(0, i - 8)):
        return []
    args, depth, start = [], 0, i + 1
    for j in range(i, len(name)):
        c = name[j]
        if c in "<({[":
            depth += 1
        elif c in ">)}]":
            depth -= 1
            if depth == 0:
                args.append(name[start:j].strip())
                return args
        elif c == "," and depth == 1:
            args.append(name[start:j].strip())
            start = j + 1
    return []


def _closure_type(arg: str) -> str:
    arg = arg.strip()
    while arg.endswith(("&", "*")) or arg.endswith(" const"):
        arg = arg[:-1].rstrip() if arg[-1] in "&*" else arg[:-6].rstrip()
    return arg[6:] if arg.startswith("const ") else arg


def _last_component(t: str) -> str:
    """The last `::` component of a qualified name at nesting depth 0
    (`std::_Invoker<std::tuple<f::{lambda()#1}> >` -> `_Invoker<...>`)."""
    depth, start = 0, 0
    for j, c in enumerate(t):
        if c in "<({[":
            depth += 1
        elif c in ">)}]":
            depth -= 1
        elif c == ":" and depth == 0 and t.startswith("::", j):
            start = j + 2
    return t[start:]


def is_lambda_type(t: str) -> bool:
    """A closure type's name in any spelling: GNU `f()::{lambda()#1}`, GDB's
    DWARF `f()::<lambda()>`, LLVM's `f()::'lambda'()`, clang's `f()::$_0`."""
    return _last_component(t).startswith(("{lambda", "<lambda", "'lambda", "$_"))


def lambda_in(name: str, depth: int = 3):
    """The first closure type among name's template arguments, looking
    through wrappers (`std::_Invoker<std::tuple<f::{lambda()#1}> >`), or None."""
    for a in map(_closure_type, template_args(name)):
        if is_lambda_type(a):
            return a
        if depth and (inner := lambda_in(a, depth - 1)):
            return inner
    return None


INVOKERS = ("std::", "goro::detail::closure<")  # frames that call a callable they name


def qualify_lambdas(fs):
    """A lambda's operator() inlined into its caller has only its bare name in
    the debug info (GCC emits no linkage name for it): `operator()`. Its name
    is recovered from its callers in the same inline chain:
      - called by its own static invoker (`f()::{lambda(void*)#1}::_FUN`, a
        captureless lambda converted to a function pointer): that closure;
      - called through the library (std::__invoke_impl<void, f()::<lambda()>&>,
        std::_Function_handler<void (), f::{lambda()#1}>, goro's
        closure<...>::entry) or through a user's template (`retry<F>`): the
        closure type in their template arguments, in the demangler's spelling
        when one of them (an ELF symbol) has it, as every other frame of a
        lambda prints, else DWARF's;
      - inlined straight into a user function F (no template names it): a
        lambda's type can only be named where it is defined, so it is F's own
        lambda, `F::{lambda}::operator()` (the debug info keeps neither its
        number nor, for GDB, its parameters: `{lambda}` says which is not
        known). A chain of such lambdas qualifies outermost first.
    The runtime (traceback.cpp) applies the same rules to its dumps. fs: one
    pc's frames, innermost first (modified in place)."""
    for i in range(len(fs) - 2, -1, -1):
        f = fs[i]
        if not f.function.startswith("operator()") or "::" in f.function:
            continue
        scope = None
        outer = elide_params(fs[i + 1].function)
        if outer.endswith("::_FUN"):
            scope = outer[:-len("::_FUN")]
        else:
            found = []
            for o in fs[i + 1:]:
                t = lambda_in(o.function)
                found += [t] if t else []
                if not o.function.startswith(INVOKERS) and "/include/c++/" not in o.file:
                    break
            gnu = [t for t in found if _last_component(t).startswith("{lambda")]
            scope = gnu[0] if gnu else _drop_scope_params(found[0]) if found else None
            o = fs[i + 1]
            if scope is None and o.function and not is_runtime_frame(o) and \
                    "/include/c++/" not in o.file:
                scope = o.function + "::{lambda}"
        if scope:
            # (with its parameter list, so that elide_params keeps the scope)
            f.function = f"{scope}::{f.function}{'()' if f.function == 'operator()' else ''}"


def _drop_scope_params(t: str) -> str:
    """GDB's DWARF spelling of a local class's scope, `f(int)::<lambda()>`,
    as the demangler's `f::<lambda()>`: a function's parameter list before a
    `::` is dropped (what display elides anyway, and it would elide the rest)."""
    out, depth, i = [], 0, 0
    while i < len(t):
        c = t[i]
        if c == "(" and depth == 0 and not t[:i].endswith("operator") and \
                not t[:i].endswith(("<lambda", "{lambda", "'lambda'")):
            j, d = i, 0
            while j < len(t):
                d += (t[j] == "(") - (t[j] == ")")
                if d == 0:
                    break
                j += 1
            for tail in ("::", " const::"):
                if t.startswith(tail, j + 1):
                    i = j + 1 + len(tail) - 2  # drop "(...)" (and " const")
                    break
            else:
                tail = None
            if tail:
                continue
        if c in "<{[":
            depth += 1
        elif c in ">}]":
            depth -= 1
        out.append(c)
        i += 1
    return "".join(out)


class Symbolizer:
    """Symbolized frames per address, cached for the life of the program's text."""

    def __init__(self, target):
        self.target = target
        self.cache = {}
        self.user = {}
        self.tails = {}  # (return address, callee pc) -> jump address or None
        self.ranges = {}  # pc -> its function's (start, end) or None

    def frames(self, pc: int, is_return=True):
        """Frames (innermost first) of a return address (looked up at pc-1) or an entry."""
        key = pc - 1 if is_return and pc else pc
        fs = self.cache.get(key)
        if fs is None:
            try:
                fs = self.target.symbolize(key) if key > 0 else []
            except Exception:  # noqa: BLE001 - a debugger lookup error is "unknown"
                fs = []
            if not fs:
                fs = [Frame("", "", 0, key)]
            for f in fs:
                f.pc = pc
                if "/." in f.file or f.file.startswith("./"):
                    # "./posix/../sysdeps/x.c" (GDB, a relative DW_AT_name) and
                    # "sysdeps/x.c" (LLDB): one spelling
                    f.file = os.path.normpath(f.file)
            qualify_lambdas(fs)
            self.cache[key] = fs
            # The first user frame among these (None: all runtime), for user_frame.
            self.user[key] = None if self._in_system_library(key) else \
                next((f for f in fs if f.function and not is_runtime_frame(f)), None)
        return fs

    def _in_system_library(self, pc) -> bool:
        try:
            return is_system_library(self.target.module_of(pc))
        except Exception:  # noqa: BLE001 - unknown module: decide by name
            return False

    def tail_calls(self, pcs) -> Dict[int, List[int]]:
        """{k: [the address of the jump]} for each physical frame k of pcs that
        was entered by a tail call from the function its caller called.

        A call compiled as a jump (clang -O2: `[this] { serve(); }` is `jmp
        Server::serve`) leaves no frame: the return address in frame k+1
        follows `call F`, but frame k runs G. When that call is direct (E8
        rel32) and F holds exactly one direct jump to G's entry (E9 rel32),
        that jump is where F's code (and what it inlined: the lambda, at the
        user's line) handed over. Indirect calls, chains of several tail
        calls and ambiguous jumps are left alone (GDB 13 refuses the same:
        "no unambiguously determinable intermediate callers"). LLDB reads
        DW_TAG_call_site records instead; this needs only the text, so it
        works the same in GDB, LLDB and on cores. Cached per (return address,
        callee)."""
        out = {}
        for k in range(len(pcs) - 1):
            key = (pcs[k + 1], pcs[k])
            hit = self.tails.get(key, -1)
            if hit == -1:
                hit = self.tails[key] = self._tail_call(*key)
            if hit is not None:
                out[k] = [hit]
        return out

    def _range(self, pc):
        r = self.ranges.get(pc, -1)
        if r == -1:
            try:
                r = self.target.function_range(pc)
            except Exception:  # noqa: BLE001 - a debugger lookup error is "unknown"
                r = None
            self.ranges[pc] = r
        return r

    def _tail_call(self, ret, callee_pc):
        read = self.target.read
        try:
            ins = read(ret - 5, 5)
        except MemoryReadError:
            return None
        if len(ins) != 5 or ins[0] != 0xE8:
            return None
        f = (ret + int.from_bytes(ins[1:], "little", signed=True)) & (1 << 64) - 1
        g = self._range(callee_pc - 1)
        if g is None or g[0] == f:
            return None
        fr = self._range(f)
        if fr is None or fr[0] != f or not 0 < fr[1] - f <= TAIL_SCAN_MAX:
            return None
        try:
            code = read(f, fr[1] - f)
        except MemoryReadError:
            return None
        hits = []
        i = code.find(b"\xe9")
        while 0 <= i <= len(code) - 5:
            if f + i + 5 + int.from_bytes(code[i + 1:i + 5], "little", signed=True) == g[0]:
                hits.append(f + i)
            i = code.find(b"\xe9", i + 1)
        return hits[0] if len(hits) == 1 else None

    def user_frame(self, pcs, parked=True):
        """(frame, depth) of the first non-runtime frame, or the first frame.

        parked: pcs[0] is a saved return address too (a switched-out goroutine).
        pcs may be an iterator: it is consumed only up to the user frame.
        """
        first = None
        cache, user = self.cache, self.user
        for depth, pc in enumerate(pcs):
            ret = depth > 0 or parked
            key = pc - 1 if ret and pc else pc
            if key not in cache:
                self.frames(pc, ret)
            u = user[key]
            if u is not None:
                return u, depth
            if first is None:
                first = (cache[key][0], depth)
        return first if first else (Frame("", "", 0, 0), 0)


def user_location(sym, read, pc, sp, bp, lo, hi, parked, window=WINDOW):
    """user_frame(walk_iter(...)) without the generator: the hot path of a
    goroutine listing (one window read, the frame chain walked over 8-byte
    words, one dict lookup per frame; bench/gdb). read: Target.read_view.
    The window is a page (at most up to hi): a read costs the same from 1 to
    4 KiB, and a goroutine parked in a select or on a Mutex has its user
    frame 1.5-2 KiB above sp (bench/gdb's mixed shape: 20% more reads with 1 KiB)."""
    cache, user = sym.cache, sym.user
    first = None
    depth = 0
    if pc:
        key = pc - 1 if parked else pc
        if key not in cache:
            sym.frames(pc, parked)
        u = user[key]
        if u is not None:
            return u
        first = cache[key][0]
        depth = 1
    if not (lo <= sp <= hi) or hi - lo > 1 << 36 or bp < lo or bp + 16 > hi or bp & 7:
        return first or Frame("", "", 0, 0)
    base = min(sp, bp) & ~7
    end = min(hi, base + window)
    try:
        words = memoryview(read(base, end - base)).cast("Q")
    except Exception:  # noqa: BLE001 - read_view: unreadable memory, any debugger's error
        return first or Frame("", "", 0, 0)
    nwords = len(words)
    while depth < MAX_FRAMES:
        o = (bp - base) >> 3
        if o + 1 >= nwords:
            if bp + 16 > hi:
                break
            base = bp
            end = min(hi, bp + WINDOW)
            try:
                words = memoryview(read(base, end - base)).cast("Q")
            except Exception:  # noqa: BLE001 - as above
                break
            nwords = len(words)
            o = 0
        nxt, ret = words[o], words[o + 1]
        if not ret:
            break
        key = ret - 1
        if key not in cache:
            sym.frames(ret, True)
        u = user[key]
        if u is not None:
            return u
        if first is None:
            first = cache[key][0]
        depth += 1
        if nxt <= bp or nxt + 16 > hi or nxt & 7:
            break
        bp = nxt
    return first or Frame("", "", 0, 0)


def walk(read, pc, sp, bp, lo, hi, limit=MAX_FRAMES):
    """[pc, return addresses...] along the frame-pointer chain within [lo, hi)."""
    return list(walk_iter(read, pc, sp, bp, lo, hi, limit))


def walk_iter(read, pc, sp, bp, lo, hi, limit=MAX_FRAMES, window=1024):
    """walk's addresses one by one, reading the stack in windows of `window`
    bytes (most chains to the first user frame fit in the first one)."""
    if pc:
        yield pc
    n = 1 if pc else 0
    if not (lo <= sp <= hi) or hi - lo > 1 << 36:
        return
    base = max(lo, min(sp, bp) if bp else sp) & ~7
    end = min(hi, base + window)
    try:
        win = read(base, end - base) if end > base else b""
    except MemoryReadError:
        return
    while n < limit:
        if bp < lo or bp + 16 > hi or bp & 7:
            return
        if not (base <= bp and bp + 16 <= base + len(win)):
            base = bp
            end = min(hi, bp + WINDOW)
            try:
                win = read(base, end - base)
            except MemoryReadError:
                return
        o = bp - base
        nxt = int.from_bytes(win[o:o + 8], "little")
        ret = int.from_bytes(win[o + 8:o + 16], "little")
        if not ret:
            return
        yield ret
        n += 1
        if nxt <= bp:
            return
        bp = nxt
