"""DateDetector: one line per default template and per datepattern feature, errors, caching, the template list.

Expected epochs and names are upstream fail2ban 1.0.2's answers (TZ CET/CEST, now = 2005-08-14 12:00 CEST);
test_datedetect_oracle.py compares the two on generated lines as well.
"""

from __future__ import annotations

import re

import pytest

from banjail.errors import ConfigError, RegexError
from banjail.filter.datedetect import DateDetector

CET = "CET-01CEST-02,M3.5.0,M10.5.0"
NOW = 1124013600.0

SYSLOG = r"{^LN-BEG}(?:DAY )?MON Day %k:Minute:Second(?:\.Microseconds)?(?: ExYear)?"
ISO = r"{^LN-BEG}ExYear(?P<_sep>[-/.])Month(?P=_sep)Day(?:T|  ?)24hour:Minute:Second(?:[.,]Microseconds)?(?:\s*Zone offset)?"
DMY = r"{^LN-BEG}Day(?P<_sep>[-/])Month(?P=_sep)(?:ExYear|ExYear2) %k:Minute:Second"
CLF = r"{^LN-BEG}Day(?P<_sep>[-/])MON(?P=_sep)ExYear[ :]?24hour:Minute:Second(?:\.Microseconds)?(?: Zone offset)?"


# Every test here reads local times in CET/CEST (the fixture is in conftest.py).
pytestmark = pytest.mark.usefixtures("cet")


