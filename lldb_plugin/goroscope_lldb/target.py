"""target: goroscope.target.Target over LLDB's SB API (memory reads only).

Names match the GDB adapter's, so both plugins print the same text: inlined
levels come from the blocks (their call sites are exact), the physical
function's name is its ELF symbol demangled the GNU way (c++filt, as GDB
prints a lambda: `main::{lambda()#1}::operator()() const`, where LLVM's
demangler would say `'lambda'()`). Where LLDB 16 parses no DWARF function
for an address (a function GCC split into hot and cold parts, DW_AT_ranges),
binutils' addr2line reads the inline chain instead (one process per module,
fed on stdin; goroscope.addr2line).
"""

import functools
import os
import re
import shutil
import subprocess
import time

import lldb

from goroscope import addr2line as a2l
from goroscope.errors import MemoryReadError
from goroscope.stacks import strip_return_type
from goroscope.target import Frame, Target, Thread

OS_THREAD_BASE = 1 << 48  # the OS plugin's goroutine threads: tid = base + goid
OVERLAY_BASE = 0xFFF0 << 48  # non-canonical: never a real address (see LldbTarget.overlay)
OVERLAY_STRIDE = 1 << 16


@functools.lru_cache(maxsize=1 << 14)
def gnu_demangle(mangled):
    if not mangled or not mangled.startswith("_Z") or not shutil.which("c++filt"):
        return None
    try:
        out = subprocess.run(["c++filt", mangled], capture_output=True, text=True,
                             timeout=5).stdout.strip()
    except (OSError, subprocess.SubprocessError):
        return None
    return out if out and out != mangled else None


def gnu_style(name):
    """A name in LLDB's demangler's spelling made the GNU demangler's, as GDB
    and the runtime print it: `'lambda'()` is `{lambda()#1}`, `'lambda0'()`
    `{lambda()#2}` (Itanium's discriminator + 2), and templates close with
    `> >` (clang builds; GCC's DWARF names already do)."""
    if "'lambda" in name:
        name = re.sub(r"'lambda(\d*)'\(([^()]*)\)",
                      lambda m: "{lambda(%s)#%d}" % (m.group(2),
                                                     int(m.group(1)) + 2 if m.group(1) else 1),
                      name)
    while ">>" in name:
        fixed = re.sub(r"(?<!operator)>>", "> >", name)
        if fixed == name:
            break
        name = fixed
    return name


