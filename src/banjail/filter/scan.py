"""Matcher.scan: many lines at once, with the same results as Matcher.process line by line.

The shortcut: with a one-line buffer, a line can only change a Matcher's state through its date (the last date
seen) or through a regex that matches it. When every failregex (and every ignoreregex that runs first) has a set
of required strings (banjail.filter.prefilter), a line whose date-cut text contains none of them cannot match
anything: it only gets its date read and is counted as missed, with no outcome object and no regex run.

Three paths, fastest first, each taken only where it is exact:
- a uniform chunk (banjail.filter.uniform): one line-start date template proven for every line; dates read with
  one regex run, and only lines holding a required literal reach Python;
- one-line buffers (banjail.filter.singleline, `_single`): dates line by line, the literal prefilter, the
  one-line step with no object per line unless the caller keeps its outcome;
- otherwise the general step: for every line with multi-line buffers (maxlines > 1 keeps every line in the
  buffer), and through the literal prefilter (`_filtered`) for a one-line Matcher built with single=False.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import TYPE_CHECKING

from banjail.filter import prefilter
from banjail.filter.outcome import IGNORED, MATCHED, MISSED, LineOutcome, ScanStats
from banjail.filter.singleline import match_line
from banjail.filter.uniform import scan_uniform

if TYPE_CHECKING:
    from banjail.filter.matcher import Matcher


@dataclass(frozen=True, slots=True)
class Keep:
    """Which outcomes Matcher.scan returns: missed, ignored and matched lines (a line that completed failures is
    always returned), and whether failures are built at all (they cost an object each; the counts never depend
    on them)."""

    missed: bool = False
    ignored: bool = True
    matched: bool = True
    failures: bool = True


def candidate_filter(matcher: Matcher) -> re.Pattern[str] | None:
    """A regex that finds something in every line any of the matcher's regexes could match, or None when
    no such prefilter exists (then every line is a candidate)."""
    cached = matcher._candidates
    if cached is not None:
        return cached[0]
    found: re.Pattern[str] | None = None
    if matcher.maxlines == 1 and matcher.regexes.failregex:
        regexes = list(matcher.regexes.failregex)
        if matcher._ignore_first:
            regexes += matcher.regexes.ignoreregex
        needs = [prefilter.required(r.pattern) for r in regexes]
        if all(n is not None for n in needs):
            found = prefilter.alternation([n for n in needs if n is not None])
    matcher._candidates = (found,)
    return found


def scan_chunk(
    matcher: Matcher,
    chunk: str,
    now: float,
    first_lineno: int,
    stats: ScanStats,
    keep: Keep,
) -> list[LineOutcome]:
    nfail, nignore = len(matcher.regexes.failregex), len(matcher.regexes.ignoreregex)
    record(stats, LineOutcome(0, "", MISSED), nfail, nignore)  # size the per-regex lists
    stats.lines -= 1
    stats.missed -= 1
    if not chunk:
        return []
    lines = chunk.split("\n")
    if chunk.endswith("\n"):
        lines.pop()
    out: list[LineOutcome] = []
    candidates = candidate_filter(matcher)
    if matcher.single and candidates is not None and chunk.endswith("\n"):
        found = scan_uniform(matcher, chunk, lines, candidates, now, first_lineno, stats, keep)
        if found is not None:
            return found
    if not matcher.single:
        if candidates is None:
            count_pref = matcher.count_pref
            for offset, line in enumerate(lines):
                outcome = matcher.process(line, now, first_lineno + offset)
                record(stats, outcome, nfail, nignore)
                if count_pref:
                    stats.prefregex_hits += matcher.pref_last
                if outcome.kind != MISSED or keep.missed:
                    out.append(outcome)
            return out
        return _filtered(matcher, lines, candidates, now, first_lineno, stats, keep.missed, nfail, nignore)
    return _single(matcher, lines, candidates, now, first_lineno, stats, keep)


def _filtered(
    matcher: Matcher,
    lines: list[str],
    candidates: re.Pattern[str],
    now: float,
    first_lineno: int,
    stats: ScanStats,
    keep_missed: bool,
    nfail: int,
    nignore: int,
) -> list[LineOutcome]:
    """Lines through the literal prefilter, then Matcher's own step (buffers of several lines)."""
    from banjail.filter.matcher import MAX_LINE

    out: list[LineOutcome] = []
    search = candidates.search
    split_date = matcher._date
    find = matcher._find
    templates = stats.template_hits
    count_pref = matcher.count_pref
    missed = 0
    for offset, line in enumerate(lines):
        if len(line) > MAX_LINE:
            line = line[:MAX_LINE]
            matcher.truncated += 1
        tup, date, template = split_date(line, now)
        head, _text, tail = tup
        if search(head + tail if head else tail) is None:
            if count_pref:
                stats.prefregex_hits += matcher.skipped_pref(tup)
            missed += 1
            if template is not None:
                templates[template] = templates.get(template, 0) + 1
            if keep_missed:
                out.append(LineOutcome(first_lineno + offset, line, MISSED, template=template))
            continue
        outcome = find(tup, date, now, first_lineno + offset, line, template)
        record(stats, outcome, nfail, nignore)
        if count_pref:
            stats.prefregex_hits += matcher.pref_last
        if outcome.kind != MISSED or keep_missed:
            out.append(outcome)
    stats.lines += missed
    stats.missed += missed
    return out


