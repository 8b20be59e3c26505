"""goroscope: the debugger-agnostic core of goroscope's debugger plugins.

Decodes the goro runtime's memory (goroutines, channels, sync objects,
maps) from the runtime's layout descriptor (docs/debug-abi.md) alone, and
holds every command the plugins offer (goroscope.commands), written once.
It imports neither gdb nor lldb: the plugins (gdb_plugin/, lldb_plugin/)
implement `debugger.Debugger` and register the commands through one wrapper.

Tiers (as in pwndbg): pure modules (layout, maps' arithmetic, formatting,
settings, the deadlock rules' analysis) depend on nothing; the decoders
(runtime, objects, maps, stacks) depend only on the Target interface; the
commands depend only on the Debugger interface (a Target plus the verbs a
command needs); the adapters are the only debugger-specific code.
"""

__all__ = ["errors", "target", "debugger", "layout", "runtime", "commands", "settings"]
