"""deadlocks: lock cycles and the goroutines nothing can wake."""

from .. import deadlock
from .. import goroutines as gcmd
from . import Command, Parser

HELP = """\
Usage: deadlocks

Builds the wait-for graph over goroutines, channels, selects, mutexes,
RWMutexes, WaitGroups, Conds and Onces; prints each cycle (goroutine ->
object -> holder -> ...) and the goroutines no other goroutine can wake
(every possible partner is itself blocked for good, or gone), with their
stacks. Conservative: a partner it cannot see (a reference outside every
goroutine's stack) counts as one that could still act. The rules:
docs/deadlock-rules.md (the viewer applies the same ones).

Example: deadlocks"""


def parser(debugger):
    return Parser("deadlocks", HELP)


def run(dbg, a):
    rt = dbg.runtime()
    sym = dbg.symbolizer()
    views = gcmd.collect(rt, rt.target.now_ns(), dbg.progress)
    g = deadlock.build(rt, views)
    return deadlock.render(rt, sym, g, views, lambda v: gcmd.dump_lines(rt, sym, v, "\t"))


COMMAND = Command("deadlocks", "Find deadlocks and goroutines that nothing can wake.", HELP,
                  parser, run, category="stack")
