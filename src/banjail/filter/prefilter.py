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

from banjail.filter.parsetree import parsed as parse_tree

Need = frozenset[str]

_MIN_USEFUL = 3  # a required string shorter than this filters too little to be worth a search


def _score(need: Need) -> tuple[int, int]:
    return (min(len(s) for s in need), -len(need))


def _best(candidates: list[Need]) -> Need | None:
    good = [c for c in candidates if c and all(c)]
    return max(good, key=_score) if good else None


_MAX_SET = 16  # bound on the strings a product of alternatives may expand to


def _exact(items: Any, ignorecase: bool) -> frozenset[str] | None:
    """Every string `items` can match, when that is a small finite set of literal texts (else None)."""
    result: frozenset[str] = frozenset([""])
    for op, av in items:
        part: frozenset[str] | None = None
        if ignorecase:
            return None
        if op is _c.LITERAL:
            part = frozenset([chr(av)])
        elif op is _c.IN:
            if all(o is _c.LITERAL for o, _ in av):
                part = frozenset(chr(a) for _, a in av)
        elif op is _c.SUBPATTERN:
            _group, add_flags, del_flags, body = av
            if not (add_flags | del_flags) & re.IGNORECASE:
                part = _exact(body, ignorecase)
        elif op is _c.BRANCH:
            alts = [_exact(b, ignorecase) for b in av[1]]
            if all(a is not None for a in alts):
                part = frozenset().union(*[a for a in alts if a is not None])
        if part is None or not part or len(result) * len(part) > _MAX_SET:
            return None
        result = frozenset(x + y for x in result for y in part)
    return result


def _seq(items: Any, ignorecase: bool) -> Need | None:
    candidates: list[Need] = []
    run: frozenset[str] = frozenset([""])

    def flush() -> None:
        nonlocal run
        if run != frozenset([""]):
            candidates.append(run)
        run = frozenset([""])

    for op, av in items:
        exact = None if ignorecase else _exact([(op, av)], ignorecase)
        if exact is not None and len(run) * len(exact) <= _MAX_SET:
            run = frozenset(x + y for x in run for y in exact)
            continue
        flush()
        if exact is not None:
            run = exact
            continue
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


_ZERO_WIDTH = (_c.ASSERT, _c.ASSERT_NOT, _c.AT)
_RANGE_LIMIT = 96


def _first(items: Any, ignorecase: bool) -> tuple[frozenset[str] | None, bool]:
    """(characters a match of `items` can start with, or None for "any"; whether it can match empty)."""
    chars: set[str] = set()
    for op, av in items:
        part: frozenset[str] | None
        nullable = False
        if op in _ZERO_WIDTH:
            continue
        if ignorecase:
            return None, False
        if op is _c.LITERAL:
            part = frozenset(chr(av))
        elif op is _c.IN:
            part = _class(av)
        elif op is _c.SUBPATTERN:
            _group, add_flags, del_flags, body = av
            ic = (ignorecase or bool(add_flags & re.IGNORECASE)) and not (del_flags & re.IGNORECASE)
            part, nullable = _first(body, ic)
        elif op is _c.BRANCH:
            parts = [_first(b, ignorecase) for b in av[1]]
            if any(p is None for p, _ in parts):
                return None, False
            part = frozenset().union(*[p for p, _ in parts if p is not None])
            nullable = any(n for _, n in parts)
        elif op in (_c.MAX_REPEAT, _c.MIN_REPEAT, getattr(_c, "POSSESSIVE_REPEAT", None)):
            low, _high, body = av
            part, nullable = _first(body, ignorecase)
            nullable = nullable or low == 0
        else:
            return None, False
        if part is None:
            return None, False
        chars |= part
        if not nullable:
            return frozenset(chars), False
    return frozenset(chars), True


def _class(items: Any) -> frozenset[str] | None:
    chars: set[str] = set()
    for op, av in items:
        if op is _c.LITERAL:
            chars.add(chr(av))
        elif op is _c.RANGE and av[1] - av[0] < _RANGE_LIMIT:
            chars.update(chr(c) for c in range(av[0], av[1] + 1))
        else:
            return None
    return frozenset(chars)


def first_chars(pattern: re.Pattern[str]) -> frozenset[str] | None:
    """For a pattern anchored with ^ at the start of the text (not MULTILINE, not IGNORECASE): the characters
    its match must begin with. None when that is not known."""
    if pattern.flags & (re.IGNORECASE | re.MULTILINE):
        return None
    parsed = list(parse_tree(pattern.pattern, pattern.flags))
    if not parsed or (parsed[0] != (_c.AT, _c.AT_BEGINNING) and parsed[0] != (_c.AT, _c.AT_BEGINNING_STRING)):
        return None
    chars, nullable = _first(parsed[1:], False)
    return None if nullable or not chars else chars


def dispatch(patterns: list[re.Pattern[str]]) -> tuple[dict[str, tuple[int, ...]], tuple[int, ...]]:
    """(first character -> indices of the patterns that can match a text starting with it, indices for any
    other first character). Indices stay in ascending order."""
    firsts = [first_chars(p) for p in patterns]
    always = tuple(i for i, f in enumerate(firsts) if f is None)
    table: dict[str, tuple[int, ...]] = {}
    for ch in sorted({c for f in firsts if f is not None for c in f}):
        table[ch] = tuple(i for i, f in enumerate(firsts) if f is None or ch in f)
    return table, always


