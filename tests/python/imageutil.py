"""imageutil: load a recorded memory image (record_image.py) as an ImageTarget,
or as an ImageDebugger: the core's Debugger over it, for the command layer."""

import gzip
import json
import os

from goroscope import settings
from goroscope.debugger import Debugger
from goroscope.errors import GoroscopeError
from goroscope.target import Frame, ImageTarget, Thread

HERE = os.path.dirname(os.path.abspath(__file__))


def load(name):
    with gzip.open(os.path.join(HERE, "images", name + ".json.gz"), "rt") as f:
        return json.load(f)


def target(doc, regions=None):
    regs = regions if regions is not None else {
        int(a, 16): bytes.fromhex(d) for a, d in doc["regions"].items()}
    frames = {int(pc, 16): [Frame(**f) for f in fs] for pc, fs in doc["frames"].items()}
    threads = [Thread(t["num"], t["tid"], t["regs"]) for t in doc["threads"]]
    return ImageTarget(regs, doc["symbols"], threads, frames, doc["selected"], doc["now"])


class ImageDebugger(ImageTarget, Debugger):
    """A Debugger over a recorded image; expressions are a table, the other
    verbs record their calls."""

    name = "gdb"
    producer = "goroscope-test"

    def __init__(self, doc, exprs=None, name="gdb", regions=None):
        t = target(doc, regions)
        ImageTarget.__init__(self, dict(t.regions), t.symbols, t._threads, t.frames, t.selected,
                             t.now)
        self.name = name
        Debugger.__init__(self, settings.Settings(name))
        self.exprs = exprs or {}
        self.calls = []
        self.said = []
        self.selected_goid = None

    def has_process(self):
        return True

    def pid(self):
        return 4242

    def is_core(self):
        return True

    def stop_key(self):
        return 0

    def evaluate(self, expr):
        if expr not in self.exprs:
            raise GoroscopeError(f"No symbol \"{expr}\" in current context")
        return self.exprs[expr]

    def selected_goroutine(self):
        return self.selected_goid

    def select_goroutine(self, rt, goid):
        self.selected_goid = goid
        return [f"[Switching to goroutine {goid}]"]

    def clear_goroutine(self):
        self.selected_goid = None
        return ["goroutine selection cleared"]

    def run_in_goroutine(self, rt, goid, command):
        self.calls.append((goid, command))
        return [f"({command} in {goid})"]

    def announce(self, text):
        self.said.append(text)
