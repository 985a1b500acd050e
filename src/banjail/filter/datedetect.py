"""Find, parse and cut the timestamp of a log line, with fail2ban's templates and preferences.

A DateDetector holds an ordered list of date templates: the `datepattern` lines of a filter, or fail2ban's default
set (ISO 8601, syslog with and without year, apache/CLF, EPOCH, LEPOCH, TAI64N, time-only, MySQL, Exim, ...), each
default also in a line-begin form that is tried first (the templates: banjail.filter.datetemplate). For each line
it finds the template whose date is nearest to the start of the line, prefers the template that hit last time, and
moves templates that keep hitting towards the front, all exactly as fail2ban 1.0.2 does, so the same lines get the
same dates and the same template names.

Speed: the last template that hit is tried first (and when it is anchored, its statistics are booked later in one
go); a date text already seen is not parsed again, nor one that differs only in its fraction of a second, nor the
day of one (banjail.filter.dateparse). A caller that runs one regex over a chunk of lines uses uniform_template,
line_pattern, parse_text and note_hits instead of find(): the same dates and the same state, without a Python call
per line.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence

from banjail.errors import ConfigError, Problem
from banjail.filter.datechoice import locate, promote, same_bounds
from banjail.filter.dateparse import AT_LINE_START, DateHit, Entry, Span, minute_base, new_date, new_hit
from banjail.filter.datetemplate import LINE_BEGIN, PATTERN, TAI64N, Template, template_list
from banjail.filter.localtime import LocalZone, zone_offset

__all__ = ["DateDetector", "DateHit", "Template"]


class DateDetector:
    """Finds the date in log lines with the templates of one filter's `datepattern` (or the defaults).

    Stateful (template order and hit statistics, as fail2ban keeps them); one detector per filter. `find` is
    pure apart from that state: it takes `now` and does no I/O.
    """

    __slots__ = ("_by_name", "_entries", "_fast", "_fast_cache", "_first_unused", "_last", "_last_entry", "_last_hit",
                 "_none", "_now", "_offset", "_prev", "_streak", "_streak_now", "_zone")

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
        self._entries: list[Entry] = []
        self._by_name: dict[str, Entry] = {}
        self._last = -1  # index of the template that found the last date
        self._last_entry: Entry | None = None  # and the template itself
        self._prev: Span | None = None  # where it was found (before any: at 1, no end)
        self._first_unused = 0
        self._last_hit: DateHit | None = None
        # the fast path: search of the last template when it is anchored, its cache, wins not yet booked
        self._fast: Callable[[str], re.Match[str] | None] | None = None
        self._fast_cache: dict[str, tuple[DateHit, float, float]] = {}
        self._streak = 0
        self._streak_now = 0.0
        self._now = 0.0  # the `now` of the latest parse_text (note_hits' default)
        self._zone = LocalZone()  # local time memo (the process TZ must not change during the detector's life)
        defs, self._none = template_list(patterns)
        for defn, weight in defs:
            entry = Entry(defn, weight)
            self._by_name[defn.name] = entry
            self._entries.append(entry)

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
                text = line[start:end]
                cached = self._fast_cache.get(text)
                hit: DateHit | None
                if cached is not None:
                    hit, valid_from, valid_until = cached
                    if valid_from <= now < valid_until and hit.start == start:
                        self._last_hit = hit
                        return hit
                elif start == end:
                    return self._date(self._entries[self._last], m, line, now)
                last = self._last_hit
                hit = new_date(self._entries[self._last], m, text, start, end, now, self._offset, self._zone,
                               last.time if last is not None else None)
                if hit is not None:
                    self._last_hit = hit
                return hit
        elif self._last_entry is not None and self._prev is not None:
            m = self._same_place(line)
            if m is not None:
                # an unanchored template that won last time wins again where it was (booked like the above)
                self._prev = m
                self._streak += 1
                self._streak_now = now
                return self._date(self._last_entry, m, line, now)
        self._book()
        found = self._locate(line, fast is not None)
        if found is None:
            return None
        m, i = found
        self._win(i, m.start(), m, now)
        return self._date(self._entries[self._last], m, line, now)

    # --- many lines at once (a caller that runs one regex over a chunk of lines) ----------------------------------

    def uniform_template(self, chunk: str) -> Template | None:
        """The template that find() would choose for every line of `chunk` (lines separated by "\\n", the last
        one perhaps without it), given the detector's state now; None when that cannot be proven: a line without
        the template's date, a template that may match after the line start, or one whose regex this detector
        cannot reason about. One regex run over the chunk; it changes no state find() depends on.

        Every line of the chunk then matches the template's regex (as a line alone), with group 1 spanning its
        date text; the caller finds those texts (e.g. with the template's regex and re.MULTILINE), turns them
        into epochs with parse_text, and calls note_hits for the chunk.
        """
        if not chunk:
            return None
        first = chunk.partition("\n")[0]
        fast = self._fast
        entry = self._last_entry
        # the first line decides as find() would; the winner must then win the others on the fast path
        if fast is not None and fast(first) is not None:
            pass  # the anchored last template wins again
        elif fast is None and entry is not None and self._prev is not None and self._same_place(first):
            return None  # the unanchored last template wins again
        else:
            self._book()
            found = self._locate(first, fast is not None)
            if found is None:
                return None
            entry = self._entries[found[1]]
        if entry is None or not entry.starts_line:
            return None
        check = entry.chunk_regex()
        if check is None or entry.text_regex() is None or check.fullmatch(chunk) is None:
            return None
        return Template(entry.name, entry.regex, True)

    def line_pattern(self, template: Template) -> str | None:
        """Regex text of `template` to embed in a larger regex that runs with re.MULTILINE over a chunk: at a line
        start it matches exactly where template.regex matches that line alone, no part of it can match a
        newline, its first capturing group is the date text (the template's other groups follow, named as in
        template.regex), and its flags are inline and scoped ("(?i:...)"). None if the template may match after
        the line start or its regex cannot be rewritten so (then use uniform_template)."""
        entry = self._by_name.get(template.name)
        if entry is None:
            raise ValueError(f"not a date template of this detector: {template.name!r}")
        return entry.line_source()

    def parse_text(self, template: Template, text: str, now: float) -> float | None:
        """The epoch of the date text `text` that group 1 of `template.regex` captured in a line, given `now`: the
        value find() gives for that line (its DateHit.time), from the same memos; None where find() gives None
        (a text that is not a valid date, as Feb 30). An empty text (an optional date absent) gives the last
        date if less than a minute older than `now`, else `now`, as find() does.

        The answer is that of find() for the line in the detector's state, which matters only for a local time
        in the hour a DST change repeats: that one takes the UTC offset of the date before, and parse_text, like
        find(), takes the last date it or find() or note_hits met. Raises ValueError for a template that is not
        one of this detector's or that uniform_template would never return, or a text its regex cannot have
        captured.
        """
        entry = self._by_name.get(template.name)
        if entry is None:
            raise ValueError(f"not a date template of this detector: {template.name!r}")
        self._now = now
        last = self._last_hit
        if not text:
            return last.time if last is not None and last.time > now - 60 else now
        cached = entry.cache.get(text)
        if cached is not None and cached[1] <= now < cached[2]:
            self._last_hit = cached[0]
            return cached[0].time
        parser = entry.text_regex()
        m = parser.fullmatch(text) if parser is not None else None
        if m is None:
            raise ValueError(f"{text!r} is not a date text of the template {template.name!r}")
        hit = new_date(entry, m, text, 0, len(text), now, self._offset, self._zone,
                       last.time if last is not None else None)
        if hit is None:
            return None
        self._last_hit = hit
        return hit.time

    def int_date(self, template: str, text: str) -> bool:
        """Whether fail2ban's date for `text`, found by the template named `template`, is an int rather than a
        float: a TAI64N label, or a pattern date with a zone (in the text, or logtimezone's). Only fail2ban-regex
        -o row and <time> print the difference (banjail.filter.record)."""
        entry = self._by_name.get(template) if text else None  # an empty date match: fail2ban takes now, a float
        if entry is None or entry.defn.kind == TAI64N:
            return entry is not None
        if entry.defn.kind != PATTERN:
            return False
        if self._offset is not None:
            return True
        parser = entry.text_regex()
        m = parser.fullmatch(text) if parser is not None else None
        return m is not None and any(m.groupdict().get(key) is not None for key in ("z", "Z"))

    def remembered(self, template: Template, key: str, now: float) -> float | None:
        """The epoch parse_text gives at `now`, with no other change than the last date, for every text of
        `template` whose fraction of a second (group "f", present) removed leaves `key`, when the detector
        remembers it (a pattern date's fraction changes nothing); None: ask parse_text."""
        entry = self._by_name.get(template.name)
        if entry is None or not entry.fraction:
            return None
        found = entry.fractions.get(key)
        return found[0].time if found is not None and found[1] <= now < found[2] else None

    def minute_base(self, template: Template, text: str, regs: tuple[tuple[int, int], ...], now: float) -> float | None:
        """For a date text `text` that parse_text just parsed at `now` (its groups at `regs` in its line's match:
        the spans of groups 1.. relative to the text): the epoch B such that parse_text (and find()) at `now` gives
        B + S for every text of `template` that differs from `text` only in its seconds S (group "S", 0-59) and
        its fraction of a second (group "f"), with every group at the same place; None when that is not known
        (parse those texts one by one). Known when the template reads dates by their day and that day is in the
        memo, linear and valid at `now` (banjail.filter.dateparse.minute_base); the fields are those of the
        text matched alone, which must split it at `regs` as its line's match did."""
        entry = self._by_name.get(template.name)
        if entry is None:
            raise ValueError(f"not a date template of this detector: {template.name!r}")
        parser = entry.text_regex()
        m = parser.fullmatch(text) if parser is not None else None
        if m is None or "S" not in m.re.groupindex or m.regs[1:] != regs[: len(m.regs) - 1]:
            return None
        return minute_base(entry, m, now)

    def note_last(self, time: float) -> None:
        """The last date is now `time` (the epoch of a line whose date a caller took from minute_base, as if
        parse_text had given it)."""
        self._last_hit = new_hit(time, 0, 0, "")

    def parse_match(self, template: Template, m: re.Match[str], now: float) -> float | None:
        """parse_text for the date of a match `m` of template.regex on a line, without matching its text again
        (cheaper for texts seen once, such as dates with a fraction of a second); the same answer."""
        entry = self._by_name.get(template.name)
        if entry is None:
            raise ValueError(f"not a date template of this detector: {template.name!r}")
        self._now = now
        hit = self._date(entry, m, m.string, now)
        return None if hit is None else hit.time

    def note_hits(self, template: Template, count: int, last_time: float | None, now: float | None = None) -> None:
        """Change the detector's state (hit statistics, template order, the last date) exactly as `count` calls
        of find() in a row at `now` would, each won by `template`, which must be one uniform_template returns
        (it matches at line start only). last_time: the epoch of the last of those lines whose date is valid and
        not empty (None: there is none, the last date stays). now: the same `now` find() would have been given;
        None means the `now` of the latest parse_text.
        """
        entry = self._by_name.get(template.name)
        if entry is None or not entry.starts_line:
            raise ValueError(f"not a date template of this detector that matches at line start: {template.name!r}")
        if count <= 0:
            return
        if now is None:
            now = self._now
        if entry is not self._last_entry:
            # the first line goes the slow way (and the template moves forward), the others the fast path
            self._book()
            self._win(self._entries.index(entry), 0, AT_LINE_START, now)
            count -= 1
        if count:
            self._prev = AT_LINE_START
            self._streak += count
            self._streak_now = now
        if last_time is not None:
            self._last_hit = new_hit(last_time, 0, 0, entry.name)

    # --- one line at a time --------------------------------------------------------------------------------------

    def _same_place(self, line: str) -> re.Match[str] | None:
        """The match of the unanchored last template where the last date was, between the same kind of
        characters (the first try of _locate), or None."""
        prev = self._prev
        assert self._last_entry is not None and prev is not None
        start, end = prev.start(), prev.end()
        if same_bounds(prev, line, start, end):
            m = self._last_entry.regex.search(line, start, end)
            if m is not None and ((m.start() == start and m.end() == end) or len(self._entries) == 1):
                return m
        return None

    def _win(self, i: int, start: int, prev: Span, now: float) -> None:
        """Book that template i won a line at `start` (found by _locate, statistics booked): promote it."""
        entry = self._entries[i]
        entry.hits += 1
        entry.last_used = now
        entry.distance = start
        if self._first_unused == i:
            self._first_unused += 1
        self._prev = prev
        if i != self._last:
            self._last = self._promote(i) if i else i
            self._last_entry = entry
            self._fast = entry.regex.search if entry.fixed else None
            self._fast_cache = entry.cache

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

    def _date(self, entry: Entry, m: re.Match[str], line: str, now: float) -> DateHit | None:
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
                    hit = new_hit(hit.time, start, end, entry.name)
                    entry.cache[text] = (hit, valid_from, valid_until)
                self._last_hit = hit
                return hit
        last = self._last_hit
        found = new_date(entry, m, text, start, end, now, self._offset, self._zone,
                         last.time if last is not None else None)
        if found is not None:
            self._last_hit = found
        return found

    # --- choosing the template (fail2ban's order and preferences: banjail.filter.datechoice) -------------------

    def _locate(self, line: str, tried_last: bool) -> tuple[re.Match[str], int] | None:
        return locate(self._entries, self._last, self._prev, line, tried_last)

    def _promote(self, num: int) -> int:
        pos, self._first_unused = promote(self._entries, num, self._first_unused)
        return pos
