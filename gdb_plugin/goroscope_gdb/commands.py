"""commands: the GDB glue for every command of goroscope.commands.

Each core Command (and subcommand) becomes one gdb.Command through one
generic wrapper: its help is the core's, its completion the core's parser's
(a word that is an expression or a file name goes to GDB's own completer),
and every error goes through one handler: `goroscope: <message>`, never a
traceback. The settings declared in goroscope.settings become
`set/show goroscope NAME` (gdb.Parameter), kept in step with the core's
store, which `goroscope set|show` uses.
"""

import gdb

from goroscope import commands as core
from goroscope import settings as settingsmod
from goroscope.errors import GoroscopeError

from . import state

CATEGORY = {"stack": gdb.COMMAND_STACK, "data": gdb.COMMAND_DATA,
            "breakpoints": gdb.COMMAND_BREAKPOINTS}
# (not core.COMMAND: GDB's command completer would read -exec's whole line as one command)
COMPLETER = {core.EXPRESSION: gdb.COMPLETE_EXPRESSION, core.FILENAME: gdb.COMPLETE_FILENAME}
BATCH = 512  # lines per gdb.write (one call per line costs ~1 us; the pager still pages)


def report(e):
    """The one error handler: any exception -> gdb.GdbError("goroscope: ...")."""
    if isinstance(e, gdb.error) and not isinstance(e, gdb.GdbError):
        e = GoroscopeError(str(e))  # a debugger error inside a command (-exec CMD)
    elif not isinstance(e, GoroscopeError) and core.debugging():
        raise e
    return gdb.GdbError(core.error_text(e))


def write_lines(lines):
    buf = []
    for ln in lines:
        buf.append(ln)
        if len(buf) >= BATCH:
            gdb.write("\n".join(buf) + "\n")
            buf.clear()
    if buf:
        gdb.write("\n".join(buf) + "\n")


class Wrapper(gdb.Command):
    """The generic wrapper (its subclasses only carry each command's __doc__)."""

    def __init__(self, path, cmd):
        self.path, self.cmd = path, cmd
        # (no completer class: GDB then asks complete() below)
        super().__init__(" ".join(path), CATEGORY[cmd.category], prefix=bool(cmd.subcommands))

    def invoke(self, arg, from_tty):
        try:
            write_lines(core.execute(state.DBG, self.path, arg))
        except (gdb.GdbError, KeyboardInterrupt):
            raise
        except Exception as e:  # noqa: BLE001 - one handler, never a traceback
            raise report(e) from None

    def complete(self, text, word):
        try:
            cands, kind = core.complete(self.cmd, "gdb", text)
        except Exception:  # noqa: BLE001 - completion never raises at the user
            return []
        if kind in COMPLETER and not cands:
            return COMPLETER[kind]
        # GDB breaks words at '-' too: it replaces only `word`, the end of
        # the token the core completed.
        token = text.split()[-1] if text and not text[-1].isspace() else ""
        cut = len(token) - len(word or "")
        return [c[cut:] for c in cands]


def register(path, cmd):
    cls = type(f"Goroscope_{'_'.join(path)}".replace("-", "_"), (Wrapper,),
               {"__doc__": cmd.doc()})
    cls(path, cmd)
    for sub in core.available(cmd.subcommands, "gdb"):
        register(path + [sub.name], sub)


class Prefix(gdb.Command):
    """Settings of the goroscope plugin (see `goroscope show` for each)."""

    def __init__(self, name):
        super().__init__(name, gdb.COMMAND_DATA, gdb.COMPLETE_NONE, True)


PARAM = {int: gdb.PARAM_ZUINTEGER, bool: gdb.PARAM_BOOLEAN, str: gdb.PARAM_STRING}


class Setting(gdb.Parameter):
    """`set goroscope NAME` / `show goroscope NAME` over the core's store."""

    def __init__(self, s):
        self.s = s
        self.__doc__ = s.help
        self.set_doc = f"Set {s.help[0].lower() + s.help[1:]}"
        self.show_doc = f"Show {s.help[0].lower() + s.help[1:]}"
        super().__init__(f"goroscope {s.name}", gdb.COMMAND_DATA, PARAM[s.type])
        self.value = state.DBG.settings[s.name]

    def get_set_string(self):
        state.DBG.settings.values[self.s.name] = self.value  # (not .set: no echo back)
        return ""

    def get_show_string(self, svalue):
        return settingsmod.show(self.s, self.value)


def install():
    for c in core.available(core.REGISTRY, "gdb"):
        register([c.name], c)
    Prefix("set goroscope")
    Prefix("show goroscope")
    params = {s.name: Setting(s) for s in settingsmod.declared("gdb")}

    def echo(name, value):  # `goroscope set NAME VALUE` -> the gdb.Parameter
        params[name].value = value

    state.DBG.settings.on_change = echo
