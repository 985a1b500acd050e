"""A chunk scan over a uniform chunk: every line's date found by one line-start template, so date texts are read
without a Python step per line, and only lines holding a required literal reach Python.

When the date detector proves (DateDetector.uniform_template, on the first line) the line-start template it would
choose, and that template matches every line of the chunk (then find() would choose it for each: it is the last
template and anchored), the per-line steps reduce to:
- date texts: the template's regex matched on each line (map over the lines, anchored as find() runs it); each
  line's epoch from DateDetector.parse_text, called once per run of equal texts in line order (a repeat right
  after itself gives the same answer, so the last date each call sees is the one find() would have seen), or,
  given another engine's runs of one minute, once per run (banjail.filter.dateruns: exact when the detector
  vouches for the run's day); the detector's statistics are then booked with note_hits;
- candidates: one search of the filter's literal prefilter over the raw chunk finds the lines that may match; a
  line's date-cut text is a part of the raw line (the date starts each line), so no other line can match;
- counts: lines with a valid date count as template hits, lines not offered to the filter count as missed;
- a live program (the daemon's) then moves a date more than a minute from now to now, as step.date_split does.

A date after a prefix (read_dates with prefixed=True: the native engine). The proven template may put text
before group 1: `{^LN-BEG}` templates allow up to two non-word characters (Apache's error log: "[Sun Dec 06
...] ..."), and the web filters' `^[^\\[]*\\[({DATE})` the client address and more (access logs). One proof per
chunk still stands for find()'s choice on every line, for these reasons, each a property of
banjail.filter.datedetect, and the chunk is refused whenever one of them is not proven:
1. uniform_template decides the first line as find() would (the fast path, else _locate), and returns a
   template only if it is anchored (LINE_BEGIN, so `fixed`) and every match of its regex starts the line
   (dateregex.starts_line): otherwise None, and this path is not taken.
2. Once that template has won a line, find() tries it first on the next (the fast path: `fixed` templates are
   searched on the whole line) and keeps it whenever its regex matches, whatever the other templates would
   find there; the other templates are only consulted when it does not match. uniform_template proves that it
   matches every line (its newline-free form fullmatches the chunk), so it wins every line, in order.
3. On each line find() cuts group 1 of that search. Every match starts at 0, so the search finds the match
   re.match finds (the leftmost match is the one at 0, and the same backtracking order chooses it): group 1's
   span here is find()'s, whatever the prefix's length on that line, and date_split's tuple line is (line[:start],
   text, line[end:]). A date text alone parses as in its line (parse_text refuses a template whose text regex
   cannot be read, see dateregex.group_one).
4. What a prefix changes is the date-cut text: prefix + rest is no longer a suffix of the raw line, so a
   required literal may span the join ("[" + "] [client" holds "[] [") and the raw chunk's literal search no
   longer bounds the lines that can match, and the prefregex count rule of book (pref_any) no longer holds.
   So this path (scan_uniform) keeps prefixed=False and refuses such a chunk; the native engine searches the
   date-cut lines themselves (banjail.filter.native) and counts the prefregex on them (counted=True).
A template that may match after the line start (a "searched position": the defaults on an access log read by a
filter without a datepattern) is refused by uniform_template: find()'s choice for it depends line by line on
where the last date was (_same_place), on every template's distance and hits, and on the order _promote gives
them, so no single search per chunk stands for it; those chunks take the per-line path.

Anything else takes the per-line path (returns None before any state changed): a log whose dates were
mostly distinct texts in an earlier chunk (LogState.uniform False, see the note in scan_uniform), missed lines
wanted, a detector without these methods, a template that is not proven, an empty date text (an optional date),
a date that does not start its line (unless prefixed), or a line longer than MAX_LINE.
"""

from __future__ import annotations

import bisect
import itertools
import operator
import re
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from banjail.filter.dateruns import LineTexts, Runs, minute_runs
from banjail.filter.outcome import IGNORED, MATCHED, Keep, LineOutcome, ScanStats, wanted
from banjail.filter.program import MAX_LINE, RECENT, Program
from banjail.filter.singleline import Given, match_line
from banjail.filter.state import LogState, TupleLine

_start = re.Match.start
_end = re.Match.end
_group = re.Match.group
_span = re.Match.span
_F = itertools.repeat("f")
_ONE = itertools.repeat(1)  # endless: map() stops with the matches
# Another engine's match of a line-start template on every line of a chunk: (template, chunk, number of its
# group "f" or -1) -> (each line's group 1 start or None when all are 0, end, text, group "f" starts and ends
# relative to group 1's start or None), or None when a line does not match with group 1 set and not empty, or
# the engine cannot decide.
Cut = Callable[
    [Any, str, int], "tuple[list[int] | None, list[int], list[str], list[int] | None, list[int] | None] | None"
]
_JUDGED = 64  # a chunk this long or longer tells whether the path pays (see the note on runs in scan_uniform)


