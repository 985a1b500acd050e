"""The store updates a fid's `bips` row in place where upstream's INSERT OR REPLACE deletes and re-inserts it: the
same rows (only their rowids differ), so every reader answers the same. The reference is a database written with
upstream's own statements (fail2ban/server/database.py addBan, delBan) from the same bans."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from banjail.model import Ban
from banjail.store import bandata
from banjail.store.checkpoint import Checkpoint
from banjail.store.sqlite import SqliteStore

NOW = 1_700_000_000.0
JAILS = ("sshd", "recidive")
FIDS = ("192.0.2.1", "192.0.2.2", "2001:db8::7", "user@example")

bans = st.builds(
    lambda jail, fid, at, length, count, failures, lines: Ban(
        jail, fid, fid if fid[0].isdigit() else None, at, None if length is None else at + length, count,
        failures, lines,
    ),
    st.sampled_from(JAILS),
    st.sampled_from(FIDS),
    st.sampled_from([NOW - 900, NOW - 100.4, NOW - 100, NOW - 10]),
    st.sampled_from([600, 1200, 30, 600.25, None]),
    st.integers(1, 3),
    st.integers(1, 5),
    st.lists(st.sampled_from(["l1", "l2", 'say "hi"']), max_size=3).map(tuple),
)  # fmt: skip
unbans = st.tuples(st.sampled_from(JAILS), st.sampled_from(FIDS))
steps = st.lists(st.one_of(st.lists(bans, min_size=1, max_size=6), unbans), min_size=1, max_size=8)


def _bantime(ban: Ban) -> float:
    if ban.until is None:
        return -1
    length = ban.until - ban.at
    return int(length) if length == int(length) else length


def _reference(path: Path, plan: list[list[Ban] | tuple[str, str]]) -> None:
    """Apply the plan with upstream's statements (addBan: the history row, then INSERT OR REPLACE of the current
    one; delBan: both deleted) to a database banjail's schema was made in."""
    SqliteStore(str(path)).close()
    db = sqlite3.connect(path, isolation_level=None)
    db.execute("BEGIN")
    for step in plan:
        if isinstance(step, tuple):
            db.execute("DELETE FROM bips WHERE jail = ? AND ip = ?", step)
            db.execute("DELETE FROM bans WHERE jail = ? AND ip = ?", step)
            continue
        for ban in step:
            db.execute("INSERT OR IGNORE INTO jails(name, enabled) VALUES(?, 1)", (ban.jail,))
            row = (ban.jail, ban.fid, round(ban.at), _bantime(ban), ban.count, bandata.encode(ban, 10))
            db.execute("INSERT INTO bans(jail, ip, timeofban, bantime, bancount, data) VALUES(?, ?, ?, ?, ?, ?)", row)
            db.execute(
                "INSERT OR REPLACE INTO bips(jail, ip, timeofban, bantime, bancount, data) VALUES(?, ?, ?, ?, ?, ?)",
                row,
            )
    db.execute("COMMIT")
    db.close()


def _ours(path: Path, plan: list[list[Ban] | tuple[str, str]]) -> None:
    store = SqliteStore(str(path))
    for number, step in enumerate(plan):
        if isinstance(step, tuple):
            store.del_ban(*step)
        elif number % 2:
            store.add_bans(step)
        else:
            store.commit([Checkpoint(step[0].jail, bans=tuple(step))])
    store.close()


def _tables(path: Path) -> tuple[list[tuple[object, ...]], list[tuple[object, ...]]]:
    """bips without its rowids, in (ip, jail) order; bans with them."""
    db = sqlite3.connect(path)
    bips = db.execute("SELECT ip, jail, timeofban, bantime, bancount, data FROM bips ORDER BY ip, jail").fetchall()
    history = db.execute("SELECT rowid, * FROM bans ORDER BY rowid").fetchall()
    db.close()
    return bips, history


def _readers(path: Path) -> list[object]:
    """What every reader of the store answers on the database at `path`."""
    store = SqliteStore(str(path))
    answers: list[object] = []
    for now in (NOW - 20, NOW + 700):
        answers.append(store.active_bans(now))
        answers.extend(store.active_bans(now, jail) for jail in JAILS)
    for fid in FIDS:
        for jail in (*JAILS, None):
            answers.extend((store.ban_history(fid, jail), store.ban_count(fid, jail), store.merged_bans(fid, jail)))
    answers.append(store.ban_evidence(FIDS).bans)
    store.purge(NOW + 10**6, 86400)
    answers.append(_tables(path))
    store.close()
    return answers


@settings(max_examples=80, deadline=None)
@given(plan=steps)
def test_bips_upserted_reads_as_upstreams_replace(
    tmp_path_factory: pytest.TempPathFactory, plan: list[list[Ban] | tuple[str, str]]
) -> None:
    base = tmp_path_factory.mktemp("upsert")
    _reference(base / "upstream.sqlite3", plan)
    _ours(base / "ours.sqlite3", plan)
    assert _tables(base / "ours.sqlite3") == _tables(base / "upstream.sqlite3")
    assert _readers(base / "ours.sqlite3") == _readers(base / "upstream.sqlite3")


Row = tuple[str, float, float | None, int]
CASES: list[tuple[list[Row], list[tuple[object, ...]]]] = [
    # (bans in order, the bips rows left: (ip, jail, timeofban, bantime, bancount))
    ([("192.0.2.1", NOW, 600, 1)], [("192.0.2.1", "sshd", round(NOW), 600, 1)]),
    (  # a prolonged ban: same start, a later end
        [("192.0.2.1", NOW, 600, 1), ("192.0.2.1", NOW, 650.5, 1)],
        [("192.0.2.1", "sshd", round(NOW), 650.5, 1)],
    ),
    (  # a later ban of the same fid
        [("192.0.2.1", NOW - 900, 600, 1), ("192.0.2.1", NOW, None, 2)],
        [("192.0.2.1", "sshd", round(NOW), -1, 2)],
    ),
    (  # another fid is left alone
        [("192.0.2.1", NOW, 600, 1), ("192.0.2.2", NOW, 600, 1), ("192.0.2.1", NOW + 5, 600, 2)],
        [("192.0.2.1", "sshd", round(NOW + 5), 600, 2), ("192.0.2.2", "sshd", round(NOW), 600, 1)],
    ),
]


def test_bips_keeps_the_newest_ban_of_each_fid(tmp_path: Path) -> None:
    for number, (given_bans, expected) in enumerate(CASES):
        path = tmp_path / f"{number}.sqlite3"
        store = SqliteStore(str(path))
        for fid, at, length, count in given_bans:
            until = None if length is None else at + length
            store.commit([Checkpoint("sshd", bans=(Ban("sshd", fid, fid, at, until, count, 3),))])
        store.close()
        rows = [row[:5] for row in _tables(path)[0]]
        assert rows == expected, number
