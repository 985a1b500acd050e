"""banjail_failures: the failures each jail counted that have not become a ban yet, so the failure counters
survive a restart or a kill -9 (banjail's own table; upstream ignores tables it does not know).

Rows are in counting order (rowid). `matches` holds the failure's lines joined by newlines (log lines never hold
one), `groups` the failure's groups as JSON, or NULL. A checkpoint forgets the fids it `cleared` before it adds
its failures, because a fid banned in a batch may count a new failure after its ban in the same batch.
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Sequence
from typing import Any

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


def write(db: sqlite3.Connection, item: Checkpoint) -> None:
    """Apply a checkpoint's counted failures inside the caller's transaction."""
    if item.cleared:
        db.executemany(
            "DELETE FROM banjail_failures WHERE jail = ? AND fid = ?",
            [(item.jail, fid) for fid in item.cleared],
        )
    if item.failures:
        db.executemany(
            "INSERT INTO banjail_failures(jail, fid, ip, time, count, matches, groups, source, regex) "
            "VALUES(?, ?, ?, ?, ?, ?, ?, ?, ?)",
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
    groups = json.dumps(failure.groups, ensure_ascii=False) if failure.groups else None
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
