"""banjail_action_runs: per ban and per action, whether the action applied it (banjail.store.actionruns)."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from pathlib import Path

import pytest

from banjail.model import Ban
from banjail.store import actionruns
from banjail.store.actionruns import ActionRun
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
        ([run("ban", None)], False),  # recorded before it ended: not known to be applied
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


def test_the_null_store_keeps_no_run() -> None:
    store = NullStore()
    store.record_action_run(run("ban", 0))
    assert store.action_runs("192.0.2.1") == []
    assert store.applied_actions("sshd") == set()
