"""banjail.timespec: upstream's time values, without eval."""

from __future__ import annotations

import pytest

from banjail.timespec import str2seconds, str2seconds_typed

MONTH = 365.25 * 86400 / 12
YEAR = 365.25 * 86400


@pytest.mark.parametrize(
    ("text", "seconds"),
    [
        ("600", 600.0),
        ("0", 0.0),
        ("-1", -1.0),
        ("1.5", 1.5),
        ("30s", 30.0),
        ("10m", 600.0),
        ("10min", 600.0),
        ("2 minutes", 120.0),
        ("1h", 3600.0),
        ("1hour", 3600.0),
        ("1d", 86400.0),
        ("3days", 259200.0),
        ("1w", 604800.0),
        ("2weeks", 1209600.0),
        ("1mo", MONTH),
        ("1mon", MONTH),
        ("6 months", 6 * MONTH),
        ("1y", YEAR),
        ("1year", YEAR),
        ("1d12h30m", 131400.0),
        ("1d 12h 30m", 131400.0),
        ("0d 1h 30m", 5400.0),
        ("1h 2m 3s", 3723.0),
        ("1hour+30min", 5400.0),
        ("1year-6mo", YEAR - 6 * MONTH),
        ("0.5h", 1800.0),
        ("10 20", 30.0),
        ("1H", 3600.0),
        ("  5m  ", 300.0),
        ("-1d", -86400.0),
    ],
)
def test_str2seconds_accepts_upstream_values(text: str, seconds: float) -> None:
    assert str2seconds(text) == pytest.approx(seconds)


HINT = "(use a number of seconds or terms like 30s, 10m, 1h, 1d, 1w, 1mo, 1y, e.g. 1d12h; -1 means permanent)"


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("", "empty time value (expected e.g. 600, 10m, 1h30m, 1d, -1)"),
        ("1x", f"invalid time value '1x': unknown unit 'x' {HINT}"),
        ("abc", f"invalid time value 'abc': unexpected 'abc' {HINT}"),
        ("1h-", f"invalid time value '1h-': unexpected '-' {HINT}"),
        ("1.2.3", f"invalid time value '1.2.3': unexpected '.3' {HINT}"),
        (
            "__import__('os')",
            f"invalid time value \"__import__('os')\": unexpected \"__import__('os')\" {HINT}",
        ),
        ("2*3", f"invalid time value '2*3': unexpected '*3' {HINT}"),
    ],
)
def test_str2seconds_rejects_with_a_clear_message(text: str, message: str) -> None:
    with pytest.raises(ValueError) as info:
        str2seconds(text)
    assert str(info.value) == message


# Upstream evaluates the text as Python: a float when a number has a point or a term is in months or years (their
# lengths are divisions), else an int. `fail2ban-client --str2sec` and `get <jail> findtime` print that type.
@pytest.mark.parametrize(
    ("text", "value"),
    [
        ("600", 600),
        ("-1", -1),
        ("1d3h", 97200),
        ("1h30m", 5400),
        ("2 weeks", 1209600),
        ("1.0", 1.0),
        ("1.5d", 129600.0),
        ("1m1.5s", 61.5),
        ("1mo", 2629800.0),
        ("1y", 31557600.0),
        ("2 months", 5259600.0),
        ("1year-6mo", 15778800.0),
    ],
)
def test_str2seconds_typed_is_typed_as_upstream(text: str, value: float) -> None:
    got = str2seconds_typed(text)
    assert (got, type(got)) == (value, type(value))
    assert got == str2seconds(text)
