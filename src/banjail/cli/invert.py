"""fail2ban-regex `-i/--invert` (upstream 1.1): print the lines that completed no failure instead of the failures,
to find what a filter does not cover. Works with `-o` (`msg`, or a template of `<msg>` and `<time>`) and with
`--json` (`{"line", "time", "matches"}`).

A line's time is its own date, or the --now value (else the current time) when it has none. With a multi-line
filter a missed line may still become part of a later failure: it is held until `maxlines` more lines have gone
by (or the input ends), and dropped if a failure took it.
"""

from __future__ import annotations

import json
import re
from collections import deque
from collections.abc import Callable

from banjail.cli.failures import Formatter, formatter
from banjail.filter.datedetect import DateDetector
from banjail.filter.outcome import LineOutcome
from banjail.model import Failure

LineTime = Callable[[str], float]

# The -o tokens that make sense for a line: the line itself, or a template of its text and time.
_LINE_TAGS = re.compile(r"<(?!(?:msg|time|matches)>)[^<>\s]+>", re.IGNORECASE)


def usage_problem(out: str | None, json_mode: bool) -> str | None:
    """Why -i cannot be used with these printing options (None when it can)."""
    if not json_mode and out is None:
        return "-i/--invert prints the lines no failure came from: use it with -o msg, -o TEMPLATE or --json."
    if out is not None and out != "msg" and ("<" not in out or _LINE_TAGS.search(out)):
        return f"-i/--invert prints lines, not failures: -o {out} cannot be used; use -o msg or <msg> and <time>."
    return None


def line_time(detector: DateDetector, now: float) -> LineTime:
    """A line's time for -i: the date `detector` finds in it, else `now`."""

    def time_of(line: str) -> float:
        hit = detector.find(line, now)
        return hit.time if hit is not None else now

    return time_of


def _json_row(failure: Failure) -> list[str]:
    return [
        json.dumps(
            {"line": failure.lineno, "time": failure.time, "matches": list(failure.lines)}, ensure_ascii=False
        )
    ]


class Inverted:
    """Turns the outcome of every tested line, in order, into the output rows of the lines that completed no
    failure (the matcher must return an outcome for every line: missed, ignored and matched ones)."""

    def __init__(self, out: str | None, maxlines: int, line_time: LineTime) -> None:
        self._print: Formatter = _json_row if out is None else formatter(out)
        self._time = line_time
        self._held: deque[tuple[int, LineOutcome]] = deque()
        self._reach = max(1, maxlines) - 1  # how many earlier lines a failure may take with it
        self._count = 0

    def take(self, outcome: LineOutcome) -> list[str]:
        """The rows ready once `outcome` is known: a line is printed when no later failure can take it any more."""
        self._count += 1
        if not outcome.failures:
            self._held.append((self._count, outcome))
        rows: list[str] = []
        while self._held and self._held[0][0] <= self._count - self._reach:
            rows += self._rows(self._held.popleft()[1])
        return rows

    def consumed(self, line: str) -> None:
        """A failure took `line` (an earlier line of a multi-line match): it is not printed."""
        for held in self._held:
            if held[1].line == line:
                self._held.remove(held)
                return

    def flush(self) -> list[str]:
        """The rows of every line still held (at the end of the input)."""
        rows: list[str] = []
        while self._held:
            rows += self._rows(self._held.popleft()[1])
        return rows

    def _rows(self, outcome: LineOutcome) -> list[str]:
        line = outcome.line
        return self._print(Failure("", None, self._time(line), (line,), lineno=outcome.lineno))
