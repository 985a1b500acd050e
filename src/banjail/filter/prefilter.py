"""Literal prefilters: strings that every match of a compiled regex must contain.

`required(pattern)` reads the parsed regex and returns a set of strings such that any text the regex matches
contains at least one of them (or None when no such set was found). A line containing none of a filter's
required strings cannot match it, so it never needs to reach Python-level matching.

Only case-sensitive literals are used: inside (?i) scopes, and for patterns compiled with IGNORECASE, nothing is
required. Lookarounds, conditionals and back-references require nothing (sound, if not tight).
"""

from __future__ import annotations

import re
from re import _constants as _c  # type: ignore[attr-defined]  # the sre parser, private since 3.11
from re import _parser as _p  # type: ignore[attr-defined]
from typing import Any

Need = frozenset[str]

_MIN_USEFUL = 3  # a required string shorter than this filters too little to be worth a search


def _score(need: Need) -> tuple[int, int]:
    return (min(len(s) for s in need), -len(need))


def _best(candidates: list[Need]) -> Need | None:
    good = [c for c in candidates if c and all(c)]
    return max(good, key=_score) if good else None


def _seq(items: Any, ignorecase: bool) -> Need | None:
    candidates: list[Need] = []
    run: list[str] = []

    def flush() -> None:
        if run:
            candidates.append(frozenset(["".join(run)]))
            run.clear()

    for op, av in items:
        if op is _c.LITERAL and not ignorecase:
            run.append(chr(av))
            continue
        flush()
        sub: Need | None = None
        if op is _c.SUBPATTERN:
            _group, add_flags, del_flags, body = av
            ic = (ignorecase or bool(add_flags & re.IGNORECASE)) and not (del_flags & re.IGNORECASE)
            sub = _seq(body, ic)
        elif op in (_c.MAX_REPEAT, _c.MIN_REPEAT, getattr(_c, "POSSESSIVE_REPEAT", None)):
            low, _high, body = av
            if low >= 1:
                sub = _seq(body, ignorecase)
        elif op is getattr(_c, "ATOMIC_GROUP", None):
            sub = _seq(av, ignorecase)
        elif op is _c.BRANCH:
            _none, branches = av
            parts = [_seq(b, ignorecase) for b in branches]
            if all(p is not None for p in parts):
                sub = frozenset().union(*[p for p in parts if p is not None])
        if sub is not None:
            candidates.append(sub)
    flush()
    return _best(candidates)


def required(pattern: re.Pattern[str]) -> Need | None:
    """Strings of which every match of `pattern` contains at least one; None when there is no useful set."""
    if pattern.flags & re.IGNORECASE:
        return None
    try:
        parsed = _p.parse(pattern.pattern, pattern.flags)
    except Exception:  # pragma: no cover - it compiled, so it parses
        return None
    need = _seq(parsed, False)
    if need is None or _score(need)[0] < _MIN_USEFUL:
        return None
    return need


def alternation(needs: list[Need]) -> re.Pattern[str] | None:
    """One regex that finds any string of any of the sets (longest first so the search stays linear)."""
    strings = sorted({s for need in needs for s in need}, key=lambda s: (-len(s), s))
    if not strings:
        return None
    return re.compile("|".join(re.escape(s) for s in strings))
