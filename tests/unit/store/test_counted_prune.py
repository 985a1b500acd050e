"""banjail_failures stays bounded: rows older than the checkpoint's findtime horizon and beyond the per-jail cap
(dbmaxfailures) are pruned as failures are written; other jails' rows are untouched."""

from __future__ import annotations

from pathlib import Path

import pytest

from banjail.store.checkpoint import Checkpoint, CountedFailure
from banjail.store.sqlite import SqliteStore


def _batch(jail: str, start: int, count: int, at: float, horizon: float) -> Checkpoint:
    failures = tuple(CountedFailure(f"10.0.{n // 250}.{n % 250}", None, at, 1, ("line",), ()) for n in range(start, start + count))
    return Checkpoint(jail, failures=failures, expire_before=horizon)


@pytest.mark.parametrize(
    ("cap", "batches", "expected"),
    [
        # (cap, [(jail, failures, time, horizon)], {jail: rows kept})
        (1000, [("a", 5000, 100.0, 0.0)], {"a": 1000}),
        (1000, [("a", 500, 100.0, 0.0), ("a", 700, 900.0, 300.0)], {"a": 700}),  # the old 500 are past findtime
        (1000, [("a", 50, 100.0, 0.0), ("b", 3000, 100.0, 0.0)], {"a": 50, "b": 1000}),
        (100_000, [("a", 20_000, 100.0, 0.0)], {"a": 20_000}),
    ],
)
def test_counted_failures_are_pruned(
    tmp_path: Path, cap: int, batches: list[tuple[str, int, float, float]], expected: dict[str, int]
) -> None:
    store = SqliteStore(str(tmp_path / "db.sqlite3"), fsync=False)
    store.max_failures = cap
    start = 0
    for jail, count, at, horizon in batches:
        for offset in range(0, count, 100):  # batches of 100, as a reader commits them
            store.commit([_batch(jail, start + offset, min(100, count - offset), at, horizon)])
        start += count
    slack = cap // 10 + 1  # pruning runs every cap/10 failures written
    for jail, rows in expected.items():
        kept = len(store.counted_failures(jail, 0.0))
        assert rows <= kept <= rows + slack, (jail, kept)
    store.close()
