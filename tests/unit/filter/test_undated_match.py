"""A failregex match on a line without a date, outside live mode (a backlog the daemon reads at start): no
failure, and LogState.undated keeps the first such match (its date text and lines) for upstream's warning
(banjail.daemon.reading); in live mode the failure takes `now` and nothing is kept. The same on every engine."""

from __future__ import annotations

import time
from collections.abc import Iterator

import pytest

from banjail.filter import engine as engines
from banjail.filter.datedetect import DateDetector
from banjail.filter.matcher import Matcher
from banjail.filter.outcome import ScanStats
from banjail.model import FilterSpec

SPEC = FilterSpec(failregex=(r"fail from <HOST> port \d+$",))
NOW = 1124013600.0
DATED = "2005-08-14 09:00:00 fail from 192.0.2.9 port 7"
UNDATED = ["fail from 192.0.2.1 port 1", "fail from 192.0.2.2 port 2"]

CASES = {
    "backlog: dropped, the first kept": (False, UNDATED, [], ("", "fail from 192.0.2.1 port 1")),
    "live: counted at now": (True, UNDATED, [("192.0.2.1", NOW), ("192.0.2.2", NOW)], None),
    "backlog, dated lines: counted": (False, [DATED], [("192.0.2.9", 1124010000.0)], None),
    "backlog, an undated line after an old dated one": (
        False, [DATED, UNDATED[1]], [("192.0.2.9", 1124010000.0)], ("", "fail from 192.0.2.2 port 2")
    ),
}


@pytest.fixture
def utc(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    # the detector reads local time: the dates above are UTC
    monkeypatch.setenv("TZ", "UTC")
    time.tzset()
    yield
    monkeypatch.undo()
    time.tzset()


@pytest.mark.usefixtures("utc")
@pytest.mark.parametrize("engine", [None, engines.PYTHON.name], ids=["default", "python"])
@pytest.mark.parametrize(("live", "lines", "found", "undated"), list(CASES.values()), ids=list(CASES))
def test_undated_matches(
    engine: str | None, live: bool, lines: list[str], found: list[tuple[str, float]],
    undated: tuple[str, str] | None,
) -> None:
    matcher = Matcher(SPEC, detector=DateDetector(), live=live, check_all=False, engine=engine)
    outcomes = matcher.scan("\n".join(lines) + "\n", NOW, 1, ScanStats(), keep_ignored=False, keep_matched=False)
    assert [(f.fid, f.time) for o in outcomes for f in o.failures] == found
    assert matcher.state.undated == undated
