"""Find, parse and cut the timestamp of a log line, with fail2ban's templates and preferences.

A DateDetector holds an ordered list of date templates: the `datepattern` lines of a filter, or fail2ban's default
set (ISO 8601, syslog with and without year, apache/CLF, EPOCH, LEPOCH, TAI64N, time-only, MySQL, Exim, ...), each
default also in a line-begin form that is tried first. For each line it finds the template whose date is nearest to
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

from banjail.errors import ConfigError, Problem, RegexError
from banjail.filter.strptime import LocalZone, Parsed, fields_to_epoch, translate, zone_offset

_LINE_BEGIN, _LINE_END = 8, 4
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


@dataclass(frozen=True, slots=True)
class Template:
    """A date template: display name as fail2ban-regex prints it, the regex that finds it (group 1 spans the
    text to cut), and whether it only matches at line start (so a caller may run it with re.MULTILINE over many
    lines to count hits; the up to two non-word characters allowed before the date may then include the newline
    of a line that is empty or holds one such character)."""

    name: str
    regex: re.Pattern[str]
    anchored: bool


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


# --- building templates from datepattern text --------------------------------------------------------------

# The first inline flag group, anywhere: it is moved to the front after the regex was wrapped.
_GLOBAL_FLAGS = re.compile(r"\(\?[a-z]+\)")
# A regex that begins at line start ("^", "(^", "(?:^") or with the "no boundary" mark "**" needs no word bound.
_OPEN_BEGIN = re.compile(r"\(*(?:\(\?\w+\))?(?:\^|\(*\*\*|\(\^|\(\?:\^)")
# Nor one that ends with "$", "$)", "\b", "\s" or "**" (followed by closing parentheses).
_OPEN_END = re.compile(r"(?<!\\)(?:\$|\$\)|\\b|\\s|\*\*\)*)$")
# A capturing group: "(" not escaped, not "(?...", not the condition of "(?(id)...)".
_CAPTURING = re.compile(r"(?<!\(\?)(?<!\\)\((?!\?)")
# Leading flags and "^", body, trailing "$": the body becomes group 1 when the regex has no group of its own.
_BODY = re.compile(r"^((?:\(\?\w+\))?\^?(?:\(\?\w+\))?)(.*?)(\$?)$")
_ANCHOR_BEGIN = re.compile(r"^(?:\(\?\w+\))?(?:\^|\(\^(?!\|)|\(\?:\^(?!\|))")
_ANCHOR_END = re.compile(r"(?<![\\|])(?:\$|\$\))$")
_STARS = re.compile(r"^\(*(?:\(\?\w+\))?\(*\*\*|(?<!\\)\*\*\)*$")
# Neither side of the date is in the middle of a word (date texts are never empty, so this is fail2ban's bound).
_NOT_IN_WORD = r"(?!(?<=\w)\w)"
_LINE_START = r"^\W{0,2}"  # at line start, after at most two non-word characters ("[", "<", "##" ...)

_EPOCH_SLOT = re.compile(r"(?<!\\)\{L?EPOCH\}", re.IGNORECASE)
_DATE_SLOT = re.compile(r"(?<!\\)\{DATE\}", re.IGNORECASE)
_EPOCH = r"\d{10,11}\b(?:\.\d{3,6})?"
_LONG_EPOCH = r"\d{10,11}(?:\d{3}(?:\.\d{1,6}|\d{3})?)?"  # seconds, milliseconds or microseconds
_UNBOUND = (re.compile(r"^\{UNB\}"), re.compile(r"^\{\^LN-BEG\}"), re.compile(r"^\((?:\?:)?\^\|\\b\|\\W\)"),
            re.compile(r"\(\?=\\b\|\\W\|\$\)$"))

_PATTERN, _EPOCH_KIND, _TAI64N = 0, 1, 2


@dataclass(frozen=True, slots=True)
class _Def:
    """An immutable template definition, shared by detectors; `spec` is the datepattern text it came from."""

    spec: str
    name: str
    regex: re.Pattern[str]
    flags: int
    kind: int = _PATTERN
    group: int = 1  # the group holding the epoch digits (EPOCH kinds)
    long: bool = False
    # the groups other than the time of day, when the template has %H, %M and %S (not %I): dates that agree on
    # them differ by their time of day only (see DateDetector._by_day)
    day_keys: tuple[str, ...] | None = None


_TIME_OF_DAY = ("H", "M", "S")


def _day_keys(regex: re.Pattern[str]) -> tuple[str, ...] | None:
    names = regex.groupindex
    if any(key not in names for key in _TIME_OF_DAY) or "I" in names:
        return None
    return tuple(key for key in names if key not in (*_TIME_OF_DAY, "f"))


def _bound(regex: str, name: str, begin: bool | str, end: bool) -> tuple[str, str, int]:
    """Add word or line-start bounds and group 1 to a template regex (begin == "start": line start)."""
    regex = regex.strip()
    flags_m = _GLOBAL_FLAGS.search(regex)
    if flags_m:
        regex = regex[:flags_m.start()] + regex[flags_m.end():]
    bound_begin = bool(begin) and not _OPEN_BEGIN.match(regex)
    bound_end = end and not _OPEN_END.search(regex)
    if not _CAPTURING.search(regex):
        regex = _BODY.sub(r"\1(\2)\3", regex)
    flags = 0
    if bound_begin:
        if begin == "start":
            flags |= _LINE_BEGIN
            regex = _LINE_START + regex
            if not name.startswith("{^LN-BEG}"):
                name = "{^LN-BEG}" + name
        else:
            regex = _NOT_IN_WORD + regex
    if bound_end:
        regex += _NOT_IN_WORD
    if _ANCHOR_BEGIN.search(regex):
        flags |= _LINE_BEGIN
    if _ANCHOR_END.search(regex):
        flags |= _LINE_END
    regex = _STARS.sub(lambda m: m.group().replace("**", ""), regex)
    if flags_m:
        regex = flags_m.group() + regex
    return regex, name, flags


def _compile(spec: str, regex: str) -> re.Pattern[str]:
    try:
        return re.compile(regex)
    except re.error as exc:
        raise _problem(spec, f"is not a valid regex with its directives expanded: {exc.msg}",
                       "check parentheses and escapes; each directive may appear once") from None


def _problem(spec: str, message: str, fix: str) -> RegexError:
    return RegexError(Problem(message, option="datepattern", value=spec, fix=fix))


_DEFS: dict[str, _Def] = {}


def _define(spec: str) -> _Def:
    """The template for one datepattern line (not a {DEFAULT}/{^LN-BEG}/{DATE} set), cached by its text."""
    found = _DEFS.get(spec)
    if found is not None:
        return found
    key = spec if "%" in spec else spec.upper()
    defn: _Def | None = None
    if "EPOCH" in key:
        long = "LEPOCH" in key
        if _EPOCH_SLOT.search(spec):
            body = _EPOCH_SLOT.sub(lambda _: f"({_LONG_EPOCH if long else _EPOCH})", spec)
            regex, name, flags = _bound(f"({body})", spec, True, True)
            defn = _Def(spec, name, _compile(spec, regex), flags, _EPOCH_KIND, 2, long)
        elif key in ("EPOCH", "{^LN-BEG}EPOCH", "^EPOCH", "LEPOCH", "{^LN-BEG}LEPOCH", "^LEPOCH"):
            digits = _LONG_EPOCH if long else _EPOCH
            name = "LongEpoch" if long else "Epoch"
            if key in ("EPOCH", "LEPOCH"):
                # at line start, right after a "[" that starts the line, or in SELinux's "audit(...)"
                regex, name, flags = _bound(rf"(?:^|(?<=^\[)|(?<=\baudit\())({digits})", name, False, True)
            else:
                regex, name, flags = _bound(f"({digits})", name, "start", True)
            defn = _Def(spec, name, _compile(spec, regex), flags, _EPOCH_KIND, 1, long)
    if defn is None and key in ("TAI64N", "{^LN-BEG}TAI64N", "^TAI64N"):
        regex, name, flags = _bound("@[0-9a-f]{24}", "TAI64N", "start" if key != "TAI64N" else False, True)
        defn = _Def(spec, name, _compile(spec, regex), flags, _TAI64N)
    if defn is None:
        begin: bool | str = True
        end = True
        pattern = spec
        if pattern.startswith("{UNB}"):
            pattern, begin, end = pattern[5:], False, False
        if begin and pattern.startswith("{^LN-BEG}"):
            pattern, begin = pattern[9:], "start"
        try:
            text = translate(pattern)
        except ValueError as exc:
            raise _problem(spec, str(exc), "write %% for a literal percent sign") from None
        regex, name, flags = _bound(("(?iu)" if text.ignore_case else "") + text.regex, text.name, begin, end)
        compiled = _compile(spec, regex)
        defn = _Def(spec, name, compiled, flags, day_keys=_day_keys(compiled))
    if len(_DEFS) > 1000:
        _DEFS.clear()
    _DEFS[spec] = defn
    return defn


# fail2ban's default templates. Their text is fixed by compatibility: the display names derive from it.
_DEFAULT_SPECS = (
    r"%ExY(?P<_sep>[-/.])%m(?P=_sep)%d(?:T|  ?)%H:%M:%S(?:[.,]%f)?(?:\s*%z)?",  # ISO 8601 and alike
    r"(?:%a )?%b %d %k:%M:%S(?:\.%f)?(?: %ExY)?",  # syslog, asctime (year optional, at the end)
    r"(?:%a )?%b %d %ExY %k:%M:%S(?:\.%f)?",  # asctime with the year before the time
    r"%d(?P<_sep>[-/])%m(?P=_sep)(?:%ExY|%Exy) %k:%M:%S",  # 23/01/2005 21:59:59 (x11vnc)
    r"%d(?P<_sep>[-/])%b(?P=_sep)%ExY[ :]?%H:%M:%S(?:\.%f)?(?: %z)?",  # apache CLF, named, roundcube
    r"%m/%d/%ExY:%H:%M:%S",  # cPanel
    r"%m-%d-%ExY %k:%M:%S(?:\.%f)?",
    r"EPOCH",
    r"{^LN-BEG}%H:%M:%S",  # time only
    r"^<%m/%d/%Exy@%H:%M:%S>",
    r"%Exy%Exm%Exd  ?%H:%M:%S",  # MySQL
    r"%b %d, %ExY %I:%M:%S %p",  # Apache Tomcat
    r"^%b-%d-%Exy %k:%M:%S",  # ASSP
    r"%ExY%Exm%Exd(?:T|  ?)%ExH%ExM%ExS(?:[.,]%f)?(?:\s*%z)?",  # basic ISO 8601
    r"(?:%Z )?(?:%a )?%b %d %k:%M:%S(?:\.%f)?(?: %ExY)?",  # monit: zone name first
    r"(?:%z )?(?:%a )?%b %d %k:%M:%S(?:\.%f)?(?: %ExY)?",
    r"TAI64N",
)


def _unbound(pattern: str) -> str:
    for rx in _UNBOUND:
        pattern = rx.sub("", pattern)
    return pattern


def _fill_date(pattern: str, inner: str) -> str:
    return _DATE_SLOT.sub(lambda _: inner, pattern)


class _Entry:
    """A template in one detector, with the detector's usage statistics of it."""

    __slots__ = ("cache", "days", "defn", "distance", "fixed", "hits", "last_used", "name", "regex", "weight")

    def __init__(self, defn: _Def, weight: float) -> None:
        self.defn = defn
        self.name = defn.name
        self.regex = defn.regex
        self.fixed = bool(defn.flags & (_LINE_BEGIN | _LINE_END))
        self.weight = weight
        self.hits = 0
        self.last_used = 0.0
        self.distance = _FAR
        self.cache: dict[str, tuple[DateHit, float, float]] = {}
        # day fields -> (epoch of 00:00:00 or None when the day is not linear, valid from, valid until)
        self.days: dict[tuple[str | None, ...], tuple[float | None, float, float]] = {}

    def score(self) -> float:
        return self.hits * self.weight / max(1, self.distance)


