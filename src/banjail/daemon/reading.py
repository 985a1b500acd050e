"""How a jail's reading is going, for the log and `status`: lines cut at `maxlinelength`, bytes not read yet.

Cut lines are logged as a WARNING at most once per CUT_LOG_SECONDS per jail (a flood of long lines is one message
a minute with the count, not a message per line). A failure dropped for want of a date (a backlog's line without
one: upstream drops it too, and only lines appended after start take the current time) is logged with upstream's
three WARNING lines, at most once a day per jail, as upstream logs them. `status <jail>` shows both in the Filter group, as banjail's
extra rows, only while there is something to show ("Lines cut" > 0, "Lag" with files behind): upstream's tree is
unchanged byte for byte otherwise, for the scripts that parse it.
"""

from __future__ import annotations

import time
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from banjail.daemon.logging import logger

CUT_LOG_SECONDS = 60.0
UNDATED_LOG_SECONDS = 24 * 60 * 60.0  # upstream's once a day

log_filter = logger("filter")


@dataclass
class ReadingReport:
    """One jail's cut-line bookkeeping (touched only on the loop)."""

    logged: int = 0  # cut lines already logged
    logged_at: float = field(default=-CUT_LOG_SECONDS)
    undated_until: float = 0.0  # (clock time) no undated warning before this


def lines_cut(sources: Iterable[Any]) -> int:
    """Lines cut by the jail's sources since they opened (file sources count them; others cut none)."""
    return sum(int(getattr(source, "lines_cut", 0) or 0) for source in sources)


def lag(sources: Iterable[Any]) -> dict[str, int]:
    """Bytes not read yet per file of the jail's sources."""
    behind: dict[str, int] = {}
    for source in sources:
        measure = getattr(source, "lag", None)
        if callable(measure):
            behind.update(measure())
    return behind


def report_cut(jail: str, sources: Iterable[Any], report: ReadingReport, max_line: int) -> None:
    """Log the lines cut since the last message, unless one was logged less than CUT_LOG_SECONDS ago."""
    total = lines_cut(sources)
    if total <= report.logged:
        return
    now = time.monotonic()
    if now - report.logged_at < CUT_LOG_SECONDS:
        return
    log_filter.warning(
        "[%s] %d line(s) longer than maxlinelength = %d bytes were cut (%d since start): "
        "what follows the cut is not matched (raise maxlinelength for this jail if its addresses come late)",
        jail,
        total - report.logged,
        max_line,
        total,
    )
    report.logged, report.logged_at = total, now


def report_undated(jail: str, matcher: Any, report: ReadingReport, now: float) -> None:
    """Log upstream's warning for the first failure the jail's matcher (None: the jail has none) dropped for want
    of a date since the last call (its LogState's `undated` is taken), at most once per UNDATED_LOG_SECONDS."""
    if matcher is None:
        return
    state = matcher.state
    undated = getattr(state, "undated", None)
    if undated is None:
        return
    state.undated = None
    if now < report.undated_until:
        return
    report.undated_until = now + UNDATED_LOG_SECONDS
    date_text, lines = undated
    log_filter.warning("[%s] Found a match but no valid date/time found for %r.", jail, date_text)
    log_filter.warning("[%s] Match without a timestamp: %s", jail, lines)
    log_filter.warning("[%s] Please try setting a custom date pattern (see man page jail.conf(5)).", jail)


def status_rows(sources: Iterable[Any]) -> list[tuple[str, object]]:
    """banjail's extra rows for the Filter group of `status <jail>` (none while nothing is cut or behind)."""
    listed = list(sources)
    rows: list[tuple[str, object]] = []
    cut = lines_cut(listed)
    if cut:
        rows.append(("Lines cut", cut))
    behind = lag(listed)
    if behind:
        rows.append(("Lag", [f"{path} {size} bytes" for path, size in sorted(behind.items())]))
    return rows
