"""banjail_action_runs: per ban and per action, whether the action applied it (banjail.store.actionruns)."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from pathlib import Path

import pytest

from banjail.model import Ban
from banjail.store import actionruns
from banjail.store.actionruns import ActionRun
from banjail.store.checkpoint import Checkpoint
from banjail.store.null import NullStore
from banjail.store.sqlite import SqliteStore

NOW = 1_700_000_000.0


@pytest.fixture
def conn() -> Iterator[sqlite3.Connection]:
    db = sqlite3.connect(":memory:", isolation_level=None)
    db.executescript(actionruns.SCHEMA)
    yield db
    db.close()


def run(
    op: str, status: int | None, *, action: str = "iptables", at: float = NOW, tob: int = 1000
) -> ActionRun:
    ended = None if status is None else at + 0.5
    return ActionRun("sshd", "192.0.2.1", tob, action, op, at, ended, status, "")


@pytest.mark.parametrize(
    ("runs", "expected"),
    [
        ([], False),
        ([run("ban", 0)], True),
        ([run("ban", 1)], False),
        ([run("ban", None)], False),  # started and never ended (killed meanwhile): handed again
        ([run("ban", None), run("ban", 0, at=NOW)], True),  # the same run, ended well (one row, updated)
        ([run("ban", 1), run("ban", 0, at=NOW + 1)], True),  # a retry that worked
        ([run("ban", 0), run("unban", 0, at=NOW + 1)], False),
        ([run("ban", 0), run("unban", 1, at=NOW + 1)], True),  # the unban failed: the rule is still there
        ([run("ban", 0), run("unban", 0, at=NOW + 1), run("ban", 0, at=NOW + 2)], True),
        ([run("ban", 0, action="mail")], False),  # another action's run
        ([run("ban", 0, tob=999)], False),  # an earlier ban of the same address
    ],
)
def test_applied_holds_for_the_newest_successful_run(
    conn: sqlite3.Connection, runs: list[ActionRun], expected: bool
) -> None:
    for r in runs:
        actionruns.record(conn, r)
    assert actionruns.applied(conn, "sshd", "192.0.2.1", 1000, "iptables") is expected
    assert (("192.0.2.1", 1000, "iptables") in actionruns.applied_in(conn, "sshd")) is expected


def test_runs_for_gives_every_field_back_and_keeps_one_line_of_stderr(conn: sqlite3.Connection) -> None:
    failed = ActionRun(
        "sshd", "192.0.2.1", 1000, "mail", "ban", NOW, NOW + 2, 1, "\nwhois: timeout\n" + "x" * 300
    )
    other = ActionRun("sshd", "192.0.2.2", 1000, "mail", "ban", NOW, NOW + 2, 0, "")
    actionruns.record_many(conn, [failed, other])
    assert actionruns.runs_for(conn, "192.0.2.1") == [
        ActionRun("sshd", "192.0.2.1", 1000, "mail", "ban", NOW, NOW + 2, 1, "whois: timeout")
    ]
    long = ActionRun("sshd", "192.0.2.3", 1000, "mail", "ban", NOW, None, None, "y" * 300)
    actionruns.record(conn, long)
    assert actionruns.runs_for(conn, "192.0.2.3")[0].stderr == "y" * 200


def test_the_sqlite_store_records_reads_and_purges_runs(tmp_path: Path) -> None:
    store = SqliteStore(str(tmp_path / "db.sqlite3"))
    try:
        store.add_jail("sshd")
        current = Ban("sshd", "192.0.2.1", "192.0.2.1", NOW, NOW + 600, 1, 3)
        store.add_ban(current)
        applied = ActionRun("sshd", "192.0.2.1", round(NOW), "iptables", "ban", NOW, NOW + 0.1, 0, "")
        old = ActionRun("sshd", "192.0.2.9", 5, "iptables", "ban", 10.0, 10.1, 0, "")
        store.record_action_run(applied)
        store.record_action_runs([old])
        assert store.action_runs("192.0.2.1") == [applied]
        assert store.applied_actions("sshd") == {
            ("192.0.2.1", round(NOW), "iptables"),
            ("192.0.2.9", 5, "iptables"),
        }
        store.purge(NOW + 10, 86400)  # the old run's ban is gone; the current ban's run stays
        assert store.action_runs("192.0.2.9") == []
        assert store.action_runs("192.0.2.1") == [applied]
    finally:
        store.close()


def test_a_run_recorded_at_its_start_is_updated_at_its_end(conn: sqlite3.Connection) -> None:
    actionruns.record(conn, run("ban", None))
    actionruns.record(conn, run("ban", 1))
    assert [(r.ended, r.status) for r in actionruns.runs_for(conn, "192.0.2.1")] == [(NOW + 0.5, 1)]


def test_run_recording_begins_at_creation_or_at_the_first_open_of_a_database_with_bans(
    tmp_path: Path,
) -> None:
    fresh = SqliteStore(str(tmp_path / "new.sqlite3"))
    fresh.add_ban(Ban("sshd", "192.0.2.1", "192.0.2.1", NOW, NOW + 600, 1, 3))
    fresh.close()
    fresh = SqliteStore(str(tmp_path / "new.sqlite3"))
    assert fresh.runs_since() == 0.0  # banjail made it: every ban in it has its runs
    fresh.close()
    with sqlite3.connect(tmp_path / "old.sqlite3") as db:  # an upstream database with a ban
        db.executescript(
            "CREATE TABLE fail2banDb(version INTEGER); INSERT INTO fail2banDb VALUES(4);"
            "CREATE TABLE bips(ip TEXT NOT NULL, jail TEXT NOT NULL, timeofban INTEGER NOT NULL,"
            " bantime INTEGER NOT NULL, bancount INTEGER NOT NULL default 1, data JSON, PRIMARY KEY(ip, jail));"
            "INSERT INTO bips VALUES('192.0.2.1', 'sshd', 1000, 600, 1, '{}');"
        )
    old = SqliteStore(str(tmp_path / "old.sqlite3"))
    assert old.runs_since() > NOW - 10**9
    assert (old.begin_run(), old.begin_run()) == (False, True)  # a second start without end_run: unclean
    old.end_run()
    assert old.begin_run() is False
    old.close()


def test_the_null_store_keeps_no_run() -> None:
    store = NullStore()
    store.record_action_run(run("ban", 0))
    assert store.action_runs("192.0.2.1") == []
    assert store.applied_actions("sshd") == set()


def test_runs_ride_along_in_a_checkpoint_without_a_jail_of_their_own(tmp_path: Path) -> None:
    store = SqliteStore(str(tmp_path / "db.sqlite3"))
    try:
        applied = ActionRun("sshd", "192.0.2.1", 1000, "mail", "ban", NOW, NOW + 1, 0, "")
        store.commit(
            [
                Checkpoint("", runs=(applied,)),
                Checkpoint("sshd", bans=(Ban("sshd", "x", None, NOW, None, 1, 1),)),
            ]
        )
        assert store.action_runs("192.0.2.1") == [applied]
        with sqlite3.connect(tmp_path / "db.sqlite3") as db:
            assert [r[0] for r in db.execute("SELECT name FROM jails")] == ["sshd"]
    finally:
        store.close()
