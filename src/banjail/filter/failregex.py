"""fail2ban regexes -> Python regexes: the <HOST>-style tags, <F-NAME> groups, <SKIPLINES>, and what a match
yields (groups with <F-ALT_*> merged and <F-TUPLE_*> combined, the lines a multi-line match covers).

Tag semantics follow fail2ban 1.0.2: <F-NAME> opens a group named `name` (lower-cased; F-ID -> fid, F-PORT ->
fport), </F-NAME> closes it only when it was opened, unknown tags stay as written, and a global flag group that
is not at the start ("(?:(?i)x)") becomes a scoped one ("(?i:x)") since Python refuses the former.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from banjail import netaddr
from banjail.errors import Problem, RegexError

_TAG = re.compile(r"</?[\w\-]+/?>")
_CUSTOM = re.compile(r"(/?)F-([A-Z0-9_\-]+)\Z")
_GLOBAL_FLAGS = re.compile(r"(?<!\\)\((?:\?:)?(\(\?[a-z]+)\)")
_COMPLEX = re.compile(r"(alt_|tuple_)(.*?)(?:_\d+)?\Z")

_FIXED_TAGS = {
    "IP4": netaddr.IP4_GROUP,
    "IP6": netaddr.IP6_GROUP,
    "ADDR": netaddr.ADDR_GROUP,
    "CIDR": netaddr.CIDR_GROUP,
    "SUBNET": netaddr.SUBNET_GROUP,
    "DNS": netaddr.DNS_GROUP,
}
_SELF_CLOSING = {f"F-{name}/": text for name, text in _FIXED_TAGS.items()} | {
    "F-ID/": r"(?P<fid>\S+)",
    "F-PORT/": r"(?P<fport>\w+)",
}
_RENAMED = {"id": "fid", "port": "fport"}

# Groups that identify a failure, in precedence order; "mlfid" also makes a regex acceptable (it wraps the id).
ID_GROUPS = ("fid", "ip4", "ip6", "dns")
_ID_PRESENT = (*ID_GROUPS, "mlfid")


def group_name(tag: str) -> str:
    """The group name an <F-TAG> stores its match under."""
    lowered = tag.lower()
    return _RENAMED.get(lowered, lowered)


def expand_tags(regex: str, usedns: str = "warn") -> str:
    """Replace fail2ban's tags in `regex` by Python regex text (no compilation)."""
    opened: set[str] = set()
    skiplines = 0

    def replace(m: re.Match[str]) -> str:
        nonlocal skiplines
        tag = m.group()
        name = tag[1:-1]
        if name == "HOST":
            return netaddr.host_pattern(usedns)
        if name == "SKIPLINES":
            skiplines += 1
            return rf"\n(?P<skiplines{skiplines - 1}>(?:(?:.*\n)*?))"
        fixed = _FIXED_TAGS.get(name) or _SELF_CLOSING.get(name)
        if fixed is not None:
            return fixed
        custom = _CUSTOM.match(name)
        if custom is None:
            return tag
        closing, ident = custom.groups()
        if closing:
            return ")" if ident in opened else tag
        opened.add(ident)
        return f"(?P<{group_name(ident)}>"

    expanded = _TAG.sub(replace, regex)
    return _GLOBAL_FLAGS.sub(r"\1:", expanded)


@dataclass(frozen=True, slots=True)
class CompiledRegex:
    """One compiled fail2ban regex.

    source: the text as configured; pattern: the compiled expansion. alt: (group, target) pairs whose value
    fills `target` when that is empty; tuples: (group, target) pairs appended to `target` as a tuple.
    """

    source: str
    pattern: re.Pattern[str]
    alt: tuple[tuple[str, str], ...] = ()
    tuples: tuple[tuple[str, str], ...] = ()
    skiplines: int = 0

    @property
    def folds(self) -> bool:
        """Whether groups() does more than groupdict() (it has <F-ALT_*> or <F-TUPLE_*> groups)."""
        return bool(self.alt or self.tuples)

    def groups(self, m: re.Match[str]) -> dict[str, Any]:
        """The match's named groups, with <F-ALT_*> and <F-TUPLE_*> folded in as upstream does."""
        return self.fold(dict(m.groupdict()))

    def fold(self, found: dict[str, Any]) -> dict[str, Any]:
        """Fold <F-ALT_*> and <F-TUPLE_*> groups of `found` (a groupdict of this regex, changed in place) into
        their targets, as upstream does; returns `found`."""
        for key, target in self.alt:
            value = found.get(key)
            if value and not found.get(target):
                found[target] = value
        for key, target in self.tuples:
            value = found.get(key)
            current = found.get(target)
            if isinstance(current, tuple):
                found[target] = (*current, value if isinstance(value, str) else None)
            else:
                found[target] = (current, value if isinstance(value, str) else None)
        return found

    def skipped(self, m: re.Match[str]) -> list[str]:
        """Lines swallowed by <SKIPLINES> (they are not part of the failure's matches)."""
        text = "".join(m.group(f"skiplines{i}") or "" for i in range(self.skiplines))
        # "\n" only: str.splitlines() would also cut at "\r", "\x0b", "\x1c", U+2028 ... inside a line
        lines = text.split("\n")
        if lines[-1] == "":
            lines.pop()
        return lines