@dataclass(slots=True)
class Dates:
    """The dates of a uniform chunk's lines: the template, where each line's date text starts (None: at 0 on
    every line) and ends, the texts, the epochs (None: not a valid date), the index of the last line with a
    valid one (-1 if none) and how many epochs are None. pref: set by a caller that counted the prefregex on
    the date-cut lines itself (read_dates' counted): how many it matched, and whether it matched the last."""

    template: Any
    starts: list[int] | None
    ends: list[int]
    texts: Sequence[str]
    dates: list[float | None]
    last_valid: int
    invalid: int
    pref: tuple[int, bool] | None = None

    def line(
        self, program: Program, state: LogState, i: int, line: str, now: float
    ) -> tuple[TupleLine, float | None, str | None]:
        """Line i's tuple line, date and template name, as the per-line path splits it."""
        date = self.dates[i]
        if date is None:
            tup, date = _dateless(program, state, self.dates, self.texts, i, line, now)
            return tup, date, None
        starts = self.starts
        if starts is not None and starts[i]:
            return (line[: starts[i]], self.texts[i], line[self.ends[i] :]), date, self.template.name
        return ("", self.texts[i], line[self.ends[i] :]), date, self.template.name


def read_dates(
    program: Program,
    state: LogState,
    rows: Sequence[str],
    now: float,
    *,
    judge: bool = True,
    chunk: str = "",
    cut: Cut | None = None,
    prefixed: bool = False,
    counted: bool = False,
    runs: Runs | None = None,
    longest: int | None = None,
) -> Dates | None:
    """The dates of `rows` (the lines of a chunk, each ending with "\\n" in it), booked with the detector as
    the per-line path would book them, or None (nothing changed) when the chunk is not uniform or this path
    is not exact for it. One-line programs only (Program.single). judge: whether the path may stop for this log
    when it does not pay against the per-line path (LogState.uniform; a caller whose alternative costs more
    passes False). cut: another engine's template match on every line of `chunk` (the text of `rows`), see Cut;
    where it gives None, Python's re does the same. prefixed: whether the caller takes dates that do not start
    their line (it must then search the date-cut lines, not the raw chunk: see the module's note). counted:
    whether the caller counts the prefregex on the date-cut lines itself (then sets Dates.pref). runs: another
    engine's template match cutting the lines into runs of one minute (banjail.filter.dateruns), tried before
    `cut` for a template with seconds. longest: the length of the longest row, when the caller knows it."""
    detector: Any = state.detector
    if (judge and not state.uniform) or detector is None or detector.none:
        return None
    if state.count_pref and not counted and (not program.pref_any or program.ignore_first):
        return None  # counting prefregex matches needs a search on every line
    uniform = getattr(detector, "uniform_template", None)
    if uniform is None:
        return None
    # The first line proves which template find() would choose for it (a line-start one, or None); that template
    # is then the last one, anchored, so find() keeps choosing it for every later line it matches.
    template = uniform(rows[0] + "\n")
    if template is None:
        return None
    # each line alone, as find() matches it (anchored: only at 0); no per-character scan of the chunk
    if (longest if longest is not None else max(map(len, rows))) > MAX_LINE:
        return None
    fraction = template.regex.groupindex.get("f", -1)
    seconds = template.regex.groupindex.get("S", -1)
    by_minute = runs(template, chunk, seconds, fraction) if runs is not None and seconds >= 0 else None
    got = cut(template, chunk, fraction) if cut is not None and by_minute is None else None
    spans: Iterable[tuple[int, int]] = ()
    starts: list[int] | None
    texts: Sequence[str]
    if by_minute is not None:
        starts, ends, heads, secs = by_minute
        texts = LineTexts(rows, starts, ends)
    elif got is not None:
        starts, ends, texts, fstarts, fends = got
        spans = zip(fstarts, fends, strict=True) if fstarts is not None and fends is not None else ()
    else:
        found = list(map(template.regex.match, rows))
        if None in found:
            return None
        starts = list(map(_start, found, _ONE))
        ends = list(map(_end, found, _ONE))
        texts = list(map(_group, found, _ONE))
        if "" in texts:
            return None
        if any(starts):
            # fraction spans relative to the text, as the cut gives them
            spans = _relative(starts, map(_span, found, _F)) if fraction >= 0 else ()
        else:
            starts = None
            spans = map(_span, found, _F) if fraction >= 0 else ()
    if starts is not None and not (prefixed and (counted or not state.count_pref)):
        return None  # a date after the line start: see the module's note (4.)
    lines = len(rows)
    # epochs per line, parsed once per run of equal texts, in line order
    parse = detector.parse_text
    dates: list[float | None] = []
    append = dates.append
    previous = ""
    date: float | None = None
    calls = 0
    if by_minute is not None:
        dates, calls, invalid = minute_runs(detector, template, texts, heads, secs, now)
    elif fraction >= 0 and getattr(detector, "remembered", None) is not None:
        calls = _fraction_runs(detector, template, spans, texts, dates, now)
        invalid = dates.count(None)
    else:
        for text in texts:
            if text != previous:
                date = parse(template, text, now)
                previous = text
                calls += 1
            append(date)
        invalid = dates.count(None)
    # parse_text matches a text again, which find() does not: with mostly distinct texts (fractions of a second)
    # this path costs more than it saves, so this log stops taking it (both paths give the same results)
    if judge and calls * 2 > lines >= _JUDGED:
        state.uniform = False
    last_valid = lines - 1
    while last_valid >= 0 and dates[last_valid] is None:
        last_valid -= 1
    detector.note_hits(template, lines, dates[last_valid] if last_valid >= 0 else None, now)
    if program.live:
        # upstream's operation mode (banjail.filter.step.date_split): a date more than a minute from now counts
        # as now, and so does the last date a later dateless line may take
        dates = _live(dates, invalid, now)
    return Dates(template, starts, ends, texts, dates, last_valid, invalid)


