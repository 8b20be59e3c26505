"""The debugger-agnostic core against recorded memory images: no debugger.

The images (images/*.json.gz) hold every byte the core read from a real
fixture process stopped at ready(), and what it printed then; replaying
them must print the same. Re-record with tests/python/record.sh after a
layout change.
"""

import os
import sys

import pytest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "python"))

import coreops  # noqa: E402
import imageutil  # noqa: E402


@pytest.mark.parametrize("name", ["blocked", "deadlock"])
def test_replaying_an_image_prints_what_the_live_process_printed(name, monkeypatch):
    doc = imageutil.load(name)
    monkeypatch.setattr(os, "getcwd", lambda: doc["cwd"])  # paths print relative to it
    out = coreops.exercise(imageutil.target(doc))
    assert set(out) == set(doc["outputs"])
    for k, v in doc["outputs"].items():
        assert out[k] == v, k


def test_blocked_image_decodes_as_expected():
    doc = imageutil.load("blocked")
    out = coreops.exercise(imageutil.target(doc))
    assert out["goroutines (fast)"] == out["goroutines"]  # the one-pass listing: same text
    assert out["goroutines"].endswith("[8 goroutines]")
    assert "chan receive" in out["goroutines"] and "sync.Mutex.Lock" in out["goroutines"]
    assert "count      100" in out["map sessions"] and "entries 100" in out["map sessions"]
    assert "entries 27" in out["map growing"]
    assert out["obj jobs"].startswith("chan int len=0 cap=0 recvq=[")


def test_deadlock_image_finds_the_cycle_and_the_leak():
    out = coreops.exercise(imageutil.target(imageutil.load("deadlock")))
    assert out["deadlocks"].startswith("deadlock: goroutine ")
    assert "1 goroutine that no other goroutine can wake" in out["deadlocks"]