class LldbTarget(Target):
    def __init__(self, debugger):
        self.debugger = debugger
        self._process = None
        self._err = lldb.SBError()
        self._mem = None  # fd of /proc/PID/mem (see bind)
        self._overlays = {}  # base -> bytes (see overlay)

    def target(self):
        return self.debugger.GetSelectedTarget()

    def process(self):
        return self.target().GetProcess()

    def bind(self, process):
        """Reads go to process until the next bind (state.runtime binds at
        each stop): looking it up per read was a third of `goroutines`.

        A live process on this host is also read through /proc/PID/mem (one
        pread instead of an lldb-server packet per read: `goroutines` over
        100k goroutines' stacks, first call, 5.2 s -> see docs/performance.md),
        once a read of the layout descriptor through both paths agrees; any
        failure falls back to LLDB's reads. Still memory reads only."""
        self._process = process
        self._err = lldb.SBError()
        if self._mem is not None:
            os.close(self._mem)
            self._mem = None
        if self.is_core() or not process.IsValid():
            return
        try:
            fd = os.open(f"/proc/{process.GetProcessID()}/mem", os.O_RDONLY)
        except OSError:
            return
        probe = self.symbol_address("goroscope_layout")
        try:
            same = probe is not None and os.pread(fd, 64, probe) == self._lldb_read(probe, 64)
        except (OSError, MemoryReadError):
            same = False
        if same:
            self._mem = fd
        else:
            os.close(fd)

    def _lldb_read(self, addr, size):
        p, err = self._process, self._err
        if p is None:
            p = self.process()
        err.Clear()
        data = p.ReadMemory(addr, size, err)
        if err.Success() and data is not None and len(data) == size:
            return data
        return None

    def overlay(self, data):
        """A fake address at which reads return data: an expression result
        (`p sessions` on a core file) is a copy in LLDB with no address in
        the target, but its pointers (buckets) lead into the target. Each
        overlay gets fresh pages, so no cached page is ever stale."""
        base = OVERLAY_BASE + OVERLAY_STRIDE * (len(self._overlays) + 1)
        if len(data) > OVERLAY_STRIDE or len(self._overlays) >= 1 << 20:
            raise MemoryReadError(base, len(data))
        self._overlays[base] = bytes(data)
        return base

    def read(self, addr, size):
        if addr >= OVERLAY_BASE:
            base = addr - (addr - OVERLAY_BASE) % OVERLAY_STRIDE
            data = self._overlays.get(base)
            if data is None or addr + size > base + OVERLAY_STRIDE:
                raise MemoryReadError(addr, size)
            off = addr - base
            return data[off:off + size].ljust(size, b"\0")
        if self._mem is not None:
            try:
                data = os.pread(self._mem, size, addr)
                if len(data) == size:
                    return data
            except OSError:
                pass
        data = self._lldb_read(addr, size)
        if data is not None:
            return data
        if self.is_core():
            # gcore leaves out read-only file-backed mappings (.rodata: type
            # names) and LLDB's core process does not fall back to the
            # executable for them, as GDB does: read them from its sections.
            t = self.target()
            err = lldb.SBError()
            data = t.ReadMemory(t.ResolveLoadAddress(addr), size, err)
            if err.Success() and data is not None and len(data) == size:
                return bytes(data)
        raise MemoryReadError(addr, size)

    def symbol_address(self, name):
        t = self.target()
        ctxs = t.FindSymbols(name)
        for i in range(ctxs.GetSize()):
            sym = ctxs.GetContextAtIndex(i).GetSymbol()
            a = sym.GetStartAddress().GetLoadAddress(t)
            if a != lldb.LLDB_INVALID_ADDRESS:
                return a
        return None

    def threads(self):
        out = []
        for th in self.process():
            tid = th.GetThreadID()
            if tid >= OS_THREAD_BASE:
                continue  # a goroutine shown by the OS plugin, not an OS thread
            f = th.GetFrameAtIndex(0)
            regs = {}
            for r in ("rip", "rsp", "rbp"):
                v = f.FindRegister(r)
                if v.IsValid():
                    regs[r] = v.GetValueAsUnsigned()
            out.append(Thread(th.GetIndexID(), tid, regs))
        return out

    def thread_pcs(self, tid):
        """The thread's physical frames by LLDB's unwinder (inlined frames
        skipped), at most 256."""
        th = self.process().GetThreadByID(tid)
        if not th.IsValid():
            return None
        pcs = []
        for i in range(min(th.GetNumFrames(), 256)):
            f = th.GetFrameAtIndex(i)
            if not f.IsInlined():
                pcs.append(f.GetPC())
        return pcs or None

    def function_range(self, pc):
        t = self.target()
        sym = t.ResolveSymbolContextForAddress(t.ResolveLoadAddress(pc),
                                               lldb.eSymbolContextSymbol).GetSymbol()
        if not sym.IsValid():
            return None
        start = sym.GetStartAddress().GetLoadAddress(t)
        end = sym.GetEndAddress().GetLoadAddress(t)
        return (start, end) if start != lldb.LLDB_INVALID_ADDRESS and end > start else None

    def module_of(self, pc):
        m = self.target().ResolveLoadAddress(pc).GetModule()
        return m.GetFileSpec().GetFilename() or "" if m.IsValid() else ""

    def selected_thread(self):
        th = self.process().GetSelectedThread()
        return th.GetThreadID() if th.IsValid() else None

    def symbolize(self, pc):
        t = self.target()
        addr = t.ResolveLoadAddress(pc)
        sc = t.ResolveSymbolContextForAddress(addr, lldb.eSymbolContextEverything)
        le = sc.GetLineEntry()
        file = le.GetFileSpec().fullpath if le.IsValid() and le.GetFileSpec().IsValid() else ""
        line = le.GetLine() if le.IsValid() else 0
        if not sc.GetFunction().IsValid() and sc.GetSymbol().IsValid() and file:
            # LLDB 16 parses no DWARF function (so no inlined blocks) for a
            # function GCC split into hot and cold parts (DW_AT_ranges: a
            # lambda's operator(), goro's gopark): binutils' addr2line reads
            # them. (Its spelling of the physical level is replaced below.)
            chain = a2l.addr2line(sc.GetModule().GetFileSpec().fullpath, addr.GetFileAddress())
            if chain:
                return a2l.frames_from_chain(chain, pc, self.physical_name(sc))
        inl = []  # (name, call file, call line), innermost first
        b = sc.GetBlock()
        while b and b.IsValid():
            if b.IsInlined():
                cf = b.GetInlinedCallSiteFile()
                inl.append((b.GetInlinedName(), cf.fullpath if cf.IsValid() else "",
                            b.GetInlinedCallSiteLine()))
            b = b.GetParent()
        phys = self.physical_name(sc)
        if not phys and not file:
            return []
        names = [gnu_style(strip_return_type(n or "")) for n, _, _ in inl] + [phys]
        # LLDB names an inlined function by its DW_AT_name when GCC put the
        # linkage name elsewhere ("__invoke_impl<...>", "chanpark"); GDB
        # qualifies it. Code in libstdc++'s headers is namespace std's.
        for i in range(len(inl)):
            fi = file if i == 0 else inl[i - 1][1]
            if "::" not in names[i].split("<")[0] and "/include/c++/" in fi:
                names[i] = "std::" + names[i]
        frames = []
        for i, name in enumerate(names):
            if i == 0:
                f_file, f_line = file, line
            else:
                _, f_file, f_line = inl[i - 1]
            frames.append(Frame(name, f_file, f_line, pc, inlined=i < len(names) - 1))
        return frames

    def physical_name(self, sc):
        """The name of the function containing sc's address: its ELF symbol,
        demangled the GNU way as GDB prints it (minus a template's return type)."""
        fn, sym = sc.GetFunction(), sc.GetSymbol()
        phys = fn.GetName() or "" if fn.IsValid() else ""
        if sym.IsValid():
            dem = gnu_demangle(sym.GetMangledName() or "")
            if dem:
                phys = strip_return_type(dem)
            if not phys:
                phys = sym.GetName() or ""
        phys = gnu_style(phys[2:] if phys.startswith("::") else phys)  # (extern "C": "::f")
        if phys.startswith("___lldb_unnamed_symbol"):
            phys = ""  # a stripped library's local symbol: GDB's "??"
        return phys

    def now_ns(self):
        return None if self.is_core() else time.monotonic_ns()

    def is_core(self):
        p = self.process()
        return p.IsValid() and p.GetPluginName() in ("elf-core", "minidump", "mach-o-core")

    def core_time_ns(self):
        """The core file's mtime. LLDB 16's SB API does not say which file a core
        process came from (no SBProcess.GetCoreFile), but LLDB maps the core
        into memory: the mapped ELF files of type ET_CORE are the candidates."""
        if not self.is_core():
            return None
        cores = []
        try:
            with open("/proc/self/maps") as f:
                paths = {ln.split(None, 5)[5].strip() for ln in f if ln.count(" ") >= 5
                         and "/" in ln}
        except OSError:
            return None
        for path in sorted(paths):
            try:
                with open(path, "rb") as f:
                    head = f.read(18)
                if head[:4] == b"\x7fELF" and head[16:18] == b"\x04\x00":
                    cores.append(os.stat(path).st_mtime_ns)
            except OSError:
                continue
        return cores[0] if len(cores) == 1 else None
