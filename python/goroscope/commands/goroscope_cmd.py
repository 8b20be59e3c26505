"""goroscope: snapshots for the viewer, settings, and LLDB's goroutine threads."""

from .. import push, snapshot
from .. import settings as settingsmod
from ..errors import GoroscopeError
from . import FILENAME, Command, Parser, values

SNAP_FLAGS = """\
  --no-frames   no stacks (smaller, faster)
  --map NAME    buckets of the map named NAME only (the others: headers)
  --buckets N   at most N buckets per map array (0: all; default:
                `goroscope show bucket-limit`)"""

SNAPSHOT_HELP = f"""\
Usage: goroscope snapshot FILE [--no-frames] [--map NAME] [--buckets N]

Write the stopped program's state to FILE in the runtime's snapshot format
(docs/snapshot-format.md): goroutines with frames and what they wait on,
channels, mutexes, WaitGroups, named maps' buckets, and who references each
waited-on object. goroscope-view FILE shows it.
{SNAP_FLAGS}

Example: goroscope snapshot /tmp/state.json --map sessions"""

VIEW_HELP = f"""\
Usage: goroscope view [ADDR] [--no-frames] [--map NAME] [--buckets N]

Push the snapshot to a running goroscope-view --listen ADDR (unix:PATH or
tcp:HOST:PORT; default: `goroscope show viewer`). `goroscope set auto-push on`
pushes at every stop.
{SNAP_FLAGS}

Example: goroscope view unix:/tmp/view.sock"""

SET_HELP = """\
Usage: goroscope set NAME VALUE
       goroscope show [NAME]

Settings (in GDB also `set goroscope NAME VALUE` / `show goroscope NAME`):
{table}

Example: goroscope set auto-push on"""

OS_HELP = """\
Usage: goroscope os-plugin on|off
       goroscope os-plugin limit N

LLDB's OperatingSystem plugin makes every parked goroutine an LLDB thread
(`thread list`, `thread select`, `bt`, IDEs through lldb-dap); on by
default. `limit N` shows the N lowest goroutine ids as threads (default
1024, as Delve's DAP server; the same as `goroscope set os-plugin-limit N`).

Example: goroscope os-plugin limit 4096"""

HELP = """\
Usage: goroscope snapshot FILE [--no-frames] [--map NAME] [--buckets N]
       goroscope view [ADDR] [--no-frames] [--map NAME] [--buckets N]
       goroscope set NAME VALUE | goroscope show [NAME]
{os}
The stopped program's snapshot for goroscope-view, and the plugin's
settings. `help goroscope SUBCOMMAND` for each.

Example: goroscope snapshot /tmp/state.json"""


def snap_parser(name, positional, kind, help_text):
    p = Parser(f"goroscope {name}", help_text)
    values(p.add_argument(positional, nargs="?"), kind=kind)
    p.add_argument("--no-frames", dest="frames", action="store_false")
    p.add_argument("--map", metavar="NAME")
    p.add_argument("--buckets", type=int, metavar="N")
    return p


def snapshot_doc(dbg, a=None):
    rt = dbg.runtime()
    limit = a.buckets if a is not None and a.buckets is not None \
        else dbg.settings["bucket-limit"]
    return snapshot.build(rt, dbg.symbolizer(), dbg.producer, dbg.pid(),
                          a.frames if a is not None else True, limit,
                          a.map if a is not None else None)


def run_snapshot(dbg, a):
    if not a.file:
        raise GoroscopeError("usage: goroscope snapshot FILE [--no-frames] [--map NAME] "
                             "[--buckets N]")
    doc = snapshot_doc(dbg, a)
    text = snapshot.dumps(doc)
    try:
        with open(a.file, "w", encoding="utf-8", errors="surrogateescape") as f:
            f.write(text + "\n")
    except OSError as e:
        raise GoroscopeError(f"{a.file}: {e.strerror}") from None
    return [f"snapshot of {len(doc['goroutines'])} goroutines, {len(doc['objects'])} "
            f"objects, {len(doc['maps'])} maps written to {a.file} ({len(text)} bytes)"]


def run_view(dbg, a):
    addr = a.addr or dbg.settings["viewer"]
    push.send(addr, snapshot.dumps(snapshot_doc(dbg, a)))
    return [f"snapshot pushed to {addr}"]


def set_parser(debugger):
    p = Parser("goroscope set", SET_HELP)
    values(p.add_argument("name"), [s.name for s in settingsmod.declared(debugger)])
    p.add_argument("value")
    return p


def show_parser(debugger):
    p = Parser("goroscope show", "Usage: goroscope show [NAME]")
    values(p.add_argument("name", nargs="?"), [s.name for s in settingsmod.declared(debugger)])
    return p


def run_set(dbg, a):
    s = dbg.settings.lookup(a.name)
    dbg.settings.set(s.name, settingsmod.parse(s, a.value))
    return []


def run_show(dbg, a):
    names = [a.name] if a.name else list(dbg.settings.decl)
    return [settingsmod.show(dbg.settings.lookup(n), dbg.settings[n]) for n in names]


def os_parser(debugger):
    p = Parser("goroscope os-plugin", OS_HELP)
    values(p.add_argument("what", choices=("on", "off", "limit")), ("on", "off", "limit"))
    p.add_argument("n", nargs="?", type=int)
    return p


def run_os(dbg, a):
    if (a.what == "limit") != (a.n is not None):
        raise GoroscopeError("usage: goroscope os-plugin on|off|limit N")
    if a.what == "limit":
        dbg.settings.set("os-plugin-limit", a.n)
        return [f"goroscope OS plugin: at most {a.n} goroutines as threads (from the next stop)"]
    return [dbg.os_plugin(a.what == "on")]


def settings_table():
    import textwrap

    return "\n".join(textwrap.fill(s.help + (" (LLDB)" if s.only else ""), 79,
                                   initial_indent=f"  {s.name:16} ",
                                   subsequent_indent=" " * 19) for s in settingsmod.SETTINGS)


COMMAND = Command(
    "goroscope", "Snapshots for goroscope-view, and the plugin's settings.",
    HELP.format(os="       goroscope os-plugin on|off|limit N   (LLDB)\n"),
    subcommands=[
        Command("snapshot", "Write the stopped program's snapshot to FILE.", SNAPSHOT_HELP,
                lambda d: snap_parser("snapshot", "file", FILENAME, SNAPSHOT_HELP), run_snapshot),
        Command("view", "Push the snapshot to a listening goroscope-view.", VIEW_HELP,
                lambda d: snap_parser("view", "addr", None, VIEW_HELP), run_view),
        Command("set", "Set a goroscope setting.", SET_HELP.format(table=settings_table()),
                set_parser, run_set),
        Command("show", "Show goroscope settings.", SET_HELP.format(table=settings_table()),
                show_parser, run_show),
        Command("os-plugin", "Goroutines as LLDB threads: on, off, limit N.", OS_HELP,
                os_parser, run_os, only=("lldb",)),
    ])
