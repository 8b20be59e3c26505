"""fatal: stopping at a fatal error before the process exits.

libgoro calls `goroscope_fatal(message, panic)` (goro/debug_abi.h) on the
thread reporting a fatal error ("concurrent map writes", "all goroutines are
asleep - deadlock!", an unrecovered panic, ...), after the error's first line
and before the dump and the exit. Both plugins break there by default, as
Delve breaks on Go's runtime.fatalthrow and fatalpanic: the program is then
exactly as the error found it, for `goroutines`, `deadlocks`, `gomap info`
(a map still hashWriting, its writer recorded), or a core (`gcore`).
The breakpoint is on the function's first instruction, so its arguments are
in the System V argument registers (rdi, esi) even without debug info.
"""

SYMBOL = "goroscope_fatal"


def stop_message(rt, message_addr, panic):
    """The line printed at the stop."""
    try:
        text = rt.cstring(message_addr, 512) if message_addr else ""
    except Exception:  # noqa: BLE001 - never fail the stop over the message
        text = ""
    what = "panic" if panic else "fatal error"
    return (f"goroscope: stopped at {what}: {text or '?'} (before the goroutine dump and the "
            f"exit: `goroutines`, `deadlocks` and `gomap info` show the program as the error "
            f"found it; `continue` lets it exit)")
