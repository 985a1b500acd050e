"""Matcher.scan over a uniform chunk: every line's date found by one line-start template, so dates are read with
one regex run over the chunk and only lines holding a required literal reach Python.

When the date detector proves (DateDetector.uniform_template) that the template it would choose for each line of
the chunk matches at the start of every line, the per-line steps reduce to:
- date texts: one re.MULTILINE run of the template's regex; each line's epoch from DateDetector.parse_text, called
  once per run of equal texts in line order (a repeat right after itself gives the same answer, so the last date
  each call sees is the one find() would have seen); the detector's statistics are then booked with note_hits;
- candidates: one search of the filter's literal prefilter over the raw chunk finds the lines that may match; a
  line's date-cut text is a part of the raw line (the date starts each line), so no other line can match;
- counts: lines with a valid date count as template hits, lines not offered to the filter count as missed.

Anything else takes the per-line path (returns None before any state changed): a live matcher, missed lines
wanted, a detector without these methods, a template that is not proven, an empty date text (an optional date),
a date that does not start its line, or a line longer than MAX_LINE.
"""

from __future__ import annotations

import bisect
import itertools
import operator
import re
from typing import TYPE_CHECKING, Any

from banjail.filter.outcome import IGNORED, MATCHED, LineOutcome, ScanStats
from banjail.filter.singleline import match_line

if TYPE_CHECKING:
    from banjail.filter.matcher import Matcher
    from banjail.filter.scan import Keep

_MULTILINE: dict[tuple[str, int], re.Pattern[str]] = {}
_start = re.Match.start
_end = re.Match.end


def _multiline(regex: re.Pattern[str]) -> re.Pattern[str]:
    key = (regex.pattern, regex.flags)
    found = _MULTILINE.get(key)
    if found is None:
        if len(_MULTILINE) > 64:
            _MULTILINE.clear()
        found = _MULTILINE[key] = re.compile(regex.pattern, regex.flags | re.MULTILINE)
    return found


def scan_uniform(
    matcher: Matcher,
    chunk: str,
    lines: int,
    candidates: re.Pattern[str],
    now: float,
    first_lineno: int,
    stats: ScanStats,
    keep: Keep,
) -> list[LineOutcome] | None:
    """Scan `chunk` (`lines` complete lines, each ending with "\\n") as the per-line path would, or return None
    (nothing changed) when the chunk is not uniform. One-line filters only (Matcher.single)."""
    from banjail.filter.matcher import MAX_LINE

    detector: Any = matcher.detector
    if matcher.live or keep.missed or detector is None or detector.none:
        return None
    uniform = getattr(detector, "uniform_template", None)
    if uniform is None:
        return None
    template = uniform(chunk)
    if template is None:
        return None
    found = list(_multiline(template.regex).finditer(chunk))
    if len(found) != lines:
        return None
    starts = list(map(_start, found))
    if starts != list(map(_start, found, itertools.repeat(1))):
        return None  # a date after the line start: the cut text joins two parts of the line
    ends = list(map(_end, found, itertools.repeat(1)))
    if max(map(operator.sub, [*starts[1:], len(chunk)], starts)) > MAX_LINE:
        return None
    texts = list(map(chunk.__getitem__, map(slice, starts, ends)))
    if "" in texts:
        return None
    # epochs per line, parsed once per run of equal texts, in line order
    parse = detector.parse_text
    dates: list[float | None] = []
    append = dates.append
    previous = ""
    date: float | None = None
    for text in texts:
        if text != previous:
            date = parse(template, text, now)
            previous = text
        append(date)
    last_valid = lines - 1
    while last_valid >= 0 and dates[last_valid] is None:
        last_valid -= 1
    detector.note_hits(template, lines, dates[last_valid] if last_valid >= 0 else None, now)

    out: list[LineOutcome] = []
    fail_hits, ignore_hits = stats.failregex_hits, stats.ignoreregex_hits
    want = keep.failures
    matched = ignored = 0
    search = candidates.search
    pos = 0
    size = len(chunk)
    while pos < size:
        hit = search(chunk, pos)
        if hit is None:
            break
        # the line holding the hit: starts[i] <= hit.start() < starts[i + 1]
        i = _line_of(starts, hit.start())
        start = starts[i]
        stop = chunk.index("\n", start)
        pos = stop + 1
        date = dates[i]
        line = chunk[start:stop]
        at = hit.start()
        if date is None:
            tup, date = _dateless(matcher, dates, texts, i, line, now)
            template_name = None
            at = start  # the line keeps its date text: search it whole
        else:
            tup = ("", texts[i], line[ends[i] - start :])
            template_name = template.name
        # a literal found after the date is in the cut text; one that overlaps the date may not be
        if at < ends[i] and search(tup[0] + tup[2] if tup[0] else tup[2]) is None:
            continue
        lineno = first_lineno + i
        kind, hits, ignored_by, failures = match_line(matcher, tup, date, now, lineno, want)
        if kind == MATCHED:
            matched += 1
        elif kind == IGNORED:
            ignored += 1
        for index in hits:
            fail_hits[index] += 1
        if ignored_by >= 0:
            ignore_hits[ignored_by] += 1
        if failures or (kind == MATCHED and keep.matched) or (kind == IGNORED and keep.ignored):
            out.append(LineOutcome(lineno, line, kind, hits, ignored_by, failures, template_name))
    if last_valid >= 0:
        matcher._last_text, matcher._last_date = texts[last_valid], dates[last_valid]
    valid = lines - dates.count(None)
    stats.lines += lines
    stats.matched += matched
    stats.ignored += ignored
    stats.missed += lines - matched - ignored
    if valid:
        stats.template_hits[template.name] = stats.template_hits.get(template.name, 0) + valid
    return out


def _line_of(starts: list[int], offset: int) -> int:
    return bisect.bisect_right(starts, offset) - 1


def _dateless(
    matcher: Matcher, dates: list[float | None], texts: list[str], i: int, line: str, now: float
) -> tuple[tuple[str, str, str], float | None]:
    """A line whose date text is not a valid date: the per-line path finds no date, so the line keeps its text
    and takes the last date if it is recent (Matcher._date)."""
    from banjail.filter.matcher import RECENT

    j = i - 1
    while j >= 0 and dates[j] is None:
        j -= 1
    last_text, last_date = (texts[j], dates[j]) if j >= 0 else (matcher._last_text, matcher._last_date)
    if last_date is not None and last_date > now - RECENT:
        return ("", last_text, line), last_date
    return ("", "", line), None
