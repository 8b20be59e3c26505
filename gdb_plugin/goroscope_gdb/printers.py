"""printers: GDB pretty-printers for goro's types (the summaries come from the core)."""


def install():
    pass
