"""Find, parse and cut the timestamp of a log line, with fail2ban's templates and preferences.

A DateDetector holds an ordered list of date templates: the `datepattern` lines of a filter, or fail2ban's default
set (ISO 8601, syslog with and without year, apache/CLF, EPOCH, LEPOCH, TAI64N, time-only, MySQL, Exim, ...), each
default also in a line-begin form that is tried first (the templates themselves: banjail.filter.datetemplate). For each line it finds the template whose date is nearest to
the start of the line, prefers the template that hit last time, and moves templates that keep hitting towards the
front, all exactly as fail2ban 1.0.2 does, so the same lines get the same dates and the same template names.

Speed: the last template that hit is tried first (and when it is anchored, its statistics are booked later in one
go); a date text already seen is not parsed again (per-template bounded cache of DateHits, each valid for a known
interval of `now`), so on that path `find` makes no object besides the cut text. A new text of a day already seen
costs its time of day only: a per-template memo keeps each linear day's midnight epoch.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from banjail.errors import ConfigError, Problem
from banjail.filter.datetemplate import (
    DEFAULT_SPECS,
    EPOCH_KIND,
    LINE_BEGIN,
    LINE_END,
    PATTERN,
    TAI64N,
    TIME_OF_DAY,
    Template,
    TemplateDef,
    default_set,
    define,
    fill_date,
    problem,
    unbound,
)
from banjail.filter.localtime import LocalZone, zone_offset
from banjail.filter.strptime import Parsed, fields_to_epoch

__all__ = ["DateDetector", "DateHit", "Template"]

_CACHE_MAX = 4096  # distinct date texts remembered per template before the cache is cleared
_UNUSED_AFTER = 300.0  # a template unused this long may be displaced by one that hits (fail2ban's 5 minutes)
_FAR = 0x7FFFFFFF


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


def _hit(time: float, start: int, end: int, template: str) -> DateHit:
    hit: DateHit = _new_object(DateHit)
    _set_time(hit, time)
    _set_start(hit, start)
    _set_end(hit, end)
    _set_template(hit, template)
    return hit


class _Entry:
    """A template in one detector, with the detector's usage statistics of it."""

    __slots__ = ("cache", "days", "defn", "distance", "fixed", "hits", "last_used", "name", "regex", "weight")

    def __init__(self, defn: TemplateDef, weight: float) -> None:
        self.defn = defn
        self.name = defn.name
        self.regex = defn.regex
        self.fixed = bool(defn.flags & (LINE_BEGIN | LINE_END))
        self.weight = weight
        self.hits = 0
        self.last_used = 0.0
        self.distance = _FAR
        self.cache: dict[str, tuple[DateHit, float, float]] = {}
        # day fields -> (epoch of 00:00:00 or None when the day is not linear, valid from, valid until)
        self.days: dict[tuple[str | None, ...], tuple[float | None, float, float]] = {}

    def score(self) -> float:
        return self.hits * self.weight / max(1, self.distance)



