"""Checkpoint: what one processed batch of log lines changed, committed to the store in one transaction.

Exactly-once counting rests on it: the daemon commits a batch's new source position, the failures it counted and
the bans it decided together, and only then logs `Found`/`Ban` and hands the bans to actions. A crash before the
commit leaves the store as before the batch (the batch is read again and counted once by the next process); after
it, nothing of the batch is read again, and the counted failures come back from the store at start.
"""

from __future__ import annotations

from dataclasses import dataclass

from banjail.model import Ban, Failure, Groups, Position
from banjail.store.actionruns import ActionRun


# Not frozen (but hashable as a frozen one, and never changed once made), as core.events.Found: the daemon makes
# one per counted failure (26k in the daemon bench's bulk), and a frozen dataclass's __init__ (object.__setattr__
# per field) cost 0.93 us against about a third of that; carry_out 0.052-0.057 -> 0.033-0.035 s (helper C's harness).
@dataclass(slots=True, unsafe_hash=True)
class CountedFailure:
    """One failure the jail's FailureCounter counted, at its admitted `time`, with `count` retries; `source` is
    the file (or journal) its lines came from, `regex` the index of the failregex that matched (-1: unknown, e.g.
    a manual attempt). Both are kept for `why` (banjail.store.evidence). Treat as immutable."""

    fid: str
    ip: str | None
    time: float
    count: int = 1
    lines: tuple[str, ...] = ()
    groups: Groups = ()
    source: str = ""
    regex: int = -1

    @staticmethod
    def of(failure: Failure, time: float, count: int = 1, source: str = "") -> CountedFailure:
        return CountedFailure(
            failure.fid, failure.ip, time, count, failure.lines, failure.groups, source, failure.regex_index
        )

    def failure(self) -> Failure:
        """The Failure to count again when the counter is rebuilt at start."""
        return Failure(fid=self.fid, ip=self.ip, time=self.time, lines=self.lines, groups=self.groups)


@dataclass(frozen=True, slots=True)
class Checkpoint:
    """The store changes of one batch of one jail, applied in this order: every counted failure of a fid in
    `cleared` is forgotten (its count became a ban decision), `failures` are added, `bans` recorded, and each
    source's position set; then the fleet's `outbox` notices and `fleet_cursor`
    are written (banjail.store.fleetstate). Empty parts are allowed (a batch that counted nothing still moves its position).
    `runs` are action runs (banjail.store.actionruns, of any jail: `jail` may then be "") that ride along, so
    recording them costs no transaction of its own while batches are being committed.
    `evidence`: the failures of this batch that went into one of its `bans` (never stored as counted); with the
    stored counted failures of the banned fids they become the bans' evidence (banjail.store.evidence).
    `moved`: bans whose end a change of the jail's bantime moved (banjail.daemon.bantime): their rows, written
    before (by this checkpoint's `bans` too), get the bantime they have now."""

    jail: str
    positions: tuple[tuple[str, Position], ...] = ()
    failures: tuple[CountedFailure, ...] = ()
    cleared: tuple[str, ...] = ()
    bans: tuple[Ban, ...] = ()
    evidence: tuple[CountedFailure, ...] = ()
    # the fleet (banjail.store.fleetstate): notices to publish, and (stream, last entry id) read
    outbox: tuple[dict[str, str], ...] = ()
    fleet_cursor: tuple[str, str] | None = None
    expire_before: float = 0.0  # the jail's counter forgets failures older than this (now - findtime)
    runs: tuple[ActionRun, ...] = ()
    moved: tuple[Ban, ...] = ()

    def __bool__(self) -> bool:
        return bool(
            self.positions
            or self.failures
            or self.cleared
            or self.bans
            or self.outbox
            or self.fleet_cursor
            or self.runs
            or self.moved
        )
