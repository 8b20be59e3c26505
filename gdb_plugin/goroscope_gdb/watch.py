"""watch: `gomap watch` in GDB: the core's map watches (goroscope.watch) on
gdb.Breakpoint hardware watchpoints.

Each watch is a BP_HARDWARE_WATCHPOINT whose stop() asks the core whether
the change is the event asked for. GDB forbids creating or deleting
breakpoints inside stop(): the core queues such changes and the stop-event
handler, which runs once the inferior is stopped, applies them.
"""

import gdb

from goroscope import watch as core

from . import state


class Watchpoint(gdb.Breakpoint):
    def __init__(self, w, addr, size):
        ctype = {1: "unsigned char", 2: "unsigned short", 4: "unsigned int", 8: "unsigned long"}
        super().__init__(f"*({ctype[size]} *) {addr:#x}", gdb.BP_WATCHPOINT, gdb.WP_WRITE,
                         internal=False)
        self.w = w
        self.silent = True

    def stop(self):
        msg = WATCHES.hit(self.w)
        if msg:
            gdb.write(msg + "\n")
            return True
        return False


class GdbBackend(core.Backend):
    def __init__(self):
        self.bps = {}

    def invalidate(self):
        state.reset()

    def runtime(self):
        return state.runtime()

    def in_use(self):
        n = 0
        for b in gdb.breakpoints() or ():
            if b.is_valid() and b.enabled and b.type in (gdb.BP_HARDWARE_WATCHPOINT,
                                                          gdb.BP_READ_WATCHPOINT,
                                                          gdb.BP_ACCESS_WATCHPOINT):
                n += 1
        return n

    def create(self, w, addr, size):
        bp = Watchpoint(w, addr, size)
        self.bps[id(w)] = bp
        return bp.number

    def delete(self, w):
        bp = self.bps.pop(id(w), None)
        if bp is not None and bp.is_valid():
            bp.delete()

    def say(self, text):
        gdb.write(text + "\n", gdb.STDERR if text.startswith("goroscope:") else gdb.STDOUT)


WATCHES = core.Watches(GdbBackend())


def install():
    gdb.events.stop.connect(lambda _event=None: WATCHES.apply_pending())


def arm(hmap, grow, evacuated, writing, key):
    return WATCHES.arm(hmap, grow, evacuated, writing, key)


def clear():
    return WATCHES.clear()


def listing():
    # (a watchpoint the user deleted with `delete N` is gone from the list too)
    live = [w for w in WATCHES.active if WATCHES.backend.bps.get(id(w)) is not None
            and WATCHES.backend.bps[id(w)].is_valid()]
    return [f"{w.number}: gomap watch {w.what} on map {w.hmap:#x}" for w in live]
