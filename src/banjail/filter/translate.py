"""Python regexes -> PCRE2 patterns with the same matches on ASCII text, or a refusal.

The translation works on the compiled pattern's own parse tree (re._parser), never on its text, and emits only
constructs whose meaning PCRE2 (8-bit, not UTF, newline LF, no flags) shares with Python's re on a subject of
ASCII characters:
- every one-character item (literal, `.`, class, `\\s`, `\\w`, `\\d`, their negations, case-folded literals)
  becomes the explicit set of ASCII characters Python's item accepts, computed here from Python's definitions
  (str.isspace, str.isalnum, str.lower): `\\s` includes \\x1c-\\x1f as in Python, which PCRE2's does not;
- groups keep their numbers (capturing groups are emitted in Python's order), so spans map one to one;
- `^`, `$`, `\\A`, `\\Z`, `\\b`, `\\B`, look-arounds, greedy and lazy repeats, alternation, back-references and
  conditionals on a group have the same meaning in both (on ASCII, without MULTILINE: Python's `$` and PCRE2's
  both match at the end and before a final newline; `\\Z` is PCRE2's `\\z`).
A non-ASCII literal (or a range's part beyond ASCII) accepts no ASCII character. Refused (the program then runs
on the Python engine): case folding of a non-ASCII literal, a range or a back-reference, MULTILINE, DOTALL, possessive repeats and atomic groups, anything else unknown. The engine
feeds only ASCII subjects to a translated pattern (a line with any other character runs on Python).
"""

from __future__ import annotations

import re
from re import _constants as c  # type: ignore[attr-defined]
from typing import Any

from banjail.filter.parsetree import parsed

ASCII = range(128)
_SPACE = frozenset(i for i in ASCII if chr(i).isspace())
_WORD = frozenset(i for i in ASCII if chr(i).isalnum() or i == 0x5F)
_DIGIT = frozenset(range(0x30, 0x3A))
_ALL = frozenset(ASCII)
_CATEGORY = {
    c.CATEGORY_SPACE: _SPACE,
    c.CATEGORY_NOT_SPACE: _ALL - _SPACE,
    c.CATEGORY_WORD: _WORD,
    c.CATEGORY_NOT_WORD: _ALL - _WORD,
    c.CATEGORY_DIGIT: _DIGIT,
    c.CATEGORY_NOT_DIGIT: _ALL - _DIGIT,
}
_AT = {
    c.AT_BEGINNING: "^",
    c.AT_BEGINNING_STRING: r"\A",
    c.AT_END: "$",
    c.AT_END_STRING: r"\z",
    c.AT_BOUNDARY: r"\b",
    c.AT_NON_BOUNDARY: r"\B",
}


class Refused(ValueError):
    """The pattern uses a construct whose meaning could differ; the message names it."""


def to_pcre2(pattern: re.Pattern[str]) -> str:
    """The PCRE2 pattern with the same matches and group spans as `pattern` on ASCII subjects (raises Refused)."""
    if not isinstance(pattern.pattern, str):
        raise Refused("a bytes pattern")
    flags = pattern.flags
    if flags & (re.MULTILINE | re.DOTALL | re.ASCII | re.LOCALE):
        raise Refused("a MULTILINE, DOTALL, ASCII or LOCALE flag")
    tree = parsed(pattern.pattern, flags)
    return _seq(tree, bool(flags & re.IGNORECASE))


def _seq(items: Any, fold: bool) -> str:
    return "".join(_item(op, av, fold) for op, av in items)


def _item(op: Any, av: Any, fold: bool) -> str:
    if op in (c.LITERAL, c.NOT_LITERAL, c.ANY, c.IN):
        return _charset(_one(op, av, fold))
    if op is c.SUBPATTERN:
        group, add, delete, sub = av
        if (add | delete) & ~re.IGNORECASE:
            raise Refused("an inline flag other than (?i)")
        inner = fold or bool(add & re.IGNORECASE)
        if delete & re.IGNORECASE:
            inner = False
        body = _seq(sub, inner)
        return f"({body})" if group is not None else f"(?:{body})"
    if op in (c.MAX_REPEAT, c.MIN_REPEAT):
        low, high, sub = av
        body = _seq(sub, fold)
        if high == c.MAXREPEAT:
            count = "*" if low == 0 else "+" if low == 1 else f"{{{low},}}"
        elif low == high:
            count = f"{{{low}}}"
        else:
            count = f"{{{low},{high}}}"
        return f"(?:{body}){count}" + ("?" if op is c.MIN_REPEAT else "")
    if op is c.BRANCH:
        return "(?:" + "|".join(_seq(alt, fold) for alt in av[1]) + ")"
    if op is c.AT:
        found = _AT.get(av)
        if found is None:
            raise Refused(f"the anchor {av}")
        return found
    if op in (c.ASSERT, c.ASSERT_NOT):
        direction, sub = av
        kind = ("=" if op is c.ASSERT else "!") if direction == 1 else ("<=" if op is c.ASSERT else "<!")
        return f"(?{kind}{_seq(sub, fold)})"
    if op is c.GROUPREF:
        if fold:
            raise Refused("a case-folded back-reference")
        return f"(?:\\g{{{av}}})"
    if op is c.GROUPREF_EXISTS:
        group, yes, no = av
        return f"(?({group}){_seq(yes, fold)}" + (f"|{_seq(no, fold)}" if no else "") + ")"
    raise Refused(f"the construct {op}")


def _one(op: Any, av: Any, fold: bool) -> frozenset[int]:
    """The ASCII characters one character item accepts, as Python's re decides."""
    if op is c.ANY:
        return _ALL - {0x0A}
    if op is c.LITERAL:
        return _literal(av, fold)
    if op is c.NOT_LITERAL:
        return _ALL - _literal(av, fold)
    negate = False
    found: set[int] = set()
    for kind, value in av:
        if kind is c.NEGATE:
            negate = True
        elif kind is c.LITERAL:
            found |= _literal(value, fold)
        elif kind is c.RANGE:
            low, high = value
            if fold:
                raise Refused("a case-folded class range")
            found |= set(range(low, min(high, 0x7F) + 1))  # without folding, its ASCII part
        elif kind is c.CATEGORY:
            found |= _CATEGORY[value]
        else:
            raise Refused(f"the class item {kind}")
    return _ALL - found if negate else frozenset(found)


def _literal(code: int, fold: bool) -> frozenset[int]:
    if code > 0x7F:
        if fold:  # Python's case folding takes some to ASCII letters (the Kelvin sign to k, long s to s)
            raise Refused("a case-folded non-ASCII literal")
        return frozenset()  # no ASCII character is it
    if not fold:
        return frozenset({code})
    char = chr(code)
    return frozenset({code, ord(char.lower()), ord(char.upper())} & _ALL)


def _charset(chars: frozenset[int]) -> str:
    if not chars:
        return "(*FAIL)"
    if len(chars) == 1:
        return f"\\x{next(iter(chars)):02x}"
    if chars == _ALL - {0x0A}:
        return "[^\\x0a]"
    members = sorted(chars)
    runs: list[str] = []
    start = prev = members[0]
    for code in [*members[1:], -2]:
        if code == prev + 1:
            prev = code
            continue
        runs.append(f"\\x{start:02x}" if start == prev else f"\\x{start:02x}-\\x{prev:02x}")
        start = prev = code
    return "[" + "".join(runs) + "]"
