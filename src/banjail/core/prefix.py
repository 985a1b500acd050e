"""Prefix bans (jail options `banprefix4`, `banprefix6`): the failures of every address inside one network count
together, and the ban is of the network.

An IPv6 attacker gets at least a /64 from any ISP and can rotate through it: counted per address, each of its
addresses stays below maxretry. With `banprefix6 = 64` a failure of 2001:db8:1:2::c counts for
`2001:db8:1:2::/64`, and the ban that follows is a network ban (the native nftables and ipset actions put it in
their network sets; command actions get `<ip>` = `2001:db8:1:2::/64`). 32 and 128, the defaults, keep upstream's
per-address behaviour. Pure: no I/O, no clock.
"""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass

from banjail.errors import ConfigError, Problem

DEFAULT_V4 = 32
DEFAULT_V6 = 128


@dataclass(frozen=True, slots=True)
class BanPrefix:
    """The prefix lengths failures are counted under: v4 for IPv4 addresses (1..32), v6 for IPv6 (1..128)."""

    v4: int = DEFAULT_V4
    v6: int = DEFAULT_V6

    def __post_init__(self) -> None:
        problems = [
            Problem(
                f"must be a prefix length from 1 to {limit}",
                option=option,
                value=str(value),
                fix=f"use {limit} (one address, the default) or a shorter prefix such as {example}",
            )
            for option, value, limit, example in (
                ("banprefix4", self.v4, 32, 24),
                ("banprefix6", self.v6, 128, 64),
            )
            if not 1 <= value <= limit
        ]
        if problems:
            raise ConfigError(problems)

    @property
    def per_address(self) -> bool:
        """True when every address counts on its own (upstream's behaviour)."""
        return self.v4 == DEFAULT_V4 and self.v6 == DEFAULT_V6

    def network(self, ip: str) -> str | None:
        """The network `ip` counts under (`2001:db8:1:2::/64`), or None when it counts on its own (its family
        is per address, or `ip` is not an address)."""
        v6 = ":" in ip
        length = self.v6 if v6 else self.v4
        if length == (DEFAULT_V6 if v6 else DEFAULT_V4):
            return None
        try:
            return str(ipaddress.ip_network(f"{ip}/{length}", strict=False))
        except ValueError:
            return None
