"""debugger: the interface every command is written against (pwndbg's `dbg`).

A Debugger is a Target (memory, symbols, threads: goroscope.target) plus the
few verbs a command needs beyond reading memory. The GDB adapter
(gdb_plugin/goroscope_gdb/debugger.py) and the LLDB adapter
(lldb_plugin/goroscope_lldb/debugger.py) implement it; the commands
(goroscope.commands) and the map watches (goroscope.watch) call nothing else.

    process      has_process, pid, is_core, stop_key
    expressions  evaluate(expr) -> Value
    goroutines   selected_goroutine, select_goroutine, clear_goroutine,
                 run_in_goroutine
    watchpoints  arm_watchpoint, disarm_watchpoint, watchpoints_in_use,
                 watchpoint_alive
    settings     settings (a goroscope.settings.Settings store)
    output       announce (a line printed with the current or next stop),
                 progress (a long command's progress line)
    debugger-only os_plugin (LLDB: goroutines as threads)

Decoded state is cached here, keyed on stop_key(): the Runtime and the
Symbolizer are rebuilt only after the target ran (or its program changed),
whichever adapter asks. Invariant: every verb is read-only on the target
except the watchpoint verbs (debug registers) — no inferior calls, no
register writes — so commands work on live processes, cores and remote
targets alike.
"""

from dataclasses import dataclass
from typing import Callable, List, Optional

from .errors import GoroscopeError
from .target import Target

NOT_RUNNING = "the program is not running: run it, attach to a process or load a core file"


@dataclass
class Value:
    """An evaluated expression, as much of it as the commands need."""

    type: str  # the canonical type's name ("goro::Map<long, long, ...>", "hchan *", "int")
    kind: str  # "pointer" | "integer" | "other"
    value: Optional[int]  # the pointer or integer value (None for "other")
    address: Optional[int]  # where the object lives (None: not an lvalue)
    pointee: str = ""  # a pointer's target type (canonical)


class Debugger(Target):
    """What the core needs from a debugger session. Adapters implement the
    NotImplementedError methods; the rest is shared."""

    name = "?"  # "gdb" | "lldb": settings and commands that exist in one only
    producer = "goroscope-?"  # a snapshot's producer.name
    own_bt = True  # `goroutine N bt` runs the debugger's bt (False: goroutines.bt_lines)

    def __init__(self, settings):
        self.settings = settings
        self._cache_key = None
        self._rt = None
        self._sym = None
        self._sym_key = None

    # ---- process ---------------------------------------------------------

    def has_process(self) -> bool:
        """A live process, a core file or a remote target is loaded."""
        raise NotImplementedError

    def pid(self) -> int:
        raise NotImplementedError

    def is_core(self) -> bool:
        raise NotImplementedError

    def stop_key(self):
        """A value that changes whenever the target has run (caches key on it)."""
        raise NotImplementedError

    def program_key(self):
        """A value that changes when the program's symbols change."""
        return None

    # ---- decoded state (shared) -------------------------------------------

    def runtime(self):
        """The Runtime of the current stop; GoroscopeError without a process."""
        if not self.has_process():
            raise GoroscopeError(NOT_RUNNING)
        key = self.stop_key()
        if self._rt is None or key != self._cache_key:
            from .runtime import Runtime

            self.at_new_stop()
            self._rt = Runtime(self)
            self._cache_key = key
        return self._rt

    def symbolizer(self):
        from .stacks import Symbolizer

        key = self.program_key()
        if self._sym is None or key != self._sym_key:
            self._sym, self._sym_key = Symbolizer(self), key
        return self._sym

    def invalidate(self):
        """Forget decoded state (the target ran, or a watchpoint fired)."""
        self._rt = None

    def at_new_stop(self):
        """Called before a Runtime is built at a new stop (adapters may cache handles)."""

    # ---- expressions ------------------------------------------------------

    def evaluate(self, expr: str) -> Value:
        """expr evaluated in the selected frame; GoroscopeError(the debugger's message)."""
        raise NotImplementedError

    # ---- goroutine selection ----------------------------------------------

    def selected_goroutine(self) -> Optional[int]:
        """The goid the user selected with `goroutine N` (or, in LLDB, whose
        thread is selected), or None: the listings mark it with `*`."""
        raise NotImplementedError

    def select_goroutine(self, rt, goid: int) -> List[str]:
        """Make goroutine goid the one `bt`, `frame N`, `info locals` show;
        the lines to print ("[Switching to goroutine N]", its frame)."""
        raise NotImplementedError

    def clear_goroutine(self) -> List[str]:
        """Back to the threads' own stacks; the lines to print."""
        raise NotImplementedError

    def run_in_goroutine(self, rt, goid: int, command: str) -> List[str]:
        """Run a debugger command in goroutine goid's context, the selection
        restored afterwards; its output lines."""
        raise NotImplementedError

    # ---- watchpoints --------------------------------------------------------

    def arm_watchpoint(self, addr: int, size: int, on_hit: Callable[[], Optional[str]]) -> int:
        """A write watchpoint of size bytes at addr (debug registers); its
        number. on_hit() runs when it fires, while the target is stopped: it
        returns the message to stop with, or None to continue silently. It
        must not arm or disarm watchpoints (neither debugger allows that
        there): goroscope.watch queues such changes for after_stop."""
        raise NotImplementedError

    def disarm_watchpoint(self, number: int):
        raise NotImplementedError

    def watchpoint_alive(self, number: int) -> bool:
        """False once the user deleted it by hand."""
        return True

    def watchpoints_in_use(self) -> int:
        """Enabled hardware watchpoints, ours and the user's."""
        raise NotImplementedError

    # ---- output -------------------------------------------------------------

    def announce(self, text: str):
        """Print a line now (GDB) or with the stop being reported (LLDB)."""
        raise NotImplementedError

    def progress(self, n: int):
        """A long command's progress (goroutines read so far); may do nothing."""

    # ---- debugger-only features --------------------------------------------

    def os_plugin(self, on: Optional[bool] = None, limit: Optional[int] = None) -> str:
        """LLDB: goroutines as threads (the OperatingSystem plugin)."""
        raise GoroscopeError(f"goroscope os-plugin: {self.name} has no OperatingSystem plugins "
                             f"(`goroutine N` selects a goroutine)")
