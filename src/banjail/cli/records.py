"""fail2ban-regex's `-o row`, `-o matches` and `-o` templates with <time>, printed as upstream prints them: from
each failure's record (banjail.filter.record), which holds what a Failure leaves out. The matcher keeps records
only for these tokens (banjail.cli.regex), so the report, --json and the other tokens never make them."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from banjail.cli.failures import render_template
from banjail.filter.record import Record
from banjail.filter.session import by_text

RecordFormatter = Callable[[Record], list[str]]


def needs_record(token: str) -> bool:
    """Whether `-o token` prints what only a record has: the whole data (row), the date-split matched lines
    (matches), or upstream's number for the time (a template with <time>: an int for a zoned date)."""
    return token in ("row", "matches") or ("<" in token and "<time>" in token)


def _value(value: Any) -> str:
    # a set (a session's users) in text order: upstream's follows string hashes, which differ from run to run
    if isinstance(value, frozenset):
        return "{" + ", ".join(repr(v) for v in sorted(value, key=by_text)) + "}" if value else "set()"
    return repr(value)


def row_line(record: Record) -> str:
    """`-o row`: upstream's `[id,\\ttime,\\t{data}],`, the data without its matches, None values included."""
    data = ", ".join(f"{key!r}: {_value(value)}" for key, value in record.data)
    return f"[{record.failure.fid!r},\t{record.time!r},\t{{{data}}}],"


def record_formatter(token: str) -> RecordFormatter:
    """The printer for `-o token` when needs_record(token)."""
    if token == "row":
        return lambda r: [row_line(r)]
    if token == "matches":
        return lambda r: [repr(list(r.matches))]
    render = render_template(token)
    # upstream's ticket takes the current time for a failure without one: the Failure's time then
    return lambda r: render(r.failure, repr(r.failure.time if r.time is None else r.time))
