"""Matching one line against a filter whose buffer holds one line (maxlines = 1): the same results as Matcher's
general step, without its buffer bookkeeping, without an outcome object, and without Failure objects when the
caller does not want them (the kind and the hits never depend on them).

With a one-line buffer the text the failregexes search stays the same through a line (the prefregex's content,
or the date-cut line), except in one quirk kept from upstream: when not checking every regex, a match whose
identifier cannot be read empties the buffer, and the regexes after it search an empty line ("\\n").
"""

from __future__ import annotations

from typing import Any

from banjail.filter import session
from banjail.filter.failure import failure_of
from banjail.filter.identity import hit_count
from banjail.filter.outcome import IGNORED, MISSED, kind_of
from banjail.filter.program import Program
from banjail.filter.state import LogState, TupleLine
from banjail.filter.step import ignored
from banjail.model import Failure

# kind, indices of the failregexes that matched, the ignoreregex that ignored it (-1), the failures
Found = tuple[int, tuple[int, ...], int, tuple[Failure, ...]]
# what another engine's regexes found on a line: the prefregex's groups, and per failregex its groups or None
Given = tuple[dict[str, Any], tuple["dict[str, Any] | None", ...]]

_NOTHING: tuple[int, ...] = ()
_NO_FAILURES: tuple[Failure, ...] = ()


def match_line(
    program: Program,
    state: LogState,
    tup: TupleLine,
    date: float | None,
    now: float,
    lineno: int,
    want_failures: bool,
    given: Given | None = None,
) -> Found:
    """What the general step (banjail.filter.step.find) does for `tup` (a date-cut line) with maxlines = 1;
    failures are built only when `want_failures` (the kind and hits do not depend on them).

    given: the groups the prefregex (which matched) and the failregexes found on this line's texts, from an
    engine that ran them (banjail.filter.native) instead of Python's re; used while the searched text is the
    one they ran on. Never with ignoreregexes (the native engine refuses them)."""
    # state.buffer is not kept here: with one-line buffers nothing reads it
    org = [tup]
    text = tup[0] + tup[2] + "\n" if tup[0] else tup[2] + "\n"
    check_all = program.check_all
    if program.ignore_first:
        ignored_by = ignored(program, state, text, org, None)
        if ignored_by >= 0:
            return IGNORED, _NOTHING, ignored_by, _NO_FAILURES
    ignored_by = -1
    buf = text
    pre: dict[str, Any] = {}
    pref_search = program.pref_search
    found: tuple[dict[str, Any] | None, ...] | None = None
    if given is not None:
        found = given[1]
        if pref_search is not None:
            state.pref_last = True
            pre = program.pref.fold(given[0]) if program.pref_folds else given[0]  # type: ignore[union-attr]
            content = pre.pop("content", None)
            if content:
                buf = content + "\n"
    elif pref_search is not None:
        pm = pref_search(text)
        state.pref_last = pm is not None
        if pm is None:
            return MISSED, _NOTHING, -1, _NO_FAILURES
        pre = program.pref.groups(pm) if program.pref_folds else pm.groupdict()  # type: ignore[union-attr]
        content = pre.pop("content", None)
        if content:  # a group's value: a string or None
            buf = content + "\n"
    by_first = program.by_first
    order = by_first.get(buf[0], program.any_first) if by_first is not None else program.all
    hits: list[int] = []
    failures: list[Failure] = []
    nofail = False
    has_ignore = bool(program.ignore)
    regexes = program.fail
    searches = program.searches
    folds = program.folds
    sessions = state.sessions
    identify = state.identities.identify
    for index in order:
        fail: dict[str, Any] | None
        if found is not None:
            fail = found[index]
            if fail is None:
                continue
            if folds[index]:
                fail = regexes[index].fold(fail)
        else:
            m = searches[index](buf)
            if m is None:
                continue
            fail = regexes[index].groups(m) if folds[index] else m.groupdict()
        if has_ignore:
            by = ignored(program, state, buf, org, (org, []))
            if by >= 0:
                ignored_by = by
                if not check_all:
                    break
                continue
        if date is None and state.undated is None:  # dropped below: upstream warns (banjail.daemon.reading)
            state.undated = (tup[1], tup[0] + tup[2])
        if pre:
            fail = {**pre, **fail}
        mlfid = fail.get("mlfid")
        if mlfid is not None:
            fail = session.merge(sessions, mlfid, fail, org, now)
            if fail.get("nofail") and not check_all:
                # upstream's findFailure returns here with nothing found: no hit, and the line is missed
                break
        else:
            fail["matches"] = fail.get("matches", []) + org
        try:
            ids = identify(fail, mlfid)
        except ValueError:
            if not check_all:
                buf = "\n"  # the emptied buffer (see the module's note)
                found = None  # given groups were found on the other text
            continue
        if want_failures and check_all and mlfid is not None:
            fail = dict(fail)  # the session's own dict goes on changing with later lines
        count = hit_count(ids)
        if not count:
            if not check_all:
                break
            continue
        hits.extend([index] * count)
        if fail.get("nofail"):
            nofail = True
        if (
            want_failures
            and (not fail.get("nofail") or (mlfid is None and not check_all))
            and ids
            and date is not None
        ):
            for fid, ip in ids:
                failures.append(failure_of(fid, ip, fail, date, lineno, index))
        if not check_all:
            break
    kind = kind_of(ignored_by, nofail, hits)
    return kind, tuple(hits), ignored_by, tuple(failures) if failures else _NO_FAILURES
