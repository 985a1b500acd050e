"""The filter engine: one log line in, the failures it completes out (fail2ban 1.0.2's findFailure semantics).

Per line: cut the line to MAX_LINE; find and cut out the date; keep the last `maxlines` lines as the buffer;
run ignoreregex first when there are few of them, then prefregex (its <F-CONTENT> is what failregexes see), then
every failregex in order (all of them, as fail2ban-regex does, or up to the first failure with `check_all=False`,
as the daemon does); a failregex match that an ignoreregex also matches is ignored; <F-MLFID> matches are merged
into their session (banjail.filter.session); the identifier is F-ID, else ip4, else ip6, else the DNS name.

`scan` gives the same results as `process` line by line; the speed-ups it uses are in banjail.filter.scan.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Any, Protocol

from banjail.filter import prefilter, session, singleline
from banjail.filter.failregex import CompiledRegex, compile_filter
from banjail.filter.identity import Identities, Resolver, hit_count
from banjail.filter.outcome import IGNORED, MATCHED, MISSED, LineOutcome, ScanStats
from banjail.model import Failure, FilterSpec


class DateFound(Protocol):
    """What a date detector reports for a line (banjail.filter.datedetect.DateHit has this shape)."""

    @property
    def time(self) -> float: ...
    @property
    def start(self) -> int: ...
    @property
    def end(self) -> int: ...
    @property
    def template(self) -> str: ...


class DateDetector(Protocol):
    """The part of banjail.filter.datedetect.DateDetector the matcher uses (any object of this shape will do)."""

    @property
    def none(self) -> bool: ...
    def find(self, line: str, now: float) -> DateFound | None: ...


MAX_LINE = 65536
RECENT = 60.0  # a line without a date inherits the last date only when that is at most this old

TupleLine = tuple[str, str, str]  # (before the date, the date text, after the date)
# upstream's bookkeeping in a failure's data, not groups ("users" is added as one pair per user)
_INTERNAL = frozenset(
    {"matches", "nofail-matches", "users", session.USER_PAIRS, "mlfpending", "nofail", "mlfgained", "mlfforget"}
)


def _buffer_text(lines: Sequence[TupleLine]) -> str:
    if len(lines) == 1:
        return lines[0][0] + lines[0][2] + "\n"
    return "\n".join(t[0] + t[2] for t in lines) + "\n"


class Matcher:
    """A compiled filter with its per-log state (last date, line buffer, <F-MLFID> sessions).

    check_all: try every failregex on a line (fail2ban-regex); False stops at the first failure (the daemon).
    live: upstream's operation mode: a dateless failure takes `now`, a date more than a minute away from `now`
    is replaced by `now`. Otherwise a failure without a usable date is dropped (the line still counts matched).
    single: with maxlines = 1, take the one-line step (banjail.filter.singleline; same results); False keeps the
    general step (the reference the tests compare with).
    """

    def __init__(
        self,
        spec: FilterSpec,
        *,
        detector: DateDetector | None = None,
        resolver: Resolver | None = None,
        check_all: bool = True,
        live: bool = False,
        single: bool = True,
    ) -> None:
        usedns = spec.usedns if spec.usedns in ("yes", "warn", "no", "raw") else "warn"
        self.spec = spec
        self.maxlines = max(1, spec.maxlines)
        compiled = compile_filter(
            spec.failregex,
            spec.ignoreregex,
            spec.prefregex,
            usedns=usedns,
            multiline=self.maxlines > 1,
            file=spec.file,
        )
        self.regexes = compiled
        self.failregex: tuple[str, ...] = tuple(spec.failregex)
        self.ignoreregex: tuple[str, ...] = tuple(spec.ignoreregex)
        self._pref = compiled.prefregex
        self._fail = compiled.failregex
        self._folds = tuple(r.folds for r in self._fail)
        # bound methods and flags the one-line step reads per line (attribute chains cost as much as a search)
        self._searches = tuple(r.pattern.search for r in self._fail)
        self._pref_search = compiled.prefregex.pattern.search if compiled.prefregex is not None else None
        self._pref_folds = compiled.prefregex is not None and compiled.prefregex.folds
        self._ignore = compiled.ignoreregex
        self._ignore_first = bool(self._ignore) and len(self._ignore) < len(self._fail) - 2
        self._all = tuple(range(len(self._fail)))
        self._by_first: dict[str, tuple[int, ...]] | None = None
        self._any_first: tuple[int, ...] = self._all
        if self.maxlines == 1:
            self._by_first, self._any_first = prefilter.dispatch([r.pattern for r in self._fail])
        self.usedns = usedns
        self.detector = detector
        self.identities = Identities(usedns, resolver)
        self._identify = self.identities.identify
        self.check_all = check_all
        self.live = live
        self.truncated = 0
        self._last_text = ""
        self._last_date: float | None = None
        self._buffer: list[TupleLine] = []
        self.sessions = session.SessionCache()
        self._candidates: tuple[re.Pattern[str] | None] | None = None  # banjail.filter.scan's prefilter
        self.uniform = True  # whether scan may try banjail.filter.uniform's path (it turns this off)
        self.single = single and self.maxlines == 1
        # fail2ban-regex's `Prefregex: N total`: with count_pref, scan adds to ScanStats.prefregex_hits, per line,
        # whether the prefregex's last search matched (as upstream, a line ignored before the prefregex ran
        # counts the line before it); pref_any: it matches exactly the non-empty date-cut lines, so lines the
        # literal prefilter skips need no search to be counted
        self.count_pref = False  # set only when the filter has a prefregex
        self.pref_last = False
        self.pref_any = compiled.prefregex is not None and prefilter.matches_any_text(compiled.prefregex.pattern)

    # --- per line -----------------------------------------------------------------------------------------

    def process(self, line: str, now: float, lineno: int = 0) -> LineOutcome:
        """Offer one complete line (no newline) and return what it did."""
        if len(line) > MAX_LINE:
            line = line[:MAX_LINE]
            self.truncated += 1
        tup, date, template = self._date(line, now)
        return self._find(tup, date, now, lineno, line, template)

    def skipped_pref(self, tup: TupleLine) -> bool:
        """Whether the prefregex matches a date-cut line that the literal prefilter kept from the regexes (for
        count_pref); sets pref_last as a search would."""
        if self.pref_any:
            found = bool(tup[0] or tup[2])
        else:
            assert self._pref is not None
            found = self._pref.pattern.search(tup[0] + tup[2] + "\n") is not None
        self.pref_last = found
        return found

    def _date(self, line: str, now: float) -> tuple[TupleLine, float | None, str | None]:
        """Split the date out of `line` and update the last-date state, as upstream's processLine does."""
        template: str | None = None
        date: float | None = None
        hit = self.detector.find(line, now) if self.detector is not None else None
        if hit is not None and hit.end > hit.start:
            template = hit.template
            text = line[hit.start : hit.end]
            tup: TupleLine = (line[: hit.start], text, line[hit.end :])
            date = hit.time
            self._last_text, self._last_date = text, date
        elif hit is not None or (self.detector is not None and self.detector.none):
            # an empty date match: the date is optional here; use the recent last date or now
            template = hit.template if hit is not None else None
            if self._last_date is not None and self._last_date > now - RECENT:
                tup, date = ("", self._last_text, line), self._last_date
            else:
                tup, date = ("", "", line), now
        else:
            tup = ("", "", line)
            if self._last_date is not None and self._last_date > now - RECENT:
                tup, date = ("", self._last_text, line), self._last_date
            elif self.live:
                date = now
        if self.live and date is not None and abs(int(date - now)) > RECENT:
            date = now
            self._last_date = date
        return tup, date, template

    def _find(
        self, tup: TupleLine, date: float | None, now: float, lineno: int, line: str, template: str | None
    ) -> LineOutcome:
        if self.single:
            one = singleline.match_line(self, tup, date, now, lineno, True)
            return LineOutcome(lineno, line, one[0], one[1], one[2], one[3], template)
        single = self.maxlines == 1
        if single:
            org = self._buffer = [tup]
            text = tup[0] + tup[2] + "\n"
        else:
            self._buffer.append(tup)
            self._buffer = self._buffer[-self.maxlines :]
            org = self._buffer
            text = _buffer_text(org)
        buf: str | None = text
        ignored_by = -1
        if self._ignore_first:
            ignored_by = self._ignored(text, org, None)
            if ignored_by >= 0:
                return LineOutcome(lineno, line, IGNORED, ignoreregex=ignored_by, template=template)
        pre: dict[str, Any] = {}
        if self._pref is not None:
            pm = self._pref.pattern.search(text)
            self.pref_last = pm is not None
            if pm is None:
                return LineOutcome(lineno, line, MISSED, template=template)
            pre = self._pref.groups(pm) if self._pref.folds else pm.groupdict()
            content = pre.pop("content", None)
            if isinstance(content, str) and content:
                self._buffer, buf = [("", "", content)], content + "\n"
        hits: list[int] = []
        failures: list[Failure] = []
        nofail = False
        if buf is None:
            buf = _buffer_text(self._buffer)
        # with a one-line buffer the searched text stays the same through this loop, so only the failregexes
        # that can start with its first character need to run (banjail.filter.prefilter.dispatch)
        order = self._by_first.get(buf[0], self._any_first) if self._by_first is not None else self._all
        for index in order:
            regex = self._fail[index]
            if buf is None:
                buf = _buffer_text(self._buffer)
            m = regex.pattern.search(buf)
            if m is None:
                continue
            fail: dict[str, Any] = regex.groups(m) if regex.folds else m.groupdict()
            # one line: the match covers it (the list is never changed in place, so no copy)
            matched, unmatched = (org, []) if single else self._split(regex, m, org)
            if self._ignore:
                found = self._ignored(buf, org, (matched, unmatched))
                if found >= 0:
                    ignored_by = found
                    buf = None
                    if not self.check_all:
                        break
                    continue
            if not self.check_all or self.maxlines > 1:
                self._buffer, buf = unmatched, None
            if pre:
                fail = {**pre, **fail}
            mlfid = fail.get("mlfid")
            if mlfid is not None:
                fail = session.merge(self.sessions, mlfid, fail, matched, now)
                if fail.get("nofail") and not self.check_all:
                    nofail = True
                    hits.append(index)
                    break
            else:
                fail["matches"] = fail.get("matches", []) + matched
            try:
                ids = self._identify(fail, mlfid)
            except ValueError:
                continue  # upstream logs an error and this regex yields nothing
            if self.check_all and mlfid is not None:
                fail = dict(fail)
            count = hit_count(ids)
            if not count:
                if not self.check_all:
                    break
                continue
            hits.extend([index] * count)
            if fail.get("nofail"):
                nofail = True
            if (
                (not fail.get("nofail") or (mlfid is None and not self.check_all))
                and ids
                and date is not None
            ):
                for fid, ip in ids:
                    failures.append(self._failure(fid, ip, fail, date, lineno, index))
            if not self.check_all:
                break
        if ignored_by >= 0 or nofail:
            kind = IGNORED
        elif hits:
            kind = MATCHED
        else:
            kind = MISSED
        return LineOutcome(lineno, line, kind, tuple(hits), ignored_by, tuple(failures), template)

    def _split(
        self, regex: CompiledRegex, m: re.Match[str], org: list[TupleLine]
    ) -> tuple[list[TupleLine], list[TupleLine]]:
        """The original lines a match covers, and the rest (upstream's matched/unmatched tuple lines)."""
        if len(org) <= 1:
            return list(org), []
        text = m.string
        start = text.rfind("\n", 0, m.start() + 1) + 1
        end = text.find("\n", m.end() - 1)
        end = len(text) if end < 0 else end + 1
        first, last = text.count("\n", 0, start), text.count("\n", 0, end)
        matched = org[first:last]
        unmatched = org[:first]
        n = 0
        for skipped in regex.skipped(m):
            for k, tl in enumerate(matched[n:]):
                if tl[0] + tl[2] == skipped:
                    unmatched.append(matched.pop(n + k))
                    n += k
                    break
        unmatched.extend(org[last:])
        return matched, unmatched

    def _ignored(
        self, buf: str, org: list[TupleLine], split: tuple[list[TupleLine], list[TupleLine]] | None
    ) -> int:
        if split is not None and self.maxlines > 1:
            org = split[0]
            buf = _buffer_text(org)
        found = -1
        for index, regex in enumerate(self._ignore):
            if regex.pattern.search(buf) is None:
                continue
            found = index
            if (not self.check_all or self.maxlines > 1) and split is not None:
                self._buffer = split[1]
            if not self.check_all:
                break
        return found

    def _failure(
        self, fid: str, ip: str | None, fail: dict[str, Any], date: float, lineno: int, index: int
    ) -> Failure:
        groups = tuple(
            [
                (key, value if value.__class__ is str else repr(value))
                for key, value in fail.items()
                if value is not None and key not in _INTERNAL
            ]
        )
        users = fail.get(session.USER_PAIRS)
        if users:  # the users a session tried: one ("users", name) pair each, sorted, shared by its failures
            groups += users
        lines = tuple([t[0] + t[1] + t[2] for t in fail.get("matches", ())])
        return Failure(fid, ip, date, lines, groups, lineno, index)

    # --- many lines ---------------------------------------------------------------------------------------

    def scan(
        self,
        chunk: str,
        now: float,
        first_lineno: int,
        stats: ScanStats,
        *,
        keep_missed: bool = False,
        keep_ignored: bool = True,
        keep_matched: bool = True,
        failures: bool = True,
    ) -> list[LineOutcome]:
        """Process every complete line of `chunk` (lines joined by "\\n", optionally ending with one), update
        `stats` for each, and return the outcomes of the lines that completed failures, of ignored lines (unless
        not keep_ignored), of matched ones (unless not keep_matched) and of missed ones (with keep_missed).
        Equal to calling process() line by line, except that with `failures` False a one-line filter builds no
        Failure (its outcomes have none; kinds and counts stay the same)."""
        from banjail.filter.scan import Keep, scan_chunk

        keep = Keep(keep_missed, keep_ignored, keep_matched, failures)
        return scan_chunk(self, chunk, now, first_lineno, stats, keep)
