"""strptime: directive translation and display names, case folding, zones, and the epoch of captured fields
(year and day roll-over relative to now, the interval of now an answer holds for, DST)."""

from __future__ import annotations

import datetime
import itertools
import re
from collections.abc import Iterator

import pytest

from banjail.filter import strptime
from banjail.filter.strptime import Parsed, fields_to_epoch, local_epoch, translate, zone_offset

CET = "CET-01CEST-02,M3.5.0,M10.5.0"
NOW = 1124013600.0  # 2005-08-14 12:00 CEST
INF = float("inf")


# Every test here reads local times in CET/CEST (the fixture is in conftest.py).
pytestmark = pytest.mark.usefixtures("cet")


@pytest.mark.parametrize(("pattern", "name", "ignore_case"), [
    ("%Y-%m-%d %H:%M:%S", "Year-Month-Day 24hour:Minute:Second", False),
    ("%ExY%Exm%Exd %ExH%ExM%ExS", "ExYearExMonthExDay Ex24hourExMinuteExSecond", False),
    ("%b %d %k:%M:%S", "MON Day %k:Minute:Second", False),  # alphabetic, folded: no flag needed
    (r"%d(?P<_sep>[-/])%b(?P=_sep)%ExY", "Day(?P<_sep>[-/])MON(?P=_sep)ExYear", False),
    ("%b %d time", "MON Day time", True),  # a literal word: the whole regex ignores case, as upstream's
    ("(?P<x>%b)(?P=x)", "(?P<x>MON)(?P=x)", True),  # a backreference to a month name
    (r"\[%d/%b/%Y\s%H\]", r"\[Day/MON/Year\s24hour\]", False),
    ("%a %A %B %p", "DAY DAYNAME MONTH AMPM", False),
    ("%j %U %W %w %y %f %I", "Yearday Yearweek Yearweek Weekday Year2 Microseconds 12hour", False),
    ("%z %Z", "Zone offset Zone name", False),
    ("%ExZ", "ExZone name", False),
    ("%Exz", "ExZone offset", False),
    ("%Exk %l %Exy %G %u %V", "%Exk %l ExYear2 %G %u %V", False),
    ("%Exl %X", "%Exl %X", False),
    ("%c", "%c", False),
    ("%x at %X", "%x at %X", False),  # no alphabetic directive: the literal word does not matter
    ("%%Y 100%%", "%Y 100%", False),
    ("{EPOCH}", "{EPOCH}", False),
])
def test_translate(pattern: str, name: str, ignore_case: bool) -> None:
    text = translate(pattern)
    assert (text.name, text.ignore_case) == (name, ignore_case)
    re.compile(text.regex)


@pytest.mark.parametrize(("pattern", "message"), [
    ("%Q", "unknown directive %Q at offset 0"),
    ("%H:%", "a lone % at the end (offset 3)"),
    ("x%Exq", "unknown directive %E at offset 1"),
    ("%e", "unknown directive %e at offset 0"),
])
def test_translate_errors(pattern: str, message: str) -> None:
    with pytest.raises(ValueError) as raised:
        translate(pattern)
    assert str(raised.value) == message


def _probes(words: list[str]) -> Iterator[str]:
    odd = {"s": "\u017f", "k": "\u212a", "i": "\u0131", "I": "\u0130"}
    for word in words:
        yield from (word, word.upper(), word.title(), word.swapcase(), word[:-1], word + "x")
        for letter, other in odd.items():
            yield word.replace(letter, other)


@pytest.mark.parametrize("key", ["a", "A", "b", "B", "p", "z", "Z", "ExZ", "Exz", "c"])
def test_folded_fragments_match_like_ignorecase(key: str) -> None:
    regex = strptime.DIRECTIVES[key][0]
    words = ["mon", "tuesday", "sat", "sun", "thu", "fri", "wed", "jan", "september", "sep", "dec", "march",
             "am", "pm", "utc", "gmt", "z", "cest", "est", "k", "ist", "abcdef", "+0100", "cet+01",
             "sun jan  3 01:02:03 2005", "thu oct 13 23:59:59 2011"]
    flagged = re.compile(regex, re.IGNORECASE)
    folded = re.compile(strptime._FOLDED[key])
    for probe in _probes(words):
        assert bool(folded.fullmatch(probe)) == bool(flagged.fullmatch(probe)), probe


