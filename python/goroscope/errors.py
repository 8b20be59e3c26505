"""errors: the one error type users see, and soft decoding failures.

GoroscopeError is what a command reports: one short line, printed by the
adapter as "goroscope: <message>", never a traceback. Corrupt is raised by
decoders that find memory that cannot be what it claims (a map with B=73,
a cyclic overflow chain); renderers turn it into "<corrupt hmap: B=73>"
and go on with the next object.
"""


class GoroscopeError(Exception):
    """A user-facing error: str(e) is the one-line message."""


class Corrupt(GoroscopeError):
    """A structure in target memory cannot be decoded.

    what: the structure ("hmap", "hchan", "G"); detail: why ("B=73").
    """

    def __init__(self, what, detail):
        super().__init__(f"<corrupt {what}: {detail}>")
        self.what = what
        self.detail = detail

    def render(self):
        return f"<corrupt {self.what}: {self.detail}>"


class MemoryReadError(GoroscopeError):
    """Target memory at addr could not be read (unmapped, not in the core)."""

    def __init__(self, addr, size):
        super().__init__(f"cannot read {size} bytes at {addr:#x}")
        self.addr = addr
        self.size = size
