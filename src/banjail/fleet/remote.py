"""How a verified notice from another host becomes a ban of a local jail, and how a ban tells where it came from.

Times: every host keeps its own clock, and clocks differ by seconds. A remote ban keeps its origin's end
(`until`), so that the same attacker ends at the same moment fleet-wide, except that it never lasts longer here
than its own length from now: a notice from a clock that runs ahead (start in our future) is anchored at now.
    at    = min(start, now)
    until = min(end, now + (end - start))       (permanent stays permanent)
A ban whose end is already past by our clock is EXPIRED and not applied.

The same address banned by many hosts stays one ban per host with the longest end: a notice that ends before
the ban in force here changes nothing (ALREADY); one that ends later prolongs it to exactly its end (BanBook's
prolongation counts the new length from the later of both starts, so the offer starts no earlier than the ban
in force).

The origin rides in the ban's groups (ORIGIN, REASON): the store keeps groups in the ban's data, so a restart
restores it, and `status` and `why` read it with `origin_of`/`reason_of`.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from banjail.core.ignore import parse_address
from banjail.model import Ban, Failure

if TYPE_CHECKING:  # only a type here: notice's HMAC would map OpenSSL's libcrypto into every daemon (see digest)
    from banjail.fleet.notice import Notice

ORIGIN = "fleet_origin"
REASON = "fleet_reason"


def offer(notice: Notice, now: float, current: Ban | None) -> Ban:
    """The ban to offer the jail's BanBook for a remote ban notice at local time `now`; `current` is the ban in
    force for its target, if any."""
    at = min(notice.start, now)
    until = notice.until
    if until is not None:
        until = min(until, now + (until - notice.start))
    if current is not None:
        at = max(at, current.at)
        if until is not None:
            at = min(at, until)
    address = parse_address(notice.target)
    return Ban(
        jail=notice.jail,
        fid=notice.target,
        ip=None if address is None else str(address),
        at=at,
        until=until,
        count=max(1, notice.count),
        failures=0,
        groups=((ORIGIN, notice.origin), (REASON, notice.reason)),
    )


def as_failure(notice: Notice, now: float) -> Failure:
    """The failure the host's ignore rules (ignoreip, ignoreself, ignorecommand) judge a remote ban by."""
    address = parse_address(notice.target)
    return Failure(
        fid=notice.target,
        ip=None if address is None else str(address),
        time=now,
        lines=(),
        groups=((ORIGIN, notice.origin),),
    )


def origin_of(ban: Ban) -> str | None:
    """The fleet host a ban came from, None for a ban decided here."""
    for key, value in ban.groups:
        if key == ORIGIN:
            return value
    return None


def reason_of(ban: Ban) -> str | None:
    """The origin's short reason (`sshd, 5 failures`) of a remote ban, None for a ban decided here."""
    for key, value in ban.groups:
        if key == REASON:
            return value
    return None


def reason_for(ban: Ban, filter_name: str) -> str:
    """The reason a local ban is published with: its filter and failures, or `manual`."""
    if ban.failures <= 0:
        return "manual"
    return f"{filter_name or ban.jail}, {ban.failures} failures"
