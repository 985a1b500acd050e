"""Who a failure is about: the identifier to count (F-ID, else ip4, else ip6, else the DNS name) and the address,
as fail2ban 1.0.2 derives them from a failregex match, with address texts cached (attackers repeat themselves)."""

from __future__ import annotations

import socket
from collections.abc import Callable, Sequence
from typing import Any

from banjail import netaddr

Resolver = Callable[[str], Sequence[str]]
_ADDRESS_CACHE = 1 << 12  # hot attackers repeat (Zipf); a small bound keeps memory flat


def _no_resolver(_name: str) -> Sequence[str]:
    return ()


class Identities:
    """Identifiers and addresses of failures for one filter (usedns: yes | warn | no | raw).

    addresses: (text, cidr, family) -> address() of them, a bounded cache the native engine's one-line step
    (banjail.filter._native_step.c) reads too, calling address() on a miss."""

    __slots__ = ("addresses", "resolver", "usedns")

    def __init__(self, usedns: str, resolver: Resolver | None = None) -> None:
        self.usedns = usedns
        self.resolver: Resolver = resolver or _no_resolver
        self.addresses: dict[tuple[str, int, int], tuple[str, bool]] = {}

    def identify(self, fail: dict[str, Any], mlfid: Any) -> list[tuple[str, str | None]] | None:
        """(identifier, address or None) pairs to count for this failure (several when a name resolves to
        several addresses), or None while an <F-MLFID> session has no identifier yet. Sets fail["ip"] when the id
        is not the address. Raises ValueError where upstream fails on the line (no identifier matched, an
        unreadable "a/b" id)."""
        raw_default = self.usedns == "raw"
        defcidr = netaddr.RAW if raw_default else netaddr.UNSPEC
        fid = fail.get("fid")
        cidr = defcidr
        raw = raw_default
        ip = fail.get("ip4")
        if ip is not None:
            cidr, raw = _prefix(fail) if "cidr" in fail else netaddr.UNSPEC, True
            family = 4
        else:
            ip = fail.get("ip6")
            family = 6
            if ip is not None:
                cidr, raw = _prefix(fail), True
            else:
                family = 0
                ip = fail.get("dns")
                if ip is None:
                    if fid is None and mlfid is None:
                        raise ValueError("no identifier group matched")
                    ip, raw = fid, True
        if ip is None:
            fail["mlfpending"] = 1
            return None
        if raw:
            cached = self.addresses.get((ip, cidr, family)) if ip.__class__ is str else None
            address, valid = cached if cached is not None else self.address(str(ip), cidr, family)
            if fid is None or fid == ip:
                return [(address, address if valid else None)]
            fail["ip"] = address
            return [(netaddr.identifier(str(fid), defcidr), address if valid else None)]
        return [(a, a) for a in self.resolve(str(ip))]

    def address(self, text: str, cidr: int, family: int) -> tuple[str, bool]:
        """upstream's IPAddr(text, cidr) for a captured ip4/ip6 (family-restricted when no cidr) or an id: the
        text it prints, and whether that is a valid address (cached: attackers repeat themselves)."""
        key = (text, cidr, family)
        cached = self.addresses.get(key)
        if cached is not None:
            return cached
        if family:
            fam = (socket.AF_INET if family == 4 else socket.AF_INET6) if cidr == netaddr.UNSPEC else 0
            found = netaddr.canonical(text, family=fam, prefix=cidr)
            result = (text, False) if found is None else (found, True)
        else:
            shown = netaddr.identifier(text, cidr)
            result = (
                shown,
                cidr != netaddr.RAW and netaddr.plain_address(shown.partition("/")[0]) is not None,
            )
        if len(self.addresses) >= _ADDRESS_CACHE:
            self.addresses.clear()
        self.addresses[key] = result
        return result

    def resolve(self, name: str) -> list[str]:
        plain = netaddr.plain_address(name)
        if plain is not None:
            return [plain]
        if self.usedns not in ("yes", "warn"):
            return []
        found: list[str] = []
        for text in self.resolver(name):
            address = netaddr.canonical(text)
            if address is not None and address not in found:
                found.append(address)
        return found


def hit_count(ids: Sequence[object] | None) -> int:
    """How many hits fail2ban-regex counts for a failregex match whose identifiers are `ids` (Identities.identify):
    upstream adds one failure per address, so a name that resolves to nothing is no hit at all (the line is missed
    unless another regex takes it), and one while an <F-MLFID> session waits for its identifier (None)."""
    return 1 if ids is None else len(ids)


def _prefix(fail: dict[str, Any]) -> int:
    text = fail.get("cidr")
    return int(text) if text else netaddr.UNSPEC
