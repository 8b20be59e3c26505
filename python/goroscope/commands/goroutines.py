"""goroutines: list goroutines, with Delve's flags and line format."""

import argparse

from .. import expressions
from .. import goroutines as gcmd
from ..errors import GoroscopeError
from . import EXPRESSION, Command, Parser, values

FILTERS = ("userloc", "curloc", "goloc", "startloc", "name", "label", "running", "user")
GROUPS = ("userloc", "curloc", "goloc", "startloc", "name", "running", "user", "label")
LOCS = {"u": "userloc", "r": "curloc", "g": "goloc", "s": "startloc"}

HELP = """\
Usage: goroutines [-u|-r|-g|-s] [-t [DEPTH]] [-l] [-with|-w FILTER]
         [-without|-wo FILTER] [-group GROUP] [-chan EXPR] [-exec CMD...]

Location shown: -u the topmost user frame (default), -r the topmost frame,
-g where the goroutine was created (the go() call), -s its start function.
  -t [DEPTH]     the stack of each goroutine (default depth 10)
  -l             labels
  -with/-w FILTER, -without/-wo FILTER (repeatable), FILTER one of:
                 userloc|curloc|goloc|startloc SUBSTRING (in the location)
                 name SUBSTRING (goro::set_name's)
                 label KEY[=VALUE]     running     user
  -group GROUP   group by userloc|curloc|goloc|startloc|name|running|user
                 or label KEY: at most 5 goroutines per group, and the
                 group's total
  -chan EXPR     only goroutines waiting on the channel EXPR (a goro::Chan<T>,
                 or a channel's debug name)
  -exec CMD...   run CMD (the rest of the line) in each listed goroutine

A line:
  * Goroutine 6 - User: ./main.cpp:11 worker (0x4b8465) [chan receive 2s]
`*` marks the selected goroutine, `(thread N)` a running one's OS thread,
[...] the wait reason and how long it has waited, "NAME" its name if
goro::set_name gave it one. The listing ends `[N goroutines]`.

Example: goroutines -with userloc worker -group startloc"""


def parser(debugger):
    p = Parser("goroutines", HELP)
    loc = p.add_mutually_exclusive_group()
    for k, v in LOCS.items():
        loc.add_argument(f"-{k}", dest="loc", action="store_const", const=v)
    p.add_argument("-t", dest="depth", nargs="?", type=int, const=gcmd.DEFAULT_DEPTH, default=0,
                   metavar="DEPTH")
    p.add_argument("-l", dest="labels", action="store_true")
    values(p.add_argument("-with", "-w", dest="with_", nargs="+", action="append",
                          metavar="FILTER"), FILTERS)
    values(p.add_argument("-without", "-wo", nargs="+", action="append", metavar="FILTER"),
           FILTERS)
    values(p.add_argument("-group", nargs="+", metavar="GROUP"), GROUPS)
    values(p.add_argument("-chan", metavar="EXPR"), kind=EXPRESSION)
    p.add_argument("-exec", metavar="CMD")  # (taken raw by the command layer: see Command.tail)
    return p


def options(a: argparse.Namespace) -> gcmd.Options:
    """The parsed flags as the renderer's Options (checks each filter's and group's shape)."""
    o = gcmd.Options(loc=a.loc or "userloc", depth=a.depth, labels=a.labels, chan=a.chan,
                     exec_cmd=getattr(a, "tail", None))
    for neg, (kind, *args) in [(False, f) for f in a.with_ or []] + \
            [(True, f) for f in a.without or []]:
        if kind not in FILTERS:
            raise GoroscopeError(f"unknown filter '{kind}' ({', '.join(FILTERS)})")
        want = 0 if kind in ("running", "user") else 1
        if len(args) != want:
            raise GoroscopeError(f"filter '{kind}' takes {want or 'no'} argument"
                                 f"{'s' if not want else ''}: -with {kind}"
                                 f"{' ARG' if want else ''}")
        o.filters.append(gcmd.Filter(kind, args[0] if args else "", neg))
    if a.group:
        g, rest = a.group[0], a.group[1:]
        if g not in GROUPS:
            raise GoroscopeError(f"unknown group '{g}' ({', '.join(GROUPS[:-1])}, label KEY)")
        if (g == "label") != (len(rest) == 1) or len(rest) > 1:
            raise GoroscopeError("-group label takes one KEY" if g == "label"
                                 else f"-group {g} takes no argument")
        o.group = g
        o.group_label = rest[0] if rest else ""
    return o


def parse_flags(argv):
    """Options from a list of flags (the tests' and coreops' entry)."""
    a = parser("").parse_args(argv)
    a.tail = None
    return options(a)


def run(dbg, a):
    o = options(a)
    rt = dbg.runtime()
    sym = dbg.symbolizer()
    sel = dbg.selected_goroutine()
    now = rt.target.now_ns()
    if o in (gcmd.Options(), gcmd.Options(group="userloc")):
        # the plain listing and -group userloc: one pass, no per-goroutine objects
        yield from gcmd.fast_listing(rt, sym, now, sel, dbg.progress, group=bool(o.group))
        return
    corrupt = []  # garbage G records: listed unless a filter asks for something they lack
    views = gcmd.collect(rt, now, dbg.progress, corrupt=corrupt)
    if sel is not None:
        for v in views:
            v.current = v.goid == sel
    chan = expressions.chan_address(dbg, rt, o.chan) if o.chan else None
    views = gcmd.select(rt, sym, views, o, chan)
    if o.exec_cmd:
        for v in views:
            yield gcmd.line(rt, sym, v, o)
            yield from gcmd.exec_in(dbg, rt, sym, v, o.exec_cmd, header=False)
        return
    yield from gcmd.render(rt, sym, views, o, [] if o.filters or chan is not None else corrupt)


COMMAND = Command("goroutines", "List goroutines, as Delve's `goroutines`.", HELP, parser, run,
                  tail="-exec", category="stack")
