"""banjail_lifecycle: whether the last server stopped cleanly, and since when action runs are recorded.

Two keys (banjail's own table; upstream ignores it):

* `running`     -- 1 from a server's start until its graceful stop: found at start, the previous server was
                   killed (kill -9, power loss) and the command actions' rules of that run may still stand;
* `runs_since`  -- when this database began recording action runs (banjail.store.actionruns): 0 for a database
                   banjail created, the time of the first open for one that already held bans (upstream's, or an
                   older banjail's). A ban from before that has no runs, which says nothing about whether its
                   actions applied it.
"""

from __future__ import annotations

import sqlite3

SCHEMA = """
CREATE TABLE IF NOT EXISTS banjail_lifecycle(
    key TEXT NOT NULL PRIMARY KEY,
    value REAL NOT NULL);
"""


def open_schema(conn: sqlite3.Connection, now: float) -> None:
    """Note when run recording began, once (inside the caller's transaction, after the bips table exists)."""
    if conn.execute("SELECT 1 FROM banjail_lifecycle WHERE key = 'runs_since'").fetchone() is not None:
        return
    legacy = conn.execute("SELECT 1 FROM bips LIMIT 1").fetchone() is not None
    conn.execute("INSERT INTO banjail_lifecycle(key, value) VALUES('runs_since', ?)", (now if legacy else 0.0,))


def begin(conn: sqlite3.Connection) -> bool:
    """Mark a server running; True when the previous one never reached its graceful stop."""
    row = conn.execute("SELECT value FROM banjail_lifecycle WHERE key = 'running'").fetchone()
    conn.execute("INSERT OR REPLACE INTO banjail_lifecycle(key, value) VALUES('running', 1)")
    return row is not None and float(row[0]) == 1


def end(conn: sqlite3.Connection) -> None:
    """Mark the graceful stop done."""
    conn.execute("INSERT OR REPLACE INTO banjail_lifecycle(key, value) VALUES('running', 0)")


def runs_since(conn: sqlite3.Connection) -> float:
    row = conn.execute("SELECT value FROM banjail_lifecycle WHERE key = 'runs_since'").fetchone()
    return 0.0 if row is None else float(row[0])
