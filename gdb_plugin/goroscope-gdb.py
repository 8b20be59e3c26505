# goroscope-gdb.py — GDB entry point of the goroscope plugin.
#
#   (gdb) source /path/to/goroscope/gdb_plugin/goroscope-gdb.py
#
# or automatically: every program linked with libgoro carries a
# .debug_gdb_scripts entry that sources this file (docs/debug-abi.md §7;
# needs `add-auto-load-safe-path PROG`), or `./goroscope gdb PROG [ARGS]`.
# Loading it again (auto-load plus by hand, twice by hand) does nothing.
# All logic lives in the debugger-agnostic core (python/goroscope);
# goroscope_gdb/ is the GDB adapter. (The name is not `goroscope.py`: that
# is the core package's name, and a sourced file of that name shadowed it.)
import os
import sys

_here = os.path.dirname(os.path.abspath(__file__))
for _p in (os.path.join(os.path.dirname(_here), "python"), _here):
    if _p not in sys.path:
        sys.path.insert(0, _p)

import goroscope_gdb  # noqa: E402

goroscope_gdb.register()
