"""Where banjail's server CPU goes on the daemon bench's bulk, measured in one process, part by part.

The real Daemon (the daemon section's config: a copy of /etc/fail2ban, upstream's sshd filter, backend auto, the
SQLite store, a log file at INFO) without actions (no command per ban: see the spawn floor for those), fed the
same generated append; every part's thread CPU (time.thread_time) is summed by wrapping its entry point: matching
(JailState.match, the engine, on the scan thread), counting (JailState.count, on the loop), reading
(FileSource.step), the store's commits (on the store thread) with the counted failures' and the evidence's share,
and the cyclic collector (gc.callbacks). `process` is the whole process's CPU for the bulk. Each figure is the
minimum over RUNS runs (the machine is shared: the minimum is the least disturbed).

    .venv/bin/python bench/daemonparts.py [LINES] [RUNS] [--flood]

--flood: LINES failed-password lines from distinct addresses instead (maxretry 1e6: no ban), the worst case
per line (every line a new counter entry and a stored failure).
"""

from __future__ import annotations

import asyncio
import collections
import functools
import gc
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import daemon as bench

import banjail.store.counted as counted
import banjail.store.evidence as evidence
from banjail.clock import SystemClock
from banjail.config.load import load_config
from banjail.core.jail import JailState
from banjail.daemon import interpreter
from banjail.daemon.app import Daemon
from banjail.daemon.database import open_store
from banjail.daemon.logging import LogTarget
from banjail.daemon.wiring import make_sources
from banjail.sources.file import FileSource
from banjail.store.sqlite import SqliteStore

PARTS: list[tuple[Any, str, str]] = [
    (JailState, "match", "matching (scan thread)"),
    (JailState, "count", "counting (loop)"),
    (FileSource, "step", "reading (loop)"),
    (SqliteStore, "commit", "store commits (store thread)"),
    (counted, "write", "  of which counted failures"),
    (evidence, "write", "  of which evidence"),
]
spent: collections.Counter[str] = collections.Counter()


def _timed(function: Callable[..., Any], label: str) -> Callable[..., Any]:
    @functools.wraps(function)
    def timed(*args: Any, **kwargs: Any) -> Any:
        started = time.thread_time()
        try:
            return function(*args, **kwargs)
        finally:
            spent[label] += time.thread_time() - started

    return timed


_gc_started = [0.0]


def _collector(phase: str, _info: dict[str, Any]) -> None:
    if phase == "start":
        _gc_started[0] = time.thread_time()
    else:
        spent["cyclic collector (any thread)"] += time.thread_time() - _gc_started[0]


def flood_text(lines: int) -> str:
    stamp = time.strftime("%b %e %H:%M:%S")
    return "".join(f"{stamp} web1 sshd[99]: Failed password for root from 10.{n >> 16 & 255}.{n >> 8 & 255}."
                   f"{n & 255} port 1 ssh2\n" for n in range(lines))  # fmt: skip


async def one_run(work: Path, text: str) -> float:
    """The whole process's CPU seconds from the append until the jail has read and committed all of it."""
    config = load_config(str(bench.write_config(work)))
    store, dbfile = open_store(config.server.dbfile, config.server.dbmaxmatches, config.server.dbmaxfailures)
    logs = LogTarget()
    logs.set_level("INFO")
    logs.set_target(str(work / "server.log"))
    daemon = Daemon(config, store=store, sources=make_sources, actions=lambda _: [], clock=SystemClock(), logs=logs,
                    dbfile=dbfile)  # fmt: skip
    await daemon.start()
    await asyncio.sleep(0.5)
    jail = daemon.jails["bench"]
    size = len(text.encode())
    spent.clear()
    cpu = time.process_time()
    with open(work / "auth.log", "a", encoding="utf-8") as log:
        log.write(text)
    deadline = time.monotonic() + 300
    while time.monotonic() < deadline:
        await asyncio.sleep(0.02)
        offsets = [source.position().offset for source in jail.sources]
        if offsets and offsets[0] >= size and not jail.reading:
            break
    used = time.process_time() - cpu
    await daemon.stop()
    logs.close()
    return used


def main(argv: list[str]) -> int:
    flood = "--flood" in argv
    numbers = [int(a) for a in argv if a.isdigit()]
    lines = numbers[0] if numbers else 200_000
    runs = numbers[1] if len(numbers) > 1 else 3
    if flood:
        bench.MAXRETRY = 1_000_000
    for owner, name, label in PARTS:
        setattr(owner, name, _timed(getattr(owner, name), label))
    gc.callbacks.append(_collector)
    interpreter.tune()  # the server's GIL switch interval and collector thresholds
    best: dict[str, float] = {}
    for _ in range(runs):
        text = flood_text(lines) if flood else bench.generate(lines)
        with tempfile.TemporaryDirectory(prefix="bench-parts-") as tmp:
            used = asyncio.run(one_run(Path(tmp), text))
        for label, seconds in [("process", used), *spent.items()]:
            best[label] = min(best.get(label, seconds), seconds)
    print(f"{lines:,} {'flood ' if flood else ''}lines, min of {runs} runs, thread CPU seconds:")
    for label in ["process", *(label for _, _, label in PARTS), "cyclic collector (any thread)"]:
        print(f"  {best.get(label, 0.0):7.3f}  {label}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
