"""framefilter: GDB's own `bt` names lambdas and places callers as
goroscope's listings do.

GDB prints a lambda's frame by its DWARF name, a bare `operator()`
(`#9  operator() (__closure=...) at main.cpp:21`): GCC gives the closure's
operator() no qualified name, and at -O2 an inlined one has no linkage name
either. `goroutines -t` and the dumps name it from the ELF symbol (a
physical frame: `main::{lambda()#1}::operator()`) or from its callers in the
inline chain (stacks.qualify_lambdas: a library wrapper's template argument,
or `F::{lambda}` for a lambda inlined into its own function F). This frame
filter applies the same names to GDB's `bt`, `goroutine N bt` and
`frame`/`info frame` listings, so a user reading GDB's backtrace sees the
same names as in goroscope's (tests/programs: the bt-names check).

It also moves a caller's frame to the line of its call where GDB reads
another row (call_location: a loop head, a header row, code inlined at the
return address); goroscope's Symbolizer and addr2line agree on the call's.

It renames only frames whose name is a bare `operator()...`; every other
frame keeps GDB's own name, arguments and locals (read so that one that
cannot be read prints `<error reading variable: ...>`, as without a filter).
`disable frame-filter global goroscope-lambda-names` turns it off.
Rejected: renaming in the unwinder (GDB takes names from the symbol tables,
not from unwinders), or rewriting `bt`'s text (frame filters are GDB's
documented hook, and they reach MI/IDE front ends too).
"""

import gdb
from gdb.FrameDecorator import FrameDecorator

from goroscope import stacks
from goroscope.target import Frame

from .target import minimal_symbol

NAME = "goroscope-lambda-names"
AGGREGATES = (gdb.TYPE_CODE_STRUCT, gdb.TYPE_CODE_UNION, gdb.TYPE_CODE_ARRAY)


def _bare(name):
    return bool(name) and name.startswith("operator()") and "::" not in name


class _Arg:
    def __init__(self, sym, val):
        self.sym, self.val = sym, val

    def symbol(self):
        return self.sym

    def value(self):
        return self.val


class _Decorated(FrameDecorator):
    """A frame with goroscope's name (if any) and arguments that never
    raise: with any frame filter active GDB prints every frame's arguments
    through Python, where an argument GCC optimized out in some ways
    (a by-reference aggregate whose pointer is gone) raises instead of
    printing `<error reading variable: ...>` as GDB's own path does."""

    def __init__(self, base, name=None, loc=None):
        super().__init__(base)
        self._name = name
        self._loc = loc  # (file or None, line): goroscope's where GDB's differs

    def filename(self):
        if self._loc and self._loc[0]:
            return self._loc[0]
        return super().filename()

    def line(self):
        if self._loc:
            return self._loc[1]
        return super().line()

    def function(self):
        if self._name:
            return self._name
        # GDB's own bt prints a function without its parameter list (its
        # symbol's print name does have it: through a filter GDB would show
        # `worker(goro::Chan<int>, goro::WaitGroup*) (jobs=...)`)
        name = super().function()
        return stacks.elide_params(name) if isinstance(name, str) else name

    def frame_args(self):
        args = super().frame_args()
        if not args:
            return args
        frame = self.inferior_frame()
        scalars = gdb.parameter("print frame-arguments") != "all"
        out = []
        for a in args:
            sym, val = a.symbol(), a.value()
            if val is None and isinstance(sym, gdb.Symbol):
                try:
                    t = sym.type.strip_typedefs() if sym.type is not None else None
                    while t is not None and t.code in (gdb.TYPE_CODE_REF, gdb.TYPE_CODE_RVALUE_REF):
                        t = t.target().strip_typedefs()
                    if scalars and t is not None and t.code in AGGREGATES:
                        # As GDB prints them by default: "...", unless a
                        # pretty-printer without children makes it one string.
                        v = sym.value(frame)
                        pp = gdb.default_visualizer(v)
                        if pp is None or hasattr(pp, "children"):
                            out.append(_Arg(sym, "..."))
                            continue
                    val = sym.value(frame)
                    val.fetch_lazy()
                    # (what GDB will print: a pretty-printer may fail on it)
                    val.format_string(max_elements=4, max_depth=1)
                except (gdb.error, RuntimeError) as e:
                    val = f"<error reading variable: {e}>"
            out.append(_Arg(sym, val))
        return out


def qualified_name(frame):
    """The goroscope name of a frame GDB calls a bare operator(), or None:
    the chain from frame out to its physical frame, named as the
    Symbolizer names it (the physical one by its ELF symbol), qualified."""
    chain = []
    f = frame
    while f is not None:
        sal = f.find_sal()
        file = sal.symtab.fullname() if sal.symtab else ""
        name = f.name() or ""
        if f.type() != gdb.INLINE_FRAME:
            msym, _ = minimal_symbol(f.pc())
            if msym and "(" in msym:
                name = stacks.strip_return_type(msym)
            chain.append(Frame(name, file, 0, f.pc()))
            break
        chain.append(Frame(name, file, 0, f.pc(), inlined=True))
        f = f.older()
    stacks.qualify_lambdas(chain)
    name = chain[0].function if chain else ""
    return stacks.elide_params(name) if name and not _bare(name) else None


def call_location(f):
    """(file or None, line) of a caller's frame as the Symbolizer reads it,
    where GDB's own differs; None where they agree or cannot be matched.

    GDB attributes a return address to the line of an is_stmt row it finds
    before it (a loop head, a header row: functor.cpp:19 for a call at :20)
    or to code inlined at the return address (unique_ptr.h:191 in a
    recursive frame); goroscope's Symbolizer reads the call's own row
    (addr2line for header rows) and walks the inline call sites, as LLDB,
    addr2line and the runtime do. Only callers (level > 0, not above a
    signal frame) whose inline chain has as many frames as the Symbolizer's
    are relocated; the innermost chain's pc is exact, and GDB's is right."""
    out, p = 0, f  # inline frames between f and its physical frame
    while p.type() == gdb.INLINE_FRAME:
        out += 1
        p = p.older()
        if p is None:
            return None
    inner, n = 0, f  # inline frames newer than f in the same chain
    while True:
        n = n.newer()
        if n is None or n.type() != gdb.INLINE_FRAME or n.pc() != f.pc():
            break
        inner += 1
    if f.level() - inner == 0 or (n is not None and n.type() == gdb.SIGTRAMP_FRAME):
        return None  # the chain's pc is exact, not a return address
    from .state import DBG

    ours = DBG.symbolizer().frames(f.pc(), True)
    if len(ours) != inner + 1 + out:
        return None
    want = ours[len(ours) - 1 - out]
    if not want.file or not want.line:
        return None
    sal = f.find_sal()
    have = sal.symtab.fullname() if sal.symtab else ""
    if have == want.file and sal.line == want.line:
        return None
    return (None if have == want.file else want.file, want.line)


class LambdaNames:
    def __init__(self):
        self.name = NAME
        self.priority = 100
        self.enabled = True

    def filter(self, frames):
        for d in frames:
            yield self.decorate(d)

    @staticmethod
    def decorate(d):
        name = loc = None
        try:
            f = d.inferior_frame()
            if _bare(f.name()):
                name = qualified_name(f)
            loc = call_location(f)
        except (gdb.error, RuntimeError, ValueError):
            pass
        return _Decorated(d, name, loc)


def install():
    gdb.frame_filters[NAME] = LambdaNames()
