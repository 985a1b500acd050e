"""The Python engine: many lines at once (scan_chunk), with the same results as process_line line by line.

The shortcut: with a one-line buffer, a line can only change a log's state through its date (the last date
seen) or through a regex that matches it. When every failregex (and every ignoreregex that runs first) has a set
of required strings (banjail.filter.prefilter), a line whose date-cut text contains none of them cannot match
anything: it only gets its date read and is counted as missed, with no outcome object and no regex run.

Three paths, fastest first, each taken only where it is exact:
- a uniform chunk (banjail.filter.uniform): one line-start date template proven for every line; dates read with
  one regex run, and only lines holding a required literal reach Python;
- one-line buffers (banjail.filter.singleline, `_single`): dates line by line, the literal prefilter, the
  one-line step with no object per line unless the caller keeps its outcome;
- otherwise the general step (banjail.filter.step): for every line with multi-line buffers (maxlines > 1 keeps
  every line in the buffer), and through the literal prefilter (`_filtered`) for a one-line program compiled
  with single=False.
"""

from __future__ import annotations

import re

from banjail.filter import step
from banjail.filter.outcome import IGNORED, MATCHED, MISSED, Keep, LineOutcome, ScanStats
from banjail.filter.program import MAX_LINE, Program
from banjail.filter.singleline import match_line
from banjail.filter.state import LogState
from banjail.filter.uniform import scan_uniform


def process_line(program: Program, state: LogState, line: str, now: float, lineno: int = 0) -> LineOutcome:
    """Offer one complete line (no newline) and return what it did."""
    if len(line) > MAX_LINE:
        line = line[:MAX_LINE]
        state.truncated += 1
    tup, date, template = step.date_split(program, state, line, now)
    if program.single:
        one = match_line(program, state, tup, date, now, lineno, True)
        return LineOutcome(lineno, line, one[0], one[1], one[2], one[3], template)
    return step.find(program, state, tup, date, now, lineno, line, template)


def scan_chunk(
    program: Program,
    state: LogState,
    chunk: str,
    now: float,
    first_lineno: int,
    stats: ScanStats,
    keep: Keep,
) -> list[LineOutcome]:
    """Process every complete line of `chunk` (lines joined by "\n", optionally ending with one), update
    `stats` for each, and return the outcomes `keep` asks for (always those of lines that completed failures).
    Equal to process_line line by line, except that with keep.failures False a one-line program builds no
    Failure (its outcomes have none; kinds and counts stay the same)."""
    nfail, nignore = len(program.fail), len(program.ignore)
    size_stats(stats, program)
    if not chunk:
        return []
    lines = chunk.split("\n")
    if chunk.endswith("\n"):
        lines.pop()
    out: list[LineOutcome] = []
    candidates = program.candidates
    if program.single and candidates is not None and chunk.endswith("\n"):
        found = scan_uniform(program, state, chunk, lines, candidates, now, first_lineno, stats, keep)
        if found is not None:
            return found
    if not program.single:
        if candidates is None:
            count_pref = state.count_pref
            for offset, line in enumerate(lines):
                outcome = process_line(program, state, line, now, first_lineno + offset)
                record(stats, outcome, nfail, nignore)
                if count_pref:
                    stats.prefregex_hits += state.pref_last
                if outcome.kind != MISSED or keep.missed:
                    out.append(outcome)
            return out
        return _filtered(program, state, lines, candidates, now, first_lineno, stats, keep.missed, nfail, nignore)
    return _single(program, state, lines, candidates, now, first_lineno, stats, keep)


def _filtered(
    program: Program,
    state: LogState,
    lines: list[str],
    candidates: re.Pattern[str],
    now: float,
    first_lineno: int,
    stats: ScanStats,
    keep_missed: bool,
    nfail: int,
    nignore: int,
) -> list[LineOutcome]:
    """Lines through the literal prefilter, then the general step (banjail.filter.step.find)."""
    out: list[LineOutcome] = []
    search = candidates.search
    split_date = step.date_split
    find = step.find
    templates = stats.template_hits
    count_pref = state.count_pref
    missed = 0
    for offset, line in enumerate(lines):
        if len(line) > MAX_LINE:
            line = line[:MAX_LINE]
            state.truncated += 1
        tup, date, template = split_date(program, state, line, now)
        head, _text, tail = tup
        if search(head + tail if head else tail) is None:
            if count_pref:
                stats.prefregex_hits += step.skipped_pref(program, state, tup)
            missed += 1
            if template is not None:
                templates[template] = templates.get(template, 0) + 1
            if keep_missed:
                out.append(LineOutcome(first_lineno + offset, line, MISSED, template=template))
            continue
        outcome = find(program, state, tup, date, now, first_lineno + offset, line, template)
        record(stats, outcome, nfail, nignore)
        if count_pref:
            stats.prefregex_hits += state.pref_last
        if outcome.kind != MISSED or keep_missed:
            out.append(outcome)
    stats.lines += missed
    stats.missed += missed
    return out


def _single(
    program: Program,
    state: LogState,
    lines: list[str],
    candidates: re.Pattern[str] | None,
    now: float,
    first_lineno: int,
    stats: ScanStats,
    keep: Keep,
) -> list[LineOutcome]:
    """One-line buffers: lines through the literal prefilter (when there is one), the rest through
    banjail.filter.singleline, with no object per line unless `keep` asks for its outcome."""
    out: list[LineOutcome] = []
    search = candidates.search if candidates is not None else None
    split_date = step.date_split
    templates: dict[str | None, int] = {}
    fail_hits = stats.failregex_hits
    ignore_hits = stats.ignoreregex_hits
    keep_missed, keep_ignored, keep_matched, want = keep.missed, keep.ignored, keep.matched, keep.failures
    counts = [0, 0, 0]  # by kind: MISSED, MATCHED, IGNORED
    count_pref = state.count_pref
    lineno = first_lineno - 1
    for line in lines:
        lineno += 1
        if len(line) > MAX_LINE:
            line = line[:MAX_LINE]
            state.truncated += 1
        tup, date, template = split_date(program, state, line, now)
        templates[template] = templates.get(template, 0) + 1
        if search is not None and search(tup[0] + tup[2] if tup[0] else tup[2]) is None:
            if count_pref:
                stats.prefregex_hits += step.skipped_pref(program, state, tup)
            counts[MISSED] += 1
            if keep_missed:
                out.append(LineOutcome(lineno, line, MISSED, template=template))
            continue
        kind, hits, ignored_by, failures = match_line(program, state, tup, date, now, lineno, want)
        if count_pref:
            stats.prefregex_hits += state.pref_last
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


def size_stats(stats: ScanStats, program: Program) -> None:
    """Size the per-regex lists of `stats` for `program` (each engine does so before a chunk's lines)."""
    nfail, nignore = len(program.fail), len(program.ignore)
    if len(stats.failregex_hits) < nfail:
        stats.failregex_hits.extend([0] * (nfail - len(stats.failregex_hits)))
    if len(stats.ignoreregex_hits) < nignore:
        stats.ignoreregex_hits.extend([0] * (nignore - len(stats.ignoreregex_hits)))


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
