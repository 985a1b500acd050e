"""`<tag>` substitution and the `name[key=value, ...]` argument syntax of filters and actions.

Tags: a `<name>` in a value is replaced by the option `name` (its `name?cond` variant first when a condition such
as `family=inet6` is given, then a caller-supplied lookup such as `<known/opt>` or `<section/opt>`). Innermost tags
go first, so `<mdre-<mode>>` becomes `<mdre-normal>` and then its value. A tag nobody defines (`<HOST>`, `<ip>`,
`<F-USER>`, `<matches>`...) is left in place for the regex compiler or the action runner. A tag that refers to
itself, directly or through others, is an error; so is a chain longer than MAX_PASSES.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Mapping

TAG = re.compile(r"<([^ <>]+)>")
MAX_PASSES = 25  # upstream's bound on repeated replacement; a real config needs a handful


class TagError(ValueError):
    """A tag definition cannot be resolved (self reference, or too deep); `tag` names the option concerned."""

    def __init__(self, tag: str, message: str) -> None:
        self.tag = tag
        super().__init__(message)


Lookup = Callable[[str], str | None]


def substitute(
    values: Mapping[str, str],
    *,
    ignore: Iterable[str] = (),
    lookup: Lookup | None = None,
    conditional: str = "",
) -> dict[str, str]:
    """Return a copy of `values` with every resolvable <tag> substituted in every value.

    Options named in `ignore` are neither substituted nor substituted into others (the run time fills them).
    Raises TagError for self-referencing definitions.
    """
    resolver = _Resolver(values, frozenset(ignore), lookup, conditional)
    return {
        key: value if key in resolver.ignore else resolver.resolve(key, ()) for key, value in values.items()
    }


def substitute_text(
    text: str,
    values: Mapping[str, str],
    *,
    ignore: Iterable[str] = (),
    lookup: Lookup | None = None,
    conditional: str = "",
) -> str:
    """Substitute tags in one text against `values` (for run-time use by actions)."""
    return _Resolver(values, frozenset(ignore), lookup, conditional).expand(text, ())


class _Resolver:
    def __init__(
        self, values: Mapping[str, str], ignore: frozenset[str], lookup: Lookup | None, conditional: str
    ) -> None:
        self.values = values
        self.ignore = ignore
        self.lookup = lookup
        self.conditional = conditional
        self.done: dict[str, str] = {}

    def resolve(self, key: str, stack: tuple[str, ...]) -> str:
        result = self.done.get(key)
        if result is None:
            result = self.done[key] = self.expand(self.values[key], (*stack, key))
        return result

    def expand(self, text: str, stack: tuple[str, ...]) -> str:
        if len(stack) > MAX_PASSES:
            raise TagError(
                stack[0], f"tags nest more than {MAX_PASSES} levels deep: {' -> '.join(stack[:5])} ..."
            )
        for _ in range(MAX_PASSES):
            new = TAG.sub(lambda m: self._replacement(m.group(1), stack, m.group(0)), text)
            if new == text:
                return new
            text = new
        raise TagError(
            stack[-1] if stack else "",
            f"tags still nest after {MAX_PASSES} rounds of substitution in {text[:80]!r}",
        )

    def _replacement(self, tag: str, stack: tuple[str, ...], original: str) -> str:
        if tag in self.ignore:
            return original
        if tag in stack:
            chain = " -> ".join((*stack[stack.index(tag) :], tag))
            raise TagError(stack[0], f"tag <{tag}> refers to itself ({chain})")
        if self.conditional:
            key = f"{tag}?{self.conditional}"
            if key in self.values:
                return self.resolve(key, stack)
        if tag in self.values:
            return self.resolve(tag, stack)
        if self.lookup is not None:
            found = self.lookup(tag)
            if found is not None:
                return self.expand(found, (*stack, tag))
        return original


# -- name[key=value, ...] ------------------------------------------------------------------------------------

# A key may carry upstream 1.1's condition, `blocktype?family=inet6="..."`: the value for that family only.
_ARG = re.compile(
    r"""\s*(?P<key>[\w.\-]+(?:\?[\w.\-]+=[\w.\-]+)?)\s*=\s*(?:"(?P<dq>[^"]*)"|'(?P<sq>[^']*)'|(?P<bare>[^,\]]*))"""
    r"""\s*(?P<sep>,|\]\s*\[|$)?""",
    re.DOTALL,
)


def extract_options(text: str) -> tuple[str, dict[str, str]]:
    """Split `name[k=v, k2="a, b", k3='c'][k4=d]` into the name and its arguments (values stripped).

    Values may be double- or single-quoted (then they may hold `,` and `]`) or bare (up to `,` or `]`). A key
    may be conditional, `key?family=inet6` (upstream 1.1), and is kept as written.
    Raises ValueError naming the position of anything else.
    """
    text = text.strip()
    bracket = text.find("[")
    if bracket < 0:
        if not text:
            raise ValueError("empty name")
        return text, {}
    name = text[:bracket].strip()
    if not name:
        raise ValueError(f"missing name before '[' in {text!r}")
    if not text.endswith("]"):
        raise ValueError(f"arguments of {name!r} must end with ']': {text!r}")
    body = text[bracket + 1 : -1]
    args: dict[str, str] = {}
    pos = 0
    while pos < len(body):
        if not body[pos:].strip(" \t\n,"):
            break
        m = _ARG.match(body, pos)
        if m is None:
            raise ValueError(f"expected key=value at {pos} in {name!r} arguments: {body[pos : pos + 25]!r}")
        if m.group("sep") is None:
            raise ValueError(
                f"unexpected text after argument {m.group('key')!r} at {m.end()}: {body[m.end() : m.end() + 25]!r}"
                " (quote values that contain ',' or ']')"
            )
        value = next(v for v in (m.group("dq"), m.group("sq"), m.group("bare")) if v is not None)
        args[m.group("key")] = value.strip()
        if m.end() == pos:
            break
        pos = m.end()
    return name, args


def split_with_options(text: str) -> list[str]:
    """Split a list such as the jail `action` option into items: whitespace separates items, except inside
    `[...]` argument groups (whose quoted values may hold anything but their own quote)."""
    items: list[str] = []
    pos, end = 0, len(text)
    while pos < end:
        while pos < end and text[pos].isspace():
            pos += 1
        if pos >= end:
            break
        start = pos
        while pos < end and not text[pos].isspace() and text[pos] != "[":
            pos += 1
        look = pos
        while look < end and text[look].isspace():
            look += 1
        while look < end and text[look] == "[":
            close = _group_end(text, look)
            if close < 0:
                # Unbalanced: keep the rest of the line as one item; extract_options will report it.
                newline = text.find("\n", look)
                pos = end if newline < 0 else newline
                break
            look = close + 1
            pos = look
            while look < end and text[look].isspace():
                look += 1
        items.append(text[start:pos].strip())
        pos = max(pos, start + 1)
    return [item for item in items if item]


def _group_end(text: str, start: int) -> int:
    """Index of the `]` closing the group opened at `start`, skipping quoted values; -1 if none."""
    pos = start + 1
    quote = ""
    while pos < len(text):
        ch = text[pos]
        if quote:
            if ch == quote:
                quote = ""
        elif ch in "\"'" and text[start:pos].rstrip().endswith("="):
            quote = ch
        elif ch == "]":
            return pos
        pos += 1
    return -1