class DateDetector:
    """Finds the date in log lines with the templates of one filter's `datepattern` (or the defaults).

    Stateful (template order and hit statistics, as fail2ban keeps them); one detector per filter. `find` is
    pure apart from that state: it takes `now` and does no I/O.
    """

    __slots__ = ("_entries", "_fast", "_fast_cache", "_first_unused", "_last", "_last_entry", "_last_hit", "_names",
                 "_none", "_offset", "_prev", "_streak", "_streak_now", "_zone")

    def __init__(self, patterns: Sequence[str] = (), *, logtimezone: str = "") -> None:
        """patterns: datepattern lines ('%%' already reduced to '%'); none (or only blank ones) means the default
        set. logtimezone: zone of dates that carry none ("UTC", "UTC+0200", "-0430", "CET"); empty = local time.
        Raises RegexError for a bad pattern, ConfigError for a bad zone."""
        self._offset: int | None = None
        if logtimezone:
            try:
                self._offset = zone_offset(logtimezone)
            except ValueError as exc:
                raise ConfigError(Problem(str(exc), option="logtimezone", value=logtimezone,
                                          fix="use UTC, UTC+0200, -04:30 or an abbreviation such as CET")) from None
        self._entries: list[_Entry] = []
        self._names: set[str] = set()
        self._none = False
        self._last = -1  # index of the template that found the last date
        self._last_entry: _Entry | None = None  # and the template itself
        self._prev: re.Match[str] | None = None  # where it was found (before any: at 1, no end)
        self._first_unused = 0
        self._last_hit: DateHit | None = None
        # the fast path: search of the last template when it is anchored, its cache, wins not yet booked
        self._fast: Callable[[str], re.Match[str] | None] | None = None
        self._fast_cache: dict[str, tuple[DateHit, float, float]] = {}
        self._streak = 0
        self._streak_now = 0.0
        self._zone = LocalZone()  # local time memo (the process TZ must not change during the detector's life)
        for line in patterns:
            line = line.strip()
            if line:
                self._append(line)
        if not self._entries:
            self._add_defaults(line_begin_only=False)

    @property
    def none(self) -> bool:
        """datepattern {NONE}: lines carry no date; find() answers `now` with an empty span."""
        return self._none

    @property
    def templates(self) -> tuple[Template, ...]:
        """The templates in the order they are tried now."""
        return tuple(Template(e.name, e.regex, bool(e.defn.flags & LINE_BEGIN)) for e in self._entries)

    def find(self, line: str, now: float) -> DateHit | None:
        """The date of `line`, or None if no template finds one (or the text found is not a valid date).

        An empty date (datepattern {NONE}, or an optional date absent) gives the last date found if it is less
        than a minute older than `now`, else `now`, with an empty span.
        """
        fast = self._fast
        if fast is not None:
            # The common case: the anchored template that won last time wins again. Its statistics are booked
            # later, in one go (_book), so this path only stores the match.
            m = fast(line)
            if m is not None:
                self._prev = m
                self._streak += 1
                self._streak_now = now
                start, end = m.span(1)
                if start != end:
                    cached = self._fast_cache.get(line[start:end])
                    if cached is not None and cached[1] <= now < cached[2] and cached[0].start == start:
                        self._last_hit = cached[0]
                        return cached[0]
                return self._date(self._entries[self._last], m, line, now)
        elif self._last_entry is not None and self._prev is not None:
            # An unanchored template won last time: it wins again when found at the same place, between the
            # same kind of characters (the first try of _locate, booked like the anchored case).
            prev = self._prev
            start, end = prev.start(), prev.end()
            if self._same_bounds(line, start, end):
                m = self._last_entry.regex.search(line, start, end)
                if m is not None and ((m.start() == start and m.end() == end) or len(self._entries) == 1):
                    self._prev = m
                    self._streak += 1
                    self._streak_now = now
                    return self._date(self._last_entry, m, line, now)
        self._book()
        found = self._locate(line, fast is not None)
        if found is None:
            return None
        m, i = found
        entry = self._entries[i]
        entry.hits += 1
        entry.last_used = now
        entry.distance = m.start()
        if self._first_unused == i:
            self._first_unused += 1
        self._prev = m
        if i != self._last:
            self._last = self._promote(i) if i else i
            self._last_entry = entry
            self._fast = entry.regex.search if entry.fixed else None
            self._fast_cache = entry.cache
        return self._date(entry, m, line, now)

    def _book(self) -> None:
        """Book the wins of the fast path into the last template's statistics, as if done one by one."""
        entry = self._last_entry
        if self._streak and entry is not None and self._prev is not None:
            entry.hits += self._streak
            entry.last_used = self._streak_now
            entry.distance = self._prev.start()
            if self._first_unused == self._last:
                self._first_unused += 1
            self._streak = 0

    def _date(self, entry: _Entry, m: re.Match[str], line: str, now: float) -> DateHit | None:
        """The date the winning match `m` of `entry` found, from the cache or parsed (and then cached)."""
        start, end = m.span(1)
        if start == end:
            last = self._last_hit
            return DateHit(last.time if last is not None and last.time > now - 60 else now, start, end, entry.name)
        text = line[start:end]
        cached = entry.cache.get(text)
        if cached is not None:
            hit, valid_from, valid_until = cached
            if valid_from <= now < valid_until:
                if hit.start != start:  # same text (so same length) elsewhere in the line
                    hit = _hit(hit.time, start, end, entry.name)
                    entry.cache[text] = (hit, valid_from, valid_until)
                self._last_hit = hit
                return hit
        try:
            parsed = self._by_day(entry, m, now) or self._parse(entry.defn, m, text, now)
        except (ValueError, KeyError, IndexError, OverflowError, OSError):
            return None
        hit = _hit(parsed.epoch, start, end, entry.name)
        if parsed.valid_from < parsed.valid_until:
            if len(entry.cache) >= _CACHE_MAX:
                entry.cache.clear()
            entry.cache[text] = (hit, parsed.valid_from, parsed.valid_until)
        self._last_hit = hit
        return hit

    # --- template list ---------------------------------------------------------------------------------------

    def _append(self, pattern: str) -> None:
        key = pattern if "%" in pattern else pattern.upper()
        if key == "{^LN-BEG}":
            self._add_defaults(line_begin_only=True)
        elif key == "{DEFAULT}":
            # fail2ban's filter for {DEFAULT} rejects every template: it adds nothing, and alone it leaves the
            # list empty, which means the default set
            pass
        elif "{DATE}" in key:
            # every default (not its line-begin form), unbound, in place of {DATE}
            ignore_dup = bool(self._entries)
            for spec in DEFAULT_SPECS:
                base = define(spec)
                inner = unbound(spec if base.kind == PATTERN else base.name)
                self._add(define(fill_date(pattern, inner)), 1.0, ignore_dup)
        elif key == "{NONE}":
            self._none = True
            self._add(define("{UNB}^"), 1.0, False)
        else:
            self._add(define(pattern), 1.0, False)

    def _add_defaults(self, line_begin_only: bool) -> None:
        ignore_dup = bool(self._entries)
        for defn, weight in default_set():
            if not line_begin_only or defn.flags & LINE_BEGIN:
                self._add(defn, weight, ignore_dup)

    def _add(self, defn: TemplateDef, weight: float, ignore_dup: bool) -> None:
        if defn.name in self._names:
            if ignore_dup:
                return
            raise problem(defn.spec, f"repeats the date template {defn.name!r}", "remove the repeated line")
        self._names.add(defn.name)
        self._entries.append(_Entry(defn, weight))

    # --- choosing the template (fail2ban's order and preferences) ---------------------------------------------

    def _same_bounds(self, line: str, start: int, end: int) -> bool:
        """Whether the characters around [start, end) look like those around the last date: outside equal, or
        inside equal and not alphanumeric (a space, a bracket); otherwise the format may have changed."""
        prev = self._prev.string if self._prev is not None else ""
        if line[start - 1:start] != prev[start - 1:start]:
            first = prev[start:start + 1]
            if line[start:start + 1] != first or first.isalnum():
                return False
        if line[end:end + 1] != prev[end:end + 1]:
            last = prev[end - 1:end] if end > 0 else prev[-1:]
            if line[end - 1:end] != last or last.isalnum():
                return False
        return True

    def _locate(self, line: str, tried_last: bool) -> tuple[re.Match[str], int] | None:
        """The match and index of the template that wins `line`, or None. tried_last: the last template is
        anchored and was already tried on the whole line (in vain). Statistics must be booked."""
        entries = self._entries
        count = len(entries)
        reserve: tuple[re.Match[str], int] | None = None
        i = self._last
        skip = i if tried_last else -1
        prev_start, prev_end = (self._prev.start(), self._prev.end()) if self._prev is not None else (1, _FAR)
        if i >= 0 and not tried_last:
            entry = entries[i]
            if entry.fixed:
                m = entry.regex.search(line)
                skip = i
            elif self._same_bounds(line, prev_start, prev_end):
                m = entry.regex.search(line, prev_start, prev_end)  # only where the last date was
            else:
                m = entry.regex.search(line)
                skip = i
            if m is not None:
                if count == 1 or entry.fixed or (m.start() == prev_start and m.end() == prev_end):
                    return m, i
                reserve = (m, i)  # found elsewhere: the format may have changed, look at all templates
        for j, entry in enumerate(entries):
            if j == skip:
                continue
            m = entry.regex.search(line)
            if m is None:
                continue
            distance = m.start()
            if j + 1 >= count or entry.fixed:
                return m, j
            if distance == 0 and entry.hits and not entries[j + 1].hits:
                return m, j
            if distance > entry.distance or distance > prev_start:
                # further into the line than before: maybe a date inside the message; keep the nearest
                if reserve is None or distance < reserve[0].start():
                    reserve = (m, j)
                continue
            return m, j
        return reserve

    def _promote(self, num: int) -> int:
        """Move a template that hit towards the front: to the first unused place or half-way, if it weighs more
        than the one there or that one was unused for a while; else one step, on the same condition."""
        entries = self._entries
        entry = entries[num]
        stale = entry.last_used - _UNUSED_AFTER
        score = entry.score()
        pos = self._first_unused if self._first_unused < num else num // 2
        if not (score > entries[pos].score() or stale > entries[pos].last_used):
            if pos == num - 1:
                return num
            pos = num - 1
            if not (score > entries[pos].score() or stale > entries[pos].last_used):
                return num
        del entries[num]
        entries.insert(pos, entry)
        while self._first_unused < len(entries) and entries[self._first_unused].hits:
            self._first_unused += 1
        return pos

    def _by_day(self, entry: _Entry, m: re.Match[str], now: float) -> Parsed | None:
        """The date from the epoch of its day's midnight plus its time of day, when the day is linear: the
        epochs of 00:00:00 and 23:59:59 are 86399 s apart (no roll-over boundary, no DST change inside it).
        Saves the full parse for every new second of a day already seen. None: parse in full."""
        keys = entry.defn.day_keys
        if keys is None:
            return None
        key: tuple[str | None, ...] = m.group(*keys) if len(keys) > 1 else tuple(m.group(k) for k in keys)
        day = entry.days.get(key)
        if day is None or not day[1] <= now < day[2]:
            fields = m.groupdict()
            first = fields_to_epoch({**fields, "H": "0", "M": "0", "S": "0"}, now, self._offset, None, self._zone)
            last = fields_to_epoch({**fields, "H": "23", "M": "59", "S": "59"}, now, self._offset, None,
                                   self._zone)
            # each answer's roll-back decisions are monotonic in the time of day: both hold for all between
            valid_from = max(first.valid_from, last.valid_from)
            valid_until = min(first.valid_until, last.valid_until)
            linear = last.epoch - first.epoch == 86399
            day = (first.epoch if linear else None, valid_from, valid_until)
            if valid_from < valid_until:
                if len(entry.days) >= _CACHE_MAX:
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

    def _parse(self, defn: TemplateDef, m: re.Match[str], text: str, now: float) -> Parsed:
        if defn.kind == EPOCH_KIND:
            digits = m.group(defn.group)
            if defn.long and len(digits) >= 13:
                # milliseconds, or microseconds when 16+ digits without a fraction
                return Parsed(float(digits) / (1000000 if len(digits) >= 16 and "." not in digits else 1000))
            return Parsed(float(digits))
        if defn.kind == TAI64N:
            return Parsed(float(int(text[2:17], 16)))  # the seconds of the TAI64 label, as fail2ban reads them
        last = self._last_hit
        return fields_to_epoch(m.groupdict(), now, self._offset, last.time if last is not None else None,
                               self._zone)
