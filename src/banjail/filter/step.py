"""The general per-line step of fail2ban 1.0.2's findFailure, for any buffer size: date split, ignoreregex,
prefregex, every failregex in order, sessions, identities, failures. The reference the faster one-line step
(banjail.filter.singleline) and the chunk paths (banjail.filter.scan) are compared with."""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Any

from banjail.filter import session
from banjail.filter.failregex import CompiledRegex
from banjail.filter.failure import failure_of
from banjail.filter.identity import hit_count
from banjail.filter.outcome import IGNORED, MISSED, LineOutcome, kind_of
from banjail.filter.program import RECENT, Program
from banjail.filter.record import record_of
from banjail.filter.state import LogState, TupleLine
from banjail.model import Failure


def buffer_text(lines: Sequence[TupleLine]) -> str:
    """The text the regexes search for a buffer of date-cut lines: joined by newlines, with a final one."""
    if len(lines) == 1:
        return lines[0][0] + lines[0][2] + "\n"
    return "\n".join(t[0] + t[2] for t in lines) + "\n"


def date_split(
    program: Program, state: LogState, line: str, now: float
) -> tuple[TupleLine, float | None, str | None]:
    """Split the date out of `line` and update the last-date state, as upstream's processLine does: the tuple
    line, its epoch (None when it has none usable) and the template's display name."""
    template: str | None = None
    date: float | None = None
    detector = state.detector
    hit = detector.find(line, now) if detector is not None else None
    if hit is not None and hit.end > hit.start:
        template = hit.template
        text = line[hit.start : hit.end]
        tup: TupleLine = (line[: hit.start], text, line[hit.end :])
        date = hit.time
        state.last_text, state.last_date = text, date
    elif hit is not None or (detector is not None and detector.none):
        # an empty date match: the date is optional here; use the recent last date or now
        template = hit.template if hit is not None else None
        if state.last_date is not None and state.last_date > now - RECENT:
            tup, date = ("", state.last_text, line), state.last_date
        elif hit is not None:  # cut where the empty date is, as upstream (seen only in -o matches)
            tup, date = (line[: hit.start], "", line[hit.end :]), now
        else:
            tup, date = ("", "", line), now
    else:
        tup = ("", "", line)
        if state.last_date is not None and state.last_date > now - RECENT:
            tup, date = ("", state.last_text, line), state.last_date
        elif program.live or state.stamp_dateless:
            date = now
    if program.live and date is not None and abs(int(date - now)) > RECENT:
        date = now
        state.last_date = date
    return tup, date, template


def skipped_pref(program: Program, state: LogState, tup: TupleLine) -> bool:
    """Whether the prefregex matches a date-cut line that the literal prefilter kept from the regexes (for
    count_pref); sets state.pref_last as a search would."""
    if program.pref_any:
        found = bool(tup[0] or tup[2])
    else:
        assert program.pref_search is not None
        found = program.pref_search(tup[0] + tup[2] + "\n") is not None
    state.pref_last = found
    return found


