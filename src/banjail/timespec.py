"""fail2ban time values: "600", "10m", "1d12h30m", "1year-6mo", "-1" -> seconds.

The grammar is the one upstream accepts in practice, parsed without eval: a sum of terms, each a number with an
optional unit, joined by `+`, `-` or plain whitespace (whitespace means `+`). Units are case-insensitive; a month
is a twelfth of a mean Julian year (30.4375 days) and a year is 365.25 days, as upstream computes them.
"""

from __future__ import annotations

import re

_DAY = 24 * 60 * 60
_YEAR = (365 * 3 + 366) * _DAY / 4

# Every spelling upstream's unit table accepts, mapped to its length in seconds.
_UNITS: dict[str, float] = {}
for _names, _seconds in (
    (("s", "ss", "se", "sec", "second", "seconds"), 1.0),
    (("m", "mm", "mi", "min", "minute", "minutes"), 60.0),
    (("h", "hh", "ho", "hou", "hour", "hours"), 3600.0),
    (("d", "dd", "da", "day", "days"), float(_DAY)),
    (("w", "ww", "we", "wee", "week", "weeks"), 7.0 * _DAY),
    (("mo", "mon", "month", "months"), _YEAR / 12),
    (("y", "yy", "ye", "yea", "year", "years"), _YEAR),
):
    for _name in _names:
        _UNITS[_name] = _seconds
# Upstream computes a month and a year by division: a term in them makes its evaluation a float.
_FLOAT_UNITS = frozenset(("mo", "mon", "month", "months", "y", "yy", "ye", "yea", "year", "years"))

# One term: optional operator, number, optional unit. The unit must end at a word boundary so "10mx" is refused
# rather than read as 10 minutes followed by garbage.
_TERM = re.compile(r"\s*([+-]?)\s*(\d+(?:\.\d*)?|\.\d+)\s*([a-z]*)\s*", re.IGNORECASE)

PERMANENT = -1.0


def str2seconds(text: str) -> float:
    """Return the number of seconds a fail2ban time value denotes.

    Guarantees: "-1" (and any negative result) is returned as is (upstream's "permanent" for bantime); a bare
    number is seconds; ValueError names the offending text and the accepted units when the value is malformed.
    """
    return _parse(text)[0]


def str2seconds_typed(text: str) -> int | float:
    """str2seconds, typed as upstream's evaluation of the text types it, so a reply prints as upstream's does
    (`--str2sec 1.5d` is 129600.0, `--str2sec 1d` is 86400): a float when a number is written with a point or a
    term is in months or years (their lengths are fractional products upstream), else an int."""
    total, fractional = _parse(text)
    return total if fractional else int(total)


def _parse(text: str) -> tuple[float, bool]:
    """The seconds, and whether upstream's evaluation gives a float (see str2seconds_typed)."""
    rest = text.strip()
    if not rest:
        raise ValueError("empty time value (expected e.g. 600, 10m, 1h30m, 1d, -1)")
    total = 0.0
    fractional = False
    pos = 0
    first = True
    while pos < len(rest):
        m = _TERM.match(rest, pos)
        if m is None or m.end() == pos:
            raise ValueError(_bad(text, f"unexpected {rest[pos:]!r}"))
        sign, number, unit = m.groups()
        # Terms follow each other after an operator, whitespace, or a unit ("1h30m"); "1.2.3" has none.
        if not first and not sign and not rest[pos - 1].isspace() and not rest[pos - 1].isalpha():
            raise ValueError(_bad(text, f"unexpected {rest[pos:]!r}"))
        scale = 1.0
        if unit:
            try:
                scale = _UNITS[unit.lower()]
            except KeyError:
                raise ValueError(_bad(text, f"unknown unit {unit!r}")) from None
        fractional = fractional or "." in number or unit.lower() in _FLOAT_UNITS
        value = float(number) * scale
        total += -value if sign == "-" else value
        pos = m.end()
        first = False
    return total, fractional


def _bad(text: str, why: str) -> str:
    return (
        f"invalid time value {text!r}: {why} "
        "(use a number of seconds or terms like 30s, 10m, 1h, 1d, 1w, 1mo, 1y, e.g. 1d12h; -1 means permanent)"
    )
