"""commands: the LLDB glue for every command of goroscope.commands.

Each core Command becomes one LLDB script command through one generic
wrapper (a class per command, made here, because LLDB instantiates the
class it is given by name); a command with subcommands becomes a
`command container`, so LLDB lists and completes the subcommands. Every
error goes through one handler: `error: goroscope: <message>` in the
command's result, never a traceback. `goroscope set|show NAME` are the
settings (LLDB 16 offers no user settings to Python).

Completion of flags: LLDB 16 gives Python commands no completion hook
(LLDB 20's parsed commands do: handle_argument_completion); subcommands
complete natively through the containers.
"""

import lldb

from goroscope import commands as core
from goroscope import stop
from goroscope.errors import GoroscopeError

from . import state


def report(result, e):
    """The one error handler."""
    if not isinstance(e, GoroscopeError) and core.debugging():
        raise e
    result.SetError(core.error_text(e))


class Wrapper:
    path = ()  # set per subclass
    cmd = None

    def __init__(self, debugger, internal_dict):
        pass

    def get_short_help(self):
        return self.cmd.summary

    def get_long_help(self):
        return self.cmd.help

    def __call__(self, debugger, command, exe_ctx, result):
        try:
            lines = list(core.execute(state.dbg(debugger), self.path, command))
            if lines:
                result.AppendMessage("\n".join(lines))
            result.SetStatus(lldb.eReturnStatusSuccessFinishResult)
        except Exception as e:  # noqa: BLE001 - one handler, never a traceback
            report(result, e)


def _quote(s):
    return '"' + s.replace("\\", "\\\\").replace('"', '\\"') + '"'


def register(debugger, path, cmd):
    ci = debugger.GetCommandInterpreter()
    out = lldb.SBCommandReturnObject()
    name = "Cmd_" + "_".join(path).replace("-", "_")
    subs = core.available(cmd.subcommands, "lldb")
    if subs:
        synopsis = f"{' '.join(path)} {'|'.join(c.name for c in subs)} ..."
        ci.HandleCommand(f"command container add -o -h {_quote(cmd.summary)} "
                         f"-H {_quote(synopsis)} {' '.join(path)}", out)
        for sub in subs:
            register(debugger, path + [sub.name], sub)
        return
    globals()[name] = type(name, (Wrapper,), {"path": tuple(path), "cmd": cmd})
    ci.HandleCommand(f"command script add -o -c goroscope_lldb.commands.{name} "
                     f"{' '.join(path)}", out)


class StopHook:
    """The plugin's stop hook: the core's after-stop work (map watches, the
    auto-push), then the lines announced since the last stop."""

    def __init__(self, target, extra_args, internal_dict):
        self.debugger = target.GetDebugger()

    def handle_stop(self, exe_ctx, stream):
        dbg = state.dbg(self.debugger)
        lines = stop.after_stop(dbg)
        for line in dbg.said + lines:
            stream.Print(line + "\n")
        dbg.said.clear()
        return True


def install(debugger):
    for c in core.available(core.REGISTRY, "lldb"):
        register(debugger, [c.name], c)
    debugger.GetCommandInterpreter().HandleCommand(
        "target stop-hook add -P goroscope_lldb.commands.StopHook", lldb.SBCommandReturnObject())
