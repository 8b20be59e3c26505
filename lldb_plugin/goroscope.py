# goroscope.py — LLDB entry point of the goroscope plugin.
#
#   (lldb) command script import /path/to/goroscope/lldb_plugin/goroscope.py
#
# or in ~/.lldbinit, or `./goroscope lldb PROG [ARGS]`. All logic lives in the
# debugger-agnostic core (python/goroscope); goroscope_lldb/ is the LLDB adapter.
import os
import sys

_here = os.path.dirname(os.path.abspath(__file__))
for _p in (_here, os.path.join(os.path.dirname(_here), "python")):
    if _p not in sys.path:
        sys.path.insert(0, _p)  # python/ ends up first: `goroscope` is the core package


def __lldb_init_module(debugger, internal_dict):
    # `command script import .../goroscope.py` registered this file as the
    # module "goroscope": make room for the core package of that name.
    me = sys.modules.get("goroscope")
    if me is not None and getattr(me, "__file__", "") == __file__:
        del sys.modules["goroscope"]
    import goroscope_lldb

    goroscope_lldb.register(debugger)
