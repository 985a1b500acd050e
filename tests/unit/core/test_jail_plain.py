"""JailState.count's inlined path (a jail without banprefix, ignorecommand or bantime.increment) against the
per-failure path it replaces (`failure`, then `_count`): the same events, counter and ban book, for any sequence
of failures (times near now, far from it, in the future; ignored addresses; catch-up batches)."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from banjail.core.banpolicy import BanPolicy
from banjail.core.counter import FailureCounter
from banjail.core.events import Event, Found
from banjail.core.ignore import IgnoreSet
from banjail.core.jail import JailState
from banjail.filter.outcome import MATCHED, LineOutcome
from banjail.model import Failure

NOW = 1_700_000_000.0
ADDRESSES = ["192.0.2.1", "192.0.2.2", "192.0.2.3", "198.51.100.9", "2001:db8::1"]
IGNORED = ["198.51.100.9"]

failures = st.builds(
    lambda ip, offset, lines, named: Failure(
        fid=f"user-{ip}" if named else ip, ip=ip, time=NOW + offset, lines=(f"line {lines}",) * lines
    ),
    st.sampled_from(ADDRESSES),
    st.one_of(
        st.floats(-900, 5),
        st.sampled_from([-61.0, -60.5, -60.999, -61.001, 61.0, 60.5, 0.0, -600.0, -600.5, 3.5]),
    ),
    st.integers(0, 2),
    st.booleans(),
)
batches = st.lists(
    st.tuples(
        st.lists(st.lists(failures, max_size=3), max_size=6), st.booleans(), st.one_of(st.just(0.0), st.floats(0, 400))
    ),
    max_size=6,
)


def state(maxretry: int, rules: bool) -> JailState:
    return JailState(
        "sshd",
        matcher=None,
        counter=FailureCounter("sshd", maxretry=maxretry, findtime=600, maxmatches=2),
        policy=BanPolicy(bantime=300),
        ignore=IgnoreSet(IGNORED if rules else (), ignoreself=False),  # none: the path that asks nothing
    )


def per_failure(jail: JailState, outcomes: list[LineOutcome], now: float, catching_up: bool) -> list[Event]:
    events: list[Event] = []
    for outcome in outcomes:
        for found in outcome.failures:
            jail.failure(found, now, events, catching_up=catching_up)
    return events


@settings(max_examples=300, deadline=None)
@given(batches, st.integers(1, 4), st.booleans())
def test_inlined_count_is_the_per_failure_path(sequence: list[tuple[list[list[Failure]], bool, float]],
                                               maxretry: int, rules: bool) -> None:  # fmt: skip
    fast, slow = state(maxretry, rules), state(maxretry, rules)
    for lines, catching_up, later in sequence:
        now = NOW + later
        outcomes = [LineOutcome(i + 1, "", MATCHED, failures=tuple(found)) for i, found in enumerate(lines)]
        assert fast.count(outcomes, now, catching_up=catching_up) == per_failure(slow, outcomes, now, catching_up)
        assert fast.counter.total == slow.counter.total
        assert len(fast.counter) == len(slow.counter)
        for fid in {f.fid for found in lines for f in found}:
            assert fast.counter.retries(fid) == slow.counter.retries(fid)
        assert sorted(fast.book.banned(), key=str) == sorted(slow.book.banned(), key=str)
        assert fast.tick(now) == slow.tick(now)


@pytest.mark.parametrize(
    ("offset", "counted_at"),
    [
        (0.0, NOW),
        (-60.0, NOW - 60.0),
        (-60.5, NOW - 60.5),  # int() truncates: 60 seconds off, kept
        (-60.999, NOW - 60.999),
        (-61.0, NOW),  # 61 seconds off: taken as now
        (-61.001, NOW),
        (0.5, NOW),  # in the future: now
        (61.0, NOW),
    ],
)
def test_live_time_rule_at_its_bounds(offset: float, counted_at: float) -> None:
    failure = Failure(fid="192.0.2.1", ip="192.0.2.1", time=NOW + offset, lines=())
    outcomes = [LineOutcome(1, "", MATCHED, failures=(failure,))]
    assert state(5, False).count(outcomes, NOW) == [Found(failure, counted_at)]
    assert per_failure(state(5, False), outcomes, NOW, False) == [Found(failure, counted_at)]
