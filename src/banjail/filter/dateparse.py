"""Turning the match of a date template into an epoch, with the memos that make repeated work cheap.

One Entry per template and detector holds the detector's statistics of the template and three memos, each answer
kept with the interval of `now` [valid_from, valid_until) for which it holds (dates without a year or a day depend
on `now`; see banjail.filter.strptime):

- by text: the DateHit of a date text already seen (DateDetector keeps it, so a repeated text costs a dict lookup);
- by text without its fraction: pattern dates keep whole seconds, so "10:11:12.123" and "10:11:12.987" have the
  same epoch; ISO 8601 logs with unique microseconds hit this memo instead of missing the first;
- by day: the epoch of a day's midnight, so a new second of a day already seen costs its time of day only.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Protocol

from banjail.filter.dateregex import group_one, single_line, starts_line
from banjail.filter.datetemplate import (
    EPOCH_KIND,
    LINE_BEGIN,
    LINE_END,
    PATTERN,
    TAI64N,
    TIME_OF_DAY,
    TemplateDef,
)
from banjail.filter.localtime import LocalZone
from banjail.filter.strptime import Parsed, fields_to_epoch

CACHE_MAX = 4096  # distinct date texts (days, seconds) remembered per template before a memo is cleared
FAR = 0x7FFFFFFF
PARSE_ERRORS = (ValueError, KeyError, IndexError, OverflowError, OSError)


@dataclass(frozen=True, slots=True)
class DateHit:
    """A date found in a line: its epoch, the span of its text (to be cut before regexes run), and the display
    name of the template that found it."""

    time: float
    start: int
    end: int
    template: str


# A DateHit made without the frozen dataclass's __init__ (which costs twice as much): slots set directly.
_new_object = object.__new__
_slot = vars(DateHit)
_set_time, _set_start, _set_end = _slot["time"].__set__, _slot["start"].__set__, _slot["end"].__set__
_set_template = _slot["template"].__set__


def new_hit(time: float, start: int, end: int, template: str) -> DateHit:
    """DateHit(time, start, end, template), made faster."""
    hit: DateHit = _new_object(DateHit)
    _set_time(hit, time)
    _set_start(hit, start)
    _set_end(hit, end)
    _set_template(hit, template)
    return hit


class Span(Protocol):
    """Where the last date was found: a match, or AtLineStart after note_hits."""

    @property
    def string(self) -> str: ...

    def start(self) -> int: ...

    def end(self) -> int: ...


class AtLineStart:
    """The place of the last date after note_hits: its template matches at line start only (so the match began
    at 0); with an anchored last template, nothing reads the rest (_locate skips it, find takes the fast path)."""

    string = ""

    def start(self) -> int:
        return 0

    def end(self) -> int:
        return 0


AT_LINE_START = AtLineStart()


_UNKNOWN: re.Pattern[str] = re.compile("")  # a derived regex not computed yet (None: there is none)


class Entry:
    """A template in one detector: the detector's usage statistics of it and its memos."""

    __slots__ = ("_chunk", "_text", "cache", "days", "defn", "distance", "epoch", "fixed", "fraction", "fractions",
                 "hits", "last_used", "name", "regex", "starts_line", "weight")

    def __init__(self, defn: TemplateDef, weight: float) -> None:
        self.defn = defn
        self.name = defn.name
        self.regex = defn.regex
        self.fixed = bool(defn.flags & (LINE_BEGIN | LINE_END))
        self.weight = weight
        self.hits = 0
        self.last_used = 0.0
        self.distance = FAR
        self.cache: dict[str, tuple[DateHit, float, float]] = {}
        # a pattern date's fraction of a second changes nothing: text without it -> (hit, valid from, until)
        self.fraction = defn.kind == PATTERN and "f" in defn.regex.groupindex
        self.fractions: dict[str, tuple[DateHit, float, float]] = {}
        self.epoch = defn.kind == EPOCH_KIND
        # day fields -> (epoch of 00:00:00 or None when the day is not linear, valid from, valid until)
        self.days: dict[tuple[str | None, ...], tuple[float | None, float, float]] = {}
        # every match starts its line (so the fast path's match always starts at 0)
        self.starts_line = bool(defn.flags & LINE_BEGIN) and starts_line(defn.regex)
        self._text = _UNKNOWN
        self._chunk = _UNKNOWN

    def score(self) -> float:
        return self.hits * self.weight / max(1, self.distance)

    def text_regex(self) -> re.Pattern[str] | None:
        """Group 1 alone, for parsing a date text without its line (None: not derivable)."""
        if self._text is _UNKNOWN:
            self._text = group_one(self.regex)  # type: ignore[assignment]
        return self._text

    def line_source(self) -> str | None:
        """The newline-free form of the regex with scoped flags, for a template that matches at line start only."""
        found = single_line(self.regex) if self.starts_line else None
        if found is None:
            return None
        scoped = "".join(letter for flag, letter in ((re.IGNORECASE, "i"), (re.ASCII, "a")) if found.flags & flag)
        return f"(?{scoped}:{found.pattern})" if scoped else found.pattern

    def chunk_regex(self) -> re.Pattern[str] | None:
        """A regex that fully matches a chunk of lines exactly when this template matches every line alone (None:
        not derivable, or the template does not always match at line start)."""
        if self._chunk is _UNKNOWN:
            found = single_line(self.regex) if self.starts_line else None
            if found is not None:
                # each line: the template at its start, the rest of the line, its end (the last may lack "\n")
                found = re.compile(f"(?:(?:{found.pattern})[^\\n]*(?:\\n|\\Z))*+", found.flags)
            self._chunk = found  # type: ignore[assignment]
        return self._chunk


