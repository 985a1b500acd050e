"""The events JailState returns: what one line, failure or tick caused, for the daemon to carry out in order
(banjail.daemon.outcome). Data only."""

from __future__ import annotations

from dataclasses import dataclass

from banjail.core.ignore import IgnoreMatch
from banjail.model import Ban, Failure, Unban


# Not frozen (but hashable as a frozen one, and never changed once made): a flood's batch makes one per failure,
# and a frozen dataclass's __init__ (object.__setattr__ per field) cost three times a plain one (0.54 against
# 0.19 us), a tenth of counting's CPU.
@dataclass(slots=True, unsafe_hash=True)
class Found:
    """A failure was counted at `time` with `count` retries (upstream logs `[jail] Found <fid> - <time>`, or
    `[jail] Attempt <fid> - <time>` for a manual `attempt`). The daemon stores it, so that `recount` can rebuild
    the counter after a restart. Treat as immutable."""

    failure: Failure
    time: float
    count: int = 1
    attempt: bool = False


@dataclass(frozen=True, slots=True)
class Ignored:
    """A failure was not counted: its address is ignored (`[jail] Ignore <ip> by <source>`)."""

    failure: Failure
    source: str


@dataclass(frozen=True, slots=True)
class AskIgnore:
    """The jail has an ignorecommand: the daemon must run it for this failure, then call `resume`."""

    failure: Failure
    time: float


@dataclass(slots=True, unsafe_hash=True)  # not frozen, as Found (one per decision); treat as immutable
class BanDecided:
    """The outcome of a ban: kind is banbook's BANNED, PROLONGED, ALREADY or EXPIRED; `store` says whether the
    daemon must commit `ban` to the store before applying it; error is a bantime.formula failure ("" if none)."""

    kind: str
    ban: Ban
    store: bool
    error: str = ""


@dataclass(frozen=True, slots=True)
class Restored:
    """Bans read from the store at start that are in force again (each restored=True, nothing to store): the
    daemon logs `Restore Ban` for each and hands them to the actions as one batch. One event for all of them:
    a restore brings 100k."""

    bans: tuple[Ban, ...]


@dataclass(frozen=True, slots=True)
class PrefixSplit:
    """`network` (banprefix4/banprefix6) holds an address an ignore rule covers, so its addresses are counted
    and banned one by one instead of the network as a whole. Emitted once per network (bounded memory)."""

    failure: Failure
    network: str
    rule: IgnoreMatch


Event = Found | Ignored | AskIgnore | BanDecided | Restored | Unban | PrefixSplit
