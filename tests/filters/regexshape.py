"""A structural check that a fail2ban regex cannot backtrack catastrophically (no timing involved).

Three rules, checked on the regex text after fail2ban's tags are replaced by neutral stand-ins (the engine's own
<HOST>/<ADDR>/... expansions are trusted and checked by the engine's tests):

1. No nested unbounded quantifier whose inner loop could end at more than one place in an outer iteration: a
   repeat inside a repeat is accepted only when the inner repeat is followed, in its own sequence, by a literal
   or character class that its repeated item cannot START with (so the inner loop has exactly one exit). This is
   a sufficient condition, not an exact one; the regexes in banjail's stock filters are written to meet it.
2. No two unbounded (`*`, `+`, `{n,}`) repeats over common characters side by side (only optional items between them), such as
   `\\s*(?:x)?\\s+`: they split one run n ways, which is quadratic when the rest of the regex fails.
3. No catch-all (`.*`, `.+`, lazy or greedy) before an address tag unless the regex is anchored at the end:
   otherwise the catch-all would let attacker text to the left of the real address supply the address.
"""

from __future__ import annotations

import re
import string
from re import _constants as C  # type: ignore[attr-defined]
from re import _parser as P  # type: ignore[attr-defined]
from typing import Any

_ADDRESS_TAGS = re.compile(r"<(?:HOST|ADDR|IP4|IP6|DNS|CIDR|SUBNET|F-ID|F-IP4|F-IP6|F-DNS)>")
_ADDRESS_MARK = "\x01"
_ALPHABET = [chr(c) for c in range(1, 128)] + ["é"]
_REPEATS = (C.MAX_REPEAT, C.MIN_REPEAT, getattr(C, "POSSESSIVE_REPEAT", C.MAX_REPEAT))


def neutralise(regex: str) -> str:
    """Replace fail2ban tags by plain regex: address tags by a marker char, <F-X>...</F-X> by groups."""
    text = re.sub(r"<(?:F-[A-Z0-9_]+|HOST|ADDR|IP4|IP6|DNS|CIDR|SUBNET)/>", "", regex)
    text = text.replace("<HOST>", "<ADDR>")
    text = re.sub(r"<(?:HOST|ADDR|IP4|IP6|DNS|CIDR|SUBNET|F-ID|F-IP4|F-IP6|F-DNS)>", _ADDRESS_MARK, text)
    text = re.sub(r"</(?:F-ID|F-IP4|F-IP6|F-DNS)>", "", text)
    text = re.sub(r"<F-[A-Z0-9_]+>", "(?:", text)
    text = re.sub(r"</F-[A-Z0-9_]+>", ")", text)
    text = text.replace("<SKIPLINES>", "(?:.*\\n)*?")
    return text


def _first_chars(seq: Any) -> set[str]:
    """Characters (of a small alphabet) a sub-pattern can start with; everything when it can be empty."""
    out: set[str] = set()
    for op, av in seq:
        if op in (C.AT, C.GROUPREF):
            continue
        chars, nullable = _item_first(op, av)
        out |= chars
        if not nullable:
            return out
    return set(_ALPHABET)


def _matches(op: Any, av: Any, ch: str) -> bool:
    try:
        return re.fullmatch(_to_text(op, av), ch, re.DOTALL) is not None
    except re.error:
        return True


def _to_text(op: Any, av: Any) -> str:
    if op is C.LITERAL:
        return re.escape(chr(av))
    if op is C.NOT_LITERAL:
        return "[^" + re.escape(chr(av)) + "]"
    if op is C.ANY:
        return "."
    if op is C.IN:
        parts = []
        negate = False
        for sop, sav in av:
            if sop is C.NEGATE:
                negate = True
            elif sop is C.LITERAL:
                parts.append(re.escape(chr(sav)))
            elif sop is C.RANGE:
                parts.append(re.escape(chr(sav[0])) + "-" + re.escape(chr(sav[1])))
            elif sop is C.CATEGORY:
                parts.append(
                    {
                        C.CATEGORY_DIGIT: r"\d",
                        C.CATEGORY_NOT_DIGIT: r"\D",
                        C.CATEGORY_SPACE: r"\s",
                        C.CATEGORY_NOT_SPACE: r"\S",
                        C.CATEGORY_WORD: r"\w",
                        C.CATEGORY_NOT_WORD: r"\W",
                    }[sav]
                )
        return "[" + ("^" if negate else "") + "".join(parts) + "]"
    return "."


def _item_first(op: Any, av: Any) -> tuple[set[str], bool]:
    if op in (C.LITERAL, C.NOT_LITERAL, C.ANY, C.IN):
        return {c for c in _ALPHABET if _matches(op, av, c)}, False
    if op is C.SUBPATTERN:
        sub = av[-1]
        return _first_chars(sub), _nullable(sub)
    if op is C.BRANCH:
        chars: set[str] = set()
        nullable = False
        for alt in av[1]:
            chars |= _first_chars(alt)
            nullable = nullable or _nullable(alt)
        return chars, nullable
    if op in _REPEATS:
        lo, _hi, sub = av
        return _first_chars(sub), lo == 0 or _nullable(sub)
    if op in (C.ASSERT, C.ASSERT_NOT, C.AT):
        return set(), True
    return set(_ALPHABET), True


