"""banjail_evidence: a ban keeps the failures that made it (stored in earlier batches and in its own), with their
file and failregex index; an older database gets the new banjail_failures columns at open."""

from __future__ import annotations

import sqlite3
from pathlib import Path

from banjail.model import Ban
from banjail.store.checkpoint import Checkpoint, CountedFailure
from banjail.store.sqlite import SqliteStore

NOW = 1_700_000_000.0
LOG = "/var/log/auth.log"


def failure(fid: str, at: float, line: str, regex: int, source: str = LOG) -> CountedFailure:
    return CountedFailure(fid, fid, at, 1, (line,), (), source, regex)


def ban(fid: str, at: float) -> Ban:
    return Ban(jail="sshd", fid=fid, ip=fid, at=at, until=at + 600, count=1, failures=3)


def test_a_ban_keeps_the_failures_of_earlier_batches_and_its_own() -> None:
    store = SqliteStore(":memory:")
    ip, other = "192.0.2.7", "192.0.2.8"
    store.commit(
        [Checkpoint("sshd", failures=(failure(ip, NOW - 9, "a", 0), failure(other, NOW - 8, "x", 1)))]
    )
    store.commit([Checkpoint("sshd", failures=(failure(ip, NOW - 5, "b", 1, "/var/log/secure"),))])
    store.commit(
        [
            Checkpoint(
                "sshd",
                cleared=(ip,),
                bans=(ban(ip, NOW - 1),),
                evidence=(failure(ip, NOW - 1, "c", 0),),
            )
        ]
    )
    record = store.ban_evidence([ip])
    assert [(b.jail, b.fid, b.timeofban, b.bantime) for b in record.bans] == [("sshd", ip, NOW - 1, 600.0)]
    assert [(f.time, f.lines, f.source, f.regex) for f in record.bans[0].evidence] == [
        (NOW - 9, ("a",), LOG, 0),
        (NOW - 5, ("b",), "/var/log/secure", 1),
        (NOW - 1, ("c",), LOG, 0),
    ]
    assert record.pending == ()
    assert [(jail, f.fid, f.lines) for jail, f in store.ban_evidence([other]).pending] == [
        ("sshd", other, ("x",))
    ]
    store.purge(NOW + 10 * 86400, 86400)
    assert store.ban_evidence([ip]).bans == ()
    store.close()


def test_a_database_of_an_older_banjail_gets_the_new_columns(tmp_path: Path) -> None:
    path = tmp_path / "old.sqlite3"
    with sqlite3.connect(path) as db:
        db.execute(
            "CREATE TABLE banjail_failures(jail TEXT NOT NULL, fid TEXT NOT NULL, ip TEXT, time REAL NOT NULL, "
            "count INTEGER NOT NULL DEFAULT 1, matches TEXT, groups TEXT)"
        )
        db.execute(
            "INSERT INTO banjail_failures VALUES('sshd', '192.0.2.1', '192.0.2.1', ?, 1, 'old', NULL)", (NOW,)
        )
    store = SqliteStore(str(path))
    (old,) = store.counted_failures("sshd", NOW - 60)
    assert (old.lines, old.source, old.regex) == (("old",), "", -1)
    store.commit([Checkpoint("sshd", failures=(failure("192.0.2.1", NOW + 1, "new", 2),))])
    assert [(f.source, f.regex) for f in store.counted_failures("sshd", NOW - 60)] == [("", -1), (LOG, 2)]
    store.close()


def test_network_fids_are_listed() -> None:
    store = SqliteStore(":memory:")
    store.commit([Checkpoint("sshd", bans=(ban("2001:db8:1:2::/64", NOW),))])
    store.commit([Checkpoint("sshd", failures=(failure("10.0.0.0/24", NOW, "n", 0),))])
    assert sorted(store.network_fids()) == ["10.0.0.0/24", "2001:db8:1:2::/64"]
    store.close()
