"""The debuggers' deadlock and leak rules (python/goroscope/deadlock.py) on
the conformance corpus (tests/conformance/README.md): every snapshot gives
its expected verdict through deadlock.from_snapshot, every stored snapshot
is valid by the schema, and each rejected rule, patched in instead of the
chosen one, fails some file -- so the corpus can tell the rules apart.
tests/viewer/waitfor_test.cpp runs the same files through the viewer's
model.

The generated cases are read from $GOROSCOPE_CONFORMANCE_GENERATED (ctest
sets it to the build's: the files the viewer's test reads too); without it
they are generated into a temporary directory by the same script.
"""

import glob
import json
import os
import sys

import pytest

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
CORPUS = os.path.join(ROOT, "tests", "conformance")
sys.path.insert(0, os.path.join(ROOT, "python"))
sys.path.insert(0, CORPUS)

import generate  # noqa: E402
from goroscope import deadlock  # noqa: E402

STORED = sorted(os.path.basename(p)[:-len(".expect.json")]
                for p in glob.glob(os.path.join(CORPUS, "*.expect.json")))


@pytest.fixture(scope="session")
def generated_dir(tmp_path_factory):
    d = os.environ.get("GOROSCOPE_CONFORMANCE_GENERATED")
    if d:
        return d
    d = str(tmp_path_factory.mktemp("conformance"))
    generate.write_all(d)
    return d


_LOADED = {}


def load(path):
    if path not in _LOADED:
        with open(path + ".json") as f:
            doc = json.load(f)
        with open(path + ".expect.json") as f:
            want = json.load(f)
        _LOADED[path] = doc, want
    return _LOADED[path]


def corpus(generated_dir):
    return [os.path.join(CORPUS, n) for n in STORED] + \
        [os.path.join(generated_dir, n) for n in generate.CASES]


def mismatch(doc, want):
    """How the verdict on doc differs from want ("" if it does not)."""
    v = deadlock.from_snapshot(doc).verdict
    got = {"cycles": v.cycles, "unwakeable": v.unwakeable, "leaked": sorted(v.leaked)}
    return "; ".join(f"{k}: {got[k]} (want {want[k]})" for k in got if got[k] != want[k])


def test_the_corpus_has_every_gallery_scenario_in_both_forms():
    sys.path.insert(0, os.path.join(ROOT, "examples"))
    import gallery

    assert len(STORED) + len(generate.CASES) >= 30
    for s in gallery.SCENARIOS:
        for form in ("gdb", "runtime"):
            assert f"gallery_{s.name}_{form}" in STORED, (s.name, form)


@pytest.mark.parametrize("name", STORED + list(generate.CASES))
def test_the_verdict_is_the_expected_one(name, generated_dir):
    path = os.path.join(CORPUS if name in STORED else generated_dir, name)
    doc, want = load(path)
    m = mismatch(doc, want)
    assert not m, f"{name}.json: {m}\n(why: {want.get('why', '')})"


def test_the_stored_snapshots_are_valid():
    import jsonschema

    with open(os.path.join(ROOT, "docs", "snapshot.schema.json")) as f:
        v = jsonschema.Draft4Validator(json.load(f))
    for name in STORED:
        doc, want = load(os.path.join(CORPUS, name))
        errors = [e.message[:200] for e in v.iter_errors(doc)]
        assert not errors, (name, errors[:3])
        assert set(want) >= {"cycles", "unwakeable", "leaked", "why"}, name
        members = {g for c in want["cycles"] for g in c}
        assert sorted(members | set(want["unwakeable"])) == want["leaked"], name


@pytest.mark.parametrize("image", ["blocked", "deadlock"])
def test_a_stopped_process_and_its_snapshot_give_one_verdict(image):
    """The two builders: build(rt, views) on a recorded process (tests/python/images) and
    from_snapshot on the snapshot the plugin writes of it."""
    sys.path.insert(0, HERE)
    import imageutil

    from goroscope import goroutines as gcmd
    from goroscope import snapshot
    from goroscope.runtime import Runtime
    from goroscope.stacks import Symbolizer

    target = imageutil.target(imageutil.load(image))
    rt = Runtime(target)
    live = deadlock.build(rt, gcmd.collect(rt, target.now_ns())).verdict
    doc = json.loads(snapshot.dumps(snapshot.build(rt, Symbolizer(target))))
    assert deadlock.from_snapshot(doc).verdict == live
    assert live.leaked if image == "deadlock" else not live.leaked


def fires_any_holder(o, held, running_holders, running_refs, anyone):
    if not o.unreadable and o.kind in deadlock.LOCKS:
        return held == 0 or running_holders > 0
    return FIRES(o, held, running_holders, running_refs, anyone)


def fires_without_handles(o, held, running_holders, running_refs, anyone):
    if not o.unreadable and o.kind == "chan" and o.refs is not None and not o.closed:
        return running_refs > 0
    return FIRES(o, held, running_holders, running_refs, anyone)


def fires_unknown_wakes_nobody(o, held, running_holders, running_refs, anyone):
    if not o.unreadable and o.kind in deadlock.SHARED and o.refs is None and not o.closed:
        return False
    return FIRES(o, held, running_holders, running_refs, anyone)


def holders_once_held_by_nobody(kind, d):
    return [] if kind == "once" else HOLDERS(kind, d)


FIRES, HOLDERS = deadlock.fires, deadlock.holders
WRONG = {
    "R2: nil channels and empty selects are like other waits": ("FOREVER", frozenset()),
    "R5: a lock wait fires when any one holder can run": ("fires", fires_any_holder),
    "R5: a Once being run is held by nobody": ("holders", holders_once_held_by_nobody),
    "R7: a channel's handles beyond its referencers are ignored": ("fires", fires_without_handles),
    "R8: unknown references wake nobody": ("fires", fires_unknown_wakes_nobody),
}


@pytest.mark.parametrize("what", list(WRONG))
def test_each_rejected_rule_fails_some_file(what, generated_dir, monkeypatch, capsys):
    attr, value = WRONG[what]
    monkeypatch.setattr(deadlock, attr, value)
    paths = corpus(generated_dir)
    failed = [os.path.basename(p) for p in paths if mismatch(*load(p))]
    with capsys.disabled():
        print(f"\nconformance: rejected rule {what!r}: {len(failed)} of {len(paths)} files fail: "
              f"{' '.join(failed)}")
    assert failed, what