# (datepattern lines, logtimezone, line, expected (epoch, start, end, template) or None)
CASES = [
    ([], "", "Jan 23 21:59:59 host sshd[1]: x", (1106513999.0, 0, 15, SYSLOG)),
    ([], "", "Sun Jan 23 21:59:59.011 2005 x", (1106513999.0, 0, 28, SYSLOG)),
    ([], "", "Sun Jan 23 2005 21:59:59 x",
     (1106513999.0, 0, 24, r"{^LN-BEG}(?:DAY )?MON Day ExYear %k:Minute:Second(?:\.Microseconds)?")),
    ([], "", "23/01/2005 21:59:59 x", (1106513999.0, 0, 19, DMY)),
    ([], "", "23/01/05 21:59:59 x", (1106513999.0, 0, 17, DMY)),
    ([], "", "[23/Jan/2005:21:59:59 +0100] x", (1106513999.0, 1, 27, CLF)),
    ([], "", "23-Jan-2005 21:59:59.02 x", (1106513999.0, 0, 23, CLF)),
    ([], "", "01/23/2005:21:59:59 x", (1106513999.0, 0, 19, "{^LN-BEG}Month/Day/ExYear:24hour:Minute:Second")),
    ([], "", "01-23-2005 21:59:59.252 x",
     (1106513999.0, 0, 23, r"{^LN-BEG}Month-Day-ExYear %k:Minute:Second(?:\.Microseconds)?")),
    ([], "", "1106513999 x", (1106513999.0, 0, 10, "{^LN-BEG}Epoch")),
    ([], "", "[1106513999.000] x", (1106513999.0, 1, 15, "{^LN-BEG}Epoch")),
    ([], "", "x audit(1106513999.000:987): y", (1106513999.0, 8, 22, "Epoch")),
    ([], "", "21:59:59 x", (1123963199.0, 0, 8, "{^LN-BEG}24hour:Minute:Second")),  # still ahead: yesterday
    ([], "", "<01/23/05@21:59:59> x", (1106513999.0, 0, 19, "^<Month/Day/ExYear2@24hour:Minute:Second>")),
    ([], "", "050123 21:59:59 x", (1106513999.0, 0, 15, "{^LN-BEG}ExYear2ExMonthExDay  ?24hour:Minute:Second")),
    ([], "", "Jan 23, 2005 9:59:59 PM x",
     (1106513999.0, 0, 23, "{^LN-BEG}MON Day, ExYear 12hour:Minute:Second AMPM")),
    ([], "", "Jan-23-05 21:59:59 x", (1106513999.0, 0, 18, "^MON-Day-ExYear2 %k:Minute:Second")),
    ([], "", "20050123T215959 x",
     (1106513999.0, 0, 15, r"{^LN-BEG}ExYearExMonthExDay(?:T|  ?)Ex24hourExMinuteExSecond(?:[.,]Microseconds)?"
                           r"(?:\s*Zone offset)?")),
    ([], "", "PDT Apr 16 21:05:29 x",
     (1113710729.0, 0, 19, r"{^LN-BEG}(?:Zone name )?(?:DAY )?MON Day %k:Minute:Second(?:\.Microseconds)?"
                           r"(?: ExYear)?")),
    ([], "", "+00:00 Jan 23 21:59:59.011 2005 x",
     (1106517599.0, 0, 31, r"{^LN-BEG}(?:Zone offset )?(?:DAY )?MON Day %k:Minute:Second(?:\.Microseconds)?"
                           r"(?: ExYear)?")),
    ([], "", "@4000000041f4104f00000000 x", (1106513999.0, 0, 25, "{^LN-BEG}TAI64N")),
    ([], "", "2005-01-23T20:59:59.252Z x", (1106513999.0, 0, 24, ISO)),
    ([], "", "2005-01-23T15:59:59-05:00 x", (1106513999.0, 0, 25, ISO)),
    ([], "", "x 2005-01-23 21:59:59 y", (1106513999.0, 2, 21, ISO.removeprefix("{^LN-BEG}"))),
    ([], "", "no date here", None),
    ([], "", "Feb 30 21:59:59 x", None),  # found, but not a date
    ([], "", "Sep  1 21:59:59 x", (1094068799.0, 0, 15, SYSLOG)),  # more than a day ahead: last year
    ([], "", "Aug 15 11:59:59 x", (1124099999.0, 0, 15, SYSLOG)),  # less than a day ahead: this year
    ([], "", "Aug 15 12:00:01 x", (1092564001.0, 0, 15, SYSLOG)),
    (["{^LN-BEG}%H:%M:%S"], "", "12:00:01 x", (1123927201.0, 0, 8, "{^LN-BEG}24hour:Minute:Second")),
    (["{^LN-BEG}%H:%M:%S"], "", "11:59:59 x", (1124013599.0, 0, 8, "{^LN-BEG}24hour:Minute:Second")),
    (["^%ExY-%Exm-%Exd %H:%M:%S(?: ?%Exz)?"], "UTC+0300", "2017-01-23 15:00:00 x",
     (1485172800.0, 0, 19, "^ExYear-ExMonth-ExDay 24hour:Minute:Second(?: ?ExZone offset)?")),
    (["^%ExY-%Exm-%Exd %H:%M:%S(?: ?%Exz)?"], "UTC+0300", "2017-01-23 15:00:00 CET+0130 x",
     (1485174600.0, 0, 28, "^ExYear-ExMonth-ExDay 24hour:Minute:Second(?: ?ExZone offset)?")),
    (["^%ExY-%Exm-%Exd %H:%M:%S(?: ?%Exz)?"], "", "2017-01-23 15:00:00 -10:45 x",
     (1485222300.0, 0, 26, "^ExYear-ExMonth-ExDay 24hour:Minute:Second(?: ?ExZone offset)?")),
    ([r"^[^\[]*\[({DATE})"], "", "host [Jan 23 21:59:59] x",
     (1106513999.0, 6, 21, r"^[^\[]*\[((?:DAY )?MON Day %k:Minute:Second(?:\.Microseconds)?(?: ExYear)?)")),
    (["LEPOCH"], "", "1138049999123 x", (1138049999.123, 0, 13, "LongEpoch")),
    (["LEPOCH"], "", "1138049999123456 x", (1138049999.123456, 0, 16, "LongEpoch")),
    (["{NONE}"], "", "Jan 23 21:59:59 x", (NOW, 0, 0, "^")),
    (["^%B %Exd %I:%ExM:%ExS**"], "", "January 23 12:59:59",
     (1106438399.0, 0, 19, "^MONTH ExDay 12hour:ExMinute:ExSecond**")),
    (["^%y %W %w %ExH:%ExM:%ExS**"], "", "01 11 0 21:59:59",
     (984949199.0, 0, 16, "^Year2 Yearweek Weekday Ex24hour:ExMinute:ExSecond**")),
    (["^%y %U %A %ExH:%ExM:%ExS**"], "", "01 11 Wednesday 21:59:59",
     (985208399.0, 0, 24, "^Year2 Yearweek DAYNAME Ex24hour:ExMinute:ExSecond**")),
    (["^%j %Y %H:%M:%S"], "", "023 2005 21:59:59 x", (1106513999.0, 0, 17, "^Yearday Year 24hour:Minute:Second")),
    (["^%Y-%m-%d%z**"], "", "2004-09-01Z", (1093996800.0, 0, 11, "^Year-Month-DayZone offset**")),
    (["^%d %b %Y %l:%M:%S %p"], "", "23 Jan 2005  9:59:59 pm x",
     (1106513999.0, 0, 23, "^Day MON Year %l:Minute:Second AMPM")),
    (["%H:%M:%S %d.%m.%Y$"], "", "192.0.2.1 at 20:00:00 01.02.2003",
     (1044126000.0, 13, 32, "24hour:Minute:Second Day.Month.Year$")),
    (["**%H:%M:%S %d.%m.%Y**"], "", "192.0.2.1x20:00:00 01.02.2003",
     (1044126000.0, 10, 29, "**24hour:Minute:Second Day.Month.Year**")),
    (["%H:%M:%S %d.%m.%Y"], "", "192.0.2.1x20:00:00 01.02.2003", None),  # inside a word
    (["{^LN-BEG}%ExY%Exm%Exd%ExH%ExM%ExS**"], "", "##2003123001020320030101000000",
     (1072742523.0, 2, 16, "{^LN-BEG}ExYearExMonthExDayEx24hourExMinuteExSecond**")),
    (["{^LN-BEG}TAI64N"], "", "x @4000000041f4104f00000000", None),
]


