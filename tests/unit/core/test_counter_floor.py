"""FailureCounter.expire's floor (it skips the walk while no entry can be stale) against the full walk: the same
drops, counts and retries for any sequence of failures, expiries, forgets and findtime changes."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from banjail.core.counter import FailureCounter
from banjail.model import Failure

T0 = 1_700_000_000.0
FIDS = [f"192.0.2.{i}" for i in range(6)]

operations = st.lists(
    st.one_of(
        st.tuples(st.just("count"), st.sampled_from(FIDS), st.floats(0, 3000)),
        st.tuples(st.just("expire"), st.just(""), st.floats(0, 4000)),
        st.tuples(st.just("forget"), st.sampled_from(FIDS), st.just(0.0)),
        st.tuples(st.just("findtime"), st.just(""), st.sampled_from([60.0, 600.0, 1800.0])),
    ),
    max_size=60,
)


@settings(max_examples=400, deadline=None)
@given(operations, st.integers(2, 6))
def test_expire_with_its_floor_drops_what_the_full_walk_drops(ops: list[tuple[str, str, float]],
                                                              maxretry: int) -> None:  # fmt: skip
    fast = FailureCounter("j", maxretry=maxretry, findtime=600)
    full = FailureCounter("j", maxretry=maxretry, findtime=600)
    for op, fid, value in ops:
        if op == "count":
            failure = Failure(fid=fid, ip=fid, time=T0 + value, lines=("x",))
            assert fast.count(failure, T0 + value) == full.count(failure, T0 + value)
        elif op == "expire":
            full._floor = float("-inf")  # the reference always walks every entry
            assert fast.expire(T0 + value) == full.expire(T0 + value)
        elif op == "forget":
            fast.forget(fid)
            full.forget(fid)
        else:
            fast.findtime = full.findtime = value
        assert len(fast) == len(full)
        assert [fast.retries(f) for f in FIDS] == [full.retries(f) for f in FIDS]
