"""strptime-like date patterns, the way fail2ban reads them.

A datepattern is a regular expression in which `%X` directives stand for date fields. This module turns such a
pattern into (a) a regex with one named group per field, (b) the display name fail2ban-regex prints for it, and
converts the fields a match captured into POSIX epoch seconds, with fail2ban's rules for missing parts: no year
means this year (or last year when that would put the date more than a day in the future), no date means today (or
yesterday when the time is still ahead). Zones come from %z/%Z text, else from `logtimezone`, else local time of the
process TZ (banjail.filter.localtime, whose zone_offset and local_epoch are re-exported here).

Pure: `now` is always an argument. The one exception is EX_YEAR, the set of years %ExY accepts, which fail2ban
derives from the calendar year at start-up (from 2000 up to three years ahead); we do the same at import.
"""

from __future__ import annotations

import datetime
import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import NamedTuple

from banjail.filter.localtime import MARGIN, NUM_OFFSET, UNIX_DAY, ZONE_ABBR, LocalZone, Wall
from banjail.filter.localtime import local_epoch as local_epoch
from banjail.filter.localtime import zone_offset as zone_offset

_INF = float("inf")

_MONTHS = ("january", "february", "march", "april", "may", "june", "july", "august", "september", "october",
           "november", "december")
_DAYS = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")
MONTH_ABBR = {name[:3]: number for number, name in enumerate(_MONTHS, 1)}
MONTH_FULL = {name: number for number, name in enumerate(_MONTHS, 1)}
DAY_ABBR = {name[:3]: number for number, name in enumerate(_DAYS)}  # Monday is 0, as datetime.weekday()
DAY_FULL = {name: number for number, name in enumerate(_DAYS)}


def _names(group: str, names: Mapping[str, int]) -> str:
    # Longest first, so that a name is never cut short by another that is its prefix.
    return f"(?P<{group}>" + "|".join(sorted(names, key=lambda n: (-len(n), n))) + ")"


