"""goroutine: select a goroutine, or run a command in its context."""

from .. import expressions
from .. import goroutines as gcmd
from ..errors import GoroscopeError
from . import Command

HELP = """\
Usage: goroutine                  show the selected goroutine
       goroutine ID               select goroutine ID: bt, frame N, up/down
                                  and the locals then show its stack
       goroutine ID CMD...        run CMD in goroutine ID's context only
       goroutine clear            back to the threads' own stacks

ID is a number or an integer expression ($gid). A running goroutine is its
worker's OS thread: selecting it selects that thread. The selection ends
when the program resumes. No registers are written, so this works on core
files and remote targets too.

Example: goroutine 7 bt"""


def live_goroutine(rt, goid):
    """The G address of goroutine goid; GoroscopeError if there is none."""
    addr = rt.findg(goid)
    if addr is not None:
        g = rt.g_at(addr)
        if g.goid == goid and g.atomicstatus not in (rt.dead, rt.idle):
            bad = rt.corrupt_g(addr, g.goid, g.atomicstatus)
            if bad is not None:
                raise bad
            return addr
    raise GoroscopeError(f"no goroutine {goid}")


def run(dbg, a):
    words = a.raw.split(None, 1)
    if not words:
        sel = dbg.selected_goroutine()
        if sel is None:
            return ["no goroutine selected (the threads' own stacks are shown)"]
        rt = dbg.runtime()
        views = [v for v in gcmd.collect(rt, rt.target.now_ns()) if v.goid == sel]
        for v in views:
            v.current = True
        return [gcmd.line(rt, dbg.symbolizer(), v, gcmd.Options()) for v in views]
    if words == ["clear"]:
        return dbg.clear_goroutine()
    rt = dbg.runtime()
    goid = expressions.goroutine_id(dbg, words[0])
    addr = live_goroutine(rt, goid)
    if len(words) > 1:
        v = gcmd.collect(rt, rt.target.now_ns(), only=addr)[0]
        return gcmd.exec_in(dbg, rt, dbg.symbolizer(), v, words[1])
    return dbg.select_goroutine(rt, goid)


COMMAND = Command("goroutine", "Select a goroutine, or run a command in its context.", HELP,
                  None, run, category="stack")
