"""commands: every goroscope command, written once, for GDB and LLDB alike.

One module per command (goroutines, goroutine, gomap, deadlocks, goroscope),
each holding its argument parser, its user-facing help (synopsis, flags, an
example) and `run(dbg, args)`, which yields the output lines. A command
talks to the debugger only through goroscope.debugger.Debugger. The
adapters register every Command in REGISTRY through one generic wrapper
and report every error through one handler (`error_text`): the user sees
`goroscope: <message>`, never a traceback.

    execute(dbg, path, raw)     parse raw (the text after the command's name)
                                and run; path is ("gomap", "info") for a
                                subcommand
    complete(cmd, dbg, text)    candidates for the word being typed, from the
                                parser: subcommands, flags, a flag's values;
                                or a kind (EXPRESSION, FILENAME, COMMAND) for
                                the adapter's own completer

Parsing is argparse (pwndbg's choice too): Delve's single-dash long flags
(`-with`, `-group`) are plain option strings; the parser never exits or
prints, its errors become GoroscopeError. Tokens are split by shlex, the
same in both debuggers, so `goroutines -with userloc "a b"` means the same
everywhere. A command's raw tail (`-exec CMD...`, `goroutine N CMD...`)
is passed on untouched, quotes and all.

Rejected: a hand-written parser per command (what each plugin had: three
parsers, already drifted apart); GDB's and LLDB's own option parsers (two
again, and LLDB 16 has none for Python commands).
"""

import argparse
import os
import re
import shlex
from dataclasses import dataclass, field
from typing import Callable, Iterable, List, Optional, Tuple

from ..errors import GoroscopeError

PREFIX = "goroscope: "
# completion kinds the adapters' own completers provide
EXPRESSION, FILENAME, COMMAND = "expression", "filename", "command"


class Parser(argparse.ArgumentParser):
    """argparse that raises GoroscopeError instead of printing and exiting;
    an error names the command's synopsis (the first Usage line of its help)."""

    def __init__(self, prog, help_text=""):
        super().__init__(prog=prog, add_help=False, allow_abbrev=False)
        self.synopsis = synopsis(help_text) or prog

    def error(self, message):
        raise GoroscopeError(f"{message}; usage: {self.synopsis}")

    def exit(self, status=0, message=None):
        raise GoroscopeError(f"{(message or '').strip()}; usage: {self.synopsis}")


def synopsis(help_text):
    """The first `Usage:` line of a help text with its indented continuation, on one line."""
    lines = help_text.split("\n")
    for i, ln in enumerate(lines):
        if ln.startswith("Usage: "):
            out = [ln[len("Usage: "):]]
            for cont in lines[i + 1:]:
                if not cont.startswith("   ") or cont.strip().startswith(out[0].split()[0]):
                    break
                out.append(cont.strip())
            return " ".join(out)
    return ""


def values(action, vals=None, kind=None):
    """Mark an argparse action for completion: the words its value takes
    (vals), or a completer kind (EXPRESSION, FILENAME)."""
    action.completion = (list(vals or []), kind)
    return action


@dataclass
class Command:
    """One command (or subcommand) as the adapters register it."""

    name: str  # "goroutines", or a subcommand's own name ("info")
    summary: str  # one line
    help: str  # synopsis, flags, example (user-facing only)
    parser: Optional[Callable[[str], Parser]] = None  # debugger name -> Parser
    run: Optional[Callable] = None  # (dbg, args) -> lines
    subcommands: List["Command"] = field(default_factory=list)
    only: Tuple[str, ...] = ()  # debuggers it exists in; () = all
    tail: Optional[str] = None  # the flag after which the line is taken raw ("-exec")
    positional: Optional[str] = None  # completion kind of bare words (EXPRESSION, FILENAME)
    category: str = "data"  # GDB's help class: "stack" | "data" | "breakpoints"

    def sub(self, name, debugger=None):
        for c in self.subcommands:
            if c.name == name and (debugger is None or not c.only or debugger in c.only):
                return c
        return None

    def doc(self):
        """The help as one text: summary, blank line, help."""
        return self.summary + "\n\n" + self.help.strip("\n")


def available(cmds, debugger):
    return [c for c in cmds if not c.only or debugger in c.only]


def split(raw: str) -> List[str]:
    try:
        return shlex.split(raw)
    except ValueError as e:
        raise GoroscopeError(f"cannot split the arguments: {e}") from None


