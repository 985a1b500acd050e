"""The fleet's durable state in the daemon's SQLite file (banjail's own tables; upstream ignores them):

* banjail_fleet_cursor(stream, last_id)   -- the last stream entry this host has read and applied. It is written
                                             in the same transaction as the bans that entry produced (a
                                             Checkpoint's `fleet_cursor`), so after a crash, a stop or a network
                                             cut the host reads on from there: what it missed, once.
* banjail_fleet_outbox(id, entry)         -- signed notices (JSON of the stream entry's fields) waiting to be
                                             written to the stream, in order. A local ban's notice is added in
                                             the same transaction as the ban (a Checkpoint's `outbox`), and
                                             removed once Redis acknowledged the XADD: when Redis is down,
                                             notices wait here and go out on reconnect. A crash between the XADD
                                             and the removal sends a notice twice; subscribers find the ban
                                             already in force and change nothing.

Every function runs inside the caller's transaction (SqliteStore.commit, or SqliteStore.run). The tables are made
by `create` when the daemon joins a fleet, so the database of a daemon without a fleet keeps its layout.
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Iterable, Sequence

from banjail.store.checkpoint import Checkpoint

SCHEMA = """
CREATE TABLE IF NOT EXISTS banjail_fleet_cursor(
    stream TEXT NOT NULL PRIMARY KEY,
    last_id TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS banjail_fleet_outbox(
    id INTEGER PRIMARY KEY,
    entry TEXT NOT NULL);
"""


def create(db: sqlite3.Connection) -> None:
    """Make the fleet's tables if they are missing."""
    for statement in SCHEMA.split(";"):
        if statement.strip():
            db.execute(statement)


def write(db: sqlite3.Connection, item: Checkpoint) -> None:
    """Apply a checkpoint's fleet parts: its outbox notices and its stream cursor."""
    if item.outbox or item.fleet_cursor is not None:
        create(db)  # the database may have been switched (`set dbfile`) since the fleet started
    if item.outbox:
        enqueue(db, item.outbox)
    if item.fleet_cursor is not None:
        stream, last_id = item.fleet_cursor
        db.execute(
            "INSERT INTO banjail_fleet_cursor(stream, last_id) VALUES(?, ?) "
            "ON CONFLICT(stream) DO UPDATE SET last_id = excluded.last_id",
            (stream, last_id),
        )


def enqueue(db: sqlite3.Connection, entries: Iterable[dict[str, str]]) -> None:
    db.executemany(
        "INSERT INTO banjail_fleet_outbox(entry) VALUES(?)",
        [(json.dumps(e, sort_keys=True),) for e in entries],
    )


def cursor(db: sqlite3.Connection, stream: str) -> str | None:
    """The last entry id read from `stream`, None when this host never read it."""
    row = db.execute("SELECT last_id FROM banjail_fleet_cursor WHERE stream = ?", (stream,)).fetchone()
    return None if row is None else str(row[0])


def pending(db: sqlite3.Connection, limit: int) -> list[tuple[int, dict[str, str]]]:
    """The oldest `limit` outbox notices (id, fields), in order."""
    rows = db.execute("SELECT id, entry FROM banjail_fleet_outbox ORDER BY id LIMIT ?", (limit,)).fetchall()
    return [(int(i), json.loads(e)) for i, e in rows]


def depth(db: sqlite3.Connection) -> int:
    return int(db.execute("SELECT count(*) FROM banjail_fleet_outbox").fetchone()[0])


def sent(db: sqlite3.Connection, ids: Sequence[int]) -> None:
    """Forget the outbox notices Redis acknowledged."""
    db.executemany("DELETE FROM banjail_fleet_outbox WHERE id = ?", [(i,) for i in ids])
