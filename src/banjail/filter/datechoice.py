"""Choosing the template that wins a line, and moving templates that keep hitting towards the front: fail2ban's
order and preferences, for banjail.filter.datedetect's DateDetector (which keeps the templates and their state)."""

from __future__ import annotations

import re
from collections.abc import Sequence

from banjail.filter.dateparse import FAR, Entry, Span

_UNUSED_AFTER = 300.0  # a template unused this long may be displaced by one that hits (fail2ban's 5 minutes)


def same_bounds(previous: Span | None, line: str, start: int, end: int) -> bool:
    """Whether the characters around [start, end) look like those around the last date: outside equal, or
    inside equal and not alphanumeric (a space, a bracket); otherwise the format may have changed. previous: the
    match of the last date (None: no date yet)."""
    prev = previous.string if previous is not None else ""
    if line[start - 1:start] != prev[start - 1:start]:
        first = prev[start:start + 1]
        if line[start:start + 1] != first or first.isalnum():
            return False
    if line[end:end + 1] != prev[end:end + 1]:
        last = prev[end - 1:end] if end > 0 else prev[-1:]
        if line[end - 1:end] != last or last.isalnum():
            return False
    return True


def locate(
    entries: Sequence[Entry], last: int, prev: Span | None, line: str, tried_last: bool
) -> tuple[re.Match[str], int] | None:
    """The match and index of the template that wins `line`, or None. tried_last: the last template is
    anchored and was already tried on the whole line (in vain). Statistics must be booked. entries: the templates
    in their order; last: the index of the one that found the last date (-1: none), at `prev` (None: no date yet)."""
    count = len(entries)
    reserve: tuple[re.Match[str], int] | None = None
    i = last
    skip = i if tried_last else -1
    prev_start, prev_end = (prev.start(), prev.end()) if prev is not None else (1, FAR)
    if i >= 0 and not tried_last:
        entry = entries[i]
        if entry.fixed:
            m = entry.regex.search(line)
            skip = i
        elif same_bounds(prev, line, prev_start, prev_end):
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


def promote(entries: list[Entry], num: int, first_unused: int) -> tuple[int, int]:
    """Move a template that hit towards the front: to the first unused place or half-way, if it weighs more
    than the one there or that one was unused for a while; else one step, on the same condition. Reorders
    `entries` in place; returns the template's index then and the new index of the first unused template."""
    entry = entries[num]
    stale = entry.last_used - _UNUSED_AFTER
    score = entry.score()
    pos = first_unused if first_unused < num else num // 2
    if not (score > entries[pos].score() or stale > entries[pos].last_used):
        if pos == num - 1:
            return num, first_unused
        pos = num - 1
        if not (score > entries[pos].score() or stale > entries[pos].last_used):
            return num, first_unused
    del entries[num]
    entries.insert(pos, entry)
    while first_unused < len(entries) and entries[first_unused].hits:
        first_unused += 1
    return pos, first_unused
