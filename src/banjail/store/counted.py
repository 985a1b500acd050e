"""banjail_failures: the failures each jail counted that have not become a ban yet, so the failure counters
survive a restart or a kill -9 (banjail's own table; upstream ignores tables it does not know).

Rows are in counting order (rowid). `matches` holds the failure's lines joined by newlines (log lines never hold
one), `groups` the failure's groups as JSON, or NULL. A checkpoint forgets the fids it `cleared` before it adds
its failures, because a fid banned in a batch may count a new failure after its ban in the same batch.

Bounded (a flood of failures that never reach maxretry must not grow the file without end): see Pruner. A
jail's rows older than findtime are deleted (its counter forgot them already) and, beyond dbmaxfailures rows
(MAX_FAILURES_PER_JAIL by default), the oldest ones: a restart recounts at most those.
"""

from __future__ import annotations

import json
import sqlite3
from collections import deque
from collections.abc import Sequence
from typing import Any

from banjail.store import jsontext, manyrows
from banjail.store.checkpoint import Checkpoint, CountedFailure

SCHEMA = """
CREATE TABLE IF NOT EXISTS banjail_failures(
    jail TEXT NOT NULL,
    fid TEXT NOT NULL,
    ip TEXT,
    time REAL NOT NULL,
    count INTEGER NOT NULL DEFAULT 1,
    matches TEXT,
    groups TEXT,
    source TEXT,
    regex INTEGER);
CREATE INDEX IF NOT EXISTS banjail_failures_jail_fid ON banjail_failures(jail, fid);
"""
# Columns added after the table first shipped (`why`'s evidence): a database made before gets them at open.
ADDED_COLUMNS = (("source", "TEXT"), ("regex", "INTEGER"))


def upgrade(db: sqlite3.Connection) -> None:
    """Add the columns a banjail_failures table of an older banjail lacks (inside the caller's transaction)."""
    have = {row[1] for row in db.execute("PRAGMA table_info(banjail_failures)")}
    for column, kind in ADDED_COLUMNS:
        if column not in have:
            db.execute(f"ALTER TABLE banjail_failures ADD COLUMN {column} {kind}")


MAX_FAILURES_PER_JAIL = 100_000  # about 15 MB of rows with their lines
PRUNE_EVERY = 10_000


class Pruner:
    """Keeps each jail's rows under the cap and within findtime cheaply: the rows a jail writes are remembered in
    blocks of about min(PRUNE_EVERY, cap / 10) rows (the highest rowid, the newest time, the count), and whole
    blocks are deleted by rowid range (a walk over the deleted rows only, no scan of the table) once they are past
    findtime or the jail's blocks hold more than `cap` rows. Rows written before this process started are left to
    the start-up read (older than findtime) and to `purge`. Counts include rows a ban cleared since, so a jail may
    keep fewer than `cap` rows, never more than `cap` plus one block."""

    def __init__(self, cap: int = MAX_FAILURES_PER_JAIL) -> None:
        self.cap = cap
        self._open: dict[str, tuple[int, float]] = {}  # jail -> rows and newest time not yet in a block
        self._blocks: dict[str, deque[tuple[int, float, int]]] = {}  # jail -> (last rowid, newest time, rows)
        self._rows: dict[str, int] = {}

    def written(self, db: sqlite3.Connection, item: Checkpoint) -> None:
        """Account for `item`'s failures (just written in the caller's transaction) and prune what is due."""
        if not item.failures:
            return
        jail = item.jail
        rows, newest = self._open.get(jail, (0, 0.0))
        rows += len(item.failures)
        newest = max(newest, max(f.time for f in item.failures))
        if rows < min(PRUNE_EVERY, self.cap // 10 + 1):
            self._open[jail] = (rows, newest)
            return
        self._open[jail] = (0, 0.0)
        last = int(db.execute("SELECT max(rowid) FROM banjail_failures").fetchone()[0] or 0)
        blocks = self._blocks.setdefault(jail, deque())
        blocks.append((last, newest, rows))
        total = self._rows.get(jail, 0) + rows
        while blocks and (total > self.cap or blocks[0][1] < item.expire_before):
            upto, _, count = blocks.popleft()
            db.execute("DELETE FROM banjail_failures WHERE rowid <= ? AND jail = ?", (upto, jail))
            total -= count
        self._rows[jail] = total


def write(db: sqlite3.Connection, item: Checkpoint) -> None:
    """Apply a checkpoint's counted failures inside the caller's transaction."""
    if item.cleared:
        db.executemany(
            "DELETE FROM banjail_failures WHERE jail = ? AND fid = ?",
            [(item.jail, fid) for fid in item.cleared],
        )
    if item.failures:
        manyrows.insert(
            db,
            "INSERT OR FAIL INTO banjail_failures(jail, fid, ip, time, count, matches, groups, source, regex) "
            "VALUES",
            [_row(item.jail, f) for f in item.failures],
        )


def read(db: sqlite3.Connection, jail: str, since: float) -> list[CountedFailure]:
    """The jail's counted failures of every fid whose newest failure is after `since`, in counting order; the
    others are deleted (inside the caller's transaction)."""
    db.execute(
        "DELETE FROM banjail_failures WHERE jail = ?1 AND fid IN (SELECT fid FROM banjail_failures "
        "WHERE jail = ?1 GROUP BY fid HAVING max(time) <= ?2)",
        (jail, since),
    )
    rows = db.execute(
        "SELECT fid, ip, time, count, matches, groups, source, regex FROM banjail_failures WHERE jail = ? "
        "ORDER BY rowid",
        (jail,),
    ).fetchall()
    return [counted_failure(row) for row in rows]


def counted_failure(row: Sequence[Any]) -> CountedFailure:
    """A CountedFailure from a row (fid, ip, time, count, matches, groups, source, regex)."""
    fid, ip, at, count, matches, groups, source, regex = row
    return CountedFailure(
        str(fid),
        None if ip is None else str(ip),
        float(at),
        int(count),
        tuple(matches.split("\n")) if isinstance(matches, str) and matches else (),
        _groups(groups),
        str(source or ""),
        -1 if regex is None else int(regex),
    )


def _row(jail: str, failure: CountedFailure) -> tuple[object, ...]:
    groups = jsontext.pairs(failure.groups) if failure.groups else None
    matches = "\n".join(failure.lines) if failure.lines else None
    return (
        jail, failure.fid, failure.ip, failure.time, failure.count, matches, groups, failure.source, failure.regex
    )


def _groups(raw: object) -> tuple[tuple[str, str], ...]:
    if not isinstance(raw, str) or not raw:
        return ()
    try:
        pairs = json.loads(raw)
    except ValueError:
        return ()
    return tuple((str(k), str(v)) for k, v in pairs) if isinstance(pairs, list) else ()
