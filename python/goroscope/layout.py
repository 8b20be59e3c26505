"""layout: the runtime's layout descriptor (docs/debug-abi.md), parsed.

`goroscope_layout` is a 32-byte header {magic "goroscope-abi", version,
header_size, entry_size, count} and `count` entries {name[48], kind, size,
value}. Kinds: TYPE (size = sizeof), FIELD (value = offset), CONST, ENUM
(name "waitReason.chan receive" -> value), GLOBAL (value = address).

Layout indexes the entries by name and builds Records: one struct.Struct
per (type, field list), so decoding a G record is one unpack_from call, not
one read per field (the 100k-goroutine listing depends on it). A field the
tools need that the descriptor lacks, or whose size differs from what the
decoder expects, is an error naming the entry: the descriptor is the
contract, never a guessed offset.
"""

import struct
from collections import namedtuple

from .errors import Corrupt, GoroscopeError

MAGIC = b"goroscope-abi"
VERSION = 1
SYMBOL = "goroscope_layout"
TYPE, FIELD, CONST, ENUM, GLOBAL = 1, 2, 3, 4, 5
MAX_SIZE = 1 << 20  # bytes: no goro type or field offset comes near
_HEADER = struct.Struct("<16s4I")
_ENTRY = struct.Struct("<48sIIQ")
_FMT = {"u8": "B", "u16": "H", "u32": "I", "u64": "Q", "i8": "b", "i16": "h", "i32": "i",
        "i64": "q", "ptr": "Q", "bool": "?"}
_SIZE = {"u8": 1, "u16": 2, "u32": 4, "u64": 8, "i8": 1, "i16": 2, "i32": 4, "i64": 8, "ptr": 8,
         "bool": 1}


class Record:
    """Decodes one C++ struct from bytes: rec.unpack(buf, off) -> namedtuple."""

    def __init__(self, typename, names, st, size):
        self.typename = typename
        self.tuple = namedtuple(typename.replace(".", "_"), names)
        self.struct = st
        self.size = size  # bytes unpacked (may be less than sizeof the type)
        self.index = {n: i for i, n in enumerate(names)}

    def unpack(self, buf, off=0):
        return self.tuple._make(self.struct.unpack_from(buf, off))

    def iter_unpack(self, buf):
        """Consecutive records (stride: the struct's size), buf a multiple of it."""
        return map(self.tuple._make, self.struct.iter_unpack(buf))


class Layout:
    def __init__(self, entries):
        self.entries = entries  # name -> (kind, size, value)
        self._enums = {}

    @classmethod
    def parse(cls, read, addr):
        """read(addr, n) -> bytes; addr: the address of goroscope_layout."""
        magic, version, hsize, esize, count = _HEADER.unpack(read(addr, _HEADER.size))
        if magic.rstrip(b"\0") != MAGIC:
            raise GoroscopeError(f"{SYMBOL} at {addr:#x} is not a goroscope layout")
        if version != VERSION:
            raise GoroscopeError(f"layout version {version} is not supported (this plugin: "
                                 f"{VERSION}); use the plugin of the runtime's release")
        if esize < _ENTRY.size or count > 100000 or hsize < _HEADER.size:
            raise GoroscopeError(f"{SYMBOL}: bad header (entry_size {esize}, count {count})")
        raw = read(addr + hsize, esize * count)
        entries = {}
        for i in range(count):
            name, kind, size, value = _ENTRY.unpack_from(raw, i * esize)
            key = name.split(b"\0", 1)[0].decode("utf-8", "replace")
            # Types and fields are small: anything else is a damaged descriptor
            # (a core's memory), and would make every Record absurd.
            if kind in (TYPE, FIELD) and (size > MAX_SIZE or (kind == FIELD and value > MAX_SIZE)):
                raise Corrupt("goroscope_layout", f"{key}: size {size} offset {value}")
            entries[key] = (kind, size, value)
        return cls(entries)

    def has(self, name):
        return name in self.entries

    def _get(self, name, kind):
        e = self.entries.get(name)
        if e is None or e[0] != kind:
            raise GoroscopeError(f"the runtime's layout has no {name}: plugin and runtime "
                                 f"do not match")
        return e

    def off(self, name):
        return self._get(name, FIELD)[2]

    def fsize(self, name):
        return self._get(name, FIELD)[1]

    def size(self, typename):
        return self._get(typename, TYPE)[1]

    def const(self, name):
        return self._get(name, CONST)[2]

    def glob(self, name):
        return self._get(name, GLOBAL)[2]

    def enum(self, prefix):
        """{value: string} of the ENUM entries "prefix.string"."""
        if prefix not in self._enums:
            p = prefix + "."
            self._enums[prefix] = {v[2]: k[len(p):] for k, v in self.entries.items()
                                   if v[0] == ENUM and k.startswith(p)}
        return self._enums[prefix]

    def enum_value(self, prefix, string):
        return self._get(f"{prefix}.{string}", ENUM)[2]

    def record(self, typename, fields, base=None):
        """A Record of `fields` [(name, fmt)] of `typename`.

        fmt: u8..u64, i8..i64, ptr, bool, or "sN" (N bytes). Field names
        may be dotted into a member ("sched.sp" = G.sched + gobuf.sp):
        `base` gives the type of each dotted prefix, e.g. {"sched": "gobuf"}.
        """
        items = []
        for name, fmt in fields:
            off = 0
            parts = name.split(".")
            owner = typename
            for i, part in enumerate(parts):
                off += self.off(f"{owner}.{part}")
                if i + 1 < len(parts):
                    owner = (base or {})[".".join(parts[:i + 1])]
            size = int(fmt[1:]) if fmt.startswith("s") else _SIZE[fmt]
            fsize = self.fsize(f"{owner}.{parts[-1]}")
            if not fmt.startswith("s") and fsize != size:
                raise GoroscopeError(f"the runtime's {owner}.{parts[-1]} is {fsize} bytes, "
                                     f"the plugin reads {size}: plugin and runtime do not match")
            items.append((off, size, name.replace(".", "_"),
                          f"{size}s" if fmt.startswith("s") else _FMT[fmt]))
        items.sort()
        fmt, pos, names = "<", 0, []
        for off, size, name, f in items:
            if off < pos:
                raise GoroscopeError(f"{typename}: overlapping fields in the layout")
            if off > pos:
                fmt += f"{off - pos}x"
            fmt += f
            pos = off + size
            names.append(name)
        total = self.size(typename) if self.has(typename) else pos
        if pos > total:
            raise Corrupt("goroscope_layout", f"{typename}: fields end at {pos}, beyond its "
                                              f"size {total}")
        if total > pos:
            fmt += f"{total - pos}x"
        return Record(typename, names, struct.Struct(fmt), max(total, pos))


def find(target):
    """The Layout of the target's runtime, or a GoroscopeError saying why not."""
    addr = target.symbol_address(SYMBOL)
    if addr is None:
        raise GoroscopeError("no goro runtime in this program (symbol goroscope_layout not "
                             "found)")
    return Layout.parse(target.read, addr)
