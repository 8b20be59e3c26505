"""target: goroscope.target.Target over GDB's Python API (memory reads only)."""

import bisect
import os
import re
import time

import gdb

from goroscope.errors import MemoryReadError
from goroscope import addr2line as a2l
from goroscope.stacks import strip_return_type
from goroscope.target import Frame, Target, Thread

_REGS = ("rip", "rsp", "rbp")


def connection_type():
    """"native", "core", "remote", "extended-remote", or "" (no process)."""
    inf = gdb.selected_inferior()
    conn = getattr(inf, "connection", None)
    if conn is not None:
        return conn.type
    return "native" if inf.pid else ""


class GdbTarget(Target):
    def __init__(self):
        self._gen = 0
        self._symbols = {}
        self._inf = None
        self._lines = {}  # symtab file -> sorted (pc, line) rows
        self._tpcs = {}  # tid -> physical frames' pcs (this stop)

    def generation_bump(self):
        self._gen += 1
        self._symbols = {}
        self._inf = None
        self._tpcs = {}

    def generation(self):
        return self._gen

    def read(self, addr, size):
        inf = self._inf
        if inf is None or not inf.is_valid():
            inf = self._inf = gdb.selected_inferior()
        try:
            return bytes(inf.read_memory(addr, size))
        except (gdb.MemoryError, gdb.error, OverflowError, ValueError):
            raise MemoryReadError(addr, size) from None

    def read_view(self, addr, size):
        inf = self._inf
        if inf is None:
            inf = self._inf = gdb.selected_inferior()
        return inf.read_memory(addr, size)  # a gdb.Membuf: no copy

    def symbol_address(self, name):
        if name in self._symbols:
            return self._symbols[name]
        addr = None
        try:
            # Minimal symbols too (a stripped program keeps .dynsym): an
            # expression resolves them where lookup_global_symbol cannot.
            addr = int(gdb.parse_and_eval(f"(unsigned long)&'{name}'"))
        except gdb.error:
            addr = None
        self._symbols[name] = addr
        return addr

    def threads(self):
        inf = gdb.selected_inferior()
        out = []
        try:
            cur = gdb.selected_thread()
        except gdb.error:
            cur = None
        frame = None
        try:
            frame = gdb.selected_frame()
        except gdb.error:
            pass
        try:
            for th in inf.threads():
                if not th.is_valid():
                    continue
                regs = {}
                try:
                    th.switch()
                    f = gdb.newest_frame()
                    for r in _REGS:
                        regs[r] = int(f.read_register(r)) & ((1 << 64) - 1)
                except gdb.error:
                    pass
                out.append(Thread(th.num, th.ptid[1] or th.ptid[0], regs))
        finally:
            if cur is not None and cur.is_valid():
                cur.switch()
                if frame is not None and frame.is_valid():
                    frame.select()
        return out

    def thread_pcs(self, tid):
        """The thread's physical frames by GDB's unwinder (inlined frames share
        their pc and are skipped), at most 256; the selection is restored."""
        if tid in self._tpcs:
            return self._tpcs[tid]
        pcs = None
        try:
            cur = gdb.selected_thread()
        except gdb.error:
            cur = None
        try:
            frame = gdb.selected_frame()
        except gdb.error:
            frame = None
        try:
            for th in gdb.selected_inferior().threads():
                if th.is_valid() and (th.ptid[1] or th.ptid[0]) == tid:
                    th.switch()
                    pcs, f = [], gdb.newest_frame()
                    while f is not None and len(pcs) < 256:
                        if f.type() != gdb.INLINE_FRAME:
                            pcs.append(int(f.pc()))
                        f = f.older()
                    break
        except gdb.error:
            pcs = pcs or None
        finally:
            if cur is not None and cur.is_valid():
                cur.switch()
                if frame is not None and frame.is_valid():
                    frame.select()
        self._tpcs[tid] = pcs
        return pcs

    def selected_thread(self):
        try:
            th = gdb.selected_thread()
        except gdb.error:
            return None
        return (th.ptid[1] or th.ptid[0]) if th else None

    def module_of(self, pc):
        name = gdb.solib_name(pc)
        if name:
            return os.path.basename(name)
        prog = gdb.current_progspace()
        return os.path.basename(prog.filename) if prog and prog.filename else ""

    def symbolize(self, pc):
        """Frames at pc, innermost first, inlined calls expanded.

        GDB nests a lambda's (or local class's) function block inside the
        enclosing function's, so the chain of function blocks stops at the
        physical function: the block that starts at pc's minimal symbol.
        An inlined function's symbol carries DW_AT_call_file/line, so each
        outer level's location is its inner level's call site, exactly.
        """
        try:
            block = gdb.block_for_pc(pc)
        except RuntimeError:
            block = None
        sal = gdb.find_pc_line(pc)
        file = sal.symtab.fullname() if sal.symtab else ""
        msym, mstart = minimal_symbol(pc)
        if msym.endswith(" [clone .cold]") and mstart is not None:
            # The cold part of a function GCC split: GDB's blocks there lose
            # inline levels (and so the user's line); addr2line reads them.
            chain = cold_chain(pc, mstart)
            if chain:
                return a2l.frames_from_chain(
                    chain, pc, strip_return_type(msym[:-len(" [clone .cold]")]))
        funcs = []
        b = block
        while b is not None and not (b.is_global or b.is_static):
            if b.function is not None:
                if funcs and not (b.start <= funcs[-1].start and funcs[-1].end <= b.end):
                    # Not inlined into b: a lambda's (or local class's) own function,
                    # which GDB nests in its enclosing function's block. (Its start
                    # is not the ELF symbol's when GCC split it into hot and cold
                    # parts: the block then starts at the cold part.)
                    break
                funcs.append(b)
                if mstart is not None and b.start == mstart:
                    break
            b = b.superblock
        if not funcs:
            return [Frame(msym, file, sal.line, pc)] if msym or file else []
        own = funcs[0].function.symtab
        if len(funcs) == 1 and own is not None and own.fullname() != file and mstart:
            # A header's line with no inline block for it in GDB (g++ -O2
            # inlines goro::select's case helpers this way, -O1 line tables
            # too): addr2line reads the line table's rows as LLDB and the
            # runtime do (functor.cpp:20, the call, where GDB's previous
            # is_stmt row is line 19) and any inline chain GDB lacks.
            chain = cold_chain(pc, mstart)
            if chain and chain[-1][1] == own.fullname():
                name = funcs[0].function.print_name
                if msym and "(" in name:
                    name = strip_return_type(msym)
                return a2l.frames_from_chain(chain, pc, name)
        frames = []
        for i, fb in enumerate(funcs):
            name = fb.function.print_name
            if i == 0:
                f_file, f_line = file, sal.line
                own = fb.function.symtab
                if len(funcs) == 1 and own is not None and own.fullname() != file:
                    # Code of a header inlined without an inline block (-O1
                    # line tables do that): report the function's own line.
                    # (A physical function only: an inlined function's symbol
                    # carries its call site's file, not its own.)
                    f_file, f_line = self.own_line(own, fb.start, pc) or (file, sal.line)
                elif own is not None and own.fullname() != file and mstart:
                    # An inlined level at a header's row with no inline block
                    # for it: several rows share pc (location views) and GDB
                    # picks the last is_stmt one (unique_ptr.h:191 in a
                    # recursive walk() g++ -O3 inlined into itself), where
                    # addr2line reads the last row, the call (recursion.cpp:35).
                    chain = cold_chain(pc, mstart)
                    if len(chain) == len(funcs) and chain[0][1] == own.fullname():
                        f_file, f_line = chain[0][1], chain[0][2]
            else:
                inner = funcs[i - 1].function
                f_file = inner.symtab.fullname() if inner.symtab else ""
                f_line = inner.line
                own = fb.function.symtab
                if i == len(funcs) - 1 and own is not None and own.fullname() != f_file:
                    # The physical function "called" its innermost recorded
                    # level from a header: GCC dropped the levels between (a
                    # map write at -O2: writer -> [mapassign] -> begin_write,
                    # call site map.h:995). Its own line instead.
                    f_file, f_line = self.own_line(own, fb.start, pc) or (f_file, f_line)
            last = i == len(funcs) - 1
            if last and msym and "(" in name:
                # The physical function by its ELF symbol, demangled the GNU way
                # (as LLDB's adapter and the runtime name it): "operator()()
                # const" -> "main::{lambda()#1}::operator()() const", and the
                # demangler's spelling of lambdas in template arguments
                # ("_Function_handler<void (), main::{lambda()#1}>", not DWARF's
                # "main()::<lambda()>"). A C function ("__libc_pause", no parameter
                # list) keeps its DWARF name, not whichever ELF alias ("pause")
                # `info symbol` picks.
                name = strip_return_type(msym)
            frames.append(Frame(name, f_file, f_line, pc, inlined=not last))
        return frames

    def function_range(self, pc):
        """The ELF symbol's start; the end of the function block starting there
        (GDB's Python has no minimal symbol sizes)."""
        _, start = minimal_symbol(pc)
        if start is None:
            return None
        try:
            b = gdb.block_for_pc(start)
        except RuntimeError:
            return None
        while b is not None and not (b.is_global or b.is_static):
            if b.function is not None and b.start == start:
                return (start, b.end)
            b = b.superblock
        return None

    def own_line(self, symtab, start, pc):
        """(file, line) of the last row of symtab's line table in [start, pc], or None."""
        key = symtab.fullname()
        rows = self._lines.get(key)
        if rows is None:
            try:
                rows = sorted((e.pc, e.line) for e in symtab.linetable() if e.line > 0)
            except (gdb.error, RuntimeError):
                rows = []
            self._lines[key] = rows
        i = bisect.bisect_right(rows, (pc, 1 << 62)) - 1
        if i >= 0 and rows[i][0] >= start:
            return key, rows[i][1]
        return None

    def core_time_ns(self):
        if connection_type() != "core":
            return None
        try:
            info = gdb.execute("info target", to_string=True)
        except gdb.error:
            return None
        m = re.search(r"Local core dump file:\s*\n?\s*`([^']+)'", info)
        if not m:
            return None
        try:
            return os.stat(m.group(1)).st_mtime_ns
        except OSError:
            return None

    def now_ns(self):
        return None if connection_type() in ("core", "") else time.monotonic_ns()