def _live(dates: list[float | None], invalid: int, now: float) -> list[float | None]:
    """`dates` with each date more than RECENT seconds from now (|int(d - now)| > RECENT) made now; invalid: how
    many are None. int() truncates towards 0, so |int(d - now)| over dates on one side of now grows away from it:
    when the smallest and the largest date are both recent, or the one nearest now is not while all lie on one
    side, the chunk needs no pass per line (a live log's chunk is recent; a backlog's is all old)."""
    if dates and not invalid:
        lo, hi = min(dates), max(dates)  # type: ignore[type-var]
        assert lo is not None and hi is not None
        near = hi if hi < now else lo if lo > now else None  # the date nearest now, all dates on its side
        if abs(int(lo - now)) <= RECENT and abs(int(hi - now)) <= RECENT:
            return dates
        if near is not None and abs(int(near - now)) > RECENT:
            return [now] * len(dates)
    return [now if d is not None and abs(int(d - now)) > RECENT else d for d in dates]


def _relative(starts: list[int], spans: Iterable[tuple[int, int]]) -> list[tuple[int, int]]:
    """Group "f" spans in their lines made relative to the date texts starting at `starts` ((-1, -1) stays)."""
    return [(fs - s, fe - s) if fs >= 0 else (fs, fe) for s, (fs, fe) in zip(starts, spans, strict=True)]


def _fraction_runs(
    detector: Any,
    template: Any,
    spans: Iterable[tuple[int, int]],
    texts: Sequence[str],
    dates: list[float | None],
    now: float,
) -> int:
    """The epochs of `texts` (group 1 of the template's match on each line, starting it; `spans`: the match's
    group "f" span on each line, (-1, -1) when unset) appended to `dates`, for a template with a
    fraction of a second: parse_text once per run of texts equal but for their fraction, when the detector
    remembers that run's epoch (DateDetector.remembered: then parse_text answers it for each, exactly), else
    once per run of equal texts. Returns the number of parse_text calls."""
    parse = detector.parse_text
    remembered = detector.remembered
    append = dates.append
    previous = key = ""
    known: float | None = None  # the remembered epoch of texts whose key is `key`
    date: float | None = None
    runs = 0
    for text, (fs, fe) in zip(texts, spans, strict=True):  # spans: one per text
        if text != previous:
            previous = text
            if fs < 0:
                date = parse(template, text, now)
                known = None
                runs += 1
            else:
                this = text[:fs] + text[fe:]
                if known is None or this != key:
                    date = parse(template, text, now)
                    key = this
                    known = remembered(template, key, now)
                    runs += 1
                else:
                    date = known
        append(date)
    return runs