def compile_regex(source: str, *, usedns: str = "warn", multiline: bool = False) -> CompiledRegex:
    """Compile one fail2ban regex. Raises ValueError with the reason when it is empty or not a valid regex."""
    expanded = expand_tags(source, usedns)
    if not expanded.strip():
        raise ValueError("empty regex")
    try:
        pattern = re.compile(expanded, re.MULTILINE if multiline else 0)
    except re.error as exc:
        raise ValueError(f"{exc} in {expanded!r}") from None
    alt: list[tuple[str, str]] = []
    tuples: list[tuple[str, str]] = []
    for name in pattern.groupindex:
        m = _COMPLEX.match(name) if len(name) > 4 else None
        if m is not None:
            (alt if m.group(1) == "alt_" else tuples).append((name, group_name(m.group(2))))
    skiplines = sum(1 for name in pattern.groupindex if name.startswith("skiplines"))
    return CompiledRegex(source, pattern, tuple(sorted(alt)), tuple(sorted(tuples)), skiplines)


def has_id(regex: CompiledRegex) -> bool:
    return any(name in regex.pattern.groupindex for name in _ID_PRESENT)


@dataclass(frozen=True, slots=True)
class RegexSet:
    """Every regex of a filter, compiled."""

    prefregex: CompiledRegex | None
    failregex: tuple[CompiledRegex, ...]
    ignoreregex: tuple[CompiledRegex, ...]


def compile_filter(
    failregex: Sequence[str],
    ignoreregex: Sequence[str],
    prefregex: str = "",
    *,
    usedns: str = "warn",
    multiline: bool = False,
    file: str = "",
) -> RegexSet:
    """Compile a filter's regexes. Raises RegexError naming every bad one (option, 1-based line, reason).

    A failregex must capture an identifier (<HOST>, <ADDR>, <F-ID>, ... or <F-MLFID>), itself or through the
    prefregex. The prefregex is compiled single-line and failregex/ignoreregex multi-line when maxlines > 1, as
    upstream compiles them.
    """
    problems: list[Problem] = []
    pref: CompiledRegex | None = None
    if prefregex:
        try:
            pref = compile_regex(prefregex, usedns=usedns)
        except ValueError as exc:
            problems.append(Problem(f"cannot compile: {exc}", file=file, option="prefregex", value=prefregex))
    fails: list[CompiledRegex] = []
    for number, text in enumerate(failregex, 1):
        try:
            compiled = compile_regex(text, usedns=usedns, multiline=multiline)
        except ValueError as exc:
            problems.append(
                Problem(f"line {number}: cannot compile: {exc}", file=file, option="failregex", value=text)
            )
            continue
        if not has_id(compiled) and (pref is None or not has_id(pref)):
            problems.append(
                Problem(
                    f"line {number}: no failure-id group",
                    file=file,
                    option="failregex",
                    value=text,
                    fix="capture the address with <HOST> or <ADDR>, or an id with <F-ID>...</F-ID>",
                )
            )
            continue
        fails.append(compiled)
    ignores: list[CompiledRegex] = []
    for number, text in enumerate(ignoreregex, 1):
        try:
            ignores.append(compile_regex(text, usedns=usedns, multiline=multiline))
        except ValueError as exc:
            problems.append(
                Problem(f"line {number}: cannot compile: {exc}", file=file, option="ignoreregex", value=text)
            )
    if problems:
        raise RegexError(problems)
    return RegexSet(pref, tuple(fails), tuple(ignores))
