"""banjail_evidence: the failures that made each ban, for `fail2ban-client why <ip>` (banjail's own table;
upstream ignores it).

One row per counted failure that went into a ban: the ban as the store names it (jail, fid, timeofban = the ban's
time rounded to whole seconds, as in `bans`), the failure's admitted time, its retries, the log file (or journal)
its lines came from, the index of the failregex that matched, and its lines (joined by newlines).

Written in the checkpoint's transaction, per ban and never per line: the rows are moved from banjail_failures (the
failures counted in earlier batches) plus the batch's own failures of the banned fid (Checkpoint.evidence). The
counter forgets failures older than findtime by rescaling, not by row, so a ban's rows may include failures that
left its window before it fired: `why` shows them against the window (ban time - findtime). Purged with the ban
history (dbpurgeage).
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from banjail.store import bandata, manyrows
from banjail.store.checkpoint import Checkpoint, CountedFailure
from banjail.store.counted import counted_failure

SCHEMA = """
CREATE TABLE IF NOT EXISTS banjail_evidence(
    jail TEXT NOT NULL,
    fid TEXT NOT NULL,
    timeofban INTEGER NOT NULL,
    time REAL NOT NULL,
    count INTEGER NOT NULL DEFAULT 1,
    matches TEXT,
    source TEXT,
    regex INTEGER);
CREATE INDEX IF NOT EXISTS banjail_evidence_ban ON banjail_evidence(fid, jail, timeofban);
"""

_COLUMNS = "jail, fid, timeofban, time, count, matches, source, regex"


@dataclass(frozen=True, slots=True)
class StoredBan:
    """One ban of the history (`bans` table) with the failures that made it, oldest first."""

    jail: str
    fid: str
    timeofban: int
    bantime: float  # seconds; -1 permanent
    bancount: int
    lines: tuple[str, ...]  # the matches the ban's data kept (dbmaxmatches)
    failures: int
    evidence: tuple[CountedFailure, ...]
    groups: tuple[tuple[str, str], ...] = ()  # the ban's stored groups (a fleet ban's origin host among them)


@dataclass(frozen=True, slots=True)
class Record:
    """What the store knows of some fids: their bans (oldest first) and the failures counted and not yet banned,
    per jail."""

    bans: tuple[StoredBan, ...]
    pending: tuple[tuple[str, CountedFailure], ...]  # (jail, failure)


def write(db: sqlite3.Connection, item: Checkpoint) -> None:
    """Record the evidence of the checkpoint's new bans; call before its counted failures are cleared (inside
    the caller's transaction)."""
    bans = [b for b in item.bans if not b.restored]
    if not bans:
        return
    db.executemany(
        f"INSERT OR FAIL INTO banjail_evidence({_COLUMNS}) SELECT jail, fid, ?, time, count, matches, source, "
        "regex FROM banjail_failures WHERE jail = ? AND fid = ? ORDER BY rowid",
        [(round(b.at), item.jail, b.fid) for b in bans],
    )
    if item.evidence:
        times = {b.fid: round(b.at) for b in bans}
        manyrows.insert(
            db,
            f"INSERT OR FAIL INTO banjail_evidence({_COLUMNS}) VALUES",
            [
                (
                    item.jail,
                    f.fid,
                    times[f.fid],
                    f.time,
                    f.count,
                    "\n".join(f.lines) or None,
                    f.source,
                    f.regex,
                )
                for f in item.evidence
                if f.fid in times
            ],
        )


def network_fids(db: sqlite3.Connection) -> list[str]:
    """Every banned or counting fid that names a network (`2001:db8:1:2::/64`): the caller picks those holding
    an address."""
    rows = db.execute(
        "SELECT DISTINCT ip FROM bans WHERE ip LIKE '%/%' UNION SELECT DISTINCT fid FROM banjail_failures "
        "WHERE fid LIKE '%/%'"
    ).fetchall()
    return [str(r[0]) for r in rows]


def read(db: sqlite3.Connection, fids: Sequence[str], max_matches: int) -> Record:
    """Every ban of `fids` in the history with its evidence, and their counted failures not banned yet."""
    marks = ", ".join("?" * len(fids))
    if not fids:
        return Record((), ())
    ban_rows = db.execute(
        f"SELECT jail, ip, timeofban, bantime, bancount, data FROM bans WHERE ip IN ({marks}) "
        "ORDER BY timeofban, rowid",
        tuple(fids),
    ).fetchall()
    details = bandata.decode_all([row[5] for row in ban_rows], max_matches)
    bans = []
    for jail, fid, timeofban, bantime, bancount, raw in ban_rows:
        lines, failures, _ip, groups = details[raw]
        bans.append(
            StoredBan(
                str(jail),
                str(fid),
                int(timeofban),
                float(bantime),
                int(bancount),
                tuple(lines),
                int(failures),
                tuple(_evidence(db, str(jail), str(fid), int(timeofban))),
                tuple(groups),
            )
        )
    pending = db.execute(
        f"SELECT jail, fid, ip, time, count, matches, groups, source, regex FROM banjail_failures "
        f"WHERE fid IN ({marks}) ORDER BY rowid",
        tuple(fids),
    ).fetchall()
    return Record(tuple(bans), tuple((str(row[0]), counted_failure(row[1:])) for row in pending))


def _evidence(db: sqlite3.Connection, jail: str, fid: str, timeofban: int) -> Iterable[CountedFailure]:
    rows: list[Any] = db.execute(
        "SELECT fid, NULL, time, count, matches, NULL, source, regex FROM banjail_evidence "
        "WHERE fid = ? AND jail = ? AND timeofban = ? ORDER BY rowid",
        (fid, jail, timeofban),
    ).fetchall()
    return [counted_failure(row) for row in rows]


def purge(db: sqlite3.Connection, before: float) -> None:
    """Forget the evidence of bans older than `before` (inside the caller's transaction)."""
    db.execute("DELETE FROM banjail_evidence WHERE timeofban < ?", (before,))
