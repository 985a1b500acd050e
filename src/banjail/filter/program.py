"""A filter compiled once: its regexes, the literal prefilter, the first-character dispatch and the mode flags.

A Program never changes after compile_program; everything a log carries (last date, line buffer, sessions) is in
banjail.filter.state.LogState, so one Program can serve any number of logs and any engine
(banjail.filter.engine).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass

from banjail.filter import prefilter
from banjail.filter.failregex import CompiledRegex, RegexSet, compile_filter
from banjail.model import FilterSpec

MAX_LINE = 65536  # a longer line is cut to this many characters (LogState.truncated counts them)
RECENT = 60.0  # a line without a date inherits the last date only when that is at most this old

Search = Callable[[str], "re.Match[str] | None"]


@dataclass(frozen=True, slots=True)
class Program:
    """One filter compiled for one mode.

    check_all: try every failregex on a line (fail2ban-regex); False stops at the first failure (the daemon).
    live: upstream's operation mode: a dateless failure takes `now`, a date more than a minute away from `now`
    is replaced by `now`. Otherwise a failure without a usable date is dropped (the line still counts matched).
    single: the one-line step (banjail.filter.singleline) runs; True only with maxlines = 1.
    candidates: a regex that finds something in every date-cut line any failregex (or a first-run ignoreregex)
    could match, or None when there is no such prefilter.
    by_first: with maxlines = 1, first character of the searched text -> the failregexes that can start with
    it (any_first for other characters); None with multi-line buffers (then every failregex, `all`, runs).
    """

    spec: FilterSpec
    maxlines: int
    usedns: str
    regexes: RegexSet
    fail: tuple[CompiledRegex, ...]
    ignore: tuple[CompiledRegex, ...]
    folds: tuple[bool, ...]
    searches: tuple[Search, ...]
    pref_search: Search | None
    pref_folds: bool
    ignore_first: bool
    all: tuple[int, ...]
    by_first: Mapping[str, tuple[int, ...]] | None
    any_first: tuple[int, ...]
    check_all: bool
    live: bool
    single: bool
    pref_any: bool
    candidates: re.Pattern[str] | None

    @property
    def pref(self) -> CompiledRegex | None:
        return self.regexes.prefregex


def compile_program(spec: FilterSpec, *, check_all: bool = True, live: bool = False, single: bool = True) -> Program:
    """Compile `spec` (raises banjail.errors.RegexError naming every bad regex)."""
    usedns = spec.usedns if spec.usedns in ("yes", "warn", "no", "raw") else "warn"
    maxlines = max(1, spec.maxlines)
    compiled = compile_filter(
        spec.failregex,
        spec.ignoreregex,
        spec.prefregex,
        usedns=usedns,
        multiline=maxlines > 1,
        file=spec.file,
    )
    fail = compiled.failregex
    ignore = compiled.ignoreregex
    ignore_first = bool(ignore) and len(ignore) < len(fail) - 2
    every = tuple(range(len(fail)))
    by_first: dict[str, tuple[int, ...]] | None = None
    any_first = every
    if maxlines == 1:
        by_first, any_first = prefilter.dispatch([r.pattern for r in fail])
    pref = compiled.prefregex
    return Program(
        spec=spec,
        maxlines=maxlines,
        usedns=usedns,
        regexes=compiled,
        fail=fail,
        ignore=ignore,
        folds=tuple(r.folds for r in fail),
        searches=tuple(r.pattern.search for r in fail),
        pref_search=pref.pattern.search if pref is not None else None,
        pref_folds=pref is not None and pref.folds,
        ignore_first=ignore_first,
        all=every,
        by_first=by_first,
        any_first=any_first,
        check_all=check_all,
        live=live,
        single=single and maxlines == 1,
        pref_any=pref is not None and prefilter.matches_any_text(pref.pattern),
        candidates=_candidates(maxlines, fail, ignore if ignore_first else ()),
    )


def _candidates(
    maxlines: int, fail: tuple[CompiledRegex, ...], first: tuple[CompiledRegex, ...]
) -> re.Pattern[str] | None:
    if maxlines != 1 or not fail:
        return None
    needs = [prefilter.required(r.pattern) for r in (*fail, *first)]
    if any(n is None for n in needs):
        return None
    return prefilter.alternation([n for n in needs if n is not None])
