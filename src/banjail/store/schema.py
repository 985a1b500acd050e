"""The layout of banjail's SQLite database, and opening it: created in a new file, an upstream v3 database
upgraded, anything else refused (banjail.store.sqlite opens it).

Tables (the same layout as upstream's, so either program can open the other's file):

* fail2banDb(version)            -- 4
* jails(name, enabled)           -- every jail that ever stored something; enabled = 0 once stopped
* logs(jail, path, firstlinemd5, lastfilepos)
                                 -- read positions; for a file: md5 of its first line and byte offset; for a
                                    journal (path "journal:..."): the cursor in firstlinemd5
* bans(jail, ip, timeofban, bantime, bancount, data)
                                 -- history, one row per ban; ip is the fid; timeofban the ban's time rounded to
                                    whole seconds; bantime in seconds, -1 permanent; data JSON
                                    {"matches": [...], "failures": n, <failure groups>}
* bips(ip, jail, ...same)        -- the newest ban of each (ip, jail): what restore and bantime.increment read

banjail's own addition (upstream ignores tables it does not know, and none of its tables changes meaning):

* banjail_failures(jail, fid, ip, time, count, matches, groups)
                                 -- the failures each jail counted that have not become a ban yet, in counting
                                    order (rowid): the failure counters survive a restart or a kill -9. matches
                                    are the failure's lines joined by newlines, groups JSON or NULL. Bounded:
                                    older than findtime and beyond dbmaxfailures per jail are pruned.
* banjail_evidence(jail, fid, timeofban, time, count, matches, source, regex)
                                 -- the counted failures that made each ban, with their file and failregex index
                                    (banjail.store.evidence), for `why`.
* banjail_action_runs(jail, fid, timeofban, action, op, started, ended, status, stderr)
                                 -- what each action did with each ban (banjail.store.actionruns): the restore
                                    tells a ban an action applied before the stop from one it never applied.
* banjail_lifecycle(key, value)  -- whether the last server stopped gracefully, and since when runs are recorded
                                    (banjail.store.lifecycle).
* banjail_fleet_cursor, banjail_fleet_outbox
                                 -- the fleet's stream cursor and outbox (banjail.store.fleetstate), made
                                    only when the daemon is in a fleet
"""

from __future__ import annotations

import sqlite3
from dataclasses import dataclass

from banjail.store import StoreError, actionruns, counted, evidence, lifecycle

VERSION = 4

# Our own text of upstream's v4 layout: same tables, columns, constraints and indexes.
_SCHEMA = """
CREATE TABLE IF NOT EXISTS fail2banDb(version INTEGER);
CREATE TABLE IF NOT EXISTS jails(
    name TEXT NOT NULL UNIQUE,
    enabled INTEGER NOT NULL DEFAULT 1);
CREATE INDEX IF NOT EXISTS jails_name ON jails(name);
CREATE TABLE IF NOT EXISTS logs(
    jail TEXT NOT NULL,
    path TEXT,
    firstlinemd5 TEXT,
    lastfilepos INTEGER DEFAULT 0,
    FOREIGN KEY(jail) REFERENCES jails(name) ON DELETE CASCADE,
    UNIQUE(jail, path),
    UNIQUE(jail, path, firstlinemd5));
CREATE INDEX IF NOT EXISTS logs_path ON logs(path);
CREATE INDEX IF NOT EXISTS logs_jail_path ON logs(jail, path);
CREATE TABLE IF NOT EXISTS bans(
    jail TEXT NOT NULL,
    ip TEXT,
    timeofban INTEGER NOT NULL,
    bantime INTEGER NOT NULL,
    bancount INTEGER NOT NULL default 1,
    data JSON,
    FOREIGN KEY(jail) REFERENCES jails(name));
CREATE INDEX IF NOT EXISTS bans_jail_timeofban_ip ON bans(jail, timeofban);
CREATE INDEX IF NOT EXISTS bans_jail_ip ON bans(jail, ip);
CREATE INDEX IF NOT EXISTS bans_ip ON bans(ip);
CREATE TABLE IF NOT EXISTS bips(
    ip TEXT NOT NULL,
    jail TEXT NOT NULL,
    timeofban INTEGER NOT NULL,
    bantime INTEGER NOT NULL,
    bancount INTEGER NOT NULL default 1,
    data JSON,
    PRIMARY KEY(ip, jail),
    FOREIGN KEY(jail) REFERENCES jails(name));
CREATE INDEX IF NOT EXISTS bips_timeofban ON bips(timeofban);
CREATE INDEX IF NOT EXISTS bips_ip ON bips(ip);
"""


@dataclass(frozen=True, slots=True)
class Found:
    """What a database held before opening: its tables, and its schema version (None: a new file)."""

    tables: frozenset[str]
    version: int | None


def found(db: sqlite3.Connection, path: str) -> Found:
    """The tables and version of the database at `path`; a StoreError that says what to do for a version banjail
    cannot open."""
    tables = {row[0] for row in db.execute("SELECT name FROM sqlite_master WHERE type='table'")}
    version = None
    if "fail2banDb" in tables:
        row = db.execute("SELECT version FROM fail2banDb LIMIT 1").fetchone()
        version = None if row is None else int(row[0])
    if version is not None and version > VERSION:
        raise StoreError(
            f"database {path!r} has schema version {version}; banjail reads up to {VERSION}"
        )
    if version is not None and version < 3:
        raise StoreError(
            f"database {path!r} has schema version {version} (fail2ban before 0.11); "
            "start fail2ban 1.0 on it once to upgrade it, or move it away"
        )
    return Found(frozenset(tables), version)


def create(db: sqlite3.Connection, found: Found, now: float) -> None:
    """Create what is missing and upgrade a v3 database to VERSION, inside the caller's transaction."""
    # One statement at a time: executescript would commit the open transaction first.
    for statement in (
        _SCHEMA + counted.SCHEMA + actionruns.SCHEMA + lifecycle.SCHEMA + evidence.SCHEMA
    ).split(";"):
        if statement.strip():
            db.execute(statement)
    counted.upgrade(db)
    lifecycle.open_schema(db, now)
    if found.version is None:
        db.execute("INSERT INTO fail2banDb(version) VALUES(?)", (VERSION,))
    elif found.version == 3:
        if "bips" not in found.tables:
            db.execute(
                "INSERT OR REPLACE INTO bips(ip, jail, timeofban, bantime, bancount, data) "
                "SELECT ip, jail, timeofban, bantime, bancount, data FROM bans ORDER BY timeofban"
            )
        db.execute("UPDATE fail2banDb SET version = ?", (VERSION,))
