# goroscope_lldb_init.py — LLDB entry point of the goroscope plugin.
#
#   (lldb) command script import /path/to/goroscope/lldb_plugin/goroscope_lldb_init.py
#
# or in ~/.lldbinit, or `./goroscope lldb PROG [ARGS]`. Importing it again
# (~/.lldbinit and the command line both) does nothing. All logic lives in
# the debugger-agnostic core (python/goroscope); goroscope_lldb/ is the LLDB
# adapter. (LLDB registers an imported file as a module of its name: this
# one is not `goroscope.py`, the core package's name.)
import os
import sys

_here = os.path.dirname(os.path.abspath(__file__))
for _p in (os.path.join(os.path.dirname(_here), "python"), _here):
    if _p not in sys.path:
        sys.path.insert(0, _p)


def __lldb_init_module(debugger, internal_dict):
    import goroscope_lldb

    goroscope_lldb.register(debugger)
