"""SqliteStore.commit and counted_failures: one transaction per batch (positions, counted failures, bans), and the
failure counters read back at start."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from pathlib import Path

import pytest

from banjail.model import Ban, Position
from banjail.store.checkpoint import Checkpoint, CountedFailure
from banjail.store.null import NullStore
from banjail.store.sqlite import SqliteStore

NOW = 1_700_000_000.0


@pytest.fixture(params=["memory", "file"])
def store(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[SqliteStore]:
    path = ":memory:" if request.param == "memory" else str(tmp_path / "banjail.sqlite3")
    opened = SqliteStore(path)
    opened.add_jail("sshd")
    yield opened
    opened.close()


def failure(
    fid: str, at: float, *, lines: tuple[str, ...] = (), groups: tuple[tuple[str, str], ...] = ()
) -> CountedFailure:
    return CountedFailure(fid, fid, at, 1, lines, groups)


def ban(fid: str, at: float) -> Ban:
    return Ban(jail="sshd", fid=fid, ip=fid, at=at, until=at + 600, count=1, failures=3)


def test_a_checkpoint_moves_the_position_and_keeps_the_failures_in_order(store: SqliteStore) -> None:
    a1 = failure("192.0.2.1", NOW - 5, lines=("fail a1",), groups=(("user", "root"),))
    b1 = failure("192.0.2.2", NOW - 4)
    a2 = failure("192.0.2.1", NOW - 3, lines=("fail a2", "second line"))
    store.commit([Checkpoint("sshd", (("/var/log/auth.log", Position(120, "abc")),), (a1, b1, a2))])
    assert store.get_position("sshd", "/var/log/auth.log") == Position(120, "abc")
    assert store.counted_failures("sshd", NOW - 600) == [a1, b1, a2]


def test_cleared_fids_are_forgotten_before_the_batch_failures_are_added(store: SqliteStore) -> None:
    store.commit(
        [Checkpoint("sshd", failures=(failure("192.0.2.1", NOW - 9), failure("192.0.2.2", NOW - 9)))]
    )
    after_ban = failure("192.0.2.1", NOW - 1)
    store.commit(
        [Checkpoint("sshd", failures=(after_ban,), cleared=("192.0.2.1",), bans=(ban("192.0.2.1", NOW),))]
    )
    assert store.counted_failures("sshd", NOW - 600) == [failure("192.0.2.2", NOW - 9), after_ban]
    assert [b.fid for b in store.active_bans(NOW)] == ["192.0.2.1"]


def test_fids_whose_newest_failure_left_findtime_are_dropped(store: SqliteStore) -> None:
    old_only = failure("192.0.2.1", NOW - 700)
    old_then_new = [failure("192.0.2.2", NOW - 700), failure("192.0.2.2", NOW - 10)]
    store.commit([Checkpoint("sshd", failures=(old_only, *old_then_new))])
    assert store.counted_failures("sshd", NOW - 600) == old_then_new
    assert store.counted_failures("sshd", NOW) == []


def test_checkpoints_of_several_jails_commit_together(store: SqliteStore) -> None:
    store.commit(
        [
            Checkpoint("sshd", (("a", Position(1, "h")),), (failure("192.0.2.1", NOW),)),
            Checkpoint("nginx", (("b", Position(2, "h")),), (failure("192.0.2.9", NOW),)),
            Checkpoint("sshd"),  # empty: nothing to do
        ]
    )
    assert store.get_position("nginx", "b") == Position(2, "h")
    assert [f.fid for f in store.counted_failures("nginx", NOW - 1)] == ["192.0.2.9"]
    assert [f.fid for f in store.counted_failures("sshd", NOW - 1)] == ["192.0.2.1"]


def test_a_failed_commit_leaves_nothing_behind(tmp_path: Path) -> None:
    path = tmp_path / "db.sqlite3"
    store = SqliteStore(str(path))
    bad = Ban(jail="sshd", fid="192.0.2.1", ip=None, at=NOW, until=NOW + 1, count=1, failures=1)
    with pytest.raises(sqlite3.Error):
        store.commit(
            [
                Checkpoint("sshd", (("f", Position(7, "h")),), (failure("192.0.2.3", NOW),)),
                Checkpoint("sshd", bans=(bad,), failures=(CountedFailure(None, None, NOW),)),  # type: ignore[arg-type]
            ]
        )
    assert store.get_position("sshd", "f") is None
    assert store.counted_failures("sshd", NOW - 1) == []
    store.close()


def test_purge_drops_failures_of_jails_no_longer_enabled(store: SqliteStore) -> None:
    store.commit([Checkpoint("gone", failures=(failure("192.0.2.1", NOW),))])
    store.commit([Checkpoint("sshd", failures=(failure("192.0.2.2", NOW),))])
    store.disable_jail("gone")
    store.purge(NOW, 86400)
    assert store.counted_failures("gone", NOW - 1) == []
    assert [f.fid for f in store.counted_failures("sshd", NOW - 1)] == ["192.0.2.2"]


def test_upstream_tables_keep_their_layout(tmp_path: Path) -> None:
    SqliteStore(str(tmp_path / "db")).close()
    with sqlite3.connect(tmp_path / "db") as db:
        tables = sorted(r[0] for r in db.execute("SELECT name FROM sqlite_master WHERE type = 'table'"))
    assert tables == ["banjail_action_runs", "banjail_failures", "banjail_lifecycle", "bans", "bips", "fail2banDb", "jails", "logs"]


def test_the_null_store_accepts_checkpoints_and_remembers_nothing() -> None:
    null = NullStore()
    null.commit([Checkpoint("sshd", failures=(failure("192.0.2.1", NOW),))])
    assert null.counted_failures("sshd", 0) == []
