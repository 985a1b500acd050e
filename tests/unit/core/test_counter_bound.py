"""FailureCounter keeps at most max_fids fids: a flood of distinct fids evicts the fid counted first, so memory
stays flat; a fid still counted keeps its count and is banned as before."""

from __future__ import annotations

import pytest

from banjail.core.counter import FailureCounter
from banjail.model import Failure


def _fail(fid: str, at: float) -> Failure:
    return Failure(fid=fid, ip=fid, time=at, lines=(f"line {at}",), groups=())


@pytest.mark.parametrize(
    ("max_fids", "sequence", "kept", "banned"),
    [
        (3, ["a", "b", "c", "d"], ["b", "c", "d"], []),
        (3, ["a", "b", "a", "c", "d", "a"], ["c", "d", "a"], []),  # "a" was counted first: evicted, starts again
        (3, ["a", "b", "c", "a", "a"], ["b", "c"], ["a"]),  # maxretry 3 reached while still counted
        # a tenth at a time: f0-f9 go at f100, f10-f19 at f110, ... f140-f149 at f240
        (100, [f"f{n}" for n in range(250)], [f"f{n}" for n in range(150, 250)], []),
    ],
)
def test_counted_fids_are_bounded(max_fids: int, sequence: list[str], kept: list[str], banned: list[str]) -> None:
    counter = FailureCounter("test", maxretry=3, findtime=600)
    counter.max_fids = max_fids
    found = []
    for n, fid in enumerate(sequence):
        request = counter.count(_fail(fid, 100.0 + n), 100.0 + n)
        if request is not None:
            found.append(request.fid)
    assert (sorted(f for f in kept if f in counter), found) == (sorted(kept), banned)
    assert len(counter) == len(kept)
