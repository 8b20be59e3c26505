"""maps: goro::Map (Go's pre-1.24 hmap) decoded from memory, growth-correct.

Layout (map.h, docs/map.md): an hmap header {count, flags, B, noverflow,
hash0, buckets, oldbuckets, nevacuate, extra, type, writer}; 2^B buckets of
`maptype.bucketsize` bytes: 8 tophash bytes, 8 keys, 8 elems (pointers when
indirect), an overflow pointer at `overflowoff`. While growing, `oldbuckets`
holds 2^oldB buckets (oldB = B-1, or B for a same-size grow); old buckets
below `nevacuate` have moved, and so has any whose tophash[0] says so
(Go's evacuated(b): the per-bucket mark is what counts; nevacuate is only
progress, and is stale for a moment inside hashGrow, where a --grow
watchpoint stops).

Iteration (the printers' children) yields every live entry once: each live
slot of the new array, plus each live slot of old buckets not yet
evacuated (an old bucket is evacuated as a whole, chain and all, so no
entry can be in both; a key inserted while a range loop paused evacuation
is in the new array, flag pausedInsert). Everything is bounded: B <= MAX_B, chains cut at
MAX_CHAIN and on a cycle, at most `limit` entries; what cannot be a map
raises Corrupt ("<corrupt hmap: B=73>").
"""

import struct
from dataclasses import dataclass
from typing import List, Optional

from .errors import Corrupt, GoroscopeError, MemoryReadError

MAX_B = 40
MAX_CHAIN = 1 << 16
MAX_BUCKETSIZE = 1 << 16
MASK64 = (1 << 64) - 1
FLAG_NAMES = ("iterator", "oldIterator", "hashWriting", "sameSizeGrow", "pausedInsert",
              "oldChains")
INT_KINDS = {"int8": (1, True), "int16": (2, True), "int32": (4, True), "int64": (8, True),
             "uint8": (1, False), "uint16": (2, False), "uint32": (4, False),
             "uint64": (8, False), "bool": (1, False)}
FLOAT_KINDS = {"float32": "<f", "float64": "<d"}


@dataclass
class MapType:
    keysize: int
    elemsize: int
    bucketsize: int
    keysoff: int
    elemsoff: int
    overflowoff: int
    keytypesize: int
    elemtypesize: int
    flags: int
    keykind: str
    elemkind: str
    keyname: str
    elemname: str

    @property
    def indirectkey(self):
        return bool(self.flags & 1)

    @property
    def indirectelem(self):
        return bool(self.flags & 2)


@dataclass
class Header:
    addr: int
    count: int
    flags: int
    B: int
    noverflow: int
    hash0: int
    buckets: int
    oldbuckets: int
    nevacuate: int
    writer: int
    type: Optional[MapType]

    @property
    def growing(self):
        return self.oldbuckets != 0

    @property
    def same_size(self):
        return bool(self.flags & 8)

    @property
    def oldB(self):
        return self.B if self.same_size else max(self.B - 1, 0)

    def flag_names(self):
        return [n for i, n in enumerate(FLAG_NAMES) if self.flags & (1 << i)]


@dataclass
class Slot:
    bucket: int  # index in its array
    chainpos: int  # 0: the array's own bucket
    slot: int
    tophash: int
    key_addr: int  # address of the key (indirection followed)
    elem_addr: int
    old: bool  # in the old array


def header(rt, addr) -> Header:
    L = rt.L
    base = addr + L.const("Map.hmap")
    rec = rt.__dict__.setdefault("_hmaprec", L.record("hmap", [
        ("count", "i64"), ("flags", "u8"), ("B", "u8"), ("noverflow", "u16"), ("hash0", "u32"),
        ("buckets", "ptr"), ("oldbuckets", "ptr"), ("nevacuate", "u64"), ("type", "ptr"),
        ("writer", "u64")]))
    h = rec.unpack(rt.mem.read(base, rec.size))
    if h.B > MAX_B:
        raise Corrupt("hmap", f"B={h.B}")
    if h.count < 0 or h.count > (13 * (1 << h.B)) // 2 * 64 + 1024:
        raise Corrupt("hmap", f"count={h.count} with B={h.B}")
    if h.count and not h.buckets:
        raise Corrupt("hmap", f"count={h.count} but no buckets")
    if h.oldbuckets and h.B == 0 and not h.flags & 8:
        raise Corrupt("hmap", "growing with B=0")
    t = maptype(rt, h.type) if h.type else None
    hd = Header(addr, h.count, h.flags, h.B, h.noverflow, h.hash0, h.buckets, h.oldbuckets,
                h.nevacuate, h.writer, t)
    return hd


