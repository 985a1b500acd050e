"""The epochs of a uniform chunk's dates by runs of one minute: one parse per run instead of one per second.

Another engine (banjail.filter.native's DateCut.runs) matches the proven template on every line and cuts the
lines into runs: a line continues its run when its date text has the run head's length, every group at the same
place and the same characters except its seconds (group "S") and fraction of a second (group "f"). Within a run
the reference's answer for each line is known from the head's, exactly, when the detector says so
(DateDetector.minute_base): the template reads dates by their day (banjail.filter.dateparse._by_day: the epoch
of the day's midnight, linear and valid at `now`, plus the time of day), so a line's epoch is the head's minute
plus the line's seconds; its other fields are the head's (same characters at the same places), its seconds
0-59 (60 and 61 are not a time of day there: such a run is parsed line by line). Whatever the detector cannot
vouch for (no day memo, a day with a DST change or a year roll-over, a 12-hour clock, an epoch template) is
parsed text by text, as the per-line path would.

What parse_text changes besides its answer stays as the per-line path leaves it: the memos are caches of
answers (a line not parsed only leaves one out); the last date, which only decides the UTC offset of a wall time
a DST change repeats, is set to the last derived line's before the next parse (DateDetector.note_last).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any, overload


def python_run_epochs(dates: list[float | None], base: float, seconds: bytes, head: int, end: int) -> bool:
    """When every second of the minute run head..end-1 is 0-59, its lines after the head take base + their
    seconds (True); else False, dates unchanged. _native.run_epochs is its C form (the same doubles)."""
    run = seconds[head:end]
    if max(run) > 59:
        return False
    dates.extend([base + s for s in run[1:]])
    return True


try:
    from banjail.filter import _native  # type: ignore[attr-defined]

    run_epochs: Callable[[list[float | None], float, bytes, int, int], bool] = _native.run_epochs
except ImportError:  # pragma: no cover - the Python engine alone
    run_epochs = python_run_epochs


# (template, chunk, group number of "S", of "f" or -1) -> (each line's group 1 start or None when all are 0,
# end, the heads (line index, text, spans of groups 1.. relative to the text), each line's seconds as bytes
# (255: not 1-2 digits)), or None when a line does not match with group 1 set and not empty, or the engine
# cannot decide.
Runs = Callable[
    [Any, str, int, int],
    "tuple[list[int] | None, list[int], list[tuple[int, str, tuple[tuple[int, int], ...]]], bytes] | None",
]


class LineTexts(Sequence[str]):
    """The date texts of a chunk's lines, cut from the lines when asked for (line i: rows[i][start:end])."""

    __slots__ = ("_ends", "_rows", "_starts")

    def __init__(self, rows: Sequence[str], starts: list[int] | None, ends: list[int]) -> None:
        self._rows, self._starts, self._ends = rows, starts, ends

    def __len__(self) -> int:
        return len(self._rows)

    @overload
    def __getitem__(self, i: int) -> str: ...

    @overload
    def __getitem__(self, i: slice) -> list[str]: ...

    def __getitem__(self, i: int | slice) -> str | list[str]:
        if isinstance(i, slice):
            return [self[k] for k in range(*i.indices(len(self)))]
        start = self._starts[i] if self._starts is not None else 0
        return self._rows[i][start : self._ends[i]]


def minute_runs(
    detector: Any,
    template: Any,
    texts: Sequence[str],
    heads: list[tuple[int, str, tuple[tuple[int, int], ...]]],
    seconds: bytes,
    now: float,
) -> tuple[list[float | None], int, int]:
    """Each line's epoch (None: not a valid date), as parse_text called once per run of equal texts in line
    order gives it, the number of parse_text calls and the number of None epochs. `heads` and `seconds`: a Runs
    result for the lines whose date `texts` are given."""
    parse = detector.parse_text
    base_of = detector.minute_base
    dates: list[float | None] = []
    append = dates.append
    lines = len(texts)
    calls = invalid = 0  # invalid: counted here, where each None is appended (list.count costs 11 ns a line)
    stale: float | None = None  # the last derived date, when no parse_text call has seen it yet
    for k, (head, text, regs) in enumerate(heads):
        end = heads[k + 1][0] if k + 1 < len(heads) else lines
        if stale is not None:
            detector.note_last(stale)
            stale = None
        date = parse(template, text, now)
        calls += 1
        append(date)
        if date is None:
            invalid += 1
        if end - head == 1:
            continue
        base = base_of(template, text, regs, now) if date is not None else None
        if base is not None and date == base + seconds[head] and run_epochs(dates, base, seconds, head, end):
            stale = dates[-1]
            continue
        previous = text
        for i in range(head + 1, end):
            this = texts[i]
            if this != previous:
                date = parse(template, this, now)
                previous = this
                calls += 1
            append(date)
            if date is None:
                invalid += 1
    return dates, calls, invalid
