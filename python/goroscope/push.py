"""push: send a snapshot to a listening goroscope-view (its --listen ADDR).

Protocol: one connection per snapshot; the snapshot's JSON on one line,
then the connection is closed (the endpoint's NDJSON, one way). ADDR is
unix:/path or tcp:HOST:PORT (loopback by default, as the viewer binds).
"""

import os
import socket

from .errors import GoroscopeError

TIMEOUT = 5.0


def default_address():
    env = os.environ.get("GOROSCOPE_VIEWER")
    if env:
        return env
    base = os.environ.get("XDG_RUNTIME_DIR") or "/tmp"
    return f"unix:{base}/goroscope-view-{os.getuid()}.sock"


def connect(address):
    if address.startswith("unix:"):
        s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        target = address[5:]
    elif address.startswith("tcp:"):
        host, _, port = address[4:].rpartition(":")
        if not host or not port.isdigit():
            raise GoroscopeError(f"bad viewer address '{address}' (tcp:HOST:PORT)")
        s = socket.socket(socket.AF_INET6 if ":" in host.strip("[]") else socket.AF_INET,
                          socket.SOCK_STREAM)
        target = (host.strip("[]"), int(port))
    else:
        raise GoroscopeError(f"bad viewer address '{address}' (unix:PATH or tcp:HOST:PORT)")
    s.settimeout(TIMEOUT)
    try:
        s.connect(target)
    except OSError as e:
        s.close()
        raise GoroscopeError(f"no viewer listening on {address} ({e.strerror or e}); start "
                             f"goroscope-view --listen {address}") from None
    return s


def send(address, line: str):
    s = connect(address)
    try:
        s.sendall(line.encode("utf-8", "surrogateescape") + b"\n")
    except OSError as e:
        raise GoroscopeError(f"sending to the viewer at {address}: {e}") from None
    finally:
        s.close()