@pytest.mark.parametrize(("patterns", "logtimezone", "line", "expected"), CASES)
def test_find(patterns: list[str], logtimezone: str, line: str,
              expected: tuple[float, int, int, str] | None) -> None:
    hit = DateDetector(patterns, logtimezone=logtimezone).find(line, NOW)
    assert (None if hit is None else (hit.time, hit.start, hit.end, hit.template)) == expected


@pytest.mark.parametrize(("patterns", "logtimezone", "message"), [
    (["%Q"], "", "datepattern = '%Q': unknown directive %Q at offset 0 (write %% for a literal percent sign)"),
    (["50%"], "", "datepattern = '50%': a lone % at the end (offset 2) (write %% for a literal percent sign)"),
    (["%Exq"], "", "datepattern = '%Exq': unknown directive %E at offset 0 (write %% for a literal percent sign)"),
    (["(%H"], "", "datepattern = '(%H': is not a valid regex with its directives expanded: missing ), "
                  "unterminated subpattern (check parentheses and escapes; each directive may appear once)"),
    (["%H:%M", "%H:%M"], "",
     "datepattern = '%H:%M': repeats the date template '24hour:Minute' (remove the repeated line)"),
    ([], "Europe/Paris", "logtimezone = 'Europe/Paris': unknown or unsupported time zone: 'Europe/Paris' "
                         "(use UTC, UTC+0200, -04:30 or an abbreviation such as CET)"),
    ([], "ABC", "logtimezone = 'ABC': unknown time zone abbreviation: 'ABC' "
                "(use UTC, UTC+0200, -04:30 or an abbreviation such as CET)"),
])
def test_errors(patterns: list[str], logtimezone: str, message: str) -> None:
    with pytest.raises(ConfigError) as raised:
        DateDetector(patterns, logtimezone=logtimezone)
    assert str(raised.value) == message
    assert isinstance(raised.value, RegexError) == bool(patterns)


@pytest.mark.parametrize(("patterns", "count", "anchored"), [
    ([], 31, 17),
    (["", "  "], 31, 17),  # blank lines are no patterns
    (["{DEFAULT}"], 31, 17),
    (["%H:%M:%S", "{DEFAULT}"], 1, 0),  # upstream: {DEFAULT} next to other patterns adds nothing
    (["{^LN-BEG}"], 17, 17),
    (["^{DATE}"], 17, 17),
    ([r"%H:%M:%S %d.%m.%Y$", "{^LN-BEG}"], 18, 17),
    (["{NONE}"], 1, 1),
    (["EPOCH", "TAI64N"], 2, 0),
])
def test_template_sets(patterns: list[str], count: int, anchored: int) -> None:
    templates = DateDetector(patterns).templates
    assert (len(templates), sum(t.anchored for t in templates)) == (count, anchored)
    assert len({t.name for t in templates}) == count


def test_templates_can_count_hits_over_a_chunk() -> None:
    template = DateDetector().templates[1]
    chunk = "Jan 23 21:59:59 a\nx Jan 23 21:59:59 b\nJan  2 01:00:00 c\n"
    assert template.anchored
    lines = re.compile(template.regex.pattern, template.regex.flags | re.MULTILINE).findall(chunk)
    assert len(lines) == 2


def test_none_property() -> None:
    assert DateDetector(["{NONE}"]).none
    assert not DateDetector([]).none
    assert not DateDetector(["{^LN-BEG}"]).none


def test_winning_template_moves_to_the_front() -> None:
    detector = DateDetector()
    for _ in range(3):
        detector.find("x 2005-01-23 21:59:59 y", NOW)
    assert detector.templates[0].name == ISO.removeprefix("{^LN-BEG}")


def test_cached_answer_is_the_same_object_and_follows_the_span() -> None:
    detector = DateDetector()
    first = detector.find("Jan 23 21:59:59 host a", NOW)
    again = detector.find("Jan 23 21:59:59 host b", NOW)
    shifted = detector.find("[Jan 23 21:59:59] host c", NOW)
    assert again is first
    assert shifted is not None and first is not None
    assert (shifted.time, shifted.start, shifted.end) == (first.time, 1, 16)


def test_empty_date_takes_the_last_date_for_a_minute() -> None:
    detector = DateDetector(["{UNB}^(?:%H:%M:%S )?"])
    dated = detector.find("11:00:00 x", NOW)
    assert dated is not None and dated.time == NOW - 3600
    assert [(h.time, h.start, h.end) for h in (detector.find("x", NOW - 3600 + 59), detector.find("y", NOW))
            if h is not None] == [(NOW - 3600, 0, 0), (NOW, 0, 0)]


def test_assumed_year_follows_now_while_time_passes() -> None:
    # a date without year is in the year of `now` (the previous one if more than a day ahead), so a cached
    # answer must change at new year
    detector = DateDetector()
    new_year = 1104534000.0  # 2005-01-01 00:00 CET
    line = "Jan  1 00:30:00 host x"
    answers = [detector.find(line, now) for now in (new_year - 86400 * 2, new_year - 3600, new_year + 7200)]
    assert [a.time if a else None for a in answers] == [1072913400.0, 1072913400.0, 1104535800.0]
