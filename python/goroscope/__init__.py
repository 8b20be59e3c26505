"""goroscope: the debugger-agnostic core of goroscope's debugger plugins.

Decodes the goro runtime's memory (goroutines, channels, sync objects,
maps) from the runtime's layout descriptor (docs/debug-abi.md) alone, and
renders what the commands print. It imports neither gdb nor lldb: the
plugins (gdb_plugin/, lldb_plugin/) implement `target.Target` and call in.

Tiers (as in pwndbg): pure modules (layout, maps' arithmetic, formatting,
the command parsers) depend on nothing; the decoders (runtime, objects,
maps, stacks) depend only on the Target interface; the adapters are the
only debugger-specific code.
"""

__all__ = ["errors", "target", "layout", "runtime"]
