#!/usr/bin/env python3
"""gallery.py: the scenario gallery's one table, and what is made from it.

Each scenario is examples/<name>.cpp: its header comment says the bug and its
fix; SCENARIOS says where a debugger should stop (the plugins' fatal-error
stop, or a breakpoint on the program's checkpoint()), which commands show the
bug, and which viewer panel pictures it.

    gallery.py list                  the scenarios, one line each
    gallery.py run NAME OUTDIR       the GDB transcript, the snapshot taken at the
                                     stop and the viewer's screenshot of it, in OUTDIR
    gallery.py docs                  regenerate docs/gallery.md and its PNGs
                                     (docs/images/gallery/)

`./goroscope demo NAME` and `./goroscope demo --list` use it; `./goroscope
gallery` runs `docs`. Needs the project built (./goroscope build) and, for
screenshots, xvfb-run.
"""

import os
import re
import subprocess
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
sys.path[:0] = [os.path.join(ROOT, "tests", "gdb")]
import gdbtest  # noqa: E402  (the batch-GDB driver the tests use)

BUILD = os.environ.get("GOROSCOPE_BUILD", os.path.join(ROOT, "build"))
VIEW = os.path.join(BUILD, "bin", "goroscope-view")

FATAL = None  # stop: the plugin's stop at goroscope_fatal


class Scenario:
    def __init__(self, name, stop, commands, panel, map_name=None, args=(), setup=()):
        self.name, self.stop, self.commands = name, stop, commands
        self.panel, self.map_name, self.args, self.setup = panel, map_name, list(args), setup


SCENARIOS = [
    Scenario("concurrent_map_writes", FATAL,
             ["goroutines -group userloc", "gomap info hits"], "map", "hits"),
    Scenario("map_read_write", FATAL,
             ["goroutines -group userloc", "gomap info config"], "map", "config"),
    Scenario("map_iteration_write", FATAL,
             ["goroutines -group userloc", "gomap info gauges"], "map", "gauges"),
    Scenario("map_fixes", "checkpoint",
             ["goroutines", "gomap info owned"], "goroutines", args=["owner"]),
    Scenario("rwmutex_starved_writer", "checkpoint",
             ["goroutines -group userloc", "frame 1", "print c.rw", "deadlocks"], "goroutines"),
    Scenario("timeout_leak", "checkpoint", ["goroutines", "deadlocks"], "goroutines"),
    Scenario("backpressure", "checkpoint", ["goroutines -group userloc", "deadlocks"],
             "goroutines"),
    Scenario("lock_order", FATAL, ["goroutines", "deadlocks"], "goroutines"),
    Scenario("self_request", FATAL, ["goroutines", "deadlocks"], "goroutines"),
    Scenario("waitgroup_missing_done", FATAL, ["goroutines", "deadlocks"], "goroutines"),
    Scenario("closed_channel", FATAL, ["goroutines", "goroutine 1 bt 9"], "goroutines",
             args=["send"]),
    Scenario("map_growth", "grow_start",
             ["gomap watch m --grow --evacuated", "continue", "continue", "continue",
              "gomap info m", "gomap buckets m --old"], "map", "m"),
    Scenario("syncmap_growth", "checkpoint", ["frame 1", "print sessions"], "table"),
    Scenario("shared_inner_map", FATAL,
             ["goroutines -group userloc", "gomap info alice"], "map", "alice"),
]
BY_NAME = {s.name: s for s in SCENARIOS}


def header(name):
    """(title, bug paragraphs, fix) from the example's header comment."""
    lines = []
    with open(os.path.join(HERE, name + ".cpp")) as f:
        for ln in f:
            if not ln.startswith("//"):
                break
            lines.append(ln[2:].rstrip("\n")[1:] if ln.startswith("// ") else ln[2:].rstrip())
    first = lines.index("") if "" in lines else 1
    title = " ".join(x.strip() for x in lines[:first])
    title = re.sub(r"^\S+\.cpp — gallery scenario \d+: ", "", title)
    text = "\n".join(lines[first:]).strip("\n")
    fix = ""
    m = re.search(r"(?ms)^(The fix[^:]*:.*?)(?:\n\n|\Z)", text)
    if m:
        fix = " ".join(x.strip() for x in m.group(1).splitlines())
        text = (text[:m.start()] + text[m.end():]).strip("\n")
    return title, text, fix


def markdown(text):
    """A header comment's text: its indented lines (Go's messages) as code blocks."""
    out, block = [], []
    for ln in text.splitlines() + [""]:
        if ln.startswith("  "):
            block.append(ln[2:])
            continue
        if block:
            if out and out[-1] == "":
                out.pop()
            out += ["", "```", *block, "```", ""]
            block = []
            if ln == "":
                continue
        out.append(ln)
    return "\n".join(out).strip("\n")


