"""banjail_failures: the failures each jail counted that have not become a ban yet, so the failure counters
survive a restart or a kill -9 (banjail's own table; upstream ignores tables it does not know).

Rows are in counting order (rowid). `matches` holds the failure's lines joined by newlines (log lines never hold
one), `groups` the failure's groups as JSON, or NULL. A checkpoint forgets the fids it `cleared` before it adds
its failures, because a fid banned in a batch may count a new failure after its ban in the same batch.

Bounded (a flood of failures that never reach maxretry must not grow the file without end): every PRUNE_EVERY
failures a jail writes, its rows older than findtime are deleted (its counter forgot them already) and, beyond
MAX_FAILURES_PER_JAIL rows, the oldest ones. What the cap drops is only lost to a restart: the running counter
still has those failures, but a restart recounts at most the newest MAX_FAILURES_PER_JAIL.
"""

from __future__ import annotations

import json
import sqlite3

from banjail.store.checkpoint import Checkpoint, CountedFailure

SCHEMA = """
CREATE TABLE IF NOT EXISTS banjail_failures(
    jail TEXT NOT NULL,
    fid TEXT NOT NULL,
    ip TEXT,
    time REAL NOT NULL,
    count INTEGER NOT NULL DEFAULT 1,
    matches TEXT,
    groups TEXT);
CREATE INDEX IF NOT EXISTS banjail_failures_jail_fid ON banjail_failures(jail, fid);
"""


MAX_FAILURES_PER_JAIL = 100_000  # about 15 MB of rows with their lines
PRUNE_EVERY = 10_000


def prune(db: sqlite3.Connection, jail: str, before: float, cap: int = MAX_FAILURES_PER_JAIL) -> None:
    """Delete the jail's failures older than `before` and all but its newest `cap` (inside the caller's
    transaction)."""
    if before > 0:
        db.execute("DELETE FROM banjail_failures WHERE jail = ? AND time < ?", (jail, before))
    db.execute(
        "DELETE FROM banjail_failures WHERE jail = ?1 AND rowid <= (SELECT rowid FROM banjail_failures "
        "WHERE jail = ?1 ORDER BY rowid DESC LIMIT 1 OFFSET ?2)",
        (jail, cap),
    )


def write(db: sqlite3.Connection, item: Checkpoint) -> None:
    """Apply a checkpoint's counted failures inside the caller's transaction."""
    if item.cleared:
        db.executemany(
            "DELETE FROM banjail_failures WHERE jail = ? AND fid = ?",
            [(item.jail, fid) for fid in item.cleared],
        )
    if item.failures:
        db.executemany(
            "INSERT INTO banjail_failures(jail, fid, ip, time, count, matches, groups) VALUES(?, ?, ?, ?, ?, ?, ?)",
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
        "SELECT fid, ip, time, count, matches, groups FROM banjail_failures WHERE jail = ? ORDER BY rowid",
        (jail,),
    ).fetchall()
    return [
        CountedFailure(
            fid, ip, float(at), int(count), tuple(matches.split("\n")) if matches else (), _groups(groups)
        )
        for fid, ip, at, count, matches, groups in rows
    ]


def _row(jail: str, failure: CountedFailure) -> tuple[object, ...]:
    groups = json.dumps(failure.groups, ensure_ascii=False) if failure.groups else None
    matches = "\n".join(failure.lines) if failure.lines else None
    return (jail, failure.fid, failure.ip, failure.time, failure.count, matches, groups)


def _groups(raw: object) -> tuple[tuple[str, str], ...]:
    if not isinstance(raw, str) or not raw:
        return ()
    try:
        pairs = json.loads(raw)
    except ValueError:
        return ()
    return tuple((str(k), str(v)) for k, v in pairs) if isinstance(pairs, list) else ()