def _year_decades(this_year: int) -> str:
    """Regex for four-digit years from 2000 to this_year + 3, as decade prefixes (fail2ban's %ExY)."""
    decades = [str(decade) for decade in range(200, (this_year + 3) // 10 + 1)]
    return "(?:" + "|".join(decades) + r")\d"


EX_YEAR = _year_decades(datetime.date.today().year)


# directive -> (regex fragment, display name). The fragments are chosen so that every string and every way of
# splitting it that fail2ban accepts is accepted here in the same order of preference (alternation order matters
# where a later part of the pattern can force backtracking).
DIRECTIVES: dict[str, tuple[str, str]] = {
    "a": (_names("a", DAY_ABBR), "DAY"),
    "A": (_names("A", DAY_FULL), "DAYNAME"),
    "b": (_names("b", MONTH_ABBR), "MON"),
    "B": (_names("B", MONTH_FULL), "MONTH"),
    "d": (r"(?P<d>[12][0-9]|[0 ]?[1-9]|3[01])", "Day"),
    "f": (r"(?P<f>[0-9]{1,6})", "Microseconds"),
    "H": (r"(?P<H>[01]?[0-9]|2[0-3])", "24hour"),
    "I": (r"(?P<I>1[012]|0[1-9]|[1-9])", "12hour"),
    "j": (r"(?P<j>36[0-6]|3[0-5][0-9]|[12][0-9][0-9]|0[1-9][0-9]|00[1-9]|[1-9][0-9]|0[1-9]|[1-9])", "Yearday"),
    "m": (r"(?P<m>0?[1-9]|1[012])", "Month"),
    "M": (r"(?P<M>[0-5]?[0-9])", "Minute"),
    "p": (r"(?P<p>am|pm)", "AMPM"),
    "S": (r"(?P<S>[0-5]?[0-9]|6[01])", "Second"),
    "U": (r"(?P<U>5[0-3]|[0-4][0-9]|[0-9])", "Yearweek"),
    "W": (r"(?P<W>5[0-3]|[0-4][0-9]|[0-9])", "Yearweek"),
    "w": (r"(?P<w>[0-6])", "Weekday"),
    "u": (r"(?P<u>[1-7])", "%u"),
    "G": (r"(?P<G>[0-9]{4})", "%G"),
    "V": (r"(?P<V>5[0-3]|0[1-9]|[1-4][0-9]|[0-9])", "%V"),
    "y": (r"(?P<y>[0-9]{2})", "Year2"),
    "Y": (r"(?P<Y>[0-9]{4})", "Year"),
    # %z: only literal Z/UTC/GMT or a numeric offset, because the alphabetic directives switch the whole regex to
    # ignore case and a free zone word would then swallow ordinary words; %Z and %Exz take abbreviations.
    "z": (rf"(?P<z>Z|UTC|GMT|{NUM_OFFSET})", "Zone offset"),
    "Z": (r"(?P<Z>Z|[A-Z]{3,5})", "Zone name"),
    "k": (r" ?(?P<H>[0-2]?[0-9])", "%k"),
    "l": (r" ?(?P<I>1?[0-9])", "%l"),
    "c": (r"(?P<a>mon|tue|wed|thu|fri|sat|sun)\s+(?P<b>jan|feb|mar|apr|may|jun|jul|aug|sep|oct|nov|dec)\s+"
          r"(?P<d>3[01]|[12][0-9]|0[1-9]|[1-9]| [1-9])\s+(?P<H>2[0-3]|[01][0-9]|[0-9]):(?P<M>[0-5][0-9]|[0-9]):"
          r"(?P<S>6[01]|[0-5][0-9]|[0-9])\s+(?P<Y>[0-9][0-9][0-9][0-9])", "%c"),
    "x": (r"(?P<m>1[012]|0[1-9]|[1-9])/(?P<d>3[01]|[12][0-9]|0[1-9]|[1-9]| [1-9])/(?P<y>[0-9][0-9])", "%x"),
    "X": (r"(?P<H>2[0-3]|[01][0-9]|[0-9]):(?P<M>[0-5][0-9]|[0-9]):(?P<S>6[01]|[0-5][0-9]|[0-9])", "%X"),
    "%": ("%", "%"),
    # fail2ban's exact ("Ex") forms: fixed two digits, restricted years, zone abbreviations.
    "ExY": (rf"(?P<Y>{EX_YEAR})", "ExYear"),
    "Exy": (r"(?P<y>[0-9]{2})", "ExYear2"),
    "Exm": (r"(?P<m>0[1-9]|1[012])", "ExMonth"),
    "Exd": (r"(?P<d>[12][0-9]|0[1-9]|3[01])", "ExDay"),
    "ExH": (r"(?P<H>[01][0-9]|2[0-3])", "Ex24hour"),
    "ExM": (r"(?P<M>[0-5][0-9])", "ExMinute"),
    "ExS": (r"(?P<S>[0-5][0-9]|6[01])", "ExSecond"),
    "Exk": (r" ?(?P<H>[01]?[0-9]|2[0-3])", "%Exk"),
    "Exl": (r" ?(?P<I>1[012]|[0-9])", "%Exl"),
    "ExZ": (rf"(?P<Z>{ZONE_ABBR})", "ExZone name"),
    "Exz": (rf"(?P<z>(?:{ZONE_ABBR})?{NUM_OFFSET}|{ZONE_ABBR})", "ExZone offset"),
}

# A directive is "%" then an Ex-form or a single character.
_DIRECTIVE = re.compile(r"%(Ex[A-Za-z]|.|$)", re.DOTALL)
# Directives whose text is alphabetic: a pattern using one is matched ignoring case (fail2ban does the same).
_ALPHA = re.compile(r"(?<!%)%[aAbBpc]")

# Ignoring case costs about half the time of a syslog date match. When the pattern's own text (outside the
# directives) has nothing case can change, the directives' fragments are rewritten to match both cases explicitly
# instead, character for character as Python's re.IGNORECASE would (including the four non-ASCII characters that
# fold to ASCII letters), and the regex runs without the flag.
_FOLDS = {"i": "\u0130\u0131", "k": "\u212a", "s": "\u017f"}
_UPPER_FOLDS = "".join(_FOLDS.values())


def _fold(fragment: str) -> str:
    out: list[str] = []
    in_class = False
    i = 0
    while i < len(fragment):
        c = fragment[i]
        if c == "\\":
            out.append(fragment[i:i + 2])
            i += 2
            continue
        if not in_class and fragment.startswith("(?P<", i):
            end = fragment.index(">", i) + 1
            out.append(fragment[i:end])
            i = end
            continue
        if c == "[":
            in_class = True
        elif c == "]":
            in_class = False
        if in_class and fragment.startswith("A-Z", i):
            out.append("A-Za-z" + _UPPER_FOLDS)
            i += 3
            continue
        if c.isalpha() and c.isascii():
            low = c.lower()
            folded = c.upper() + low + _FOLDS.get(low, "")
            out.append(folded if in_class else f"[{folded}]")
        else:
            out.append(c)
        i += 1
    return "".join(out)


_FOLDED = {key: _fold(regex) for key, (regex, _) in DIRECTIVES.items()}
# Pattern text that case cannot affect: group syntax, class escapes, escaped punctuation, and backreferences only
# to groups of one letterless character class (the "_sep" separators of the default templates).
_SIMPLE_GROUP = re.compile(r"\(\?P<(\w+)>\[[^\]\\A-Za-z]*\]\)")
_CASELESS_TOKEN = re.compile(r"\(\?P<\w+>|\(\?P=(\w+)\)|\(\?[:=!]|\(\?<[=!]|\\[sSdDwWbB]|\\[^A-Za-z0-9]")


def _caseless(text: str) -> bool:
    simple = set(_SIMPLE_GROUP.findall(text))
    for m in _CASELESS_TOKEN.finditer(text):
        if m.group(1) is not None and m.group(1) not in simple:
            return False
    rest = _CASELESS_TOKEN.sub("", text)
    return not any(c == "\\" or c.isalpha() or not c.isascii() for c in rest)


@dataclass(frozen=True, slots=True)
class Translation:
    regex: str  # the pattern with every directive replaced by its fragment
    name: str  # the pattern with every directive replaced by its display name
    ignore_case: bool  # the regex must be compiled ignoring case


def translate(pattern: str) -> Translation:
    """Translate a datepattern (already without {UNB}/{^LN-BEG}) into regex text and display name.

    Raises ValueError naming the first unknown directive (a lone '%' must be written '%%').
    """
    literal: list[str] = []
    keys: list[str] = []
    pos = 0
    for m in _DIRECTIVE.finditer(pattern):
        key = m.group(1)
        if key not in DIRECTIVES:
            if not key:
                raise ValueError(f"a lone % at the end (offset {m.start()})")
            shown = "E" if key.startswith("Ex") else key  # "%Ex" and an unknown letter: the unknown one is %E
            raise ValueError(f"unknown directive %{shown} at offset {m.start()}")
        literal.append(pattern[pos:m.start()])
        keys.append(key)
        pos = m.end()
    literal.append(pattern[pos:])
    ignore_case = bool(_ALPHA.search(pattern))
    folded = ignore_case and _caseless("".join(literal))
    fragments = [_FOLDED[key] if folded else DIRECTIVES[key][0] for key in keys]
    names = [DIRECTIVES[key][1] for key in keys]
    regex = "".join(part for pair in zip(literal, [*fragments, ""], strict=True) for part in pair)
    name = "".join(part for pair in zip(literal, [*names, ""], strict=True) for part in pair)
    return Translation(regex, name, ignore_case and not folded)


class Parsed(NamedTuple):
    """An epoch and the interval of `now` values [valid_from, valid_until) for which it is the same answer.
    (A named tuple: made for every new date text, it must be cheap.)"""

    epoch: float
    valid_from: float = -_INF
    valid_until: float = _INF


def _week_date(year: int, week: int, weekday: int, sunday_first: bool) -> datetime.date:
    """The day of `year` in week `week` (%U: weeks start on Sunday, %W: on Monday) with weekday (Monday=0)."""
    jan1 = datetime.date(year, 1, 1)
    first = jan1.weekday()
    if sunday_first:  # renumber so the week's first day is 0
        first, weekday = (first + 1) % 7, (weekday + 1) % 7
    if week == 0:
        return jan1 + datetime.timedelta(days=weekday - first)
    return jan1 + datetime.timedelta(days=(7 - first) % 7 + 7 * (week - 1) + weekday)


def _check(value: int, top: int, what: str) -> int:
    if not 0 <= value <= top:
        raise ValueError(f"{what} must be in 0..{top}")
    return value


def fields_to_epoch(fields: Mapping[str, str | None], now: float, default_offset: int | None,
                    last: float | None = None, zone: LocalZone | None = None) -> Parsed:
    """Epoch seconds for the date fields one match captured (group name -> text), as fail2ban computes them.

    Fractions of a second are dropped (fail2ban keeps whole seconds for pattern dates). A zone in the text wins
    over default_offset (minutes east of UTC); with neither, the date is local time. Raises ValueError for a date
    that does not exist (Feb 30, an unknown zone, a day without a month). `last`: the epoch of the date before
    (see local_epoch). `zone`: the detector's memo of local time (a fresh one if not given).
    """
    year = month = day = offset = weekday = yday = week = None
    sunday_first = False
    hour = minute = second = 0
    for key, val in fields.items():
        if val is None:
            continue
        if key == "y":
            year = int(val)
            year += 2000 if year <= 2000 else 0
        elif key == "Y":
            year = int(val)
        elif key == "m":
            month = int(val)
        elif key in ("b", "B"):
            month = (MONTH_ABBR if key == "b" else MONTH_FULL)[val.lower()]
        elif key == "d":
            day = int(val)
        elif key == "H":
            hour = int(val)
        elif key == "M":
            minute = int(val)
        elif key == "S":
            second = int(val)
        elif key == "I":
            hour = int(val)
            ampm = (fields.get("p") or "").lower()
            if ampm in ("", "am"):
                hour = 0 if hour == 12 else hour
            elif ampm == "pm" and hour != 12:
                hour += 12
        elif key in ("a", "A"):
            weekday = (DAY_ABBR if key == "a" else DAY_FULL)[val.lower()]
        elif key == "w":
            weekday = (int(val) - 1) % 7
        elif key == "j":
            yday = int(val)
        elif key in ("U", "W"):
            week, sunday_first = int(val), key == "U"
        elif key in ("z", "Z"):
            offset = 0 if val in ("Z", "UTC", "GMT") else zone_offset(val)

    zone = zone or LocalZone()
    wall_now, this_year = zone.wall(now)
    assume_year = year is None
    if year is None:
        year = this_year
    if month is None or day is None:
        if yday is None and week is not None and weekday is not None:
            yday = _week_date(year, week, weekday, sunday_first).timetuple().tm_yday
        if yday is not None:
            found = datetime.date(year, 1, 1) + datetime.timedelta(days=yday - 1)
            year, month, day = found.year, found.month, found.day
    assume_today = month is None and day is None
    if month is None or day is None:
        if not assume_today:
            raise ValueError("a day without a month (or a month without a day) is not a date")
        today = datetime.date.fromordinal(wall_now[0])
        month, day = today.month, today.day

    ordinal = datetime.date(year, month, day).toordinal()
    seconds = _check(hour, 23, "hour") * 3600 + _check(minute, 59, "minute") * 60 + _check(second, 59, "second")
    if offset is None:
        offset = default_offset
    if offset is not None:
        shift, seconds = divmod(seconds - offset * 60, 86400)
        ordinal += shift
    # The answer depends on `now` only through the roll-back rules below (and the calendar day or year that
    # supplied the missing parts); record for which `now` it stays the same. Each rule compares a threshold
    # with the local wall time of now: rolled back while threshold > wall_now.
    thresholds: list[Wall] = []
    if assume_today:
        thresholds.append((ordinal, seconds))
        if (ordinal, seconds) > wall_now:  # still ahead today: it was yesterday
            ordinal -= 1
    if assume_year:
        thresholds.append((ordinal - 1, seconds))
        if (ordinal - 1, seconds) > wall_now:  # more than a day ahead (a day of slack for zone errors): last year
            ordinal = datetime.date(year - 1, month, day).toordinal()
    valid_from, valid_until = -_INF, _INF
    if thresholds:
        valid_from = now
        boundary = wall_now[0] + 1 if assume_today else datetime.date(this_year + 1, 1, 1).toordinal()
        valid_until = zone.reached((boundary, 0))
        for threshold in thresholds:
            if threshold > wall_now:  # rolled back until wall time reaches the threshold
                valid_until = min(valid_until, zone.reached(threshold))
            elif ((wall_now[0] - threshold[0]) * 86400 + wall_now[1] - threshold[1] < MARGIN
                  and zone.steady_offset(wall_now[0]) is None):
                valid_until = valid_from  # a DST change could take wall time back below the threshold
    if offset is not None:
        return Parsed(float((ordinal - UNIX_DAY) * 86400 + seconds), valid_from, valid_until)
    epoch, twice = zone.epoch((ordinal, seconds), last)
    if twice:  # the answer depends on the date before: never the same for all `now`
        valid_from = valid_until = now
    return Parsed(epoch, valid_from, valid_until)
