"""settings: `set goroscope ...` / `show goroscope ...`."""

import gdb

from . import state


class Prefix(gdb.Command):
    """Settings of the goroscope plugin (print-limit, bucket-limit, viewer, auto-push)."""

    def __init__(self, name):
        super().__init__(name, gdb.COMMAND_DATA, gdb.COMPLETE_NONE, True)


class Setting(gdb.Parameter):
    def __init__(self, key, kind, doc, value):
        self.key = key
        self.__doc__ = doc
        self.set_doc = f"Set {doc[0].lower() + doc[1:]}"
        self.show_doc = f"Show {doc[0].lower() + doc[1:]}"
        super().__init__(f"goroscope {key}", gdb.COMMAND_DATA, kind)
        self.value = value
        state.settings[key] = value

    def get_set_string(self):
        state.settings[self.key] = self.value
        return ""

    def get_show_string(self, svalue):
        return f"goroscope {self.key} is {svalue}."


def install():
    Prefix("set goroscope")
    Prefix("show goroscope")
    Setting("print-limit", gdb.PARAM_ZUINTEGER,
            "The number of buckets `gomap buckets` prints without --range.", 64)
    Setting("bucket-limit", gdb.PARAM_ZUINTEGER,
            "The buckets per array a snapshot holds (0: all).", 4096)
    from goroscope import push

    Setting("viewer", gdb.PARAM_STRING,
            "The address of goroscope-view --listen (unix:PATH or tcp:HOST:PORT).",
            push.default_address())
    Setting("auto-push", gdb.PARAM_BOOLEAN,
            "Whether every stop pushes a snapshot to the viewer.", False)
    Setting("stop-on-fatal", gdb.PARAM_BOOLEAN,
            "Whether a fatal error (goroscope_fatal) stops the program before it exits.", True)
