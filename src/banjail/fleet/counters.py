"""What the fleet counts, and the snapshot the metrics side reads (`Fleet.snapshot()`, see banjail.fleet.hub).

Counters only grow while the daemon runs (they start at 0 with each start); `outbox` is the depth last seen (a
gauge); `publisher` and `subscriber` are the links' states, "up", "down" or "off" (the host has no jail for it).
"""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True, slots=True)
class FleetSnapshot:
    """A consistent copy of the fleet counters at one moment.

    messages_in: stream entries read; messages_out: notices written (XADD) by this host; applied: remote bans
    and unbans that changed a local jail; skipped: entries with nothing to do here (own notices, jails that do
    not subscribe, bans already in force or expired); ignored: remote bans refused by the host's own ignore rules;
    dropped: entries that failed verification, by reason (`signature`, `malformed`); outbox: notices waiting to
    go out; reconnects: how often a link went down."""

    messages_in: int = 0
    messages_out: int = 0
    applied: int = 0
    skipped: int = 0
    ignored: int = 0
    dropped: tuple[tuple[str, int], ...] = ()
    outbox: int = 0
    reconnects: int = 0
    publisher: str = "off"
    subscriber: str = "off"

    @property
    def dropped_total(self) -> int:
        return sum(n for _, n in self.dropped)


@dataclass
class FleetCounters:
    """The mutable counters (touched only from the event loop)."""

    messages_in: int = 0
    messages_out: int = 0
    applied: int = 0
    skipped: int = 0
    ignored: int = 0
    dropped: dict[str, int] = field(default_factory=dict)
    outbox: int = 0
    reconnects: int = 0
    publisher: str = "off"
    subscriber: str = "off"

    def drop(self, reason: str) -> None:
        self.dropped[reason] = self.dropped.get(reason, 0) + 1

    def snapshot(self) -> FleetSnapshot:
        return FleetSnapshot(
            self.messages_in,
            self.messages_out,
            self.applied,
            self.skipped,
            self.ignored,
            tuple(sorted(self.dropped.items())),
            self.outbox,
            self.reconnects,
            self.publisher,
            self.subscriber,
        )
