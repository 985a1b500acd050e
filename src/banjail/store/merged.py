"""An address's bans merged into one record, as upstream's getBansMerged builds it for the action tags
<ipmatches> <ipjailmatches> <ipfailures> <ipjailfailures>: every row of the `bans` history of that fid (in one
jail, or in all), newest first; the failures summed (a row without a count counts 1); the matched lines of the
newest rows kept, at most `max_matches` (dbmaxmatches) of them, oldest first.
"""

from __future__ import annotations

import sqlite3
from dataclasses import dataclass

from banjail.store import bandata


@dataclass(frozen=True, slots=True)
class MergedBans:
    """The merged history of one fid: its matched lines (oldest first) and its failures over every ban."""

    matches: tuple[str, ...]
    failures: int


def read(db: sqlite3.Connection, fid: str, jail: str | None, max_matches: int) -> MergedBans | None:
    """fid's bans in `jail` (every jail when None) merged; None when it has none."""
    query = "SELECT data FROM bans WHERE ip = ?"
    args: tuple[str, ...] = (fid,)
    if jail is not None:
        query += " AND jail = ?"
        args = (fid, jail)
    rows = db.execute(query + " ORDER BY timeofban DESC", args).fetchall()
    if not rows:
        return None
    details = bandata.decode_all([row[0] for row in rows], max(max_matches, 0))
    matches: list[str] = []
    failures = 0
    for (raw,) in rows:
        lines, count, _, _ = details[raw]
        room = max_matches - len(matches)
        if room > 0 and lines:
            matches[:0] = lines[-room:]
        failures += count
    return MergedBans(tuple(matches), failures)