def parse(cmd: Command, debugger: str, raw: str):
    """raw (the text after the command's name) -> argparse.Namespace, with
    `.tail`: the raw text after cmd.tail's flag, or None."""
    tail = None
    if cmd.tail:
        m = re.search(r"(?:^|\s)" + re.escape(cmd.tail) + r"(?:\s+(.*))?$", raw, re.S)
        if m:
            tail = (m.group(1) or "").strip()
            raw = raw[:m.start()]
            if not tail:
                raise GoroscopeError(f"{cmd.tail} needs a command")
    if cmd.parser is None:
        a = argparse.Namespace()
    else:
        a = cmd.parser(debugger).parse_args(split(raw))
    a.tail = tail
    a.raw = raw.strip()
    return a


def resolve(path: Iterable[str], debugger: str) -> Command:
    from . import REGISTRY

    path = list(path)
    cmd = next((c for c in available(REGISTRY, debugger) if c.name == path[0]), None)
    for name in path[1:]:
        cmd = cmd.sub(name, debugger) if cmd else None
    if cmd is None:
        raise GoroscopeError(f"unknown command '{' '.join(path)}'")
    return cmd


def execute(dbg, path, raw: str) -> Iterable[str]:
    """Run the command at path on raw; yields the output lines."""
    cmd = resolve(path, dbg.name)
    if cmd.run is None:  # a prefix without its subcommand
        names = "|".join(c.name for c in available(cmd.subcommands, dbg.name))
        word = split(raw)[:1]
        if word:
            raise GoroscopeError(f"unknown subcommand '{word[0]}': {cmd.name} {names} ... "
                                 f"(see help {cmd.name})")
        raise GoroscopeError(f"{cmd.name} {names} ... (see help {cmd.name})")
    return cmd.run(dbg, parse(cmd, dbg.name, raw))


def error_text(e: BaseException) -> str:
    """The one line the user sees for any error raised by a command."""
    if isinstance(e, GoroscopeError):
        return PREFIX + str(e)
    return (f"{PREFIX}internal error: {type(e).__name__}: {e} "
            f"(GOROSCOPE_DEBUG=1 shows the traceback)")


def debugging() -> bool:
    """GOROSCOPE_DEBUG=1: let unexpected exceptions through, with their traceback."""
    return os.environ.get("GOROSCOPE_DEBUG") == "1"


def complete(cmd: Command, debugger: str, text: str):
    """Completion of the word being typed at the end of text (what follows the
    command's name, up to the cursor): (candidates, kind). Candidates are
    whole words (subcommands, flags, a flag's or an argument's values); kind
    is None, or EXPRESSION / FILENAME / COMMAND when the word is an
    expression, a file name or a debugger command (-exec's): then the
    adapter's own completer takes over."""
    try:
        words = shlex.split(text)
    except ValueError:
        words = text.split()
    if text and not text[-1].isspace() and words:
        word, before = words[-1], words[:-1]
    else:
        word, before = "", words
    if cmd.tail and cmd.tail in before:
        return [], COMMAND  # the raw command: the debugger's own
    if cmd.subcommands:
        if not before:
            return _matching((c.name for c in available(cmd.subcommands, debugger)), word), None
        sub = cmd.sub(before[0], debugger)
        rest = text.lstrip()[len(before[0]):]
        return complete(sub, debugger, rest) if sub else ([], None)
    if cmd.parser is None:
        return [], cmd.positional
    p = cmd.parser(debugger)
    opts = {s: a for a in p._actions for s in a.option_strings}
    positionals = [a for a in p._actions if not a.option_strings]
    pending, taken, pos = None, 0, 0  # the flag whose values are being given
    for w in before:
        if w in opts:
            a = opts[w]
            pending, taken = (a, 0) if a.nargs != 0 else (None, 0)
            continue
        if pending is not None:
            taken += 1
            if pending.nargs in (None, "?") or (isinstance(pending.nargs, int)
                                                 and taken >= pending.nargs):
                pending = None
            continue
        if pos < len(positionals) and positionals[pos].nargs in (None, "?"):
            pos += 1  # (an nargs "+"/"*" positional takes every later word)
    if word.startswith("-"):
        return _matching(opts, word), None
    if pending is not None:
        vals, kind = getattr(pending, "completion", ([], None))
        return (_matching(vals, word), kind) if taken == 0 else ([], None)
    if pos < len(positionals):
        vals, kind = getattr(positionals[pos], "completion", ([], None))
        return _matching(vals, word), kind
    return [], None


def _matching(names, word):
    return sorted(n for n in names if n.startswith(word))


# The registry: every command, in the order `help` lists them. (Imported at
# the end: the command modules import the names above.)
from . import deadlocks, gomap, goroscope_cmd, goroutine, goroutines  # noqa: E402

REGISTRY = [goroutines.COMMAND, goroutine.COMMAND, gomap.COMMAND, deadlocks.COMMAND,
            goroscope_cmd.COMMAND]
