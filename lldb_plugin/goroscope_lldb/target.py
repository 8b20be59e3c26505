"""target: goroscope.target.Target over LLDB's SB API (memory reads only).

Names match the GDB adapter's, so both plugins print the same text: inlined
levels come from the blocks (their call sites are exact), the physical
function's name is its ELF symbol demangled the GNU way (c++filt, as GDB
prints a lambda: `main::{lambda()#1}::operator()() const`, where LLVM's
demangler would say `'lambda'()`).
"""

import functools
import os
import re
import shutil
import subprocess
import time

import lldb

from goroscope.errors import MemoryReadError
from goroscope.stacks import strip_return_type
from goroscope.target import Frame, Target, Thread

OS_THREAD_BASE = 1 << 48  # the OS plugin's goroutine threads: tid = base + goid


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


class LldbTarget(Target):
    def __init__(self, debugger):
        self.debugger = debugger

    def target(self):
        return self.debugger.GetSelectedTarget()

    def process(self):
        return self.target().GetProcess()

    def read(self, addr, size):
        err = lldb.SBError()
        data = self.process().ReadMemory(addr, size, err)
        if not err.Success() or data is None or len(data) != size:
            raise MemoryReadError(addr, size)
        return bytes(data)

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
        inl = []  # (name, call file, call line), innermost first
        b = sc.GetBlock()
        while b and b.IsValid():
            if b.IsInlined():
                cf = b.GetInlinedCallSiteFile()
                inl.append((b.GetInlinedName(), cf.fullpath if cf.IsValid() else "",
                            b.GetInlinedCallSiteLine()))
            b = b.GetParent()
        fn = sc.GetFunction()
        sym = sc.GetSymbol()
        phys = ""
        if fn.IsValid():
            phys = fn.GetName() or ""
        if sym.IsValid():
            # The GNU demangler's spelling, as GDB prints (minus a template's return type).
            dem = gnu_demangle(sym.GetMangledName() or "")
            if dem:
                phys = strip_return_type(dem)
            if not phys:
                phys = sym.GetName() or ""
        phys = phys[2:] if phys.startswith("::") else phys  # extern "C" functions
        if not phys and not file:
            return []
        names = [n for n, _, _ in inl] + [phys]
        frames = []
        for i, name in enumerate(names):
            if i == 0:
                f_file, f_line = file, line
            else:
                _, f_file, f_line = inl[i - 1]
            frames.append(Frame(name, f_file, f_line, pc, inlined=i < len(names) - 1))
        return frames

    def now_ns(self):
        return None if self.is_core() else time.monotonic_ns()

    def is_core(self):
        p = self.process()
        return p.IsValid() and p.GetPluginName() in ("elf-core", "minidump", "mach-o-core")

    def core_time_ns(self):
        if not self.is_core():
            return None
        out = lldb.SBCommandReturnObject()
        self.debugger.GetCommandInterpreter().HandleCommand("target list", out)
        m = re.search(r"core file '([^']+)'", out.GetOutput() or "")
        if not m:
            return None
        try:
            return os.stat(m.group(1)).st_mtime_ns
        except OSError:
            return None
