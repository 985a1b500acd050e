"""A jail `test` for tests that need no real service: a filter matching `fail from <HOST> port N` and the dated
lines the test appends to its log, and a bounded poll.

`FILTER` goes in the config's filter.d as `banjail-test.conf`; `fail_lines` makes one dated line per address
(dated, so lines read after a restart keep their time).
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable
from pathlib import Path

FILTER_NAME = "banjail-test"
FILTER = "[Definition]\nfailregex = fail from <HOST> port \\d+$\n"


def write_filter(conf: Path) -> None:
    """Put the test filter in `conf`/filter.d."""
    (conf / "filter.d").mkdir(parents=True, exist_ok=True)
    (conf / "filter.d" / f"{FILTER_NAME}.conf").write_text(FILTER)


def fail(log: Path, addresses: Iterable[str]) -> None:
    """Append one failure line per address to `log`, in one write."""
    stamp = time.strftime("%Y-%m-%d %H:%M:%S")
    with log.open("a") as out:
        out.write("".join(f"{stamp} fail from {ip} port 1\n" for ip in addresses))


def until(check: Callable[[], object], timeout: float = 10, period: float = 0.01) -> float | None:
    """Poll `check` for at most `timeout` seconds; the wall-clock time it first held, or None."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if check():
            return time.time()
        time.sleep(period)
    return None
