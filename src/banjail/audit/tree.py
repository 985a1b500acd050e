"""A compiled regex as a tree (Python's own parser, re._parser) and the tree back as regex text.

The tree is the parser's: a sequence of (opcode name, argument) items. `unparse` writes an equivalent regex, and
can wrap chosen items (by path) in named groups, which is how the auditor learns which part of a line each
free-text item matched. Every group is written as a named group (unnamed ones as `_gN`) and every back-reference
by name, so added groups never shift a reference.

A path names an item: (item index,) at the top; an item inside a container is the container's path + (index of
the sub-sequence, index of the item in it). Sub-sequences: a group's or repeat's body (0), each alternative of a
branch (0..n-1), the yes (0) and no (1) parts of a conditional, a look-around's body (0).
"""

from __future__ import annotations

import importlib
import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any

_parser: Any = importlib.import_module("re._parser")
_constants: Any = importlib.import_module("re._constants")

MAXREPEAT: int = int(_constants.MAXREPEAT)

Item = tuple[str, Any]  # (opcode name, argument with sub-sequences converted to lists of Items)
Path = tuple[int, ...]

REPEATS = frozenset({"MAX_REPEAT", "MIN_REPEAT", "POSSESSIVE_REPEAT"})
CHAR_OPS = frozenset({"LITERAL", "NOT_LITERAL", "ANY", "IN"})

_AT = {
    "AT_BEGINNING": "^",
    "AT_BEGINNING_STRING": r"\A",
    "AT_END": "$",
    "AT_END_STRING": r"\Z",
    "AT_BOUNDARY": r"\b",
    "AT_NON_BOUNDARY": r"\B",
}
_CATEGORY = {
    "CATEGORY_DIGIT": r"\d",
    "CATEGORY_NOT_DIGIT": r"\D",
    "CATEGORY_SPACE": r"\s",
    "CATEGORY_NOT_SPACE": r"\S",
    "CATEGORY_WORD": r"\w",
    "CATEGORY_NOT_WORD": r"\W",
}
_ATOMS = CHAR_OPS | {"BRANCH", "SUBPATTERN", "ATOMIC_GROUP"}
_FLAG_LETTERS = ((re.IGNORECASE, "i"), (re.MULTILINE, "m"), (re.DOTALL, "s"), (re.ASCII, "a"))


@dataclass(frozen=True, slots=True)
class Tree:
    """A parsed regex: its items, its global flags, and the names of its named groups (by group number)."""

    items: tuple[Item, ...]
    flags: int
    names: Mapping[int, str]
    # memo for users of the tree, keyed by id() of one of its items (alive as long as the tree)
    memo: dict[int, str] = field(default_factory=dict, compare=False, repr=False)

    def group_name(self, number: int) -> str:
        return self.names.get(number, f"_g{number}")


def _convert(seq: Any) -> list[Item]:
    out: list[Item] = []
    for op, av in seq:
        name = str(op)
        if name == "SUBPATTERN":
            av = (av[0], av[1], av[2], _convert(av[3]))
        elif name == "BRANCH":
            av = (None, [_convert(alt) for alt in av[1]])
        elif name in REPEATS:
            av = (av[0], av[1], _convert(av[2]))
        elif name in ("ASSERT", "ASSERT_NOT"):
            av = (av[0], _convert(av[1]))
        elif name == "ATOMIC_GROUP":
            av = _convert(av)
        elif name == "GROUPREF_EXISTS":
            av = (av[0], _convert(av[1]), _convert(av[2]) if av[2] else [])
        elif name == "IN":
            av = [(str(o), a if str(o) != "CATEGORY" else str(a)) for o, a in av]
        elif name == "CATEGORY":
            av = str(av)
        out.append((name, av))
    return out


def parse(pattern: re.Pattern[str]) -> Tree:
    """The tree of a compiled pattern. Raises re.error only if Python's parser disagrees with its compiler."""
    parsed = _parser.parse(pattern.pattern, pattern.flags)
    names = {number: name for name, number in parsed.state.groupdict.items()}
    return Tree(tuple(_convert(parsed.data)), int(pattern.flags), names)


def subsequences(item: Item) -> list[list[Item]]:
    """The sub-sequences of a container item (see the module docstring), [] for a leaf."""
    op, av = item
    if op == "SUBPATTERN":
        return [av[3]]
    if op == "BRANCH":
        return list(av[1])
    if op in REPEATS:
        return [av[2]]
    if op in ("ASSERT", "ASSERT_NOT"):
        return [av[1]]
    if op == "ATOMIC_GROUP":
        return [av]
    if op == "GROUPREF_EXISTS":
        return [av[1], av[2]]
    return []


def walk(items: tuple[Item, ...] | list[Item], path: Path = ()) -> Iterator[tuple[Path, Item]]:
    """Every item with its path, outer before inner."""
    for index, item in enumerate(items):
        here = (*path, index)
        yield here, item
        for sub_index, sub in enumerate(subsequences(item)):
            yield from walk(sub, (*here, sub_index))


def _char(code: int) -> str:
    ch = chr(code)
    if ch.isascii() and (ch.isalnum() or ch in " _"):
        return ch
    if ch.isascii() and ch.isprintable():
        return "\\" + ch  # a backslash makes any ASCII punctuation literal, in a class too
    if code < 0x100:
        return f"\\x{code:02x}"
    return f"\\u{code:04x}" if code < 0x10000 else f"\\U{code:08x}"


