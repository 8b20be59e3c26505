"""settings: every setting of the plugins, declared once.

Each Setting has a name, a type (int, bool or str), a default and a help
line. The adapters surface them the way their debugger does:

    GDB    set goroscope NAME VALUE   /  show goroscope [NAME]   (gdb.Parameter)
    both   goroscope set NAME VALUE   /  goroscope show [NAME]   (the core command)

LLDB 16 has no API for user settings (`settings set goroscope.X` would need
LLDB's C++ plugin interface), so `goroscope set|show` is its spelling; GDB
accepts both. Values live in a Settings store owned by the adapter's
Debugger (GDB: read back from its gdb.Parameter objects), so whichever
spelling the user types, the other sees the change.
"""

from dataclasses import dataclass
from typing import Any, Callable, Dict, Optional, Tuple

from . import push
from .errors import GoroscopeError


@dataclass(frozen=True)
class Setting:
    name: str
    type: type  # int | bool | str
    default: Any  # a value, or a callable computing it when the store is made
    help: str  # one sentence, starts with "The"/"Whether"
    only: Tuple[str, ...] = ()  # the debuggers it exists in ("lldb",); () = all

    def default_value(self):
        return self.default() if callable(self.default) else self.default


SETTINGS = (
    Setting("print-limit", int, 64,
            "The number of buckets `gomap buckets` prints without --range."),
    Setting("bucket-limit", int, 4096, "The buckets per array a snapshot holds (0: all)."),
    Setting("viewer", str, push.default_address,
            "The address of goroscope-view --listen (unix:PATH or tcp:HOST:PORT)."),
    Setting("auto-push", bool, False, "Whether every stop pushes a snapshot to the viewer."),
    Setting("stop-on-fatal", bool, True,
            "Whether a fatal error (goroscope_fatal) stops the program before it exits."),
    Setting("os-plugin-limit", int, 1024,
            "The number of goroutines the OperatingSystem plugin shows as threads.",
            only=("lldb",)),
)

TRUE, FALSE = ("on", "1", "true", "yes", "enable"), ("off", "0", "false", "no", "disable")


def declared(debugger: str):
    """The settings that exist in debugger ("gdb" | "lldb"), in order."""
    return [s for s in SETTINGS if not s.only or debugger in s.only]


def parse(s: Setting, text: str):
    """text as s's type; GoroscopeError with the reason."""
    if s.type is bool:
        if text.lower() in TRUE:
            return True
        if text.lower() in FALSE:
            return False
        raise GoroscopeError(f"goroscope set {s.name}: on or off, not '{text}'")
    if s.type is int:
        try:
            v = int(text, 0)
        except ValueError:
            raise GoroscopeError(f"goroscope set {s.name}: not a number: '{text}'") from None
        if v < 0:
            raise GoroscopeError(f"goroscope set {s.name}: must be 0 or more, not {v}")
        return v
    return text


def show(s: Setting, value) -> str:
    """GDB's `show` sentence: `goroscope auto-push is on.`"""
    if s.type is bool:
        value = "on" if value else "off"
    return f"goroscope {s.name} is {value}."


class Settings:
    """One debugger session's values (the simple store; GDB's reads its Parameters)."""

    def __init__(self, debugger: str, on_change: Optional[Callable[[str, Any], None]] = None):
        self.decl: Dict[str, Setting] = {s.name: s for s in declared(debugger)}
        self.values = {n: s.default_value() for n, s in self.decl.items()}
        self.on_change = on_change

    def lookup(self, name: str) -> Setting:
        s = self.decl.get(name)
        if s is None:
            raise GoroscopeError(f"no setting '{name}' (settings: {', '.join(self.decl)})")
        return s

    def __getitem__(self, name):
        return self.values[self.lookup(name).name]

    def set(self, name: str, value):
        self.values[self.lookup(name).name] = value
        if self.on_change is not None:
            self.on_change(name, value)
