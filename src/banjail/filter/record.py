"""A failure as upstream's fail2ban-regex holds it when it prints `-o row`, `-o matches` or a `<time>` template:
what a Failure leaves out because nothing else needs it. The groups that matched nothing (None) and upstream's
bookkeeping keys (nofail, mlfpending, ...) in the data's own order, the matched lines as date-split tuples, and
the date as upstream's number: an int for a date with a zone (in the text or from logtimezone) and for a TAI64N
label, a float otherwise, None for a line without a date.

Kept only when LogState.records is set, by the general step (banjail.filter.step), which the Python reference
runs for every line then (banjail.filter.matcher's `record`): the report and --json never pay for it."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from banjail.filter.session import USER_PAIRS
from banjail.filter.state import DateDetector, TupleLine
from banjail.model import Failure

# banjail's own keys in the data, which upstream's has not (the sorted user pairs a session shares)
_OWN = frozenset({USER_PAIRS})


@dataclass(frozen=True, slots=True)
class Record:
    """One failure and upstream's view of it. data: the failure's data without its matches, in its order, as it
    was when the failure was found (a session's data changes with its later lines; a set is kept as a
    frozenset); time: upstream's number for the date (None: the line had none)."""

    failure: Failure
    time: float | int | None
    data: tuple[tuple[str, Any], ...]
    matches: tuple[TupleLine, ...]


def record_of(
    failure: Failure, fail: dict[str, Any], date: float | None, template: str | None, date_text: str,
    detector: DateDetector | None,
) -> Record:
    """The record of `failure`, found with data `fail` on a line whose date (None: none) a template named
    `template` found as `date_text` (None: the date came from an earlier line, kept as a float)."""
    time: float | int | None = date
    if date is not None and template is not None and detector is not None and detector.int_date(template, date_text):
        time = int(date)
    data = tuple(
        (key, frozenset(value) if isinstance(value, set) else list(value) if isinstance(value, list) else value)
        for key, value in fail.items()
        if key != "matches" and key not in _OWN
    )
    return Record(failure, time, data, tuple(fail.get("matches", ())))
