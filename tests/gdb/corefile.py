"""corefile: a core file's memory as addresses, for tests that corrupt it.

Core(path) reads an ELF64 core (GDB's gcore), maps each PT_LOAD segment's
virtual addresses to its bytes in the file, and lets a test overwrite target
memory (`write(addr, data)`, `read(addr, n)`) then `save` the damaged copy:
the same program, the same registers, garbage where the test put it.
"""

import struct

PT_LOAD = 1


class Core:
    def __init__(self, path):
        with open(path, "rb") as f:
            self.data = bytearray(f.read())
        if self.data[:4] != b"\x7fELF" or self.data[4] != 2:
            raise ValueError(f"{path}: not an ELF64 file")
        phoff, = struct.unpack_from("<Q", self.data, 0x20)
        phentsize, phnum = struct.unpack_from("<HH", self.data, 0x36)
        self.segments = []  # (vaddr, file offset, size in the file)
        for i in range(phnum):
            p_type, _flags, off, vaddr, _pa, filesz, _memsz, _al = struct.unpack_from(
                "<IIQQQQQQ", self.data, phoff + i * phentsize)
            if p_type == PT_LOAD and filesz:
                self.segments.append((vaddr, off, filesz))

    def _offset(self, addr, n):
        for vaddr, off, size in self.segments:
            if vaddr <= addr and addr + n <= vaddr + size:
                return off + (addr - vaddr)
        raise KeyError(f"{addr:#x}+{n} is not in the core")

    def has(self, addr, n=1):
        try:
            self._offset(addr, n)
            return True
        except KeyError:
            return False

    def read(self, addr, n):
        o = self._offset(addr, n)
        return bytes(self.data[o:o + n])

    def write(self, addr, data):
        o = self._offset(addr, len(data))
        self.data[o:o + len(data)] = data

    def copy(self):
        c = Core.__new__(Core)
        c.data = bytearray(self.data)
        c.segments = self.segments
        return c

    def save(self, path):
        with open(path, "wb") as f:
            f.write(self.data)