def maptype(rt, addr) -> MapType:
    L = rt.L
    rec = rt.__dict__.setdefault("_maptyperec", L.record("maptype", [
        ("keysize", "u16"), ("elemsize", "u16"), ("bucketsize", "u32"), ("keysoff", "u16"),
        ("elemsoff", "u16"), ("overflowoff", "u16"), ("keytypesize", "u32"),
        ("elemtypesize", "u32"), ("flags", "u8"), ("keykind", "u8"), ("elemkind", "u8"),
        ("keyname", "ptr"), ("elemname", "ptr")]))
    t = rec.unpack(rt.mem.read(addr, rec.size))
    kinds = L.enum("kind")
    cnt = L.const("bucketCnt")
    if (t.bucketsize > MAX_BUCKETSIZE or t.keysoff + cnt * t.keysize > t.bucketsize
            or t.elemsoff + cnt * t.elemsize > t.bucketsize or t.overflowoff + 8 > t.bucketsize):
        raise Corrupt("maptype", f"bucketsize={t.bucketsize} keysoff={t.keysoff} "
                                 f"elemsoff={t.elemsoff} overflowoff={t.overflowoff}")
    return MapType(t.keysize, t.elemsize, t.bucketsize, t.keysoff, t.elemsoff, t.overflowoff,
                   t.keytypesize, t.elemtypesize, t.flags, kinds.get(t.keykind, "other"),
                   kinds.get(t.elemkind, "other"), rt.cstring(t.keyname), rt.cstring(t.elemname))


def chain(rt, t: MapType, first: int):
    """(address, raw bytes) of each bucket of an overflow chain, bounded and cycle-safe."""
    b, seen = first, set()
    while b and len(seen) < MAX_CHAIN:
        if b in seen:
            raise Corrupt("hmap", f"overflow chain cycles at {b:#x}")
        seen.add(b)
        raw = rt.mem.read(b, t.bucketsize)
        yield b, raw
        b = int.from_bytes(raw[t.overflowoff:t.overflowoff + 8], "little")


def evacuated(rt, raw) -> bool:
    h = raw[0]
    return rt.L.const("tophash.emptyOne") < h < rt.L.const("tophash.minTopHash")


def slot_addrs(t: MapType, b, raw, s):
    """(key address, elem address) of slot s of the bucket at b (raw: its bytes),
    through the slot's pointer when the map stores keys or elems indirectly."""
    ka = b + t.keysoff + s * t.keysize
    ea = b + t.elemsoff + s * t.elemsize
    if t.indirectkey:
        ka = int.from_bytes(raw[t.keysoff + s * t.keysize:][:8], "little")
    if t.indirectelem:
        ea = int.from_bytes(raw[t.elemsoff + s * t.elemsize:][:8], "little")
    return ka, ea


def _slots(rt, t, arr, index, old):
    cnt, mintop = rt.L.const("bucketCnt"), rt.L.const("tophash.minTopHash")
    for pos, (b, raw) in enumerate(chain(rt, t, arr + index * t.bucketsize)):
        for s in range(cnt):
            top = raw[s]
            if top < mintop:
                continue
            ka, ea = slot_addrs(t, b, raw, s)
            yield Slot(index, pos, s, top, ka, ea, old)


