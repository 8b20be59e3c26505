"""coreops: every decoding path of the core, on one Runtime (no debugger).

exercise() runs what the commands and printers run (goroutine listings with
each location, stacks, labels, groups, waits, deadlocks, objects, maps:
header, info, buckets, entries, find, snapshot) and returns their text, so
a recorded image can be replayed and compared, and corrupted images fuzzed.
"""

from goroscope import deadlock, maps, objects, snapshot
from goroscope import goroutines as gcmd
from goroscope.commands import goroutines as goroutines_cmd
from goroscope.errors import GoroscopeError
from goroscope.runtime import Runtime
from goroscope.stacks import Symbolizer


def soft(out, name, f):
    """Run f; a GoroscopeError is an answer (the user's one-line error)."""
    try:
        out[name] = f()
    except GoroscopeError as e:
        out[name] = f"goroscope: {e}"


def exercise(target):
    out = {}
    try:
        rt = Runtime(target)
    except GoroscopeError as e:
        return {"runtime": f"goroscope: {e}"}
    sym = Symbolizer(target)
    views = []

    def listing():
        views.extend(gcmd.collect(rt, target.now_ns()))
        return "\n".join(gcmd.render(rt, sym, views, gcmd.Options()))

    soft(out, "goroutines", listing)
    soft(out, "goroutines (fast)", lambda: "\n".join(gcmd.fast_listing(rt, sym,
                                                                         target.now_ns())))
    for flags in (["-t", "4"], ["-r"], ["-g"], ["-s"], ["-l"], ["-group", "userloc"],
                  ["-group", "label", "role"], ["-with", "label", "role=locker"],
                  ["-without", "running"], ["-with", "name", "sleep"], ["-group", "name"]):
        o = goroutines_cmd.parse_flags(flags)
        soft(out, " ".join(flags), lambda: "\n".join(
            gcmd.render(rt, sym, gcmd.select(rt, sym, views, o), o)))
    soft(out, "dump", lambda: "\n".join(
        ln for v in views for ln in gcmd.dump_lines(rt, sym, v)))
    soft(out, "deadlocks", lambda: "\n".join(deadlock.render(
        rt, sym, deadlock.build(rt, views), views, lambda v: gcmd.dump_lines(rt, sym, v))))
    named = []
    soft(out, "named", lambda: repr(named.extend(rt.named_objects()) or named))
    for o in named:
        a, k, n = o["addr"], o["kind"], o["name"]
        if k in objects.DECODERS:
            soft(out, f"obj {n}", lambda: objects.summary(k, objects.DECODERS[k](rt, a)))
        elif k == "map":
            def mapops():
                h = maps.header(rt, a)
                lines = maps.info_lines(rt, h)
                lines += maps.bucket_lines(rt, h, False, 0, 64)
                lines += maps.bucket_lines(rt, h, True, 0, 64)
                lines.append(f"entries {sum(1 for _ in maps.entries(rt, h, 10000))}")
                # the printers' path (GDB's MapPrinter, LLDB's MapSynth): run for
                # what it may raise, its text not recorded in the images
                slots, err = maps.walk(rt, h, 300)
                t = h.type
                for sl in slots:
                    for kind, at, size in ((t.keykind, sl.key_addr, t.keytypesize),
                                          (t.elemkind, sl.elem_addr, t.elemtypesize)):
                        maps.check_value(rt, kind, at, size)
                        maps.render_value(rt, kind, at, size).encode()
                maps.summary(h, err).encode()
                for key in ("5", "42", "key3", "nokey"):
                    try:
                        r = maps.find(rt, h, key)
                        lines.append(f"find {key}: {r['bucket']} {r['found'] is not None}")
                    except GoroscopeError as e:
                        lines.append(f"find {key}: {e}")
                return "\n".join(lines)

            soft(out, f"map {n}", mapops)
    def snap():
        doc = snapshot.build(rt, sym)
        doc["time"]["wall_ns"] = 0  # the only input not from the target
        return snapshot.dumps(doc)

    soft(out, "snapshot", snap)
    return out
