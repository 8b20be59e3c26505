"""Goroutines in an IDE: lldb-vscode-16 (LLDB 16's Debug Adapter Protocol
server, since renamed lldb-dap) with the plugin imported through its
initCommands, driven as VS Code would drive it: at a stop, the `threads`
request lists the parked goroutines by name, and `stackTrace` of one parked
in a channel receive reaches the user function that called receive.
"""

import json
import os
import re
import select
import shutil
import subprocess
import time

import pytest

import lldbtest
from test_gdb import RECV

DAP = shutil.which("lldb-vscode-16") or "/usr/lib/llvm-16/bin/lldb-vscode"


class Client:
    """A minimal DAP client: Content-Length framed JSON over the adapter's stdio."""

    def __init__(self, argv, env):
        self.p = subprocess.Popen(argv, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                  stderr=subprocess.DEVNULL, env=env)
        self.seq = 0
        self.buf = b""
        self.events = []
        self.responses = {}  # request seq -> response that came while waiting for another

    def send(self, command, **arguments):
        self.seq += 1
        body = json.dumps({"seq": self.seq, "type": "request", "command": command,
                           "arguments": arguments}).encode()
        self.p.stdin.write(b"Content-Length: %d\r\n\r\n" % len(body) + body)
        self.p.stdin.flush()
        return self.seq

    def _message(self, deadline):
        while True:
            head, sep, rest = self.buf.partition(b"\r\n\r\n")
            if sep:
                n = int(re.search(rb"Content-Length: (\d+)", head).group(1))
                if len(rest) >= n:
                    self.buf = rest[n:]
                    return json.loads(rest[:n])
            left = deadline - time.monotonic()
            if left <= 0 or not select.select([self.p.stdout], [], [], left)[0]:
                raise TimeoutError("no message from the debug adapter")
            chunk = os.read(self.p.stdout.fileno(), 1 << 16)
            if not chunk:
                raise EOFError("the debug adapter exited")
            self.buf += chunk

    def response(self, seq, timeout=60):
        deadline = time.monotonic() + timeout
        while seq not in self.responses:
            m = self._message(deadline)
            if m["type"] == "response":
                self.responses[m["request_seq"]] = m
            elif m["type"] == "event":
                self.events.append(m)
        return self.responses.pop(seq)

    def request(self, command, **arguments):
        r = self.response(self.send(command, **arguments))
        assert r["success"], r
        return r.get("body", {})

    def event(self, name, timeout=60):
        deadline = time.monotonic() + timeout
        while True:
            for i, e in enumerate(self.events):
                if e["event"] == name:
                    return self.events.pop(i)
            m = self._message(deadline)
            if m["type"] == "event":
                self.events.append(m)
            elif m["type"] == "response":
                self.responses[m["request_seq"]] = m

    def close(self):
        try:
            self.send("disconnect", terminateDebuggee=True)
            self.p.wait(timeout=20)
        except Exception:  # noqa: BLE001
            self.p.kill()  # our own child, by PID
            self.p.wait()


@pytest.mark.skipif(not os.path.exists(DAP), reason="lldb-vscode-16 is part of lldb-16")
def test_goroutines_are_threads_in_the_debug_adapter():
    b = lldbtest.fixture("blocked")
    c = Client([DAP], dict(os.environ, LLDB_DEBUGSERVER_PATH=lldbtest.SERVER))
    try:
        c.request("initialize", adapterID="lldb-vscode", clientID="goroscope-test",
                  linesStartAt1=True, columnsStartAt1=True, pathFormat="path")
        launch = c.send("launch", program=b, cwd=lldbtest.ROOT,
                        initCommands=[f"command script import {lldbtest.PLUGIN}"])
        c.event("initialized")
        c.request("setFunctionBreakpoints", breakpoints=[{"name": "ready"}])
        c.request("configurationDone")
        assert c.response(launch)["success"]
        stop = c.event("stopped")
        assert stop["body"]["reason"] in ("function breakpoint", "breakpoint"), stop
        threads = c.request("threads")["threads"]
        names = {t["id"]: t["name"] for t in threads}
        parked = {i: n for i, n in names.items()
                  if re.search(r'goroutine \d+ ("[^"]*" )?\[', n)}
        assert len(parked) == 7, names
        assert sorted(re.search(r"\[(.*)\]", n).group(1) for n in parked.values()) == sorted(
            ["chan receive"] * 3 + ["sync.Mutex.Lock", "select", "sync.WaitGroup.Wait",
                                    "sleep"]), names
        tid = min(i for i, n in parked.items() if "[chan receive]" in n)
        frames = c.request("stackTrace", threadId=tid, startFrame=0, levels=20)["stackFrames"]
        user = [f for f in frames if f["name"].startswith("worker")]
        assert user, [f["name"] for f in frames]
        assert user[0]["line"] == RECV and user[0]["source"]["path"].endswith("blocked.cpp")
        # the goroscope commands through the debug console (`evaluate`, context repl)
        out = c.request("evaluate", expression="`goroutines -group userloc",
                        context="repl")["result"]
        assert "Total: 3" in out, out
    finally:
        c.close()
