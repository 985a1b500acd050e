"""Checkpoint.moved: a change of the jail's bantime rewrites the moved bans' rows (bips and their bans history
row), in the checkpoint's transaction, after its inserts; rows of other bans and other times stay. Upstream's
Fail2BanDb reads the new bantime from the same file."""

from __future__ import annotations

import json
import subprocess
from dataclasses import replace
from pathlib import Path

import pytest

from banjail.model import Ban
from banjail.store.checkpoint import Checkpoint
from banjail.store.sqlite import SqliteStore

NOW = 1_700_000_000.0
ORACLE = Path(__file__).with_name("oracle_database.py")
HAS_UPSTREAM = Path("/usr/lib/python3/dist-packages/fail2ban/server/database.py").exists()


def ban(fid: str, at: float, length: float | None, jail: str = "sshd") -> Ban:
    return Ban(jail, fid, fid, at, None if length is None else at + length, 1, 3, follows=True)


def rows(store: SqliteStore, table: str) -> list[tuple[object, ...]]:
    query = f"SELECT jail, ip, timeofban, bantime FROM {table} ORDER BY rowid"
    return [tuple(r) for r in store._db.execute(query)]


CASES = [
    # (moved to: new length, None: permanent; expected bantime in both tables)
    (86400, 86400),
    (60, 60),
    (None, -1),
    (0.5, 0.5),
]


@pytest.mark.parametrize(("length", "stored"), CASES)
def test_moved_rows_get_the_new_bantime(tmp_path: Path, length: float | None, stored: float) -> None:
    store = SqliteStore(str(tmp_path / "db.sqlite3"), fsync=False)
    old = ban("192.0.2.1", NOW - 1000, 600)  # an earlier ban of the same fid: its history row stays
    first = ban("192.0.2.1", NOW, 600)
    other = ban("192.0.2.2", NOW, 600)
    elsewhere = ban("192.0.2.1", NOW, 600, jail="web")
    store.commit([Checkpoint("sshd", bans=(old,)), Checkpoint("sshd", bans=(first, other, elsewhere))])
    until = None if length is None else first.at + length
    store.commit([Checkpoint("sshd", moved=(replace(first, until=until),))])
    assert rows(store, "bips") == [
        ("sshd", "192.0.2.1", NOW, stored),
        ("sshd", "192.0.2.2", NOW, 600),
        ("web", "192.0.2.1", NOW, 600),
    ]
    assert rows(store, "bans") == [
        ("sshd", "192.0.2.1", NOW - 1000, 600),
        ("sshd", "192.0.2.1", NOW, stored),
        ("sshd", "192.0.2.2", NOW, 600),
        ("web", "192.0.2.1", NOW, 600),
    ]
    assert [b.until for b in store.active_bans(NOW + 100, "sshd") if b.fid == "192.0.2.1"] == (
        [until] if until is None or until > NOW + 100 else []
    )
    store.close()


def test_a_ban_stored_and_moved_in_one_transaction_ends_moved(tmp_path: Path) -> None:
    store = SqliteStore(str(tmp_path / "db.sqlite3"), fsync=False)
    first = ban("192.0.2.1", NOW, 600)
    store.commit([Checkpoint("sshd", moved=(replace(first, until=NOW + 900),)), Checkpoint("sshd", bans=(first,))])
    assert rows(store, "bips") == rows(store, "bans") == [("sshd", "192.0.2.1", NOW, 900)]
    store.close()


@pytest.mark.compat
@pytest.mark.skipif(not HAS_UPSTREAM, reason="upstream fail2ban not installed")
def test_upstream_reads_the_moved_bantime(tmp_path: Path) -> None:
    path = tmp_path / "banjail.sqlite3"
    store = SqliteStore(str(path))
    first = ban("192.0.2.1", NOW - 100, 600)
    store.commit([Checkpoint("sshd", bans=(first,))])
    store.commit([Checkpoint("sshd", moved=(replace(first, until=first.at + 86400),))])
    store.close()
    plan = {"jails": ["sshd"], "history": [["192.0.2.1", "sshd"]], "logs": []}
    out = subprocess.run(
        ["/usr/bin/python3", str(ORACLE), "read", str(path), str(NOW)],
        input=json.dumps(plan),
        capture_output=True,
        text=True,
        check=True,
        timeout=60,
    )
    theirs = json.loads(out.stdout)
    assert [row[:4] for row in theirs["current"]] == [["sshd", "192.0.2.1", NOW - 100, 86400]]
    assert theirs["history"] == {"192.0.2.1|sshd": [[1, NOW - 100, 86400]]}