@pytest.mark.parametrize(("text", "minutes"), [
    ("UTC", 0), ("GMT", 0), ("Z", 0), ("UTC+0300", 180), ("UTC-0430", -270), ("GMT+12", 720), ("+0100", 60),
    ("-10:45", -645), ("CET", 60), ("CEST", 120), ("CEST-01", 60), ("CET+01", 120), ("CET+0130", 150),
    ("NFT", 690), ("NPT", 345), ("HST", -600), ("A", 60), ("Y", -720),
])
def test_zone_offset(text: str, minutes: int) -> None:
    assert zone_offset(text) == minutes


@pytest.mark.parametrize(("text", "message"), [
    ("Europe/Paris", "unknown or unsupported time zone: 'Europe/Paris'"),
    ("cet", "unknown or unsupported time zone: 'cet'"),
    ("ABC", "unknown time zone abbreviation: 'ABC'"),
    ("ChST", "unknown or unsupported time zone: 'ChST'"),
    ("UTC+3", "unknown or unsupported time zone: 'UTC+3'"),
])
def test_zone_offset_errors(text: str, message: str) -> None:
    with pytest.raises(ValueError) as raised:
        zone_offset(text)
    assert str(raised.value) == message


DAY = 86400.0


@pytest.mark.parametrize(("fields", "default_offset", "expected"), [
    # complete dates: the same answer for every now
    ({"Y": "2005", "m": "1", "d": "23", "H": "21", "M": "59", "S": "59"}, None, Parsed(1106513999.0)),
    ({"Y": "2005", "m": "1", "d": "23", "H": "21", "M": "59", "S": "59", "f": "123"}, None, Parsed(1106513999.0)),
    ({"Y": "2005", "m": "1", "d": "23", "H": "21", "M": "59", "S": "59"}, 0, Parsed(1106517599.0)),
    ({"Y": "2005", "m": "1", "d": "23", "H": "21", "M": "59", "S": "59", "z": "-0100"}, 0, Parsed(1106521199.0)),
    ({"Y": "2005", "m": "1", "d": "23", "H": "21", "M": "59", "S": "59", "Z": "GMT"}, 60, Parsed(1106517599.0)),
    ({"y": "05", "b": "JAN", "d": " 3", "I": "12", "M": "0", "S": "0", "p": "AM"}, 0, Parsed(1104710400.0)),
    ({"y": "05", "B": "january", "d": "3", "I": "12", "M": "0", "S": "0", "p": "pm"}, 0, Parsed(1104753600.0)),
    ({"Y": "2005", "j": "34", "H": "0"}, 0, Parsed(1107388800.0)),  # day 34: Feb 3
    ({"Y": "2005", "W": "0", "a": "sat"}, 0, Parsed(1104537600.0)),  # week 0 of 2005, Saturday: Jan 1
    ({"Y": "2005", "U": "1", "w": "0"}, 0, Parsed(1104624000.0)),  # first Sunday-week, Sunday: Jan 2
    # no year: this year, valid until new year; a date more than a day ahead is last year's
    ({"b": "Aug", "d": "15", "H": "11", "M": "59", "S": "59"}, None, Parsed(1124099999.0, NOW, 1136070000.0)),
    ({"b": "Aug", "d": "15", "H": "12", "M": "0", "S": "1"}, None, Parsed(1092564001.0, NOW, NOW + 1)),
    ({"b": "Aug", "d": "15", "H": "10", "M": "0", "S": "0"}, 0, Parsed(1124100000.0, NOW, 1136070000.0)),
    # time only: today, valid until midnight; a time still ahead is yesterday's
    ({"H": "11", "M": "0", "S": "0"}, None, Parsed(NOW - 3600, NOW, NOW + 12 * 3600)),
    ({"H": "13", "M": "0", "S": "0"}, None, Parsed(NOW - 23 * 3600, NOW, NOW + 3600)),
    ({"H": "12", "M": "0", "S": "0"}, None, Parsed(NOW, NOW, NOW + 12 * 3600)),
])
def test_fields_to_epoch(fields: dict[str, str | None], default_offset: int | None, expected: Parsed) -> None:
    assert fields_to_epoch(fields, NOW, default_offset) == expected