def resolve(entry: Entry, m: re.Match[str], text: str, now: float, offset: int | None, zone: LocalZone,
            last: float | None) -> Parsed | None:
    """The epoch of the date text `text` that `m` (a match of the entry's regex, or of its text_regex) found, and
    for which `now` it holds; None if it is not a valid date. offset: logtimezone (minutes east of UTC, None:
    local time); zone: the detector's local time memo; last: the epoch of the date before (see local_epoch)."""
    try:
        if entry.defn.day_keys is not None:
            found = _by_day(entry, m, now, offset, zone)
            if found is not None:
                return found
        return _parse(entry.defn, m, text, now, offset, zone, last)
    except PARSE_ERRORS:
        return None


def _by_day(entry: Entry, m: re.Match[str], now: float, offset: int | None, zone: LocalZone) -> Parsed | None:
    """The date from the epoch of its day's midnight plus its time of day, when the day is linear: the epochs of
    00:00:00 and 23:59:59 are 86399 s apart (no roll-over boundary, no DST change inside it). Saves the full parse
    for every new second of a day already seen. None: parse in full."""
    keys = entry.defn.day_keys
    assert keys is not None
    key: tuple[str | None, ...] = m.group(*keys) if len(keys) > 1 else tuple(m.group(k) for k in keys)
    day = entry.days.get(key)
    if day is None or not day[1] <= now < day[2]:
        fields = m.groupdict()
        first = fields_to_epoch({**fields, "H": "0", "M": "0", "S": "0"}, now, offset, None, zone)
        last = fields_to_epoch({**fields, "H": "23", "M": "59", "S": "59"}, now, offset, None, zone)
        # each answer's roll-back decisions are monotonic in the time of day: both hold for all between
        valid_from = max(first.valid_from, last.valid_from)
        valid_until = min(first.valid_until, last.valid_until)
        linear = last.epoch - first.epoch == 86399
        day = (first.epoch if linear else None, valid_from, valid_until)
        if valid_from < valid_until:
            if len(entry.days) >= CACHE_MAX:
                entry.days.clear()
            entry.days[key] = day
        elif not linear:
            return None
    if day[0] is None:
        return None
    hour, minute, second = map(int, m.group(*TIME_OF_DAY))
    if hour > 23 or minute > 59 or second > 59:
        raise ValueError("not a time of day")
    return Parsed(day[0] + hour * 3600 + minute * 60 + second, day[1], day[2])


def minute_base(entry: Entry, m: re.Match[str], now: float) -> float | None:
    """The epoch of the minute of the date `m` matched (a match of the entry's text_regex), when _by_day gives
    every date that differs from it only in its seconds (0-59) and its fraction, its other fields equal, that
    epoch plus its seconds at `now`: the entry reads dates by their day and the day memo holds the day, linear
    and valid at `now`. None otherwise (then such dates must be parsed one by one)."""
    keys = entry.defn.day_keys
    if keys is None:
        return None
    key: tuple[str | None, ...] = m.group(*keys) if len(keys) > 1 else tuple(m.group(k) for k in keys)
    day = entry.days.get(key)
    if day is None or day[0] is None or not day[1] <= now < day[2]:
        return None
    hour, minute = int(m.group("H")), int(m.group("M"))
    if hour > 23 or minute > 59:
        return None
    return day[0] + hour * 3600 + minute * 60


def _parse(defn: TemplateDef, m: re.Match[str], text: str, now: float, offset: int | None, zone: LocalZone,
           last: float | None) -> Parsed:
    if defn.kind == EPOCH_KIND:
        return Parsed(epoch_seconds(defn, m.group(defn.group)))
    if defn.kind == TAI64N:
        return Parsed(float(int(text[2:17], 16)))  # the seconds of the TAI64 label, as fail2ban reads them
    return fields_to_epoch(m.groupdict(), now, offset, last, zone)


def epoch_seconds(defn: TemplateDef, digits: str) -> float:
    """The epoch an EPOCH or LEPOCH template's digits stand for (valid for every `now`)."""
    if defn.long and len(digits) >= 13:
        # milliseconds, or microseconds when 16+ digits without a fraction
        return float(digits) / (1000000 if len(digits) >= 16 and "." not in digits else 1000)
    return float(digits)


def new_date(entry: Entry, m: re.Match[str], text: str, start: int, end: int, now: float, offset: int | None,
             zone: LocalZone, last: float | None) -> DateHit | None:
    """The date of a text (group 1 of `m`, at [start, end)) not in the entry's cache or not valid at `now`:
    from the memo by text without fraction, or resolved and then remembered (see resolve for the rest). A text
    with a fraction of a second rarely comes again: a pattern date's is remembered without it, an epoch's not at
    all (parsing it again is cheaper)."""
    key = None
    if entry.fraction:
        fs, fe = m.span("f")
        if fs >= 0:
            key = text[:fs - start] + text[fe - start:]
            found = entry.fractions.get(key)
            if found is not None and found[1] <= now < found[2]:
                hit = found[0]
                if hit.start != start or hit.end != end:  # elsewhere, or a fraction of another length
                    hit = new_hit(hit.time, start, end, entry.name)
                    entry.fractions[key] = (hit, found[1], found[2])
                return hit
    elif entry.epoch and "." in text:
        try:
            return new_hit(epoch_seconds(entry.defn, m.group(entry.defn.group)), start, end, entry.name)
        except PARSE_ERRORS:
            return None
    parsed = resolve(entry, m, text, now, offset, zone, last)
    if parsed is None:
        return None
    hit = new_hit(parsed[0], start, end, entry.name)
    if parsed[1] < parsed[2]:
        memo, remembered = (entry.fractions, key) if key is not None else (entry.cache, text)
        if len(memo) >= CACHE_MAX:
            memo.clear()
        memo[remembered] = (hit, parsed[1], parsed[2])
    return hit
