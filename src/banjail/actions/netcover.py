"""Network (CIDR) bans in banjail's native set actions: which bans name a network, and which networks the
kernel must hold for them.

A ban names a network when its address (or, for `banip 10.9.0.0/24`, its fid) is `address/prefix`; host bits
are ignored and IPv4-mapped IPv6 networks fold to IPv4, as the ignore rules read them. nftables keeps networks
in an interval set, which refuses overlapping elements, so the kernel gets the *cover* of the banned networks:
every banned network that lies inside no other banned one, with its own end. A network inside a larger banned
one is enforced by the larger one; when the larger ban ends in the daemon (unban or expiry), the action writes
the cover again and the smaller one takes its place. Only while the daemon is down can the kernel's own timeout
of the larger one end before the smaller ban does; the next start restores it.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from ipaddress import IPv4Network, IPv6Network

from banjail.core.ignore import parse_network
from banjail.model import Ban

Network = IPv4Network | IPv6Network
Held = Mapping[str, tuple[Network, float | None]]  # fid -> (network, end or None for permanent)


def network_of(ban: Ban) -> Network | None:
    """The network `ban` names, or None for a single address or a ban without an address."""
    text = ban.ip or ban.fid
    if "/" not in text:
        return None
    return parse_network(text)


def networks(bans: Iterable[Ban]) -> list[tuple[str, Network, float | None]]:
    """(fid, network, end) of every ban in `bans` that names a network, in order."""
    found = []
    for ban in bans:
        network = network_of(ban)
        if network is not None:
            found.append((ban.fid, network, ban.until))
    return found


def cover(held: Held, now: float) -> dict[Network, float | None]:
    """The networks the kernel must hold for the `held` bans at `now`, each with its end (None: permanent):
    those inside no other held network, the latest end winning when two fids name the same network. Bans
    already over are left out. The result never holds two overlapping networks."""
    ends: dict[Network, float | None] = {}
    for network, until in held.values():
        if until is not None and until <= now:
            continue
        if network in ends:
            old = ends[network]
            ends[network] = None if until is None or old is None else max(old, until)
        else:
            ends[network] = until
    kept: dict[Network, float | None] = {}
    lengths: dict[int, set[int]] = {4: set(), 6: set()}  # the prefix lengths among the kept networks
    # Larger networks first, so a network's kept supernets are all known when it comes: it is dropped when
    # its supernet at one of the kept lengths is kept (a lookup per distinct length, not per kept network).
    for network in sorted(ends, key=lambda n: (n.version, n.prefixlen, int(n.network_address))):
        shorter = lengths[network.version]
        if any(
            network.supernet(new_prefix=length) in kept for length in shorter if length < network.prefixlen
        ):
            continue
        kept[network] = ends[network]
        shorter.add(network.prefixlen)
    return kept


def element_text(network: Network, until: float | None, now: float) -> str:
    """The nft set element for `network` with the time left until `until` (rounded up to the second)."""
    if until is None:
        return str(network)
    return f"{network} timeout {max(1, math.ceil(until - now))}s"
