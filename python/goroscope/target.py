"""target: the abstract debugger interface the core talks to.

Like pwndbg's `dbg` layer: the core asks a Target for memory, symbols,
threads and symbolized return addresses, and nothing else. A GDB adapter
(gdb_plugin/goroscope_gdb/target.py) and an LLDB adapter implement it;
ImageTarget implements it over recorded memory for the tests and the fuzz
test. Every method is read-only: no inferior calls, no register writes, so
the same code runs on a live process, a core file and a remote target.

Reads go through PageCache (4 KiB pages, one target read per run of
missing pages), which the adapters drop whenever the target resumes.
"""

from dataclasses import dataclass, field
from typing import Dict, List, Optional

from .errors import MemoryReadError

PAGE = 4096


@dataclass
class Frame:
    """One symbolized frame: innermost first; inlined calls expanded."""

    function: str  # demangled, with parameters when known ("" unknown)
    file: str  # "" when unknown
    line: int
    pc: int  # the address looked up (a return address minus one, or an entry)
    inlined: bool = False


@dataclass
class Thread:
    """An OS thread of the target."""

    num: int  # the debugger's thread number
    tid: int  # the kernel's thread id (LWP)
    regs: Dict[str, int] = field(default_factory=dict)  # at least rip, rsp, rbp


class Target:
    """What the core needs from a debugger. Subclasses implement these."""

    def read(self, addr: int, size: int) -> bytes:
        """size bytes at addr; raises MemoryReadError."""
        raise NotImplementedError

    def read_view(self, addr: int, size: int):
        """Like read, but may return any buffer-protocol object (no copy), and may
        raise any exception when the memory is unreadable (hot paths catch all)."""
        return self.read(addr, size)

    def symbol_address(self, name: str) -> Optional[int]:
        """Load address of a (minimal) symbol, or None."""
        raise NotImplementedError

    def threads(self) -> List[Thread]:
        """The target's OS threads with their registers."""
        raise NotImplementedError

    def selected_thread(self) -> Optional[int]:
        """The tid of the debugger's selected thread, or None."""
        raise NotImplementedError

    def symbolize(self, pc: int) -> List[Frame]:
        """Frames at pc (innermost first, inlined calls expanded); [] unknown."""
        raise NotImplementedError

    def module_of(self, pc: int) -> str:
        """The file name of the module holding pc ("" when unknown)."""
        return ""

    def function_range(self, pc: int) -> Optional[tuple]:
        """(start, end) of the function (its ELF symbol) containing pc, or None."""
        return None

    def bt_decor(self, v, frames) -> tuple:
        """(the header line of goroutine v's bt, or None; per frame of
        goroutines.bt_frames, its arguments as the debugger prints them
        ("id=1, jobs=..."), or None): what the debugger's own bt would add."""
        return None, []

    def thread_pcs(self, tid: int) -> Optional[List[int]]:
        """The pcs of an OS thread's physical frames (the first its pc, then
        return addresses) by the debugger's own unwinder (CFI: through code
        without frame pointers, such as libstdc++'s __cxa_throw), or None:
        the core then walks the frame-pointer chain from the registers."""
        return None

    def now_ns(self) -> Optional[int]:
        """The target's CLOCK_MONOTONIC now (live process), or None (core file)."""
        return None

    def core_time_ns(self) -> Optional[int]:
        """For a core file: when it was written (its mtime, CLOCK_REALTIME ns), else None."""
        return None

    def generation(self) -> int:
        """Changes whenever the target has run since the last call (caches key on it)."""
        return 0


