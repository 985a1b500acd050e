"""The filter engine: one log line in, the failures it completes out (fail2ban 1.0.2's findFailure semantics).

Per line: cut the line to MAX_LINE; find and cut out the date; keep the last `maxlines` lines as the buffer;
run ignoreregex first when there are few of them, then prefregex (its <F-CONTENT> is what failregexes see), then
every failregex in order (all of them, as fail2ban-regex does, or up to the first failure with `check_all=False`,
as the daemon does); a failregex match that an ignoreregex also matches is ignored; <F-MLFID> matches are merged
into their session (banjail.filter.session); the identifier is F-ID, else ip4, else ip6, else the DNS name.

A Matcher is a compiled filter (banjail.filter.program.Program) with one log's state
(banjail.filter.state.LogState) and the engine that runs it (banjail.filter.engine). `scan` gives the same
results as `process` line by line, whichever engine runs.
"""

from __future__ import annotations

import dataclasses
import os

from banjail.filter import engine as engines
from banjail.filter import scan as reference
from banjail.filter import step
from banjail.filter.identity import Resolver
from banjail.filter.outcome import Keep, LineOutcome, ScanStats
from banjail.filter.program import MAX_LINE, RECENT, compile_program
from banjail.filter.record import Record
from banjail.filter.session import SessionCache
from banjail.filter.state import DateDetector, DateFound, LogState, TupleLine
from banjail.filter.trace import Trace
from banjail.model import FilterSpec

__all__ = ["MAX_LINE", "RECENT", "DateDetector", "DateFound", "Matcher", "TupleLine"]


