"""Many rows, few statement runs: a batch's rows inserted by multi-row statements (`VALUES (...), (...), ...`).

`executemany` runs its statement once per row, and each run costs SQLite its own set-up and halt (cursors opened
and closed, the statement's bookkeeping), a good part of what storing a short row costs. So the rows go in runs
of CHUNK rows, and the rest in runs of a power of two rows: a table keeps at most log2(CHUNK) + 1 prepared
statements in the connection's cache, and n rows cost about n / CHUNK + log2(CHUNK) runs.

Only for `INSERT OR FAIL` into tables without foreign keys (banjail_failures, banjail_evidence): a statement
that may have to undo its own first rows when a later one breaks a constraint (plain INSERT's ABORT, a foreign
key, an upsert's update) keeps a statement journal of every page it touches, which for a run of rows spills to
a temporary file and costs more than the runs save (bans and bips: 10k more page writes on the daemon bench).
FAIL stops at the broken row without undoing the rows before it and raises the same IntegrityError, and every
caller writes inside a transaction that the error rolls back whole, so nothing else changes.

Equivalence: a multi-row VALUES insert stores its rows one after the other in the order given, so the table ends
as after one single-row statement per row in that order, rowids included (tests/unit/store/test_manyrows.py).
"""

from __future__ import annotations

import sqlite3
from collections.abc import Sequence
from functools import cache
from itertools import chain

CHUNK = 16  # rows per statement run: 64 saved 1% more instructions, and its prepared statements held 0.3 MB more


def insert(db: sqlite3.Connection, head: str, rows: Sequence[tuple[object, ...]]) -> None:
    """Run `head` ("INSERT OR FAIL INTO table(columns) VALUES") for every row of `rows` (all of one width), in
    order."""
    if not rows:
        return
    width = len(rows[0])
    for start, size in runs(len(rows)):
        db.execute(_statement(head, width, size), tuple(chain.from_iterable(rows[start : start + size])))


def runs(count: int) -> list[tuple[int, int]]:
    """(start, size) of each statement run for `count` rows: CHUNK-row runs, then the binary digits of the rest."""
    found = []
    start = 0
    while count - start >= CHUNK:
        found.append((start, CHUNK))
        start += CHUNK
    size = CHUNK // 2
    while start < count:
        if count - start >= size:
            found.append((start, size))
            start += size
        size //= 2
    return found


@cache
def _statement(head: str, width: int, size: int) -> str:
    """`head` followed by `size` groups of `width` placeholders."""
    group = "(" + ", ".join("?" * width) + ")"
    return f"{head} {', '.join([group] * size)}"
