"""Typed option values read from one section of a config tree: a bad value becomes a Problem (file, line,
section, option, value, fix) and the default stands in, so that every problem of a config is reported at once."""

from __future__ import annotations

from collections.abc import Callable
from typing import TypeVar

from banjail.config import packaged
from banjail.config.ini import InterpolationError, Tree
from banjail.errors import Problem
from banjail.timespec import str2seconds_typed

T = TypeVar("T")

TRUE = ("1", "on", "true", "yes")
FALSE = ("0", "off", "false", "no")


class Reader:
    """Typed access to one section, turning bad values into problems and falling back to defaults."""

    def __init__(self, tree: Tree, section: str, problems: list[Problem], lenient: bool = False) -> None:
        self.tree = tree
        self.section = section
        self.problems = problems
        # lenient: a bad value is a warning (its default is used), as upstream's client treats it.
        self.lenient = lenient

    def optional(self, option: str) -> str | None:
        try:
            return self.tree.get(self.section, option)
        except InterpolationError as exc:
            self.problems.append(exc.problem)
            return None

    def text(self, option: str, default: str = "") -> str:
        value = self.optional(option)
        return default if value is None else value

    def typed(self, option: str, default: T, convert: Callable[[str], T], expected: str) -> T:
        value = self.text(option)
        if not value.strip():
            return default
        try:
            return convert(value.strip())
        except ValueError:
            entry = self.tree.entry(self.section, option)
            self.problems.append(
                Problem(
                    f"is not {expected}"
                    + (f" (written {entry.value!r})" if entry and entry.value != value else ""),
                    entry.file if entry else "",
                    entry.line if entry else 0,
                    self.section,
                    option,
                    value,
                    _fix(expected),
                    "warning" if self.lenient else "error",
                )
            )
            return default

    def boolean(self, option: str, default: bool) -> bool:
        return self.typed(option, default, _bool, "a boolean")

    def integer(self, option: str, default: int) -> int:
        return self.typed(option, default, int, "a whole number")

    # Typed as upstream types them (`1.5m` is 90.0, `10m` is 600): `get <jail> findtime` prints what upstream's does.
    def seconds(self, option: str, default: float) -> float:
        return self.typed(option, default, str2seconds_typed, "a time value")

    def seconds_or_none(self, option: str) -> float | None:
        return self.typed(option, None, str2seconds_typed, "a time value")


def _bool(value: str) -> bool:
    lowered = value.lower()
    if lowered in TRUE:
        return True
    if lowered in FALSE:
        return False
    raise ValueError(value)


def multipliers(value: str) -> tuple[int, ...]:
    return tuple(int(part) for part in value.split())


def prefix_length(limit: int) -> Callable[[str], int]:
    """A converter of a prefix length from 1 to `limit` (ValueError otherwise)."""

    def convert(value: str) -> int:
        length = int(value.lstrip("/"))
        if not 1 <= length <= limit:
            raise ValueError(value)
        return length

    return convert


def listen_address(value: str) -> str:
    """fail2ban.local's `metrics` HOST:PORT, checked (ValueError when it is not one)."""
    from banjail.errors import ConfigError
    from banjail.metrics.listen import parse_listen

    try:
        parse_listen(value)
    except ConfigError:
        raise ValueError(value) from None
    return value


def _fix(expected: str) -> str:
    if expected == "a listen address":
        return "write HOST:PORT, e.g. 127.0.0.1:9191 or [::1]:9191; leave it empty to turn metrics off"
    if expected == packaged.EXPECTED:
        return packaged.FIX
    if expected.startswith("a prefix length"):
        return "use 128 for IPv6 or 32 for IPv4 (one address, the default), or a network such as 64 or 24"
    return {
        "a boolean": "use true or false (also yes/no, on/off, 1/0)",
        "a whole number": "use digits only, e.g. 5",
        "a time value": "use seconds or units, e.g. 600, 10m, 1h, 1d12h, 1w; -1 means permanent",
        "a number": "use a number, e.g. 1 or 1.5",
        "a list of whole numbers": "list numbers separated by spaces, e.g. 1 2 4 8 16",
    }.get(expected, "")
