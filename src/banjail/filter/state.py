"""What one log carries through a filter: the last date seen, the line buffer, the <F-MLFID> sessions, the
address cache, and the counters a caller reads back. Engines (banjail.filter.engine) change it; a Program
(banjail.filter.program) never does."""

from __future__ import annotations

from typing import TYPE_CHECKING, Protocol

from banjail.filter.identity import Identities, Resolver
from banjail.filter.session import SessionCache
from banjail.filter.trace import Trace

if TYPE_CHECKING:  # record.py imports this module (TupleLine)
    from banjail.filter.record import Record

TupleLine = tuple[str, str, str]  # (before the date, the date text, after the date)


class DateFound(Protocol):
    """What a date detector reports for a line (banjail.filter.datedetect.DateHit has this shape)."""

    @property
    def time(self) -> float: ...
    @property
    def start(self) -> int: ...
    @property
    def end(self) -> int: ...
    @property
    def template(self) -> str: ...


class DateDetector(Protocol):
    """The part of banjail.filter.datedetect.DateDetector the engines use (any object of this shape will do)."""

    @property
    def none(self) -> bool: ...
    def find(self, line: str, now: float) -> DateFound | None: ...
    def int_date(self, template: str, text: str) -> bool: ...  # for records only (banjail.filter.record)


class LogState:
    """One log's state in one filter.

    count_pref: the caller wants ScanStats.prefregex_hits counted (fail2ban-regex's `Prefregex: N total`);
    stamp_dateless: a failure without a usable date takes `now` (fail2ban-regex's -o/--json, as upstream prints
    it) even outside live mode; threaded: the native engine may match a chunk on a second thread while this one
    steps through its hits (fail2ban-regex: wall time on a second core; the daemon keeps one thread per scan);
    pref_last: whether the prefregex's last search matched; truncated: lines cut to MAX_LINE; uniform: whether
    the uniform-chunk path may still be tried (banjail.filter.uniform turns it off when it does not pay); ahead:
    with threaded, the chunk the caller scans next, a hint the native engine may start on (Matcher.prefetch).
    """

    __slots__ = (
        "ahead",
        "buffer",
        "count_pref",
        "detector",
        "identities",
        "last_date",
        "last_text",
        "pref_last",
        "records",
        "sessions",
        "stamp_dateless",
        "threaded",
        "trace",
        "truncated",
        "undated",
        "uniform",
    )

    def __init__(self, usedns: str, detector: DateDetector | None = None, resolver: Resolver | None = None) -> None:
        self.detector = detector
        self.identities = Identities(usedns, resolver)
        self.sessions = SessionCache()
        self.buffer: list[TupleLine] = []
        self.last_text = ""
        self.last_date: float | None = None
        self.count_pref = False
        self.stamp_dateless = False
        self.threaded = False
        self.ahead: str | None = None
        self.pref_last = False
        self.truncated = 0
        self.uniform = True
        self.trace: Trace | None = None  # fail2ban-regex -v: the matches as upstream lists them (general step only)
        # fail2ban-regex -o row/matches/<time>: each failure as upstream holds it, in order (general step only)
        self.records: list[Record] | None = None
        # the first match dropped for want of a date since the reader took the last (a backlog's undated line
        # outside live mode): (the date text, the matched lines without it), for upstream's warning
        self.undated: tuple[str, str] | None = None
