"""gomap: a goro::Map's internals (Go's pre-1.24 hmap): info, buckets, find, watch."""

from .. import expressions, maps
from .. import watch as watchmod
from ..errors import GoroscopeError
from . import EXPRESSION, Command, Parser, values

EXPR_HELP = """EXPR is a goro::Map expression (or a pointer to one), or the name given with
goro::debug::name. Reads memory only: works on cores and remote targets."""

INFO_HELP = f"""\
Usage: gomap info EXPR

The decoded header: B, count, load factor, flags (and who holds hashWriting),
hash0, buckets and oldbuckets, evacuation progress, and how many overflow
buckets hang behind each bucket ("chains 957 buckets with no overflow bucket,
12 with 1, 1 with 2"; "old chains": the same for oldbuckets while growing).

{EXPR_HELP}

Example: gomap info sessions"""

BUCKETS_HELP = f"""\
Usage: gomap buckets EXPR [--old] [--range A:B]

Each bucket's 8 tophash slots by state, its keys and values, and its
overflow links.
  --old        the old array (while the map grows)
  --range A:B  buckets A to B-1 (default: the first `goroscope show
               print-limit`)

{EXPR_HELP}

Example: gomap buckets sessions --range 0:8"""

FIND_HELP = f"""\
Usage: gomap find EXPR KEY

KEY's hash, tophash, its bucket in the new and the old array, and the slot
holding it (integer and string keys).

{EXPR_HELP}

Example: gomap find sessions 42"""

WATCH_HELP = """\
Usage: gomap watch EXPR [--grow] [--evacuated] [--writing] [--key KEY]
       gomap watch --list | --clear

Hardware watchpoints on a map:
  --grow       stop when growth starts (hmap.buckets changes)
  --evacuated  stop when evacuation ends (hmap.oldbuckets becomes null)
  --writing    stop when hashWriting is set: the goroutine doing it, and
               the one already holding it if any (a concurrent write)
  --key KEY    stop when KEY's value is written, KEY is deleted, or evacuation
               moves it (the watch then re-arms itself on its new slot)
  --list       the active map watches
  --clear      delete them
Uses the CPU's debug registers (4 on x86-64); refuses with a clear message
when they would run out. Live processes only.

Example: gomap watch sessions --grow --evacuated"""

HELP = """\
Usage: gomap info EXPR                     the header, evacuation, chains
       gomap buckets EXPR [--old] [--range A:B]   tophash, keys, values
       gomap find EXPR KEY                 where KEY lives: hash, bucket, slot
       gomap watch EXPR [--grow] [--evacuated] [--writing] [--key KEY]
                                         hardware watchpoints; --list, --clear

""" + EXPR_HELP + """
`help gomap SUBCOMMAND` for each.

Example: gomap info sessions"""


def _expr_parser(name, help_text):
    p = Parser(f"gomap {name}", help_text)
    values(p.add_argument("expr", nargs="+", metavar="EXPR"), kind=EXPRESSION)
    return p


def info_parser(debugger):
    return _expr_parser("info", INFO_HELP)


def buckets_parser(debugger):
    p = _expr_parser("buckets", BUCKETS_HELP)
    p.add_argument("--old", action="store_true")
    p.add_argument("--range", metavar="A:B")
    return p


def find_parser(debugger):
    p = Parser("gomap find", FIND_HELP)
    values(p.add_argument("words", nargs="+", metavar="EXPR KEY"), kind=EXPRESSION)
    return p


def watch_parser(debugger):
    p = Parser("gomap watch", WATCH_HELP)
    values(p.add_argument("expr", nargs="*", metavar="EXPR"), kind=EXPRESSION)
    for f in ("--grow", "--evacuated", "--writing", "--list", "--clear"):
        p.add_argument(f, action="store_true")
    p.add_argument("--key", metavar="KEY")
    return p


def header(dbg, a):
    rt = dbg.runtime()
    return rt, maps.header(rt, expressions.object_address(dbg, rt, " ".join(a.expr)))


def run_info(dbg, a):
    rt, h = header(dbg, a)
    return maps.info_lines(rt, h)


def bucket_range(text, count):
    """--range A:B -> (first, last); count buckets from A without B."""
    first, last = 0, None
    if text is not None:
        x, _, y = text.partition(":")
        try:
            first = int(x or 0)
            last = int(y) if y else None
        except ValueError:
            raise GoroscopeError(f"bad range '{text}' (A:B)") from None
    return first, first + count if last is None else last


def run_buckets(dbg, a):
    first, last = bucket_range(a.range, dbg.settings["print-limit"])
    rt, h = header(dbg, a)
    out = maps.bucket_lines(rt, h, a.old, first, last)
    nb = (1 << h.oldB) if a.old else (1 << h.B)
    if last < nb:
        out.append(f"(buckets {first}..{last - 1} of {nb}; --range {last}:{last + 64} for more)")
    return out


def run_find(dbg, a):
    if len(a.words) < 2:
        raise GoroscopeError("usage: gomap find EXPR KEY")
    rt = dbg.runtime()
    h = maps.header(rt, expressions.object_address(dbg, rt, " ".join(a.words[:-1])))
    return maps.find_lines(h, maps.find(rt, h, a.words[-1]))


def run_watch(dbg, a):
    ws = watchmod.session(dbg)
    if a.list or a.clear:
        if a.expr or a.grow or a.evacuated or a.writing or a.key is not None or \
                (a.list and a.clear):
            raise GoroscopeError("gomap watch --list and --clear take nothing else")
        if a.list:
            return ws.listing() or ["no map watches"]
        return [f"{ws.clear()} map watchpoint(s) deleted"]
    if not a.expr:
        raise GoroscopeError(watchmod.USAGE)
    if dbg.is_core():
        raise GoroscopeError("gomap watch: a core file cannot run: watchpoints need a live "
                             "process")
    rt = dbg.runtime()
    made = ws.arm(expressions.object_address(dbg, rt, " ".join(a.expr)), a.grow, a.evacuated,
                  a.writing, a.key)
    return [f"gomap watch {w.what}: hardware watchpoint {w.number}" for w in made]


COMMAND = Command("gomap", "Inspect a goro::Map's internals (Go's pre-1.24 hmap).", HELP,
                  subcommands=[
                      Command("info", "The decoded hmap header of a goro::Map.", INFO_HELP,
                              info_parser, run_info),
                      Command("buckets", "A goro::Map's buckets: tophash, keys, values.",
                              BUCKETS_HELP, buckets_parser, run_buckets),
                      Command("find", "Where KEY lives in a goro::Map.", FIND_HELP,
                              find_parser, run_find),
                      Command("watch", "Hardware watchpoints on a goro::Map's events.",
                              WATCH_HELP, watch_parser, run_watch, category="breakpoints"),
                  ])
