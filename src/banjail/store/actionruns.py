"""banjail_action_runs: what each action did with each ban (banjail's own table; upstream ignores it).

One row per run of one action on one ban: `op` "ban" or "unban", when it started and ended, its exit status and
the first line of its error. A ban is named as the store names it: (jail, fid, timeofban), timeofban being the
ban's time rounded to whole seconds as in `bans`/`bips`.

Why it exists: at start the daemon restores the bans still in force; an action that had applied a ban before the
stop gets it as *restored* (a `norestored` action skips it), an action that never applied it (the server was
killed between the commit and the command) gets it as a *new* ban, so every action sees every ban once.

A run is recorded when it ends (a row that was recorded at its start, with `ended` and `status` None, is updated:
a run is identified by jail, fid, timeofban, action, op and started). `applied` counts only a ban run that ended
with status 0: a run that started and never ended may not have done anything, so the ban is handed again. A side
action's runs (mail, whois) reach this table through completion marks (banjail.actions.completion): a run whose
command ended after a kill of the server is recorded at the next start, so it is not handed again.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterable
from dataclasses import dataclass

STDERR_LIMIT = 200


@dataclass(frozen=True)
class ActionRun:
    """One run of one action on one ban (see the module doc)."""

    jail: str
    fid: str
    timeofban: int
    action: str
    op: str  # "ban" | "unban"
    started: float
    ended: float | None
    status: int | None
    stderr: str  # first line, <= 200 chars


SCHEMA = """
CREATE TABLE IF NOT EXISTS banjail_action_runs(
    jail TEXT NOT NULL,
    fid TEXT NOT NULL,
    timeofban INTEGER NOT NULL,
    action TEXT NOT NULL,
    op TEXT NOT NULL,
    started REAL NOT NULL,
    ended REAL,
    status INTEGER,
    stderr TEXT NOT NULL DEFAULT '');
CREATE UNIQUE INDEX IF NOT EXISTS banjail_action_runs_run
    ON banjail_action_runs(jail, fid, timeofban, action, op, started);
CREATE INDEX IF NOT EXISTS banjail_action_runs_fid ON banjail_action_runs(fid);
"""

_COLUMNS = "jail, fid, timeofban, action, op, started, ended, status, stderr"
_EFFECTIVE = "status = 0"  # a run that took effect


def first_line(text: str) -> str:
    """The first non-empty line of `text`, at most STDERR_LIMIT characters (what a run keeps of its error)."""
    for line in text.splitlines():
        if line.strip():
            return line.strip()[:STDERR_LIMIT]
    return ""


def _row(run: ActionRun) -> tuple[object, ...]:
    return (
        run.jail,
        run.fid,
        run.timeofban,
        run.action,
        run.op,
        run.started,
        run.ended,
        run.status,
        first_line(run.stderr),
    )


def record(conn: sqlite3.Connection, run: ActionRun) -> None:
    """Add one run (inside the caller's transaction)."""
    record_many(conn, (run,))


def record_many(conn: sqlite3.Connection, runs: Iterable[ActionRun]) -> None:
    """Add many runs with one statement (inside the caller's transaction): a flood's batch costs one write. A
    run already recorded (same jail, fid, timeofban, action, op, started: recorded at its start) is updated."""
    conn.executemany(
        f"INSERT INTO banjail_action_runs({_COLUMNS}) VALUES(?, ?, ?, ?, ?, ?, ?, ?, ?) "
        "ON CONFLICT(jail, fid, timeofban, action, op, started) DO UPDATE SET "
        "ended = excluded.ended, status = excluded.status, stderr = excluded.stderr",
        [_row(r) for r in runs],
    )


def runs_for(conn: sqlite3.Connection, fid: str) -> list[ActionRun]:
    """Every recorded run on `fid`'s bans, of every jail, oldest first."""
    rows = conn.execute(
        f"SELECT {_COLUMNS} FROM banjail_action_runs WHERE fid = ? ORDER BY started, rowid", (fid,)
    ).fetchall()
    return [
        ActionRun(
            str(jail),
            str(f),
            int(tob),
            str(action),
            str(op),
            float(started),
            None if ended is None else float(ended),
            None if status is None else int(status),
            str(stderr or ""),
        )
        for jail, f, tob, action, op, started, ended, status, stderr in rows
    ]


def applied(conn: sqlite3.Connection, jail: str, fid: str, timeofban: int, action: str) -> bool:
    """Whether `action` applied this ban: its newest ban or unban run that ended with status 0 is a ban run."""
    rows = conn.execute(
        "SELECT op FROM banjail_action_runs WHERE jail = ? AND fid = ? AND timeofban = ? AND action = ? "
        f"AND {_EFFECTIVE} ORDER BY started DESC, rowid DESC LIMIT 1",
        (jail, fid, timeofban, action),
    ).fetchall()
    return bool(rows) and rows[0][0] == "ban"


def applied_in(conn: sqlite3.Connection, jail: str) -> set[tuple[str, int, str]]:
    """Every (fid, timeofban, action) of `jail` for which `applied` holds, in one query (a restore of 100k
    bans asks once, not 100k times)."""
    rows = conn.execute(
        f"SELECT fid, timeofban, action, op FROM banjail_action_runs WHERE jail = ? AND {_EFFECTIVE} "
        "ORDER BY started, rowid",
        (jail,),
    ).fetchall()
    found: set[tuple[str, int, str]] = set()
    for fid, tob, action, op in rows:
        key = (str(fid), int(tob), str(action))
        if op == "ban":
            found.add(key)
        else:
            found.discard(key)
    return found


def purge(conn: sqlite3.Connection, before: float) -> None:
    """Forget runs that started before `before` on bans no longer current (inside the caller's transaction)."""
    conn.execute(
        "DELETE FROM banjail_action_runs WHERE started < ? AND NOT EXISTS(SELECT 1 FROM bips "
        "WHERE bips.jail = banjail_action_runs.jail AND bips.ip = banjail_action_runs.fid "
        "AND bips.timeofban = banjail_action_runs.timeofban)",
        (before,),
    )
