"""mixed_measure: the mixed shape's timings (mixed.cpp at ready()), for
measure_gdb.py and measure_lldb.py alike.

compare.py runs each debugger twice on the mixed shape, so that each
command's first call is the first of its session (the symbols and the
symbolizer's cache cold, as for a user's first command after the stop):
  GOROSCOPE_BENCH_FIRST=goroutines|group   the command timed first
  GOROSCOPE_BENCH_REPEAT=1                 then both, median of 5 each
                                           (each from a fresh decode, as
                                           after a stop), and their output
"""

import os

COMMANDS = {"goroutines": "goroutines", "group": "goroutines -group userloc"}


def measure(timed):
    """The timings as a dict; timed(cmd, n, capture) -> (median seconds, output)."""
    first = os.environ["GOROSCOPE_BENCH_FIRST"]
    res = {"first": first, "first_s": timed(COMMANDS[first], 1, False)[0]}
    if os.environ.get("GOROSCOPE_BENCH_REPEAT"):
        for key, cmd in COMMANDS.items():
            res[f"{key}_s"] = timed(cmd, 5, False)[0]
            out = timed(cmd, 1, True)[1]
            res[f"{key}_listed"] = out.count("Goroutine ")
            res[f"{key}_groups"] = out.count("\tTotal: ")
    return res
