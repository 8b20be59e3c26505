"""stop: what the plugins do at every stop of the program, once it is stopped.

    1. the map watches' queued changes (goroscope.watch: a --key watch
       re-armed on the slot its key moved to; neither debugger allows
       creating watchpoints from inside a watchpoint's callback)
    2. with `goroscope set auto-push on`, a snapshot pushed to the viewer

The adapters call after_stop from their stop notification (GDB's
events.stop, LLDB's stop hook) and print the lines it returns; a failure
here is one line and never disturbs the stop.
"""

from typing import List

from . import push, snapshot


def after_stop(dbg) -> List[str]:
    out = []
    ws = getattr(dbg, "_map_watches", None)
    if ws is not None:
        ws.apply_pending()
    if dbg.settings["auto-push"]:
        try:
            from .commands.goroscope_cmd import snapshot_doc

            push.send(dbg.settings["viewer"], snapshot.dumps(snapshot_doc(dbg)))
        except Exception as e:  # noqa: BLE001 - a failed push never disturbs the stop
            out.append(f"goroscope: auto-push: {e}")
    return out