def entries(rt, h: Header, limit=None):
    """Every live entry once (see the file comment), at most limit."""
    if not h.buckets or not h.count or h.type is None:
        return
    t, n = h.type, 0
    if h.growing:
        for i in range(1 << h.oldB):
            first = h.oldbuckets + i * t.bucketsize
            if evacuated(rt, rt.mem.read(first, 1)):
                continue
            for sl in _slots(rt, t, h.oldbuckets, i, True):
                yield sl
                n += 1
                if limit is not None and n >= limit:
                    return
    for i in range(1 << h.B):
        for sl in _slots(rt, t, h.buckets, i, False):
            yield sl
            n += 1
            if limit is not None and n >= limit:
                return


# ---- hashing (goro/hash.h), for `gomap find` ----------------------------------

def _xxh3(data, seed):
    try:
        import xxhash
    except ImportError:
        raise GoroscopeError("hashing keys needs python3-xxhash "
                             "(apt-get install python3-xxhash)") from None
    return xxhash.xxh3_64_intdigest(data, seed=seed)


def hash_word(x, seed):
    """goro's hash of an integer-like key: XXH3-64 of its 8 bytes (hash.h)."""
    return _xxh3((x & MASK64).to_bytes(8, "little"), seed)


def key_hash(t: MapType, key, seed):
    """goro's default hasher (hash.h): integers and floats through hash_word,
    strings XXH3-64 (python3-xxhash)."""
    if t.keykind in INT_KINDS:
        return hash_word(int(key), seed)
    if t.keykind in FLOAT_KINDS:
        if key != key:
            raise GoroscopeError("a NaN key cannot be found: each NaN gets a random hash "
                                 "and equals nothing (as in Go)")
        if key == 0:
            return hash_word(0, seed)  # +0 and -0
        fmt = FLOAT_KINDS[t.keykind]
        return hash_word(int.from_bytes(struct.pack(fmt, key), "little"), seed)
    if t.keykind == "std_string":
        data = key.encode() if isinstance(key, str) else key
        return _xxh3(data, seed)
    raise GoroscopeError(f"gomap find: {t.keykind} keys are not supported (integer, float "
                         f"and string keys are)")


def tophash(rt, hash_):
    top = hash_ >> 56
    mintop = rt.L.const("tophash.minTopHash")
    return top + mintop if top < mintop else top


def parse_key(t: MapType, text):
    if t.keykind in INT_KINDS:
        try:
            v = int(text, 0)
        except ValueError:
            raise GoroscopeError(f"'{text}' is not an integer key") from None
        size, signed = INT_KINDS[t.keykind]
        lo, hi = (-(1 << (8 * size - 1)), (1 << (8 * size - 1)) - 1) if signed \
            else (0, (1 << (8 * size)) - 1)
        if not lo <= v <= hi:
            raise GoroscopeError(f"{v} does not fit a {t.keykind} key")
        return v
    if t.keykind in FLOAT_KINDS:
        try:
            v = float(text)
        except ValueError:
            raise GoroscopeError(f"'{text}' is not a floating-point key") from None
        if t.keykind == "float32" and v == v:
            v = struct.unpack("<f", struct.pack("<f", v))[0]  # the float the program stores
        return v
    if t.keykind == "std_string":
        if len(text) >= 2 and text[0] == text[-1] and text[0] in "\"'":
            text = text[1:-1]
        return text
    raise GoroscopeError(f"gomap find: {t.keykind} keys are not supported (integer, float "
                         f"and string keys are)")


def read_key(rt, t: MapType, addr):
    """The key at addr as a Python value (integers and std::string), else raw bytes."""
    if t.keykind in INT_KINDS:
        size, signed = INT_KINDS[t.keykind]
        return int.from_bytes(rt.mem.read(addr, size), "little", signed=signed)
    if t.keykind in FLOAT_KINDS:
        fmt = FLOAT_KINDS[t.keykind]
        return struct.unpack(fmt, rt.mem.read(addr, struct.calcsize(fmt)))[0]
    if t.keykind == "std_string":
        return read_std_string(rt, addr)
    return rt.mem.read(addr, min(t.keytypesize, 64))