def book(
    program: Program,
    state: LogState,
    found: Dates,
    rows: Sequence[str],
    stats: ScanStats,
    matched: int,
    ignored: int,
    after: Callable[[], int] | None = None,
) -> None:
    """After the lines of a uniform chunk ran: the last date, and the chunk's counts in `stats` (`matched` and
    `ignored` lines; every other line missed). after: how many rows are longer than their date ends, when the
    caller counts that faster."""
    dates, ends = found.dates, found.ends
    lines = len(rows)
    if found.last_valid >= 0:
        state.last_text, state.last_date = found.texts[found.last_valid], dates[found.last_valid]
    invalid = found.invalid
    valid = lines - invalid
    if state.count_pref and found.pref is not None:
        hits, state.pref_last = found.pref
        stats.prefregex_hits += hits
    elif state.count_pref:
        # pref_any: the prefregex matches every non-empty date-cut line: the text after the date, or the whole
        # line when its date is not valid (then it is not empty: it holds the date text)
        hits = after() if after is not None else sum(map(operator.lt, ends, map(len, rows)))
        if invalid:
            hits += sum(1 for i in range(lines) if dates[i] is None and len(rows[i]) == ends[i])
        stats.prefregex_hits += hits
        state.pref_last = dates[-1] is None or len(rows[-1]) > ends[-1]
    stats.lines += lines
    stats.matched += matched
    stats.ignored += ignored
    stats.missed += lines - matched - ignored
    if valid:
        name = found.template.name
        stats.template_hits[name] = stats.template_hits.get(name, 0) + valid


def scan_uniform(
    program: Program,
    state: LogState,
    chunk: str,
    rows: list[str],
    candidates: re.Pattern[str],
    now: float,
    first_lineno: int,
    stats: ScanStats,
    keep: Keep,
) -> list[LineOutcome] | None:
    """Scan `chunk` (complete lines, each ending with "\\n"; `rows` are those lines) as the per-line path would,
    or return None (nothing changed) when the chunk is not uniform. One-line programs only (Program.single)."""
    found = None if keep.missed else read_dates(program, state, rows, now)
    if found is None:
        return None
    ends = found.ends
    starts = list(itertools.accumulate(map((1).__add__, map(len, rows)), initial=0))
    out: list[LineOutcome] = []
    counts = [0, 0, 0]  # by kind: MISSED, MATCHED, IGNORED
    search = candidates.search
    pos = 0
    size = len(chunk)
    while pos < size:
        hit = search(chunk, pos)
        if hit is None:
            break
        # the line holding the hit: starts[i] <= hit.start() < starts[i + 1]
        i = _line_of(starts, hit.start())
        pos = starts[i + 1]
        line = rows[i]
        # a literal found after the date is in the cut text; one that overlaps the date may not be (a line
        # without a valid date keeps its date text: it is searched whole)
        at = hit.start() - starts[i] if found.dates[i] is not None else 0
        tup, date, template_name = found.line(program, state, i, line, now)
        if at < ends[i] and search(tup[0] + tup[2] if tup[0] else tup[2]) is None:
            continue
        run_line(program, state, (tup, date, template_name), line, first_lineno + i, now, keep, stats, counts, out)
    book(program, state, found, rows, stats, counts[MATCHED], counts[IGNORED])
    return out


def run_line(
    program: Program,
    state: LogState,
    split: tuple[TupleLine, float | None, str | None],
    line: str,
    lineno: int,
    now: float,
    keep: Keep,
    stats: ScanStats,
    counts: list[int],
    out: list[LineOutcome],
    given: Given | None = None,
) -> None:
    """The one-line step on a line of a uniform chunk (`split`: its tuple line, date and template name), its
    kind counted in `counts` (by kind) and its hits in `stats`, its outcome appended to `out` if `keep` wants
    it."""
    tup, date, template_name = split
    kind, hits, ignored_by, failures = match_line(program, state, tup, date, now, lineno, keep.failures, given)
    counts[kind] += 1
    fail_hits = stats.failregex_hits
    for index in hits:
        fail_hits[index] += 1
    if ignored_by >= 0:
        stats.ignoreregex_hits[ignored_by] += 1
    if wanted(keep, kind, failures):
        out.append(LineOutcome(lineno, line, kind, hits, ignored_by, failures, template_name))


def _line_of(starts: list[int], offset: int) -> int:
    return bisect.bisect_right(starts, offset) - 1


def _dateless(
    program: Program, state: LogState, dates: list[float | None], texts: Sequence[str], i: int, line: str, now: float
) -> tuple[tuple[str, str, str], float | None]:
    """A line whose date text is not a valid date: the per-line path finds no date, so the line keeps its text
    and takes the last date if it is recent (banjail.filter.step.date_split)."""
    j = i - 1
    while j >= 0 and dates[j] is None:
        j -= 1
    last_text, last_date = (texts[j], dates[j]) if j >= 0 else (state.last_text, state.last_date)
    if last_date is not None and last_date > now - RECENT:
        return ("", last_text, line), last_date
    return ("", "", line), now if program.live or state.stamp_dateless else None