_DEFAULTS: tuple[tuple[_Def, float], ...] = ()


def _default_set() -> tuple[tuple[_Def, float], ...]:
    """The default templates in fail2ban's initial order: the line-begin form of every default that is not
    anchored already (weight 100, so they keep the front), then the defaults themselves."""
    global _DEFAULTS
    if not _DEFAULTS:
        anchored: list[tuple[_Def, float]] = []
        plain: list[tuple[_Def, float]] = []
        for spec in _DEFAULT_SPECS:
            defn = _define(spec)
            if not defn.name.startswith(("{^LN-BEG}", "^")):
                at_start = _define("{^LN-BEG}" + spec)
                if at_start.name != defn.name:
                    anchored.append((at_start, 100.0))
            plain.append((defn, 1.0))
        _DEFAULTS = (*anchored, *plain)
    return _DEFAULTS


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
        return tuple(Template(e.name, e.regex, bool(e.defn.flags & _LINE_BEGIN)) for e in self._entries)

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
            for spec in _DEFAULT_SPECS:
                base = _define(spec)
                inner = _unbound(spec if base.kind == _PATTERN else base.name)
                self._add(_define(_fill_date(pattern, inner)), 1.0, ignore_dup)
        elif key == "{NONE}":
            self._none = True
            self._add(_define("{UNB}^"), 1.0, False)
        else:
            self._add(_define(pattern), 1.0, False)

    def _add_defaults(self, line_begin_only: bool) -> None:
        ignore_dup = bool(self._entries)
        for defn, weight in _default_set():
            if not line_begin_only or defn.flags & _LINE_BEGIN:
                self._add(defn, weight, ignore_dup)

    def _add(self, defn: _Def, weight: float, ignore_dup: bool) -> None:
        if defn.name in self._names:
            if ignore_dup:
                return
            raise _problem(defn.spec, f"repeats the date template {defn.name!r}", "remove the repeated line")
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
        hour, minute, second = map(int, m.group(*_TIME_OF_DAY))
        if hour > 23 or minute > 59 or second > 59:
            raise ValueError("not a time of day")
        return Parsed(day[0] + hour * 3600 + minute * 60 + second, day[1], day[2])

    def _parse(self, defn: _Def, m: re.Match[str], text: str, now: float) -> Parsed:
        if defn.kind == _EPOCH_KIND:
            digits = m.group(defn.group)
            if defn.long and len(digits) >= 13:
                # milliseconds, or microseconds when 16+ digits without a fraction
                return Parsed(float(digits) / (1000000 if len(digits) >= 16 and "." not in digits else 1000))
            return Parsed(float(digits))
        if defn.kind == _TAI64N:
            return Parsed(float(int(text[2:17], 16)))  # the seconds of the TAI64 label, as fail2ban reads them
        last = self._last_hit
        return fields_to_epoch(m.groupdict(), now, self._offset, last.time if last is not None else None,
                               self._zone)
