"""A chunk scan over a uniform chunk: every line's date found by one line-start template, so date texts are read
without a Python step per line, and only lines holding a required literal reach Python.

When the date detector proves (DateDetector.uniform_template, on the first line) the line-start template it would
choose, and that template matches every line of the chunk (then find() would choose it for each: it is the last
template and anchored), the per-line steps reduce to:
- date texts: the template's regex matched on each line (map over the lines, anchored as find() runs it); each
  line's epoch from DateDetector.parse_text, called once per run of equal texts in line order (a repeat right
  after itself gives the same answer, so the last date each call sees is the one find() would have seen); the
  detector's statistics are then booked with note_hits;
- candidates: one search of the filter's literal prefilter over the raw chunk finds the lines that may match; a
  line's date-cut text is a part of the raw line (the date starts each line), so no other line can match;
- counts: lines with a valid date count as template hits, lines not offered to the filter count as missed;
- a live program (the daemon's) then moves a date more than a minute from now to now, as step.date_split does.

Anything else takes the per-line path (returns None before any state changed): a log whose dates were
mostly distinct texts in an earlier chunk (LogState.uniform False, see the note in scan_uniform), missed lines
wanted, a detector without these methods, a template that is not proven, an empty date text (an optional date),
a date that does not start its line, or a line longer than MAX_LINE.
"""

from __future__ import annotations

import bisect
import itertools
import operator
import re
from dataclasses import dataclass
from typing import Any

from banjail.filter.outcome import IGNORED, MATCHED, Keep, LineOutcome, ScanStats, wanted
from banjail.filter.program import MAX_LINE, RECENT, Program
from banjail.filter.singleline import Given, match_line
from banjail.filter.state import LogState, TupleLine

_start = re.Match.start
_end = re.Match.end
_group = re.Match.group
_ONE = itertools.repeat(1)  # endless: map() stops with the matches
_JUDGED = 64  # a chunk this long or longer tells whether the path pays (see the note on runs in scan_uniform)


@dataclass(slots=True)
class Dates:
    """The dates of a uniform chunk's lines: the template, where each line's date text ends, the texts, the
    epochs (None: not a valid date) and the index of the last line with a valid one (-1 if none)."""

    template: Any
    ends: list[int]
    texts: list[str]
    dates: list[float | None]
    last_valid: int

    def line(
        self, program: Program, state: LogState, i: int, line: str, now: float
    ) -> tuple[TupleLine, float | None, str | None]:
        """Line i's tuple line, date and template name, as the per-line path splits it."""
        date = self.dates[i]
        if date is None:
            tup, date = _dateless(program, state, self.dates, self.texts, i, line, now)
            return tup, date, None
        return ("", self.texts[i], line[self.ends[i] :]), date, self.template.name


def read_dates(
    program: Program, state: LogState, rows: list[str], now: float, *, judge: bool = True
) -> Dates | None:
    """The dates of `rows` (the lines of a chunk, each ending with "\\n" in it), booked with the detector as
    the per-line path would book them, or None (nothing changed) when the chunk is not uniform or this path
    is not exact for it. One-line programs only (Program.single). judge: whether the path may stop for this log
    when it does not pay against the per-line path (LogState.uniform; a caller whose alternative costs more
    passes False)."""
    detector: Any = state.detector
    if (judge and not state.uniform) or detector is None or detector.none:
        return None
    if state.count_pref and (not program.pref_any or program.ignore_first):
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
    if max(map(len, rows)) > MAX_LINE:
        return None
    found = list(map(template.regex.match, rows))
    if None in found or any(map(_start, found, _ONE)):
        return None  # a date after the line start: the cut text would join two parts of the line
    ends = list(map(_end, found, _ONE))
    texts: list[str] = list(map(_group, found, _ONE))
    if "" in texts:
        return None
    lines = len(rows)
    # epochs per line, parsed once per run of equal texts, in line order
    parse = detector.parse_text
    dates: list[float | None] = []
    append = dates.append
    previous = ""
    date: float | None = None
    runs = 0
    for text in texts:
        if text != previous:
            date = parse(template, text, now)
            previous = text
            runs += 1
        append(date)
    # parse_text matches a text again, which find() does not: with mostly distinct texts (fractions of a second)
    # this path costs more than it saves, so this log stops taking it (both paths give the same results)
    if judge and runs * 2 > lines >= _JUDGED:
        state.uniform = False
    last_valid = lines - 1
    while last_valid >= 0 and dates[last_valid] is None:
        last_valid -= 1
    detector.note_hits(template, lines, dates[last_valid] if last_valid >= 0 else None, now)
    if program.live:
        # upstream's operation mode (banjail.filter.step.date_split): a date more than a minute from now counts
        # as now, and so does the last date a later dateless line may take
        dates = [now if d is not None and abs(int(d - now)) > RECENT else d for d in dates]
    return Dates(template, ends, texts, dates, last_valid)


def book(
    program: Program, state: LogState, found: Dates, rows: list[str], stats: ScanStats, matched: int, ignored: int
) -> None:
    """After the lines of a uniform chunk ran: the last date, and the chunk's counts in `stats` (`matched` and
    `ignored` lines; every other line missed)."""
    dates, ends = found.dates, found.ends
    lines = len(rows)
    if found.last_valid >= 0:
        state.last_text, state.last_date = found.texts[found.last_valid], dates[found.last_valid]
    invalid = dates.count(None)
    valid = lines - invalid
    if state.count_pref:
        # pref_any: the prefregex matches every non-empty date-cut line: the text after the date, or the whole
        # line when its date is not valid (then it is not empty: it holds the date text)
        hits = sum(map(operator.lt, ends, map(len, rows)))
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
    program: Program, state: LogState, dates: list[float | None], texts: list[str], i: int, line: str, now: float
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
