"""imageutil: load a recorded memory image (record_image.py) as an ImageTarget."""

import gzip
import json
import os

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