def _single(
    matcher: Matcher,
    lines: list[str],
    candidates: re.Pattern[str] | None,
    now: float,
    first_lineno: int,
    stats: ScanStats,
    keep: Keep,
) -> list[LineOutcome]:
    """One-line buffers: lines through the literal prefilter (when there is one), the rest through
    banjail.filter.singleline, with no object per line unless `keep` asks for its outcome."""
    from banjail.filter.matcher import MAX_LINE

    out: list[LineOutcome] = []
    search = candidates.search if candidates is not None else None
    split_date = matcher._date
    templates: dict[str | None, int] = {}
    fail_hits = stats.failregex_hits
    ignore_hits = stats.ignoreregex_hits
    keep_missed, keep_ignored, keep_matched, want = keep.missed, keep.ignored, keep.matched, keep.failures
    counts = [0, 0, 0]  # by kind: MISSED, MATCHED, IGNORED
    count_pref = matcher.count_pref
    lineno = first_lineno - 1
    for line in lines:
        lineno += 1
        if len(line) > MAX_LINE:
            line = line[:MAX_LINE]
            matcher.truncated += 1
        tup, date, template = split_date(line, now)
        templates[template] = templates.get(template, 0) + 1
        if search is not None and search(tup[0] + tup[2] if tup[0] else tup[2]) is None:
            if count_pref:
                stats.prefregex_hits += matcher.skipped_pref(tup)
            counts[MISSED] += 1
            if keep_missed:
                out.append(LineOutcome(lineno, line, MISSED, template=template))
            continue
        kind, hits, ignored_by, failures = match_line(matcher, tup, date, now, lineno, want)
        if count_pref:
            stats.prefregex_hits += matcher.pref_last
        counts[kind] += 1
        for index in hits:
            fail_hits[index] += 1
        if ignored_by >= 0:
            ignore_hits[ignored_by] += 1
        if (
            failures
            or (kind == MATCHED and keep_matched)
            or (kind == IGNORED and keep_ignored)
            or (kind == MISSED and keep_missed)
        ):
            out.append(LineOutcome(lineno, line, kind, hits, ignored_by, failures, template))
    stats.lines += len(lines)
    stats.missed += counts[MISSED]
    stats.matched += counts[MATCHED]
    stats.ignored += counts[IGNORED]
    found = stats.template_hits
    for name, n in templates.items():
        if name is not None:
            found[name] = found.get(name, 0) + n
    return out


def record(stats: ScanStats, outcome: LineOutcome, nfail: int, nignore: int) -> None:
    """Add one line's outcome to `stats`."""
    if len(stats.failregex_hits) < nfail:
        stats.failregex_hits.extend([0] * (nfail - len(stats.failregex_hits)))
    if len(stats.ignoreregex_hits) < nignore:
        stats.ignoreregex_hits.extend([0] * (nignore - len(stats.ignoreregex_hits)))
    stats.lines += 1
    if outcome.kind == MATCHED:
        stats.matched += 1
    elif outcome.kind == IGNORED:
        stats.ignored += 1
    else:
        stats.missed += 1
    for index in outcome.failregex:
        stats.failregex_hits[index] += 1
    if outcome.ignoreregex >= 0:
        stats.ignoreregex_hits[outcome.ignoreregex] += 1
    if outcome.template is not None:
        stats.template_hits[outcome.template] = stats.template_hits.get(outcome.template, 0) + 1
