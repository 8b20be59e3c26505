"""goroscope_lldb: the LLDB adapter of goroscope (debugger, commands, summaries,
synthetic children, the OperatingSystem plugin). Only this package imports lldb."""

registrations = {}  # debugger id -> times installed: 1 (tests check it)


def register(debugger):
    if debugger.GetID() in registrations:
        return
    registrations[debugger.GetID()] = 1
    from . import commands, fatal, osplugin, printers

    # LLDB looks up commands' and formatters' names in its script session.
    debugger.HandleCommand("script import goroscope_lldb, goroscope_lldb.commands, "
                           "goroscope_lldb.printers, goroscope_lldb.debugger, "
                           "goroscope_lldb.fatal")
    commands.install(debugger)
    # goro freezes the other workers with SIGURG before a fatal report (as Go
    # preempts with it); GDB passes it silently by default, LLDB stops on it.
    # (On the dummy target too: LLDB copies it into the targets made later.)
    import lldb

    debugger.GetCommandInterpreter().HandleCommand(
        "process handle -p true -s false -n false SIGURG", lldb.SBCommandReturnObject())
    fatal.install(debugger)
    printers.install(debugger)
    # Goroutines as LLDB threads (thread list, thread select, bt; lldb-dap's
    # threads view): on by default, `goroscope os-plugin off` to stop.
    osplugin.enable(debugger, True)
