"""What a fail2ban-regex run (banjail.cli.regex) keeps of the matcher's outcomes for its report and its printed
failures: only what they print, so memory stays flat on a big log."""

from __future__ import annotations

from collections import deque
from collections.abc import Sequence

from banjail.cli.failures import Formatter, formatter, json_lines
from banjail.cli.invert import Inverted
from banjail.cli.options import Options
from banjail.cli.records import RecordFormatter, needs_record, record_formatter
from banjail.filter.outcome import IGNORED, MISSED, LineOutcome
from banjail.filter.record import Record
from banjail.model import Failure

# Upstream lists at most this many example lines of a kind (missed, ignored) unless -L sets another bound.
DEFAULT_BOUND = 20


class Collector:
    """Keeps what the report and the failure printer need from the matcher's outcomes, and nothing else: example
    lines only up to the bound upstream prints, failures only when printing them or in verbose mode, and with
    multi-line buffers the last `maxlines` missed lines (a later failure may consume them)."""

    def __init__(
        self,
        opts: Options,
        maxlines: int,
        rows: list[str],
        inverted: Inverted | None = None,
        records: list[Record] | None = None,
    ) -> None:
        self.opts = opts
        self.inverted = inverted  # -i: the lines without a failure are printed, not the failures
        self.bound = opts.maxlines or DEFAULT_BOUND
        self.multiline = maxlines > 1
        self.matched: list[str] = []
        self.ignored: list[str] = []
        self.missed: list[str] = []
        # Upstream counts a buffered line that a multi-line failure consumed as matched, not missed.
        self.reclaimed = 0
        self._recent: deque[str] = deque(maxlen=maxlines)
        self.rows = rows  # output rows for -o/--json, flushed by the caller after each chunk
        self.printer: Formatter | None = None
        # -o row/matches/<time>: the matcher's records of the failures (wants_record), taken after each run
        self.records = records
        self.record_printer: RecordFormatter | None = None
        # --json without -i: the rows are all there is to keep (no report follows), written a run of lines at once
        self.json = opts.json and inverted is None
        if inverted is not None or self.json:
            pass
        elif opts.out is not None and records is not None:
            self.record_printer = record_formatter(opts.out)
        elif opts.out is not None:
            self.printer = formatter(opts.out)

    def wants_missed(self, missed_so_far: int) -> bool:
        """Whether the matcher should return missed outcomes for the next run of lines: while they may still be
        printed, or always with multi-line buffers (asking costs an object per line, so only then)."""
        if self.inverted is not None:
            return True
        if self.opts.quiet:
            return False
        if self.multiline:
            return True
        if self.opts.print_no_missed:
            return False
        return self.opts.print_all_missed or missed_so_far - self.reclaimed <= self.bound

    def wants_ignored(self, ignored_so_far: int) -> bool:
        """Whether the matcher should return ignored outcomes for the next run of lines (only while one of them
        may still be listed)."""
        opts = self.opts
        if self.inverted is not None:
            return True
        if opts.quiet or opts.print_no_ignored:
            return False
        return opts.print_all_ignored or ignored_so_far + 1 <= self.bound + 1

    def wants_matched(self) -> bool:
        """Whether matched lines that completed no failure are needed (to list every matched line)."""
        return self.inverted is not None or (self.opts.print_all_matched and not self.opts.quiet)

    def wants_failures(self) -> bool:
        """Whether failures are needed at all: to print them, or to reclaim buffered missed lines (-v lists the
        matches the matcher's trace keeps)."""
        return (
            self.json
            or self.printer is not None
            or self.record_printer is not None
            or self.inverted is not None
            or self.multiline
        )

    def take(self, outcomes: Sequence[LineOutcome], missed_before: int, ignored_before: int) -> None:
        if self.json:
            if text := json_lines(outcomes):
                self.rows.append(text)
            return
        opts = self.opts
        records: dict[int, Record] = {}
        if self.records is not None:  # by the failure each stands for (the matcher made them in this run)
            records = {id(record.failure): record for record in self.records}
            self.records.clear()
        missed_n, ignored_n = missed_before - self.reclaimed, ignored_before
        limit = self.bound + 1  # upstream keeps one line more than it may print
        for outcome in outcomes:
            if self.inverted is not None:
                for failure in outcome.failures:
                    for line in failure.lines[:-1]:
                        self.inverted.consumed(line)
                self.rows.extend(self.inverted.take(outcome))
                continue
            kind = outcome.kind
            if kind == MISSED:
                missed_n += 1
                if self.multiline:
                    self._recent.append(outcome.line)
                if not opts.print_no_missed and (opts.print_all_missed or missed_n <= limit):
                    self.missed.append(outcome.line)
                continue
            if kind == IGNORED:
                ignored_n += 1
                if not opts.print_no_ignored and (opts.print_all_ignored or ignored_n <= limit):
                    self.ignored.append(outcome.line)
                continue
            failures = outcome.failures
            if self.multiline and failures:
                missed_n -= self._reclaim(failures)
            if opts.print_all_matched:
                self.matched.append(outcome.line)
            if self.printer is not None:
                for failure in failures:
                    self.rows.extend(self.printer(failure))
            elif self.record_printer is not None:
                for failure in failures:
                    self.rows.extend(self.record_printer(records[id(failure)]))

    def _reclaim(self, failures: Sequence[Failure]) -> int:
        """Move the earlier missed lines these failures consumed to matched; returns how many."""
        moved = 0
        for failure in failures:
            for line in failure.lines[:-1]:
                if line in self._recent:
                    self._recent.remove(line)
                    moved += 1
                    if line in self.missed:
                        self.missed.remove(line)
                    if self.opts.print_all_matched:
                        self.matched.append(line)
        self.reclaimed += moved
        return moved


def wants_records(opts: Options) -> bool:
    """Whether the matcher must keep records (banjail.filter.record) for these options: -o row, matches or a
    template with <time>, without -i (which prints lines)."""
    return opts.out is not None and not opts.invert and needs_record(opts.out)