def cold_chain(pc, mstart):
    """addr2line's inline chain for pc (a `[clone .cold]` part, or code GDB
    has no inline block for), found by its mangled ELF symbol and offset (no
    load bias needed), or []."""
    demangle = gdb.parameter("print demangle")
    try:
        gdb.execute("set print demangle off", to_string=True)
        s = gdb.execute(f"info symbol {pc:#x}", to_string=True)
    except gdb.error:
        return []
    finally:
        gdb.execute(f"set print demangle {'on' if demangle else 'off'}", to_string=True)
    mangled = s.split(" in section ")[0].strip().rpartition(" + ")[0] or s.split()[0]
    path = gdb.solib_name(pc) or gdb.current_progspace().filename
    return a2l.addr2line(path, f"{mangled}+{pc - mstart:#x}") if mangled else []


def minimal_symbol(pc):
    """(demangled name, start address) of the ELF symbol containing pc, or ("", None)."""
    try:
        s = gdb.execute(f"info symbol {pc:#x}", to_string=True)
    except gdb.error:
        return "", None
    if s.startswith("No symbol"):
        return "", None
    head = s.split(" in section ")[0].strip()
    name, plus, off = head.rpartition(" + ")
    if not plus:
        return head, pc
    try:
        return name, pc - int(off, 0)
    except ValueError:
        return name, None