MAX_STRING = 1 << 20  # bytes: a longer std::string in a map is taken for garbage
SSO_CAPACITY = 15  # libstdc++: chars a std::string keeps in its own buffer (at +16)


def std_string_bytes(rt, addr, limit=MAX_STRING) -> bytes:
    """libstdc++'s std::string {char* p; size_t n; union {char buf[16]; size_t cap}}
    at addr -> its n bytes, checked before anything reads them: Corrupt when
    it cannot be a string (n over limit, no data pointer, a local buffer
    holding more than it can), MemoryReadError when its characters are not
    readable."""
    p = rt.u(addr, 8)
    n = rt.u(addr + 8, 8)
    if n > limit:
        raise Corrupt("std::string", f"size={n}")
    if not p:
        raise Corrupt("std::string", f"data=0x0 size={n}")
    if p == addr + 16 and n > SSO_CAPACITY:
        raise Corrupt("std::string", f"size={n} in its {SSO_CAPACITY}-char buffer")
    return rt.mem.read(p, n) if n else b""


def read_std_string(rt, addr, limit=MAX_STRING):
    """libstdc++'s std::string -> str (bytes that are not UTF-8 as surrogate
    escapes: compare it, never print it; quote() is for display)."""
    return std_string_bytes(rt, addr, limit).decode("utf-8", "surrogateescape")


_ESCAPES = {"\n": "\\n", "\t": "\\t", "\r": "\\r", '"': '\\"', "\\": "\\\\"}


def quote(raw: bytes, limit=256) -> str:
    """A string's bytes as GDB prints a C string: `"key3"`, at most limit
    characters then `...`; quotes, backslashes, control characters and bytes
    that are not UTF-8 escaped (`\\n`, `\\377`), so the text is one line and
    any debugger can print it (LLDB rejects a name it cannot encode)."""
    s = raw.decode("utf-8", "surrogateescape")
    more = len(s) > limit
    out = []
    for ch in s[:limit]:
        o = ord(ch)
        if ch in _ESCAPES:
            out.append(_ESCAPES[ch])
        elif 0xDC80 <= o <= 0xDCFF:  # a byte that is not UTF-8
            out.append(f"\\{o - 0xDC00:03o}")
        elif o < 0x20 or o == 0x7F:
            out.append(f"\\{o:03o}")
        else:
            out.append(ch)
    return '"' + "".join(out) + '"' + ("..." if more else "")


def check_value(rt, kind, addr, size):
    """None when the key or elem at addr may be handed to the debugger's own
    formatter (libstdc++'s std::string printer, LLDB's summaries): its bytes
    are readable and, for a std::string, std_string_bytes accepts it. Else the
    text to print instead: `<corrupt std::string: size=...>`, `<unreadable 0x...>`.
    Those formatters trust the object: libstdc++'s raises on a size that
    does not fit a C long (a Python exception in the middle of a print)."""
    try:
        if kind == "std_string":
            std_string_bytes(rt, addr)
        else:
            rt.mem.read(addr, max(1, min(size, 4096)))
    except MemoryReadError:
        return f"<unreadable {addr:#x}>"
    except Corrupt as e:
        return e.render()
    return None


def find(rt, h: Header, text):
    """Where KEY is: its hash, tophash, buckets (new and old) and slot."""
    t = h.type
    if t is None:
        raise GoroscopeError("the map has no type descriptor (never written)")
    key = parse_key(t, text)
    hv = key_hash(t, key, h.hash0)
    top = tophash(rt, hv)
    res = {"key": key, "hash": hv, "tophash": top, "bucket": hv & ((1 << h.B) - 1),
           "oldbucket": None, "evacuated": None, "found": None}
    if h.growing:
        ob = hv & ((1 << h.oldB) - 1)
        res["oldbucket"] = ob
        first = h.oldbuckets + ob * t.bucketsize
        res["evacuated"] = evacuated(rt, rt.mem.read(first, 1))
    places = []
    if h.growing and not res["evacuated"]:
        places.append((h.oldbuckets, res["oldbucket"], True))
    if h.buckets:
        places.append((h.buckets, res["bucket"], False))
    for arr, idx, old in places:
        for sl in _slots(rt, t, arr, idx, old):
            if sl.tophash == top and read_key(rt, t, sl.key_addr) == key:
                res["found"] = sl
                return res
    return res