def find(
    program: Program,
    state: LogState,
    tup: TupleLine,
    date: float | None,
    now: float,
    lineno: int,
    line: str,
    template: str | None,
) -> LineOutcome:
    """Offer one date-cut line to the buffer and return what it did (any maxlines)."""
    if state.trace is not None:
        state.trace.new_line()
    check_all = program.check_all
    single = program.maxlines == 1
    if single:
        org = state.buffer = [tup]
        text = tup[0] + tup[2] + "\n"
    else:
        state.buffer.append(tup)
        state.buffer = state.buffer[-program.maxlines :]
        org = state.buffer
        text = buffer_text(org)
    buf: str | None = text
    ignored_by = -1
    if program.ignore_first:
        ignored_by = ignored(program, state, text, org, None)
        if ignored_by >= 0:
            if state.trace is not None and state.pref_last:
                state.trace.prefregex()  # counted again too (scan's prefregex_hits), as upstream does
            return LineOutcome(lineno, line, IGNORED, ignoreregex=ignored_by, template=template)
    pre: dict[str, Any] = {}
    pref = program.pref
    if pref is not None:
        pm = pref.pattern.search(text)
        state.pref_last = pm is not None
        if pm is None:
            return LineOutcome(lineno, line, MISSED, template=template)
        pre = pref.groups(pm) if pref.folds else pm.groupdict()
        if state.trace is not None:
            state.trace.prefregex(pre)
        content = pre.pop("content", None)
        if isinstance(content, str) and content:
            state.buffer, buf = [("", "", content)], content + "\n"
    hits: list[int] = []
    failures: list[Failure] = []
    nofail = False
    if buf is None:
        buf = buffer_text(state.buffer)
    # with a one-line buffer the searched text stays the same through this loop, so only the failregexes
    # that can start with its first character need to run (banjail.filter.prefilter.dispatch)
    by_first = program.by_first
    order = by_first.get(buf[0], program.any_first) if by_first is not None else program.all
    for index in order:
        regex = program.fail[index]
        if buf is None:
            buf = buffer_text(state.buffer)
        m = regex.pattern.search(buf)
        if m is None:
            continue
        fail: dict[str, Any] = regex.groups(m) if regex.folds else m.groupdict()
        # one line: the match covers it (the list is never changed in place, so no copy)
        matched, unmatched = (org, []) if single else _split(regex, m, org)
        if program.ignore:
            found = ignored(program, state, buf, org, (matched, unmatched))
            if found >= 0:
                ignored_by = found
                buf = None
                if not check_all:
                    break
                continue
        if not check_all or program.maxlines > 1:
            state.buffer, buf = unmatched, None
        if date is None and state.undated is None:  # dropped below: upstream warns (banjail.daemon.reading)
            state.undated = (tup[1], "\n".join(t[0] + t[2] for t in matched))
        if pre:
            fail = {**pre, **fail}
        mlfid = fail.get("mlfid")
        if mlfid is not None:
            fail = session.merge(state.sessions, mlfid, fail, matched, now)
            if fail.get("nofail") and not check_all:
                # upstream's findFailure returns here with nothing found: no hit, and the line is missed
                break
        else:
            fail["matches"] = fail.get("matches", []) + matched
        try:
            ids = state.identities.identify(fail, mlfid)
        except ValueError:
            continue  # upstream logs an error and this regex yields nothing
        if check_all and mlfid is not None:
            fail = dict(fail)
        count = hit_count(ids)
        if not count:
            if not check_all:
                break
            continue
        hits.extend([index] * count)
        if state.trace is not None:
            state.trace.failregex(index, ids, date, bool(fail.get("nofail")))
        if fail.get("nofail"):
            nofail = True
        # a line without a date yields no Failure, except for fail2ban-regex's -o row/matches/<time> (records),
        # where upstream prints it with the time None (the Failure takes `now`, as upstream's ticket does)
        records = state.records
        if (not fail.get("nofail") or (mlfid is None and not check_all)) and ids and (
            date is not None or records is not None
        ):
            for fid, ip in ids:
                failures.append(failure_of(fid, ip, fail, now if date is None else date, lineno, index))
                if records is not None:
                    records.append(record_of(failures[-1], fail, date, template, tup[1], state.detector))
        if not check_all:
            break
    kind = kind_of(ignored_by, nofail, hits)
    return LineOutcome(lineno, line, kind, tuple(hits), ignored_by, tuple(failures), template)


def _split(
    regex: CompiledRegex, m: re.Match[str], org: list[TupleLine]
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


def ignored(
    program: Program,
    state: LogState,
    buf: str,
    org: list[TupleLine],
    split: tuple[list[TupleLine], list[TupleLine]] | None,
) -> int:
    """The index of the ignoreregex that ignores `buf` (the last one matching with check_all), or -1; with
    `split` (after a failregex match) a match also drops the matched lines from a multi-line buffer."""
    if split is not None and program.maxlines > 1:
        org = split[0]
        buf = buffer_text(org)
    found = -1
    for index, regex in enumerate(program.ignore):
        if regex.pattern.search(buf) is None:
            continue
        found = index
        if (not program.check_all or program.maxlines > 1) and split is not None:
            state.buffer = split[1]
        if not program.check_all:
            break
    return found
