"""The free-text parts of a regex, and the spans of a matched line they cover.

A payload is written into an unnamed part only when the part itself admits it (`Part.admits`): what the regex
says of such a field (no space in `\\S+`, no quote in `[^"]*`) is taken as the service's grammar (a host name
the service checked, a key fingerprint it computed). A named <F-...> group (a user, a URL) declares the client's
text, whose grammar is the client's: every payload is written there, whatever the group's own regex admits. So
is every payload into a quoted or bracketed field matched as "anything but the delimiter" ([^']*, [^"]*): such
a class says where the field ends, not that the client cannot write the delimiter.

A free-text part is where a line can carry text of any shape, an address included: a repeat (unbounded, or of 7
or more) of a character class that admits every character of an IPv4 or an IPv6 address (`.*`, `.+?`, `\\S+`,
`[^"]*`, `[\\w.-]+`, `(?:[^"]|\\\\")*`), and a named <F-...> group (a user, a URL) around such a repeat. The
address groups themselves (<HOST> and friends) and look-arounds are not free text; the groups that only give a
line structure (<F-CONTENT>, <F-MLFID>, <F-NOFAIL>, ...) are not fields either, though the repeats inside them
are looked at.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache

from banjail.audit.tree import (
    CHAR_OPS,
    MAXREPEAT,
    REPEATS,
    Item,
    Path,
    Tree,
    accepts,
    item_text,
    parse,
    subsequences,
    unparse,
    walk,
)

ADDRESS_GROUPS = frozenset({"ip4", "ip6", "dns", "cidr"})
STRUCTURE_GROUPS = frozenset({"content", "mlfid", "mlfforget", "mlfgained", "nofail", "mlfpending"})
# what is inside these is not a field: an address, or (the prefregex's <F-CONTENT>) the failregexes' text
_OPAQUE = ADDRESS_GROUPS | {"content"}
_PROBES = ("198.51.100.7", "2001:db8:ffff::7")
_MARK = "_bjs"


@dataclass(frozen=True, slots=True)
class Part:
    """A free-text part of one regex: where it is in the tree, how it is written, and the regex a value must
    fully match to be written into it."""

    path: Path
    text: str  # the part as regex text, or <F-NAME> for a named group
    fit: re.Pattern[str] | None = None  # None for a named group: it admits every payload

    def admits(self, value: str) -> bool:
        """Whether a payload `value` is written into this part."""
        return self.fit is None or self.fit.fullmatch(value) is not None


def _delimited(tree: Tree, item: Item) -> bool:
    """Whether `item` repeats a class that excludes only delimiters ([^']*, [^"]+, [^\\]]*), not white space:
    the text of a quoted or bracketed field, whose closing delimiter the client can write too."""
    op, av = item
    if op not in REPEATS or len(av[2]) != 1:
        return False
    body = av[2][0]
    negated = body[0] == "NOT_LITERAL" or (body[0] == "IN" and body[1][0][0] == "NEGATE")
    return negated and accepts(tree, body, " ")


def _fit(tree: Tree, item: Item) -> re.Pattern[str] | None:
    if _delimited(tree, item):
        return None
    try:
        return re.compile(item_text(tree, item), tree.flags)
    except re.error:
        return None


@dataclass(frozen=True, slots=True)
class Span:
    """The text of a matched line that one free-text part covered: [start, end) in the searched text."""

    part: Part
    start: int
    end: int


def _admits_address(tree: Tree, items: list[Item]) -> bool:
    for op, av in items:
        if op in CHAR_OPS and any(all(accepts(tree, (op, av), ch) for ch in set(p)) for p in _PROBES):
            return True
        if op == "SUBPATTERN" and av[0] is not None and tree.names.get(av[0]) in ADDRESS_GROUPS:
            continue
        if op in ("ASSERT", "ASSERT_NOT"):
            continue
        if any(_admits_address(tree, sub) for sub in subsequences((op, av))):
            return True
    return False


def _skipped(tree: Tree, path: Path) -> bool:
    """Whether the item at `path` lies inside an address group, <F-CONTENT> or a look-around."""
    items: list[Item] | tuple[Item, ...] = tree.items
    for depth in range(0, len(path) - 1, 2):
        op, av = items[path[depth]]
        if op in ("ASSERT", "ASSERT_NOT"):
            return True
        if op == "SUBPATTERN" and av[0] is not None and tree.names.get(av[0]) in _OPAQUE:
            return True
        items = subsequences((op, av))[path[depth + 1]]
    return False


def free_parts(tree: Tree) -> tuple[Part, ...]:
    """Every free-text part of `tree`, outer before inner."""
    parts: list[Part] = []
    for path, item in walk(tree.items):
        op, av = item
        if _skipped(tree, path):
            continue
        if op in REPEATS:
            _low, high, body = av
            if (high == MAXREPEAT or high >= 7) and _admits_address(tree, body):
                parts.append(Part(path, item_text(tree, item), _fit(tree, item)))
        elif op == "SUBPATTERN" and av[0] is not None:
            name = tree.names.get(av[0], "")
            fieldlike = name not in ADDRESS_GROUPS | STRUCTURE_GROUPS and not name.startswith("skiplines")
            if name and fieldlike and _admits_address(tree, av[3]):
                parts.append(Part(path, f"<F-{name.upper()}>"))
    return tuple(parts)


@dataclass(frozen=True, slots=True)
class Instrumented:
    """A regex with each free-text part wrapped in a group of its own, to read the spans of a match."""

    parts: tuple[Part, ...]
    pattern: re.Pattern[str] | None  # None when the regex has no free-text part


@lru_cache(maxsize=512)
def instrument(pattern: re.Pattern[str]) -> Instrumented:
    """`pattern` with its free-text parts marked (cached per compiled pattern)."""
    tree = parse(pattern)
    parts = free_parts(tree)
    if not parts:
        return Instrumented(parts, None)
    marks = {part.path: f"{_MARK}{k}" for k, part in enumerate(parts)}
    return Instrumented(parts, re.compile(unparse(tree, marks), tree.flags))


def spans(instrumented: Instrumented, text: str) -> list[Span]:
    """The spans of `text` (as the regex searches it) that the free-text parts matched, distinct by extent and
    outer first; [] when the regex does not match."""
    if instrumented.pattern is None:
        return []
    m = instrumented.pattern.search(text)
    if m is None:
        return []
    found: list[Span] = []
    seen: set[tuple[int, int]] = set()
    for k, part in enumerate(instrumented.parts):
        start, end = m.span(f"{_MARK}{k}")
        if start < 0 or (start, end) in seen:
            continue
        seen.add((start, end))
        found.append(Span(part, start, end))
    return found