# ---- info ----------------------------------------------------------------------

def chain_histogram(rt, h: Header, old=False, limit_buckets=1 << 22):
    """{chain length: number of buckets} over an array.

    The array is read in 1 MiB slices and each bucket's overflow pointer
    picked with one strided slice of 8-byte words (a 1M-entry map has 2^17
    buckets: per-bucket reads cost ~0.3 s); only the rare chains are walked.
    """
    t = h.type
    arr, nb = (h.oldbuckets, 1 << h.oldB) if old else (h.buckets, 1 << h.B)
    hist = {}
    if not arr or t is None:
        return hist
    nb = min(nb, limit_buckets)
    bs, ovoff = t.bucketsize, t.overflowoff
    per = max(1, (1 << 20) // bs)
    strided = bs % 8 == 0 and ovoff % 8 == 0
    for first in range(0, nb, per):
        n = min(per, nb - first)
        raw = rt.target.read(arr + first * bs, n * bs)
        if strided:
            ovs = memoryview(raw).cast("Q")[ovoff // 8::bs // 8]
        else:
            ovs = [int.from_bytes(raw[i * bs + ovoff:i * bs + ovoff + 8], "little")
                   for i in range(n)]
        zeros = 0
        for ov in ovs:
            if not ov:
                zeros += 1
                continue
            length, b, seen = 1, ov, set()
            while b and length < MAX_CHAIN:
                if b in seen:
                    raise Corrupt("hmap", f"overflow chain cycles at {b:#x}")
                seen.add(b)
                length += 1
                b = rt.u(b + ovoff, 8)
            hist[length] = hist.get(length, 0) + 1
        if zeros:
            hist[1] = hist.get(1, 0) + zeros
    return hist


def grow_at(L, B: int) -> int:
    """The count a map of 2^B buckets holds before an insert grows it: Go's
    overLoadFactor(count+1, B), count+1 > bucketCnt && count+1 > 6.5 * 2^B."""
    lim = L.const("loadFactorNum") * ((1 << B) // L.const("loadFactorDen"))
    return max(L.const("bucketCnt"), lim)


def info_lines(rt, h: Header) -> List[str]:
    t = h.type
    L = rt.L
    nb = 1 << h.B
    lf = h.count / nb if nb else 0
    kv = f"map[{t.keyname}]{t.elemname}" if t else "map (no type descriptor)"
    out = [f"{kv} at {h.addr:#x}",
           f"  count      {h.count}",
           f"  B          {h.B} ({nb} bucket{'s' if nb != 1 else ''}), load factor {lf:.2f}; "
           f"grows when count passes {grow_at(L, h.B)}",
           f"  flags      {h.flags:#04x} {' '.join(h.flag_names()) or '-'}",
           f"  noverflow  {h.noverflow}",
           f"  hash0      {h.hash0:#010x}",
           f"  buckets    {h.buckets:#x}",
           f"  oldbuckets {h.oldbuckets:#x}" + (" (not growing)" if not h.growing else "")]
    if h.growing:
        on = 1 << h.oldB
        kind = "same-size grow" if h.same_size else "doubling"
        nev = min(h.nevacuate, on)
        out.append(f"  evacuation {nev}/{on} old buckets ({100 * nev // on}%), {kind}")
    if h.flags & L.const("flags.hashWriting"):
        k, ident = who_token(rt, h.writer)
        out.append(f"  writing    {k} {ident}" if k else "  writing    (unknown writer)")
    if t:
        out.append(f"  types      key {t.keyname} ({t.keykind}, {t.keytypesize} B"
                   f"{', indirect' if t.indirectkey else ''}), elem {t.elemname} "
                   f"({t.elemkind}, {t.elemtypesize} B{', indirect' if t.indirectelem else ''}),"
                   f" bucket {t.bucketsize} B")
        try:
            for old in ((False, True) if h.growing else (False,)):
                name = "old chains" if old else "chains    "
                out.append(f"  {name} {chains_text(chain_histogram(rt, h, old))}")
        except (Corrupt, MemoryReadError) as e:
            out.append(f"  chains     {e}")
    return out


def chains_text(hist) -> str:
    """chain_histogram's {chain length: buckets} in words, by overflow buckets
    per bucket: "957 buckets with no overflow bucket, 12 with 1, 1 with 2"."""
    parts = []
    for n, c in sorted(hist.items()):
        k = n - 1  # overflow buckets behind the main one
        if parts:
            parts.append(f"{c} with {k}")
            continue
        what = "no overflow bucket" if k == 0 else f"{k} overflow bucket{'s' if k > 1 else ''}"
        parts.append(f"{c} bucket{'s' if c != 1 else ''} with {what}")
    return ", ".join(parts) or "none (no bucket array)"


def who_token(rt, token):
    from .objects import who

    return who(rt, token)


# ---- rendering ------------------------------------------------------------------

FLOAT_KINDS = {"float32": "<f", "float64": "<d"}


def summary(h: Header, error=None) -> str:
    """A map's one-line summary, as both plugins print it: `map[K]V len=N`,
    then what stopped walk() early (error): `<corrupt hmap: ...>`."""
    t = h.type
    kv = f"map[{t.keyname}]{t.elemname}" if t else "map"
    return f"{kv} len={h.count}" + (" (growing)" if h.growing else "") + \
        (f" {error}" if error else "")


def walk(rt, h: Header, limit=None):
    """The printers' entries: (the first `limit` live slots, None or the
    marker of what is wrong with the rest). The walk stops at the first
    corrupt or unreadable bucket (`<corrupt hmap: overflow chain cycles at
    0x...>`, `<unreadable hmap: ...>`); a complete walk that finds another
    number of live slots than count (Go: they are equal, but while an insert
    or delete is under way) says `<corrupt hmap: 47 live slots, count=40>`."""
    slots = []
    try:
        for sl in entries(rt, h, limit):
            slots.append(sl)
    except Corrupt as e:
        return slots, e.render()
    except MemoryReadError as e:
        return slots, f"<unreadable hmap: {e}>"
    complete = limit is None or len(slots) < limit
    if (complete and h.type is not None and h.buckets and len(slots) != h.count
            and not h.flags & rt.L.const("flags.hashWriting")):
        return slots, f"<corrupt hmap: {len(slots)} live slots, count={h.count}>"
    return slots, None


def render_value(rt, kind, addr, size):
    """Text of a key or elem from raw memory (the runtime's snapshot renders the same)."""
    import struct

    try:
        if kind in INT_KINDS:
            n, signed = INT_KINDS[kind]
            v = int.from_bytes(rt.mem.read(addr, n), "little", signed=signed)
            return ("true" if v else "false") if kind == "bool" else str(v)
        if kind in FLOAT_KINDS:
            fmt = FLOAT_KINDS[kind]
            return repr(struct.unpack(fmt, rt.mem.read(addr, struct.calcsize(fmt)))[0])
        if kind == "pointer":
            return f"{rt.u(addr, 8):#x}"
        if kind == "std_string":
            return quote(std_string_bytes(rt, addr))
        raw = rt.mem.read(addr, min(size, 32))
        return "0x" + raw.hex() + ("..." if size > 32 else "")
    except MemoryReadError:
        return f"<unreadable {addr:#x}>"
    except Corrupt as e:
        return e.render()


def tophash_name(rt, top):
    names = {rt.L.const("tophash." + n): n for n in
             ("emptyRest", "emptyOne", "evacuatedX", "evacuatedY", "evacuatedEmpty")}
    return names.get(top, f"{top:#04x}")


def bucket_lines(rt, h: Header, old=False, first=0, last=None):
    """The text layout of buckets [first, last) of the new (or old) array."""
    t = h.type
    if t is None:
        return ["(no type descriptor: the map was never written)"]
    arr, nb = (h.oldbuckets, 1 << h.oldB) if old else (h.buckets, 1 << h.B)
    if not arr:
        return ["(no old buckets: not growing)" if old else "(no buckets allocated)"]
    last = nb if last is None else min(last, nb)
    cnt, mintop = rt.L.const("bucketCnt"), rt.L.const("tophash.minTopHash")
    out = []
    for i in range(max(0, first), last):
        head = f"{'old ' if old else ''}bucket {i}"
        try:
            for pos, (b, raw) in enumerate(chain(rt, t, arr + i * t.bucketsize)):
                label = head if pos == 0 else f"  overflow {pos}"
                mark = ""
                if old and pos == 0:
                    ev = evacuated(rt, raw)
                    mark = " evacuated" if ev else " not evacuated"
                out.append(f"{label} @{b:#x}{mark}")
                out.append("  tophash " + " ".join(tophash_name(rt, raw[s]) for s in range(cnt)))
                for s in range(cnt):
                    top = raw[s]
                    if top < mintop:
                        continue
                    ka, ea = slot_addrs(t, b, raw, s)
                    out.append(f"  [{s}] {top:#04x} {render_value(rt, t.keykind, ka, t.keytypesize)}"
                               f": {render_value(rt, t.elemkind, ea, t.elemtypesize)}")
                ov = int.from_bytes(raw[t.overflowoff:t.overflowoff + 8], "little")
                if ov:
                    out.append(f"  overflow -> {ov:#x}")
        except Corrupt as e:
            out.append(f"{head}: {e.render()}")
        except MemoryReadError as e:
            out.append(f"{head}: <unreadable: {e}>")
    return out


def slot_text(rt, kind, addr, size):
    """A slot's text exactly as the runtime's snapshot writes it (capture.cpp: render)."""
    import struct

    try:
        if kind == "bool":
            return "true" if rt.mem.read(addr, 1)[0] else "false"
        if kind in INT_KINDS:
            n, signed = INT_KINDS[kind]
            return str(int.from_bytes(rt.mem.read(addr, n), "little", signed=signed))
        if kind in FLOAT_KINDS:
            fmt = FLOAT_KINDS[kind]
            return "%.17g" % struct.unpack(fmt, rt.mem.read(addr, struct.calcsize(fmt)))[0]
        if kind == "pointer":
            return f"{rt.u(addr, 8):#x}"
        if kind == "std_string":
            n = rt.u(addr + 8, 8)
            raw = rt.mem.read(rt.u(addr, 8), min(n, 256)) if n else b""
            s = raw.decode("utf-8", "surrogateescape")
            return s + ("..." if n > 256 else "")
        raw = rt.mem.read(addr, min(size, 32))
        return "0x" + raw.hex() + ("..." if size > 32 else "")
    except MemoryReadError:
        return "<unreadable>"


def find_lines(h: Header, r) -> List[str]:
    """`gomap find`'s text (both plugins print it)."""
    out = [f"key {r['key']!r}: hash {r['hash']:#018x}, tophash {r['tophash']:#04x}",
           f"  bucket {r['bucket']} of {1 << h.B} (hash & {(1 << h.B) - 1:#x})"]
    if r["oldbucket"] is not None:
        st = ("evacuated" if r["evacuated"]
              else "not evacuated (its entries are still in the old array)")
        out.append(f"  old bucket {r['oldbucket']} of {1 << h.oldB}: {st}")
    sl = r["found"]
    if sl is None:
        out.append("  not found")
    else:
        where = "old bucket" if sl.old else "bucket"
        chain_ = f", overflow {sl.chainpos}" if sl.chainpos else ""
        out.append(f"  found: {where} {sl.bucket}{chain_}, slot {sl.slot}, key at "
                   f"{sl.key_addr:#x}, elem at {sl.elem_addr:#x}")
    return out
