"""lldbtest: batch LLDB transcripts for the plugin tests (the LLDB twin of gdbtest).

session() runs `lldb-16 -b` on a fixture (input from /dev/null): it imports
the plugin, stops the program (live: a breakpoint at ready() and `run`;
fatal: `run` until the plugin stops at goroscope_fatal; remote: lldb-server
on 127.0.0.1 and `gdb-remote`; core: `target create -c`;
crash: `run` until the program crashes, the rest given with `-k`;
attach: a running process, detached at the end),
then imports a driver that, for each (name, command) block, prints
`BEGIN name`, runs the command through LLDB's command interpreter as the user
would type it (its output, then its error text, which is "goroscope: ..."),
then `END name`. The transcript is split into blocks matched by the tests.
"""

import json
import os
import re
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "gdb"))
import gdbtest  # noqa: E402  (fixtures, make_core, free_port: shared with the GDB tests)

ROOT = gdbtest.ROOT
PLUGIN = os.path.join(ROOT, "lldb_plugin", "goroscope_lldb_init.py")
LLDB = "lldb-16"
SERVER = "/usr/lib/llvm-16/bin/lldb-server"
TIMEOUT = 180

DRIVER = r'''
import json, lldb, sys

def __lldb_init_module(debugger, internal_dict):
    ci = debugger.GetCommandInterpreter()
    for name, cmd in json.load(open(%(blocks)r)):
        # Commands nested in `command script import` would run in the import's
        # context (frame 0 then): give each the frame selected now.
        t = debugger.GetSelectedTarget()
        f = t.GetProcess().GetSelectedThread().GetSelectedFrame()
        ctx = lldb.SBExecutionContext(f) if f.IsValid() else lldb.SBExecutionContext(t)
        r = lldb.SBCommandReturnObject()
        ci.HandleCommand(cmd, ctx, r)
        sys.stdout.write("BEGIN %%s\n%%s%%sEND %%s\n" %% (name, r.GetOutput() or "",
                                                       r.GetError() or "", name))
        sys.stdout.flush()
'''

fixture = gdbtest.fixture
make_core = gdbtest.make_core


def session(binary, blocks, mode="live", core=None, setup=(), stop="ready", env=None, args=(),
            pid=None):
    """Run the blocks; returns ({name: text}, whole transcript)."""
    prog_args = list(args)
    with tempfile.TemporaryDirectory() as tmp:
        bpath = os.path.join(tmp, "blocks.json")
        with open(bpath, "w") as f:
            json.dump(list(blocks), f)
        dpath = os.path.join(tmp, "lldbdriver.py")
        with open(dpath, "w") as f:
            f.write(DRIVER % {"blocks": bpath})
        args = [LLDB, "-b", "--no-lldbinit", "-o", "settings set auto-confirm true",
                "-o", f"command script import {PLUGIN}"]
        server = None
        if mode == "core":
            args += ["-o", f"target create {binary} -c {core}"]
        elif mode == "live":
            args += ["-o", f"target create {binary}", "-o", f"b {stop}", "-o", "run"]
        elif mode == "fatal":  # run until the plugin stops it at a fatal error
            args += ["-o", f"target create {binary}", "-o", "run"]
        elif mode == "remote":
            port = gdbtest.free_port()
            server = subprocess.Popen([SERVER, "gdbserver", f"127.0.0.1:{port}", "--", binary],
                                      stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
            time.sleep(0.3)
            args += ["-o", f"target create {binary}", "-o", f"gdb-remote 127.0.0.1:{port}",
                     "-o", f"b {stop}", "-o", "continue"]
        elif mode == "none":
            args += ["-o", f"target create {binary}"]
        elif mode == "attach":  # a running process (pid), detached at the end
            args += ["-o", f"target create {binary}", "-o", f"process attach -p {pid}"]
        elif mode == "crash":
            # The program crashes: in batch mode LLDB then skips the -o
            # commands still to run and runs the -k ones.
            args += ["-o", f"target create {binary}", "-o", "run"]
        k = "-k" if mode == "crash" else "-o"
        if prog_args:
            args += ["-O", "settings set -- target.run-args " + " ".join(prog_args)]
        for c in setup:
            args += [k, c]
        args += [k, f"command script import {dpath}"]
        if mode == "attach":
            args += [k, "process detach"]
        elif mode != "core":
            args += [k, "process kill"]
        e = dict(os.environ, LLDB_DEBUGSERVER_PATH=SERVER, **(env or {}))
        try:
            p = subprocess.run(args, capture_output=True, text=True, timeout=TIMEOUT, env=e,
                               stdin=subprocess.DEVNULL)
        finally:
            if server is not None:
                try:
                    server.wait(timeout=20)
                except subprocess.TimeoutExpired:
                    server.kill()  # our own child, by PID
                    server.wait()
        out = p.stdout
        res = {}
        for m in re.finditer(r"^BEGIN (\S+)\n(.*?)^END \1$", out, re.S | re.M):
            res[m.group(1)] = m.group(2)
        return res, out + p.stderr