def transcript(s, snap=None):
    """The GDB session at the scenario's stop, as a terminal shows it."""
    b = os.path.join(BUILD, "examples", s.name)
    blocks = [(f"b{i}", c) for i, c in enumerate(s.commands)]
    if snap:
        blocks.append(("snap", f"goroscope snapshot {snap}"))
    mode = "fatal" if s.stop is FATAL else "live"
    res, out = gdbtest.session(b, blocks, mode=mode, stop=s.stop or "ready", args=s.args,
                               setup=["set print thread-events off"], merge_stderr=True)
    head = [f"$ ./goroscope gdb build/examples/{s.name} {' '.join(s.args)}".rstrip()]
    if s.stop is not FATAL:
        head.append(f"(gdb) break {s.stop}")
    head.append("(gdb) run")
    # what the program and GDB printed up to the stop (before the first block)
    first = out.find("BEGIN b0")
    pre = out[:first] if first >= 0 else out
    keep = [ln for ln in pre.splitlines()
            if not re.match(r"\[(New|Thread|Inferior|Switching)|Using host libthread_db|"
                            r"warning:|To enable execution|\tadd-auto-load|line to your|"
                            r"To completely disable|\tset auto-load|For more information|"
                            r"\tinfo \"\(gdb\)|\"Auto-loading safe path|Breakpoint 1 at|"
                            r"Error while running hook_stop|^$", ln)]
    out_lines = head + keep
    for i, c in enumerate(s.commands):
        out_lines.append(f"(gdb) {c}")
        out_lines += [ln for ln in res.get(f"b{i}", "").rstrip("\n").splitlines()
                      if not re.match(r"\[(New|Switching to) Thread", ln)]
    text = "\n".join(out_lines)
    return text.replace(ROOT + "/", "")


def screenshot(s, snap, png):
    cmd = ["xvfb-run", "-a", "-s", "-screen 0 1400x900x24", VIEW, "--size", "1400x900",
           "--screenshot", png, "--panel", s.panel, "--frames", "10"]
    if s.map_name:
        cmd += ["--map", s.map_name]
    p = subprocess.run(cmd + [snap], capture_output=True, text=True, timeout=180,
                       stdin=subprocess.DEVNULL)
    if p.returncode != 0:
        raise RuntimeError(f"{s.name}: the viewer failed: {p.stderr.strip()}")


def run(name, outdir):
    s = BY_NAME.get(name)
    if s is None:
        raise SystemExit(f"gallery: no scenario '{name}' (gallery.py list)")
    os.makedirs(outdir, exist_ok=True)
    snap = os.path.join(outdir, f"{name}.json")
    text = transcript(s, snap)
    with open(os.path.join(outdir, f"{name}.txt"), "w") as f:
        f.write(text + "\n")
    png = os.path.join(outdir, f"{name}.png")
    screenshot(s, snap, png)
    return text, snap, png


def docs():
    img = os.path.join(ROOT, "docs", "images", "gallery")
    os.makedirs(img, exist_ok=True)
    out = ["# Scenario gallery: the classic concurrency bugs, and what each tool says", "",
           "<!-- generated by `./goroscope gallery` (examples/gallery.py) from the programs in",
           "     examples/: edit those, then regenerate -->", "",
           "Each scenario is a short program in `examples/` (built into `build/examples/`). Its",
           "bug comes in two sentences, then the program, then a real GDB session at the moment",
           "that matters, then goroscope-view's picture of that moment, then the fix. The GDB",
           "plugin stops a dying program at its fatal error, before it exits (`goroscope_fatal`).",
           "Programs that do not die call `checkpoint()` at the interesting moment. LLDB prints",
           "the same text (`tests/gallery` checks both, live and from a core). Run one yourself",
           "with `./goroscope demo NAME`; `./goroscope demo --list` lists them.", ""]
    for i, s in enumerate(SCENARIOS, 1):
        out.append(f"- [{i}. {header(s.name)[0]}](#{i}-{s.name.replace('_', '-')})")
    out.append("")
    with tempfile.TemporaryDirectory() as d:
        for i, s in enumerate(SCENARIOS, 1):
            print(f"gallery: {s.name}", file=sys.stderr)
            title, bug, fix = header(s.name)
            text, snap, png = run(s.name, d)
            os.replace(png, os.path.join(img, f"{s.name}.png"))
            with open(os.path.join(HERE, s.name + ".cpp")) as f:
                src = f.read()
            body = src[src.find("\n#include"):].strip("\n") if "\n#include" in src else src
            out += [f"## {i}. {s.name}", "", f"**{title[0].upper() + title[1:]}**", "",
                    markdown(bug), "", f"<details><summary>examples/{s.name}.cpp</summary>", "",
                    "```cpp", body, "```", "", "</details>", "", "In GDB:", "", "```", text,
                    "```", "", f"In goroscope-view ({s.panel} panel):", "",
                    f"![{s.name}](images/gallery/{s.name}.png)", ""]
            if fix:
                out += [f"**{fix}**", ""]
    with open(os.path.join(ROOT, "docs", "gallery.md"), "w") as f:
        f.write("\n".join(out).rstrip("\n") + "\n")
    print("gallery: wrote docs/gallery.md and docs/images/gallery/*.png", file=sys.stderr)


def main(argv):
    import signal

    signal.signal(signal.SIGPIPE, signal.SIG_DFL)  # `gallery.py list | head`
    if argv[:1] == ["list"]:
        for i, s in enumerate(SCENARIOS, 1):
            print(f"{i:2}. {s.name:24} {header(s.name)[0]}")
        return 0
    if argv[:1] == ["run"] and len(argv) == 3:
        text, snap, png = run(argv[1], argv[2])
        print(text)
        print(f"\nsnapshot: {snap}\nscreenshot: {png}")
        return 0
    if argv == ["docs"]:
        docs()
        return 0
    print(__doc__, file=sys.stderr)
    return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
