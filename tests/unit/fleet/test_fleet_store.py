"""banjail.store.fleetstate through SqliteStore: the outbox and the stream cursor commit with the bans."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

from banjail.model import Ban
from banjail.store import fleetstate
from banjail.store.checkpoint import Checkpoint
from banjail.store.sqlite import SqliteStore

BAN = Ban("sshd", "192.0.2.7", "192.0.2.7", 1000.0, 1600.0, 1, 5, groups=(("fleet_origin", "web1"),))


def test_bans_outbox_and_cursor_are_one_transaction(tmp_path: Path) -> None:
    store = SqliteStore(str(tmp_path / "db"))
    store.run(fleetstate.create)
    store.commit(
        [
            Checkpoint(
                "sshd", bans=(BAN,), outbox=({"v": "1", "target": "192.0.2.7"},), fleet_cursor=("s", "5-0")
            )
        ]
    )
    store.commit([Checkpoint("", fleet_cursor=("s", "7-1"))])  # a cursor alone makes no jail
    assert store.run(lambda db: fleetstate.cursor(db, "s")) == "7-1"
    assert store.run(lambda db: fleetstate.cursor(db, "other")) is None
    rows = store.run(lambda db: fleetstate.pending(db, 10))
    assert [e for _, e in rows] == [{"target": "192.0.2.7", "v": "1"}]
    store.run(lambda db: fleetstate.sent(db, [i for i, _ in rows]))
    assert store.run(fleetstate.depth) == 0
    [restored] = store.active_bans(1001.0)
    assert restored.groups == (("fleet_origin", "web1"),)  # the origin survives a restart
    names = [r[0] for r in sqlite3.connect(tmp_path / "db").execute("SELECT name FROM jails")]
    assert names == ["sshd"]


def test_a_failed_commit_leaves_neither_ban_nor_notice_nor_cursor(tmp_path: Path) -> None:
    store = SqliteStore(str(tmp_path / "db"))
    store.run(fleetstate.create)
    bad = Checkpoint("sshd", bans=(BAN,), outbox=({"x": object()},), fleet_cursor=("s", "9-0"))  # type: ignore[dict-item]
    with pytest.raises(TypeError):
        store.commit([bad])
    assert store.active_bans(1001.0) == []
    assert store.run(fleetstate.depth) == 0
    assert store.run(lambda db: fleetstate.cursor(db, "s")) is None


def test_a_database_without_a_fleet_keeps_its_layout(tmp_path: Path) -> None:
    store = SqliteStore(str(tmp_path / "db"))
    store.commit([Checkpoint("sshd", bans=(BAN,))])
    store.close()
    with sqlite3.connect(tmp_path / "db") as db:
        tables = sorted(r[0] for r in db.execute("SELECT name FROM sqlite_master WHERE type = 'table'"))
    assert tables == ["banjail_action_runs", "banjail_failures", "banjail_lifecycle", "bans", "bips", "fail2banDb", "jails", "logs"]