def _class_text(items: list[Item]) -> str:
    if len(items) == 1 and items[0][0] == "CATEGORY":
        return _CATEGORY.get(items[0][1], "")  # \S rather than [\S]
    parts: list[str] = []
    for op, av in items:
        if op == "NEGATE":
            parts.append("^")
        elif op == "LITERAL":
            parts.append(_char(av))
        elif op == "RANGE":
            parts.append(f"{_char(av[0])}-{_char(av[1])}")
        elif op == "CATEGORY":
            parts.append(_CATEGORY.get(av, ""))
    return "[" + "".join(parts) + "]"


def _quantifier(op: str, low: int, high: int) -> str:
    if (low, high) == (0, MAXREPEAT):
        text = "*"
    elif (low, high) == (1, MAXREPEAT):
        text = "+"
    elif (low, high) == (0, 1):
        text = "?"
    elif low == high:
        text = f"{{{low}}}"
    elif high == MAXREPEAT:
        text = f"{{{low},}}"
    else:
        text = f"{{{low},{high}}}"
    return text + ("?" if op == "MIN_REPEAT" else "+" if op == "POSSESSIVE_REPEAT" else "")


def _flag_text(flags: int) -> str:
    return "".join(letter for flag, letter in _FLAG_LETTERS if flags & flag)


class _Writer:
    def __init__(self, tree: Tree, marks: Mapping[Path, str]) -> None:
        self.tree = tree
        self.marks = marks

    def seq(self, items: list[Item] | tuple[Item, ...], path: Path) -> str:
        return "".join(self.item(item, (*path, i)) for i, item in enumerate(items))

    def item(self, item: Item, path: Path) -> str:
        text = self._core(item, path)
        mark = self.marks.get(path)
        return text if mark is None else f"(?P<{mark}>{text})"

    def _core(self, item: Item, path: Path) -> str:
        op, av = item
        if op == "LITERAL":
            return _char(av)
        if op == "NOT_LITERAL":
            return f"[^{_char(av)}]"
        if op == "ANY":
            return "."
        if op == "IN":
            return _class_text(av)
        if op == "CATEGORY":
            return _CATEGORY.get(av, "")
        if op == "AT":
            return _AT.get(str(av), "")
        if op == "BRANCH":
            return "(?:" + "|".join(self.seq(alt, (*path, k)) for k, alt in enumerate(av[1])) + ")"
        if op == "SUBPATTERN":
            number, add, remove, body = av
            inner = self.seq(body, (*path, 0))
            if add or remove:
                inner = f"(?{_flag_text(add)}{'-' + _flag_text(remove) if remove else ''}:{inner})"
            return (
                inner
                if number is None and (add or remove)
                else (f"(?:{inner})" if number is None else f"(?P<{self.tree.group_name(number)}>{inner})")
            )
        if op in REPEATS:
            low, high, body = av
            inner = self.seq(body, (*path, 0))
            # one character, or one item that writes its own parentheses, takes the quantifier as it is
            single = len(body) == 1 and (body[0][0] in _ATOMS or (*path, 0, 0) in self.marks)
            return (inner if single else f"(?:{inner})") + _quantifier(op, low, high)
        if op == "GROUPREF":
            return f"(?P={self.tree.group_name(av)})"
        if op == "GROUPREF_EXISTS":
            number, yes, no = av
            tail = "|" + self.seq(no, (*path, 1)) if no else ""
            return f"(?({self.tree.group_name(number)}){self.seq(yes, (*path, 0))}{tail})"
        if op in ("ASSERT", "ASSERT_NOT"):
            direction, body = av
            opener = {("ASSERT", 1): "(?=", ("ASSERT", -1): "(?<=", ("ASSERT_NOT", 1): "(?!"}.get(
                (op, direction), "(?<!"
            )
            return opener + self.seq(body, (*path, 0)) + ")"
        if op == "ATOMIC_GROUP":
            return "(?>" + self.seq(av, (*path, 0)) + ")"
        raise ValueError(f"cannot write regex item {op}")


def unparse(tree: Tree, marks: Mapping[Path, str] | None = None) -> str:
    """Regex text equivalent to `tree` (compile it with tree.flags), with the items at the paths of `marks`
    wrapped in groups of the given names."""
    body = _Writer(tree, marks or {}).seq(tree.items, ())
    flags = _flag_text(tree.flags)
    return f"(?{flags}){body}" if flags else body


def item_text(tree: Tree, item: Item) -> str:
    """One item as regex text (for messages)."""
    return _Writer(tree, {}).item(item, ())


@lru_cache(maxsize=4096)
def _single(text: str, flags: int) -> re.Pattern[str]:
    return re.compile(text, flags)


def accepts(tree: Tree, item: Item, ch: str) -> bool:
    """Whether the one-character item (LITERAL, NOT_LITERAL, ANY, IN) matches `ch`."""
    return _single(item_text(tree, item), tree.flags).fullmatch(ch) is not None


def item_at(tree: Tree, path: Path) -> Item:
    """The item a path names."""
    items: list[Item] | tuple[Item, ...] = tree.items
    item = items[path[0]]
    for k in range(1, len(path), 2):
        item = subsequences(item)[path[k]][path[k + 1]]
    return item
