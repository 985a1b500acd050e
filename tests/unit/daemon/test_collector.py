"""The cyclic collector during batches: held off per batch, back on after, bounded by YOUNG_BUDGET."""

from __future__ import annotations

import gc
from collections.abc import Iterator

import pytest

from banjail.daemon import collector
from banjail.daemon.collector import BatchHold


@pytest.fixture(autouse=True)
def collector_on() -> Iterator[None]:
    gc.enable()
    yield
    gc.enable()


def _grow(n: int) -> list[list[int]]:
    return [[i] for i in range(n)]  # n new tracked objects in the young generation


def test_a_batch_holds_the_collector_off_until_released() -> None:
    release = BatchHold().begin()
    assert not gc.isenabled()
    release()
    assert gc.isenabled()
    release()  # a second call changes nothing
    assert gc.isenabled()


def test_overlapping_batches_resume_when_the_last_ends() -> None:
    first, second = BatchHold().begin(), BatchHold().begin()
    first()
    assert not gc.isenabled()
    second()
    assert gc.isenabled()


def test_a_collector_that_was_off_stays_off() -> None:
    gc.disable()
    release = BatchHold().begin()
    release()
    assert not gc.isenabled()


def test_past_the_budget_the_collector_runs_and_the_jail_stops_holding() -> None:
    jail, other = BatchHold(), BatchHold()
    release = jail.begin()
    collector.check()
    assert not gc.isenabled()  # nothing grew yet
    kept = _grow(collector.YOUNG_BUDGET + 1000)
    collector.check()
    assert gc.isenabled()  # on again in the middle of the batch
    release()
    del kept
    for _ in range(collector.RETRY_AFTER):  # the heavy jail's next batches run with the collector on
        jail.begin()()
        assert gc.isenabled()
    release = jail.begin()  # then it tries again
    assert not gc.isenabled()
    release()
    release = other.begin()  # another jail was never heavy
    assert not gc.isenabled()
    release()
    assert gc.isenabled()


def test_check_with_no_hold_leaves_the_collector_alone() -> None:
    gc.disable()
    kept = _grow(collector.YOUNG_BUDGET + 1000)
    collector.check()
    assert not gc.isenabled()
    del kept