class PageCache:
    """Read-through page cache over a Target (dropped when the target runs)."""

    def __init__(self, target: Target, limit_pages: int = 1 << 16):
        self.target = target
        self.pages: Dict[int, bytes] = {}
        self.bad: set = set()
        self.limit = limit_pages

    def clear(self):
        self.pages.clear()
        self.bad.clear()

    def read(self, addr: int, size: int) -> bytes:
        if size <= 0:
            return b""
        if addr < 0 or addr + size > 1 << 64:
            raise MemoryReadError(addr & ((1 << 64) - 1), size)
        first, last = addr // PAGE, (addr + size - 1) // PAGE
        if first == last and first in self.pages:
            off = addr - first * PAGE
            return self.pages[first][off:off + size]
        if len(self.pages) > self.limit:
            self.pages.clear()
        p = first
        while p <= last:  # fetch each run of missing pages with one read
            if p in self.pages:
                p += 1
                continue
            q = p
            while q + 1 <= last and q + 1 not in self.pages:
                q += 1
            if p in self.bad:
                raise MemoryReadError(addr, size)
            try:
                data = self.target.read(p * PAGE, (q - p + 1) * PAGE)
            except MemoryReadError:
                data = None
            if data is None or len(data) != (q - p + 1) * PAGE:
                # A partly mapped run: fall back to the exact range.
                if first == last or (q - p) == 0:
                    self.bad.add(p)
                return self.target.read(addr, size)
            for i in range(p, q + 1):
                self.pages[i] = data[(i - p) * PAGE:(i - p + 1) * PAGE]
            p = q + 1
        if first == last:
            off = addr - first * PAGE
            return self.pages[first][off:off + size]
        buf = b"".join(self.pages[i] for i in range(first, last + 1))
        off = addr - first * PAGE
        return buf[off:off + size]


class ImageTarget(Target):
    """A Target over recorded memory: {address: bytes} regions.

    Used by the core's tests and the fuzz test: no debugger needed.
    """

    def __init__(self, regions: Dict[int, bytes], symbols: Dict[str, int] = None,
                 threads: List[Thread] = None, frames: Dict[int, List[Frame]] = None,
                 selected: Optional[int] = None, now: Optional[int] = None):
        self.regions = sorted(regions.items())
        self._bases = [b for b, _ in self.regions]
        self.symbols = symbols or {}
        self._threads = threads or []
        self.frames = frames or {}
        self.selected = selected
        self.now = now
        self.reads = 0

    def read(self, addr, size):
        import bisect

        self.reads += 1
        i = bisect.bisect_right(self._bases, addr) - 1
        if i >= 0:
            base, data = self.regions[i]
            if addr + size <= base + len(data):
                return data[addr - base:addr - base + size]
        raise MemoryReadError(addr, size)

    def now_ns(self):
        return self.now

    def symbol_address(self, name):
        return self.symbols.get(name)

    def threads(self):
        return list(self._threads)

    def selected_thread(self):
        return self.selected

    def symbolize(self, pc):
        return list(self.frames.get(pc, []))


class RecordingTarget(Target):
    """Wraps a Target and records everything read through it (tests/python:
    the recorded image replays through ImageTarget, with no debugger)."""

    def __init__(self, inner: Target):
        self.inner = inner
        self.reads = {}  # addr -> bytes (longest read at that address)
        self.symbols = {}
        self.frames = {}
        self._threads = None

    def read(self, addr, size):
        data = self.inner.read(addr, size)
        if len(data) > len(self.reads.get(addr, b"")):
            self.reads[addr] = data
        return data

    def symbol_address(self, name):
        a = self.inner.symbol_address(name)
        self.symbols[name] = a
        return a

    def threads(self):
        if self._threads is None:
            self._threads = self.inner.threads()
        return self._threads

    def selected_thread(self):
        return self.inner.selected_thread()

    def symbolize(self, pc):
        fs = self.inner.symbolize(pc)
        self.frames[pc] = fs
        return fs

    def now_ns(self):
        if not hasattr(self, "_now"):
            self._now = self.inner.now_ns()  # frozen: a recording is one instant
        return self._now

    def core_time_ns(self):
        return self.inner.core_time_ns()

    def regions(self):
        """The recorded reads merged into disjoint regions {addr: bytes}."""
        out = []
        for a in sorted(self.reads):
            d = self.reads[a]
            if out and a <= out[-1][0] + len(out[-1][1]):
                base, buf = out[-1]
                end = max(base + len(buf), a + len(d))
                merged = bytearray(end - base)
                merged[:len(buf)] = buf
                merged[a - base:a - base + len(d)] = d
                out[-1] = (base, bytes(merged))
            else:
                out.append((a, d))
        return dict(out)
