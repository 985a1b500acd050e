"""`set dbfile` / `set dbpurgeage` / `set dbmaxmatches` at run time, with upstream's replies: a switch only when no
jail exists, the new database with upstream's defaults, and jails started afterwards restoring their bans from
the database in use."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from daemon_harness import START, Harness, fresh_replies, jail_config, run
from daemon_harness import replies as dispatch_replies

from banjail.store.sqlite import SqliteStore

A = "192.0.2.1"
JAILS = "Cannot change database when there are jails present"


def replies_of(tmp: Path, commands: list[list[Any]]) -> list[object]:
    return fresh_replies(tmp, commands)


def test_replies(tmp_path: Path) -> None:
    first, other = str(tmp_path / "db.sqlite3"), str(tmp_path / "sub" / "other.sqlite3")
    commands: list[list[Any]] = [
        ["set", "dbfile", first],
        ["set", "dbfile", other],
        ["set", "dbpurgeage", "2d"],
        ["set", "dbmaxmatches", "5"],
        ["stop", "--all"],
        ["set", "dbfile", other],
        ["get", "dbfile"],
        ["get", "dbpurgeage"],
        ["get", "dbmaxmatches"],
        ["set", "dbfile", "None"],
        ["get", "dbfile"],
        ["get", "dbpurgeage"],
        ["set", "dbpurgeage", "1d"],
        ["set", "dbmaxmatches", "5"],
        ["set", "dbfile", "none"],
        ["set", "dbfile", ":memory:"],
        ["get", "dbpurgeage"],
    ]
    assert replies_of(tmp_path, commands) == [
        first,  # the same file: no change, even with jails
        ("error", JAILS),
        172800,
        5,
        None,
        other,  # its directory is created, as for the dbfile of fail2ban.conf
        other,
        86400,  # upstream's defaults for a new database
        10,
        None,
        None,
        None,
        None,
        None,
        None,
        ":memory:",
        86400,
    ]


def test_a_database_that_cannot_be_opened_is_a_clear_error(tmp_path: Path) -> None:
    bad = tmp_path / "bad.sqlite3"
    bad.write_bytes(b"not a database" * 100)
    reply = replies_of(tmp_path, [["stop", "--all"], ["set", "dbfile", str(bad)], ["get", "dbfile"]])
    assert reply[1] == (
        "error",
        f"cannot use the database {str(bad)!r}: file is not a database (move the file away to start with an "
        "empty database, or set dbfile = None)",
    )
    assert reply[2] == str(tmp_path / "db.sqlite3")


@pytest.mark.parametrize("via", ["reload", "add"])
def test_jails_started_after_a_switch_restore_from_the_new_database(tmp_path: Path, via: str) -> None:
    first, other = str(tmp_path / "db.sqlite3"), str(tmp_path / "other.sqlite3")
    start: list[list[Any]] = [["reload"]] if via == "reload" else [["add", "test"], ["start", "test"]]

    async def scenario() -> list[object]:
        h = Harness(tmp_path, [jail_config()])
        await h.daemon.start()
        banned = ["get", "test", "banned"]
        replies = await dispatch_replies(
            h,
            [
                ["set", "test", "banip", A],
                ["stop", "--all"],
                ["set", "dbfile", other],
                *start,
                banned,  # the new database has no ban: none is carried over
                ["set", "test", "banip", "192.0.2.2"],
                ["stop", "--all"],
                ["set", "dbfile", first],
                *start,
                banned,  # back on the first database: its ban is restored
            ],
        )
        await h.daemon.stop()
        return replies

    replies = run(scenario())
    assert replies[len(start) + 3] == []
    assert replies[-1] == [A]
    store = SqliteStore(other, fsync=False)
    assert [b.fid for b in store.active_bans(START)] == ["192.0.2.2"]
    store.close()


def test_dbpurgeage_reply_is_typed_as_upstream(tmp_path: Path) -> None:
    replies = replies_of(
        tmp_path, [["set", "dbpurgeage", value] for value in ("2d", "1.5d", "0.5", "1h30m")] + [["get", "dbpurgeage"]]
    )
    assert replies == [172800, 129600.0, 0.5, 5400, 5400]
    assert [type(r) for r in replies] == [int, float, float, int, int]
