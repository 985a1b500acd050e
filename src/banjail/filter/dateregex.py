"""What a date template's regex source promises, read from its text: where its date text (group 1) is, whether
every match starts the line, and a form of it that can never match a newline.

These let a caller treat many lines at once: parse a date text without its line (DateDetector.parse_text), and
prove with one regex run over a chunk that a template matches at the start of every line of it
(DateDetector.uniform_template). Each function answers None (or False) when the source uses a construct it cannot
reason about; callers then take the line-by-line path, so None is always safe.
"""

from __future__ import annotations

import re

# Leading global inline flags, "(?iu)"; they are passed as compile flags to the derived regexes instead.
_LEAD_FLAGS = re.compile(r"^(?:\(\?[a-zA-Z]+\))+")
# Escapes whose text is longer than two characters or that may stand for a newline: not reasoned about.
_LONG_ESCAPES = "xuUN0"
# Two-character escapes that match a newline, rewritten to the same set without it.
_NO_NEWLINE = {"W": r"[^\w\n]", "D": r"[^\d\n]", "s": r"[^\S\n]"}
_OPEN, _CAPTURE, _CLOSE, _BAR, _CLASS, _ESCAPE, _BACKREF, _CHAR = range(8)
# The head of a group that captures nothing: "(?:", a lookaround, an atomic group, local flags.
_GROUP_HEAD = re.compile(r"\(\?(?::|=|!|<=|<!|>|[a-zA-Z]*(?:-[a-zA-Z]+)?:)")
Token = tuple[int, int, int]  # kind, start, end


def _tokens(source: str) -> list[Token] | None:
    """The regex source cut into group heads and ends, bars, classes, escapes, backreferences by name and other
    characters; None if it holds a construct not reasoned about (a long escape, a comment, a conditional)."""
    out: list[Token] = []
    i, n = 0, len(source)
    while i < n:
        c = source[i]
        if c == "\\":
            if i + 1 >= n or source[i + 1] in _LONG_ESCAPES:
                return None
            j = i + 2
            while source[i + 1].isdigit() and j < n and source[j].isdigit():
                j += 1  # a backreference by number
            out.append((_ESCAPE, i, j))
            i = j
        elif c == "[":
            j = i + 1
            if j < n and source[j] == "^":
                j += 1
            if j < n and source[j] == "]":
                j += 1  # a "]" first in a class is literal
            while j < n and source[j] != "]":
                if source[j] == "\\":
                    if j + 1 >= n or source[j + 1] in _LONG_ESCAPES:
                        return None
                    j += 1
                elif source[j] == "[":
                    return None  # nested set syntax (a FutureWarning in Python): not reasoned about
                j += 1
            if j >= n:
                return None
            out.append((_CLASS, i, j + 1))
            i = j + 1
        elif c == "(":
            if source.startswith("(?P<", i):
                kind, j = _CAPTURE, source.find(">", i) + 1
            elif source.startswith("(?P=", i):
                kind, j = _BACKREF, source.find(")", i) + 1
            elif source.startswith("(?", i):
                head = _GROUP_HEAD.match(source, i)
                if head is None:
                    return None  # a comment, a conditional, flags in the middle
                kind, j = _OPEN, head.end()
            else:
                kind, j = _CAPTURE, i + 1
            if j <= i:
                return None
            out.append((kind, i, j))
            i = j
        elif c == ")":
            out.append((_CLOSE, i, i + 1))
            i += 1
        elif c == "|":
            out.append((_BAR, i, i + 1))
            i += 1
        else:
            out.append((_CHAR, i, i + 1))
            i += 1
    return out


def _strip_flags(source: str) -> str:
    return _LEAD_FLAGS.sub("", source)


def group_one(regex: re.Pattern[str]) -> re.Pattern[str] | None:
    """A regex that fully matches the texts group 1 of `regex` captures, with the same groups inside (same names,
    same numbers): group 1 itself, alone. None if the source cannot be read. Matched alone, the text splits into
    the same fields as in its line unless an assertion at the text's edge (a lookbehind at its start, a lookahead
    at its end) looks beyond it, which no default template does."""
    source = _strip_flags(regex.pattern)
    tokens = _tokens(source)
    if tokens is None:
        return None
    depth = 0
    start = level = -1
    for kind, begin, end in tokens:
        if kind in (_OPEN, _CAPTURE):
            depth += 1
            if kind == _CAPTURE and start < 0:
                start, level = begin, depth
        elif kind == _CLOSE:
            if depth == level:
                try:
                    return re.compile(source[start:end], regex.flags)
                except re.error:  # not expected: group 1 is the first group, so it refers to none outside
                    return None
            depth -= 1
    return None


def starts_line(regex: re.Pattern[str]) -> bool:
    """Whether every match of `regex` starts at the start of its string: the source begins with "^" (perhaps
    inside leading groups) and no alternative at those levels could match elsewhere."""
    tokens = _tokens(_strip_flags(regex.pattern))
    if not tokens:
        return False
    source = _strip_flags(regex.pattern)
    lead = 0  # the leading groups opened before the "^"
    for kind, begin, _ in tokens:
        if kind == _CAPTURE or (kind == _OPEN and source.startswith("(?:", begin)):
            lead += 1
            continue
        if kind != _CHAR or source[begin] != "^":
            return False
        break
    depth = 0
    for kind, _, _ in tokens:
        if kind in (_OPEN, _CAPTURE):
            depth += 1
        elif kind == _CLOSE:
            depth -= 1
            lead = min(lead, depth)
        elif kind == _BAR and depth <= lead:
            return False
    return True


def single_line(regex: re.Pattern[str]) -> re.Pattern[str] | None:
    """`regex` changed so that nothing in it can match a newline, compiled with re.MULTILINE: on a chunk of lines
    it then matches at a line start exactly when the original matches that line alone (a character class or
    escape that could take the newline now fails there, as the original fails at the end of its line). None if
    the source uses what this cannot rewrite or judge (dot-all, verbose, \\A, \\Z, long escapes)."""
    if regex.flags & (re.DOTALL | re.VERBOSE):
        return None
    source = _strip_flags(regex.pattern)
    tokens = _tokens(source)
    if tokens is None:
        return None
    out: list[str] = []
    for kind, begin, end in tokens:
        text = source[begin:end]
        if kind == _OPEN and text.endswith(":") and ("s" in text or "x" in text):
            return None  # local dot-all or verbose flags
        if kind == _ESCAPE:
            letter = text[1]
            if letter in "AZ":
                return None
            if letter in _NO_NEWLINE:
                text = _NO_NEWLINE[letter]
            elif not letter.isdigit() and _matches_newline(text, regex.flags):
                return None
        elif kind == _CLASS and _matches_newline(text, regex.flags):
            if not text.startswith("[^"):
                return None
            text = r"[^\n" + text[2:]
        out.append(text)
    try:
        return re.compile("".join(out), regex.flags | re.MULTILINE)
    except re.error:
        return None


def _matches_newline(fragment: str, flags: int) -> bool:
    try:
        return re.compile(fragment, flags).fullmatch("\n") is not None
    except re.error:
        return True  # cannot tell: treat as possibly a newline