@pytest.mark.parametrize(("fields", "message"), [
    ({"Y": "2005", "m": "2", "d": "30"}, "day is out of range for month"),
    ({"Y": "2005", "m": "2"}, "a day without a month (or a month without a day) is not a date"),
    ({"Y": "2005", "m": "1", "d": "1", "Z": "ABC"}, "unknown time zone abbreviation: 'ABC'"),
    ({"b": "Feb", "d": "29", "H": "0"}, "day is out of range for month"),  # 2005 has no Feb 29
])
def test_fields_to_epoch_errors(fields: dict[str, str | None], message: str) -> None:
    with pytest.raises(ValueError) as raised:
        fields_to_epoch(fields, NOW, None)
    assert str(raised.value) == message


CEST_TIME = 1099170000.0  # 2004-10-30 23:00 CEST
CET_TIME = 1104537600.0  # 2005-01-01 01:00 CET


@pytest.mark.parametrize(("wall", "last", "expected"), [
    (datetime.datetime(2005, 1, 23, 21, 59, 59), None, (1106513999.0, False)),
    (datetime.datetime(2005, 8, 14, 12, 0), None, (NOW, False)),
    # the hour repeated when CEST ends (02:00 CEST -> 01:00 CET in this TZ): the offset of the last date decides
    (datetime.datetime(2004, 10, 31, 1, 30), CEST_TIME, (1099179000.0, True)),
    (datetime.datetime(2004, 10, 31, 1, 30), CET_TIME, (1099182600.0, True)),
    (datetime.datetime(2004, 10, 31, 1, 30), None, (1099182600.0, True)),
    (datetime.datetime(2004, 10, 31, 0, 59), None, (1099177140.0, False)),
    (datetime.datetime(2004, 10, 31, 2, 0), None, (1099184400.0, False)),
    # the hour skipped when CEST starts: read with the offset before the change, as mktime does
    (datetime.datetime(2005, 3, 27, 2, 30), CEST_TIME, (1111887000.0, False)),
    (datetime.datetime(2005, 3, 27, 3, 30), None, (1111887000.0, False)),
    (datetime.datetime(2005, 3, 28, 1, 0), None, (1111964400.0, False)),
])
def test_local_epoch(wall: datetime.datetime, last: float | None, expected: tuple[float, bool]) -> None:
    assert local_epoch(wall, last) == expected


def test_repeated_hour_is_never_cached() -> None:
    parsed = fields_to_epoch({"b": "Oct", "d": "31", "H": "1", "M": "30", "S": "0"}, 1099180000.0, None,
                             CEST_TIME)
    assert (parsed.epoch, parsed.valid_from == parsed.valid_until) == (1099179000.0, True)


@pytest.mark.parametrize(("year", "regex"), [
    (2026, r"(?:200|201|202)\d"),
    (2027, r"(?:200|201|202|203)\d"),
    (2005, r"(?:200)\d"),
])
def test_ex_year_accepts_2000_to_three_years_ahead(year: int, regex: str) -> None:
    assert strptime._year_decades(year) == regex


def test_every_directive_compiles_alone_and_folded() -> None:
    for key, (regex, _) in strptime.DIRECTIVES.items():
        for text in (regex, strptime._FOLDED[key]):
            re.compile(text)
    assert set(itertools.chain(strptime.MONTH_ABBR, strptime.DAY_ABBR)) >= {"jan", "dec", "mon", "sun"}
