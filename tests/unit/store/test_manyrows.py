"""manyrows.insert stores exactly what one single-row INSERT per row stores, rowids included, and fails as it."""

from __future__ import annotations

import sqlite3

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from banjail.store import manyrows

TABLE = "CREATE TABLE t(a TEXT NOT NULL, b REAL, c INTEGER NOT NULL DEFAULT 1, d TEXT)"
rows = st.lists(
    st.tuples(st.text(max_size=3), st.one_of(st.none(), st.floats(allow_nan=False)), st.integers(-5, 5),
              st.one_of(st.none(), st.text(max_size=3))),
    max_size=300,
)  # fmt: skip


def _pair() -> tuple[sqlite3.Connection, sqlite3.Connection]:
    pair = []
    for _ in range(2):
        db = sqlite3.connect(":memory:", isolation_level=None)
        db.execute(TABLE)
        db.execute("INSERT INTO t VALUES('before', 1, 1, NULL)")  # rowids go on from an existing row
        pair.append(db)
    return pair[0], pair[1]


@settings(max_examples=200, deadline=None)
@given(st.lists(rows, max_size=3))
def test_insert_is_one_insert_per_row(batches: list[list[tuple[object, ...]]]) -> None:
    ours, reference = _pair()
    for batch in batches:
        manyrows.insert(ours, "INSERT OR FAIL INTO t(a, b, c, d) VALUES", batch)
        reference.executemany("INSERT INTO t(a, b, c, d) VALUES(?, ?, ?, ?)", batch)
    query = "SELECT rowid, a, b, c, d FROM t ORDER BY rowid"
    assert ours.execute(query).fetchall() == reference.execute(query).fetchall()


RUNS = [
    (0, []),
    (1, [(0, 1)]),
    (3, [(0, 2), (2, 1)]),
    (31, [(0, 16), (16, 8), (24, 4), (28, 2), (30, 1)]),
    (32, [(0, 16), (16, 16)]),
    (50, [(0, 16), (16, 16), (32, 16), (48, 2)]),
]


@pytest.mark.parametrize(("count", "expected"), RUNS)
def test_runs(count: int, expected: list[tuple[int, int]]) -> None:
    assert manyrows.runs(count) == expected


def test_a_broken_row_raises_and_its_transaction_rolls_back_whole() -> None:
    db = sqlite3.connect(":memory:", isolation_level=None)
    db.execute(TABLE)
    good = [("x", 1.0, 1, None)] * (manyrows.CHUNK + 5)
    db.execute("BEGIN")
    with pytest.raises(sqlite3.IntegrityError, match=r"NOT NULL constraint failed: t\.a"):
        manyrows.insert(db, "INSERT OR FAIL INTO t(a, b, c, d) VALUES", [*good, (None, 1.0, 1, None), *good])
    db.execute("ROLLBACK")
    assert db.execute("SELECT count(*) FROM t").fetchone() == (0,)
