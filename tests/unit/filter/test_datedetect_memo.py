"""The memos of date parsing give the answers of a full parse: a detector that has seen many dates (its memos by
text, by text without the fraction of a second, by day) against a fresh detector per line."""

from __future__ import annotations

import datetime

import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from banjail.filter.datedetect import DateDetector
from banjail.filter.localtime import local_epoch

CET = "CET-01CEST-02,M3.5.0,M10.5.0"
MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")


# Every test here reads local times in CET/CEST (the fixture is in conftest.py).
pytestmark = pytest.mark.usefixtures("cet")


_wall = st.datetimes(min_value=datetime.datetime(2004, 12, 30), max_value=datetime.datetime(2006, 1, 2))
_fraction = st.one_of(st.just(""), st.from_regex(r"[.,][0-9]{1,6}", fullmatch=True))
_zone = st.sampled_from(["", "Z", "+02:00", "-0500", " UTC", " +0100"])


def _line(wall: datetime.datetime, fraction: str, zone: str, form: int) -> str:
    stamp = wall.strftime("%H:%M:%S")
    if form == 0:
        return f"{wall:%Y-%m-%d}T{stamp}{fraction}{zone} host x"
    if form == 1:
        return f"{wall:%Y-%m-%d} {stamp}{fraction.replace('.', ',')} host x"
    return f"{MONTHS[wall.month - 1]} {wall.day:2d} {stamp}{fraction.replace(',', '.')} host x"


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(dates=st.lists(st.tuples(_wall, _fraction, _zone, st.integers(0, 2)), min_size=1, max_size=20),
       now=st.sampled_from([1104537600.0, 1124013600.0, 1130634000.0]))
def test_memoized_answers_are_full_parses(dates: list[tuple[datetime.datetime, str, str, int]], now: float) -> None:
    seasoned = DateDetector()
    for wall, fraction, zone, form in dates:
        # the same second with other fractions, and another second of the same day
        for when, variant in ((wall, fraction), (wall, fraction[:2]), (wall, ""),
                              (wall.replace(hour=(wall.hour + 5) % 24), fraction)):
            assume(not local_epoch(when.replace(microsecond=0))[1])  # a repeated hour depends on the date before
            line = _line(when, variant, zone, form)
            got = seasoned.find(line, now)
            fresh = DateDetector().find(line, now)
            assert (got.time if got else None) == (fresh.time if fresh else None), line


def test_fraction_memo_is_used_and_keeps_whole_seconds() -> None:
    detector = DateDetector()
    times = [detector.find(f"2005-08-14T10:00:00.{n:06d}+02:00 x", 1124013600.0) for n in range(50)]
    entry = detector._last_entry
    assert entry is not None
    assert {hit.time for hit in times if hit is not None} == {1124006400.0}
    assert list(entry.fractions) == ["2005-08-14T10:00:00.+02:00"]
    assert entry.cache == {}  # texts with a fraction do not fill the memo by text
