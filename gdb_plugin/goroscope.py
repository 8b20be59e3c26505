# goroscope.py — GDB entry point of the goroscope plugin.
#
#   (gdb) source /path/to/goroscope/gdb_plugin/goroscope.py
#
# or automatically: every program linked with libgoro carries a
# .debug_gdb_scripts entry that sources this file (docs/debug-abi.md §7;
# needs `add-auto-load-safe-path PROG`), or `./goroscope gdb PROG [ARGS]`.
# Loading twice is harmless. All logic lives in the debugger-agnostic core
# (python/goroscope); goroscope_gdb/ is the GDB adapter.
import os
import sys

_here = os.path.dirname(os.path.abspath(__file__))
for _p in (_here, os.path.join(os.path.dirname(_here), "python")):
    if _p not in sys.path:
        sys.path.insert(0, _p)  # python/ ends up first: `goroscope` is the core package

import goroscope_gdb  # noqa: E402

goroscope_gdb.register()
