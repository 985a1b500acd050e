"""The daemon bench's floors: the server CPU no daemon can go below on a bulk, measured in separate processes.

`measure` runs refloor.py (Python's re), nativefloor.py (the native engine's C part) and spawnfloor.py (one
command per ban, through banjail's Runner and as the Runner did before) on the same log; `rows` renders them as
rows of the daemon table (label, 9 empty or figure cells, detail).
"""

from __future__ import annotations

import json
import os
import subprocess
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
HERE = Path(__file__).resolve().parent
# The virtualenv whose programs run banjail (BENCH_BANJAIL_VENV; default the checkout's .venv). A git worktree has
# no .venv of its own: point this at the main checkout's and set PYTHONPATH to the worktree's src, which the
# servers and floors started here inherit, to bench the worktree's code.
VENV = Path(os.environ.get("BENCH_BANJAIL_VENV") or REPO / ".venv")
UPSTREAM_FILTER = "/etc/fail2ban/filter.d/sshd.conf"
Progress = Callable[[str], None]


def measure(log_text: str, bans: int, progress: Progress) -> dict[str, float] | None:
    """The CPU any daemon spends at least on this bulk with upstream's sshd filter and a command action, in
    parts: `regex_s` (Python's re in first-match mode, refloor.py --first), `native_s` (banjail's native engine's
    C part alone, nativefloor.py; absent when the extension is not built), `commands_s` (starting and reaping
    `bans` commands through banjail's Runner, spawnfloor.py) and `asyncio_s` (the same through asyncio's
    subprocess, the way commands were started before). None when the regex or command floor could not run."""
    python = str(VENV / "bin/python")
    n = str(max(bans, 1))
    with tempfile.TemporaryDirectory(prefix="bench-floor-") as tmp:
        log = Path(tmp) / "auth.log"
        log.write_text(log_text, encoding="utf-8")
        now = str(int(time.time()))
        runs = {
            "regex_s": [python, str(HERE / "refloor.py"), "--first", str(log), UPSTREAM_FILTER, now],
            "native_s": [python, str(HERE / "nativefloor.py"), str(log), UPSTREAM_FILTER, now],
            "commands_s": [python, str(HERE / "spawnfloor.py"), n, "--way", "runner"],
            "asyncio_s": [python, str(HERE / "spawnfloor.py"), n, "--way", "asyncio"],
        }
        found: dict[str, float] = {}
        for key, argv in runs.items():
            done = subprocess.run(argv, capture_output=True, text=True, check=False, timeout=600)
            if done.returncode != 0:
                progress(f"floor: {argv[1]} failed: {done.stderr.strip()[-200:]}")
                if key in ("regex_s", "commands_s"):
                    return None
                continue
            figures = json.loads(done.stdout)
            found[key] = float(figures.get(key, figures.get("cpu_s", 0.0)))
    progress("floor: " + ", ".join(f"{k} {v:.2f}" for k, v in found.items()) + f" ({n} commands)")
    found["commands"] = float(n)
    return found


def rows(floors: dict[str, float], upstream_cpu_s: float) -> list[tuple[str, ...]]:
    """The floor rows: re + commands, native + commands, and the spawn floor alone (both ways of starting)."""
    out: list[tuple[str, ...]] = []
    n = floors["commands"]
    parts = [("floor (re + commands)", "regex_s", "regex"), ("floor (native + commands)", "native_s", "native C")]
    for label, key, name in parts:
        if key not in floors:
            continue
        total = floors[key] + floors["commands_s"]
        best = upstream_cpu_s / total if upstream_cpu_s and total else 0.0
        out.append((label, "", "", f"{total:.2f}", f"{best:.1f}x" if best else "", "", "", "", "", "",
                     f"{name} {floors[key]:.2f} s + commands {floors['commands_s']:.2f} s"))  # fmt: skip
    spawn = f"{n:.0f} commands: Runner {1000 * floors['commands_s'] / n:.3f} ms each"
    if "asyncio_s" in floors:
        spawn += f" (before, asyncio subprocess + pipes: {floors['asyncio_s']:.2f} s, {1000 * floors['asyncio_s'] / n:.3f} ms each)"
    out.append(("spawn floor", "", "", f"{floors['commands_s']:.2f}", "", "", "", "", "", "", spawn))
    return out