def required(pattern: re.Pattern[str]) -> Need | None:
    """Strings of which every match of `pattern` contains at least one; None when there is no useful set."""
    if pattern.flags & re.IGNORECASE:
        return None
    try:
        parsed = parse_tree(pattern.pattern, pattern.flags)
    except Exception:  # pragma: no cover - it compiled, so it parses
        return None
    need = _seq(parsed, False)
    if need is None or _score(need)[0] < _MIN_USEFUL:
        return None
    return need


def alternation(needs: list[Need]) -> re.Pattern[str] | None:
    """One regex that finds, for any string of any of the sets, a part of it (see _scan_part: it may find a few
    more lines than the strings themselves, never fewer). The parts are merged into a trie (common prefixes
    written once), so at each position of a search the engine reads each character once instead of once per
    string that starts with it."""
    strings = sorted({_scan_part(s) for need in needs for s in need})
    if not strings:
        return None
    return re.compile(_trie(strings))


_SCAN_KEEP = 6  # a part shorter than this (unless the whole string is) finds too many false candidates


def _scan_part(text: str) -> str:
    """The part of a required string to search for (any text holding the string holds every part of it): the
    longest one starting at its least frequent kind of character. sre tries the rest of the alternation at every
    position whose character can start a string, so a string starting with a space (the commonest character of
    a log) is tried about every sixth character; one starting with a capital letter far less often."""
    keep = min(len(text), _SCAN_KEEP)
    best, best_cost = 0, _char_cost(text[0])
    for i in range(1, len(text) - keep + 1):
        cost = _char_cost(text[i])
        if cost < best_cost:
            best, best_cost = i, cost
    return text[best:]


def _char_cost(c: str) -> int:
    if c.isspace():
        return 3
    if c.islower() or c.isdigit():
        return 2
    return 1


def _trie(strings: list[str]) -> str:
    """A regex matching exactly the (non-empty, sorted, distinct) `strings` at a position. A string that is a
    prefix of another ends a branch: finding it is enough, so its longer extensions are dropped."""
    groups: dict[str, list[str]] = {}
    for text in strings:
        groups.setdefault(text[0], []).append(text[1:])
    branches = []
    for first, rests in groups.items():
        if "" in rests:  # `first` alone is one of the strings
            branches.append(re.escape(first))
            continue
        prefix = _common_prefix(rests)
        inner = [r[len(prefix) :] for r in rests]
        if "" in inner:  # first + prefix is itself one of the strings
            branches.append(re.escape(first + prefix))
            continue
        tail = _trie(inner) if len(inner) > 1 else re.escape(inner[0])
        branches.append(re.escape(first + prefix) + (f"(?:{tail})" if len(inner) > 1 else tail))
    return branches[0] if len(branches) == 1 else "|".join(branches)


def _common_prefix(texts: list[str]) -> str:
    first, last = min(texts), max(texts)
    n = 0
    while n < len(first) and first[n] == last[n]:
        n += 1
    return first[:n]


_ASSERTING = frozenset({_c.AT, _c.ASSERT, _c.ASSERT_NOT, _c.GROUPREF, _c.GROUPREF_EXISTS, _c.GROUPREF_IGNORE,
                        _c.GROUPREF_LOC_IGNORE, _c.GROUPREF_UNI_IGNORE})


def matches_any_text(pattern: re.Pattern[str]) -> bool:
    """Whether a prefregex `pattern` finds a match in every one-line text "T\\n" with T non-empty, and in no
    other: the shape ``^X(?P<content>.+)$`` where X can match the empty string and tests nothing (no anchor,
    look-around or back-reference), without DOTALL or MULTILINE. (X matching empty leaves ``.+$`` on all of T.)"""
    if pattern.flags & (re.DOTALL | re.MULTILINE | re.IGNORECASE):
        return False
    try:
        items = list(parse_tree(pattern.pattern, pattern.flags))
    except Exception:  # pragma: no cover - it compiled, so it parses
        return False
    if len(items) < 3 or items[0] != (_c.AT, _c.AT_BEGINNING) or items[-1] != (_c.AT, _c.AT_END):
        return False
    op, av = items[-2]
    if op is not _c.SUBPATTERN or av[0] != pattern.groupindex.get("content") or av[1] or av[2]:
        return False
    body = list(av[3])
    if len(body) != 1 or body[0][0] is not _c.MAX_REPEAT:
        return False
    low, high, inner = body[0][1]
    if (low, high) != (1, _c.MAXREPEAT) or list(inner) != [(_c.ANY, None)]:
        return False
    head = _p.SubPattern(_p.State(), items[1:-2])
    return not _asserts(items[1:-2]) and head.getwidth()[0] == 0


def _asserts(items: Any) -> bool:
    for op, av in items:
        if op in _ASSERTING:
            return True
        if op is _c.SUBPATTERN and _asserts(av[3]):
            return True
        if op is _c.BRANCH and any(_asserts(b) for b in av[1]):
            return True
        if op in (_c.MAX_REPEAT, _c.MIN_REPEAT, _c.POSSESSIVE_REPEAT) and _asserts(av[2]):
            return True
        if op is _c.ATOMIC_GROUP and _asserts(av):
            return True
    return False