def _nullable(seq: Any) -> bool:
    for op, av in seq:
        if op in (C.AT, C.ASSERT, C.ASSERT_NOT):
            continue
        _chars, nullable = _item_first(op, av)
        if not nullable:
            return False
    return True


def _children(op: Any, av: Any) -> list[Any]:
    if op is C.SUBPATTERN:
        return [av[-1]]
    if op is C.BRANCH:
        return list(av[1])
    if op in _REPEATS:
        return [av[2]]
    if op in (C.ASSERT, C.ASSERT_NOT):
        return [av[1]]
    return []


def _nested_problems(seq: Any, inside_repeat: bool, found: list[str]) -> None:
    items = list(seq)
    for i, (op, av) in enumerate(items):
        if op in _REPEATS and av[1] > 1:
            if inside_repeat:
                follower = items[i + 1] if i + 1 < len(items) else None
                inner = _first_chars(av[2])
                if follower is None or follower[0] not in (C.LITERAL, C.IN):
                    found.append("nested repeat without a closing delimiter")
                else:
                    stop = {c for c in _ALPHABET if _matches(follower[0], follower[1], c)}
                    if stop & inner:
                        found.append("nested repeat whose item can start with its own delimiter")
            _nested_problems(av[2], True, found)
            continue
        for child in _children(op, av):
            _nested_problems(child, inside_repeat, found)


def _edge_repeat(seq: Any, last: bool) -> set[str] | None:
    """Characters of the unbounded repeat a sequence starts (last=False) or ends (last=True) with, looking
    through groups and optional parts; None when it starts/ends with something else."""
    items = [x for x in seq if x[0] not in (C.AT, C.ASSERT, C.ASSERT_NOT)]
    found: set[str] = set()
    for op, av in reversed(items) if last else items:
        if op in _REPEATS and av[1] == C.MAXREPEAT:
            found |= _first_chars(av[2])
        else:
            for child in _children(op, av):
                found |= _edge_repeat(child, last) or set()
        if not _item_first(op, av)[1]:  # not nullable: nothing further in can touch the edge
            break
    return found or None


def _adjacent_problems(seq: Any, found: list[str]) -> None:
    """Two unbounded repeats over common characters, with only optional items between them, split one run
    of those characters in n ways: quadratic when the rest of the regex then fails (`\\s*:?\\s+`). Optional
    groups are looked into: `\\s*(?:\\d+)?(?:\\s+x)?` counts."""
    last: set[str] | None = None
    for op, av in seq:
        if op in (C.AT, C.ASSERT, C.ASSERT_NOT):
            continue
        if op in _REPEATS and av[1] == C.MAXREPEAT:
            lead: set[str] | None = _first_chars(av[2])
            tail = lead
        else:
            lead = _edge_repeat([(op, av)], False)
            tail = _edge_repeat([(op, av)], True)
        if last is not None and lead is not None and last & lead:
            found.append("adjacent repeats over the same characters")
        # an optional item leaves what came before it adjacent to what comes after it
        nullable = _item_first(op, av)[1]
        last = ((last or set()) | (tail or set()) or None) if nullable else tail
        for child in _children(op, av):
            _adjacent_problems(child, found)


def _flatten(seq: Any) -> list[tuple[Any, Any]]:
    out: list[tuple[Any, Any]] = []
    for op, av in seq:
        out.append((op, av))
        for child in _children(op, av):
            out.extend(_flatten(child))
    return out


def _ends_anchored(seq: Any) -> bool:
    items = [x for x in seq if x[0] is not C.SUBPATTERN or x[1][-1]]
    if not items:
        return False
    op, av = items[-1]
    if op is C.AT and av is C.AT_END:
        return True
    if op is C.SUBPATTERN:
        return _ends_anchored(av[-1])
    if op is C.BRANCH:
        return all(_ends_anchored(alt) for alt in av[1])
    return False


def problems(regex: str) -> list[str]:
    """What is wrong with a fail2ban regex by the two rules above ([] when nothing)."""
    text = neutralise(regex)
    try:
        parsed = P.parse(text)
    except re.error as exc:  # back-references to tag groups and the like: not ours to judge
        return [f"cannot parse: {exc}"]
    found: list[str] = []
    _nested_problems(parsed, False, found)
    _adjacent_problems(parsed, found)
    if _ADDRESS_MARK in text and not _ends_anchored(list(parsed)):
        flat = _flatten(parsed)
        mark = next((i for i, (op, av) in enumerate(flat) if op is C.LITERAL and av == 1), len(flat))
        for op, av in flat[:mark]:
            if op in _REPEATS and av[1] > 1 and len(av[2]) == 1 and av[2][0][0] is C.ANY:
                found.append("catch-all before the address without an end anchor")
                break
    return found


def repeated_chars(regex: str) -> set[str]:
    """Characters a regex's repeats can consume: what pathological lines are made of."""
    parsed = P.parse(neutralise(regex))
    out: set[str] = set()
    for op, av in _flatten(parsed):
        if op in _REPEATS and av[1] > 1:
            out |= _first_chars(av[2]) & set(string.printable.strip() + " ")
    return out
