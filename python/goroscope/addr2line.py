"""addr2line: binutils' addr2line as a symbolizer of last resort.

Both debuggers fall short on one kind of code: a function GCC split into hot
and cold parts (`f [clone .cold]`, DW_AT_ranges). LLDB 16 parses no DWARF
function for it (no inlined blocks at all); GDB's blocks for the cold part
lose inline levels (a fatal map write's path in the user's function reads as
map.h, not the user's line). binutils' addr2line reads the same DWARF right.
One long-lived `addr2line -i -f -C` process per object file answers, so the
cost is one pipe round trip per address (cached). Rejected: elfutils' libdw
through ctypes (a second DWARF reader to drive by hand), parsing DWARF
ourselves (what addr2line, a Debian package, already does).
"""

import functools
import shutil
import subprocess

from .stacks import strip_return_type
from .target import Frame


class Addr2line:
    """One `addr2line -i -f -C` process per module, fed addresses on stdin.
    Each address is followed by the sentinel 0, whose answer ("??" / "??:0")
    ends the address's inline chain."""

    def __init__(self, path):
        self.p = subprocess.Popen(["addr2line", "-i", "-f", "-C", "-e", path],
                                  stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                  stderr=subprocess.DEVNULL, text=True)

    def chain(self, where):
        """where: a file address, or "SYMBOL+0xOFF" (a mangled ELF symbol)."""
        self.p.stdin.write(f"{where:#x}\n0\n" if isinstance(where, int) else f"{where}\n0\n")
        self.p.stdin.flush()
        out = []
        while True:
            name, loc = self.p.stdout.readline().rstrip("\n"), self.p.stdout.readline()
            if not loc:
                raise OSError("addr2line ended")
            f, _, ln = loc.split(" (discriminator")[0].strip().rpartition(":")
            if out and name == "??" and f == "??":
                return out  # the sentinel's answer (the address has one pair at least)
            out.append((name, f, int(ln) if ln.isdigit() else 0))


_addr2line = {}


@functools.lru_cache(maxsize=1 << 14)
def addr2line(path, where):
    """[(name, file, line)] of an address's inline chain in the ELF at path,
    innermost first, or [] if unknown. where: as Addr2line.chain takes it."""
    if not path or not shutil.which("addr2line"):
        return []
    try:
        a = _addr2line.get(path)
        if a is None:
            a = _addr2line[path] = Addr2line(path)
        chain = a.chain(where)
    except (OSError, ValueError):
        _addr2line.pop(path, None)
        return []
    return [c for c in chain if c[0] != "??"] if chain else []


def frames_from_chain(chain, pc, physical):
    """Frames from addr2line's inline chain [(name, file, line)], innermost
    first; the physical level named `physical` (the adapter's own spelling)."""
    names = [strip_return_type(n) for n, _, _ in chain[:-1]] + [physical]
    out = []
    for i, (name, (_, f, ln)) in enumerate(zip(names, chain)):
        if "::" not in name.split("<")[0].split("(")[0] and "/include/c++/" in f:
            name = "std::" + name
        out.append(Frame(name, f, ln, pc, inlined=i < len(chain) - 1))
    return out