class Matcher:
    """A compiled filter with its per-log state (last date, line buffer, <F-MLFID> sessions).

    check_all: try every failregex on a line (fail2ban-regex); False stops at the first failure (the daemon).
    live: upstream's operation mode: a dateless failure takes `now`, a date more than a minute away from `now`
    is replaced by `now`. Otherwise a failure without a usable date is dropped (the line still counts matched).
    single: with maxlines = 1, take the one-line step (banjail.filter.singleline; same results); False keeps the
    general step (the reference the tests compare with).
    engine: the engine's name to use ("python" forces the reference); default: banjail.filter.engine.choose.
    trace: keep every match as fail2ban-regex -v lists it (`trace`, banjail.filter.trace), up to `trace`
    prefregex groups; the reference's general step runs every line then (0: no trace).
    record: keep each failure as upstream holds it (`records`, banjail.filter.record; fail2ban-regex -o row,
    matches, <time>); the reference's general step runs every line then.
    """

    def __init__(
        self,
        spec: FilterSpec,
        *,
        detector: DateDetector | None = None,
        resolver: Resolver | None = None,
        check_all: bool = True,
        live: bool = False,
        single: bool = True,
        engine: str | None = None,
        trace: int = 0,
        record: bool = False,
    ) -> None:
        self.spec = spec
        general = bool(trace) or record  # only the general step fills a trace or records
        self.program = compile_program(spec, check_all=check_all, live=live, single=single and not general)
        self.state = LogState(self.program.usedns, detector, resolver)
        self.trace: Trace | None = None
        if trace:
            # no prefilter, no one-line or uniform shortcut: every line through step.find, which fills the trace
            self.program = dataclasses.replace(self.program, candidates=None)
            self.state.trace = self.trace = Trace(trace)
        self.records: list[Record] | None = None
        if record:
            self.state.records = self.records = []
        self.engine: engines.Engine
        if general:  # what only the reference's general step keeps: say so, not why another engine refused
            why = "-v lists every match" if trace else "-o row, matches and <time> print upstream's failure data"
            forced = engine if engine is not None else os.environ.get(engines.FORCE_ENV, "")
            note = f"{engines.FORCE_ENV}=python" if forced == engines.PYTHON.name else f"{why}, which only the reference keeps"
            self.engine, self.engine_note = engines.PYTHON, note
        else:
            self.engine, self.engine_note = engines.choose(self.program, engine)
        self.maxlines = self.program.maxlines
        self.regexes = self.program.regexes
        self.failregex: tuple[str, ...] = tuple(spec.failregex)
        self.ignoreregex: tuple[str, ...] = tuple(spec.ignoreregex)
        self.usedns = self.program.usedns
        self.check_all = check_all
        self._modes = {live: self.program}
        self.single = self.program.single
        self.pref_any = self.program.pref_any

    @property
    def live(self) -> bool:
        """upstream's operation mode (see the class); the daemon turns it off for catch-up batches."""
        return self.program.live

    @live.setter
    def live(self, value: bool) -> None:
        # the same compiled regexes in the other mode (Program is immutable: a copy, compiled once)
        program = self._modes.get(value)
        if program is None:
            program = self._modes[value] = dataclasses.replace(self.program, live=value)
        self.program = program

    @property
    def detector(self) -> DateDetector | None:
        return self.state.detector

    @property
    def sessions(self) -> SessionCache:
        """The log's <F-MLFID> sessions (assign a fresh SessionCache to forget them)."""
        return self.state.sessions

    @sessions.setter
    def sessions(self, value: SessionCache) -> None:
        self.state.sessions = value

    @property
    def truncated(self) -> int:
        """Lines cut to MAX_LINE so far."""
        return self.state.truncated

    @property
    def count_pref(self) -> bool:
        """Whether scan counts ScanStats.prefregex_hits (fail2ban-regex's `Prefregex: N total`); off by default."""
        return self.state.count_pref

    @count_pref.setter
    def count_pref(self, value: bool) -> None:
        self.state.count_pref = value

    @property
    def stamp_dateless(self) -> bool:
        """fail2ban-regex's -o/--json: a failure without a usable date takes `now`, as upstream prints it (dates
        are otherwise left as they are); off by default."""
        return self.state.stamp_dateless

    @stamp_dateless.setter
    def stamp_dateless(self, value: bool) -> None:
        self.state.stamp_dateless = value

    @property
    def threaded(self) -> bool:
        """Whether the native engine may match a chunk on a second thread while this one steps through the hits
        found so far (the same outcomes; less wall time, a little more CPU); off by default."""
        return self.state.threaded

    @threaded.setter
    def threaded(self, value: bool) -> None:
        self.state.threaded = value

    @property
    def pref_last(self) -> bool:
        """Whether the prefregex's last search matched."""
        return self.state.pref_last

    def process(self, line: str, now: float, lineno: int = 0) -> LineOutcome:
        """Offer one complete line (no newline) and return what it did (always the Python reference)."""
        return reference.process_line(self.program, self.state, line, now, lineno)

    def date_split(self, line: str, now: float) -> tuple[TupleLine, float | None, str | None]:
        """Split the date out of `line` as process() does (updating the last date): the tuple line, its epoch
        and its template's name."""
        return step.date_split(self.program, self.state, line, now)

    def scan(
        self,
        chunk: str,
        now: float,
        first_lineno: int,
        stats: ScanStats,
        *,
        keep_missed: bool = False,
        keep_ignored: bool = True,
        keep_matched: bool = True,
        failures: bool = True,
    ) -> list[LineOutcome]:
        """Process every complete line of `chunk` (lines joined by "\\n", optionally ending with one), update
        `stats` for each, and return the outcomes of the lines that completed failures, of ignored lines (unless
        not keep_ignored), of matched ones (unless not keep_matched) and of missed ones (with keep_missed).
        Equal to calling process() line by line, except that with `failures` False a one-line filter builds no
        Failure (its outcomes have none; kinds and counts stay the same)."""
        keep = Keep(keep_missed, keep_ignored, keep_matched, failures)
        return self.engine.scan(self.program, self.state, chunk, now, first_lineno, stats, keep)

    def prefetch(self, chunk: str) -> None:
        """A hint, with `threaded`: `chunk` is the next scan's. The native engine then matches its dates on a
        thread of its own while this one still scans the chunk before (the same outcomes either way)."""
        if self.state.threaded:
            self.state.ahead = chunk
