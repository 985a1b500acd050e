"""`DNSUtils` and `IPAddr` as upstream's helper scripts use them, on banjail's address parsing.

What scripts rely on, and what this guarantees: `IPAddr(text).isValid`; an `IPAddr` is a `str` of its normal
form (so `ip in DNSUtils.dnsToIp(host)` compares with a plain string); `DNSUtils.ipToName(ip)` is the reverse
name or None; `DNSUtils.dnsToIp(name)` the set of addresses a name resolves to (empty when it does not).
"""

from __future__ import annotations

import ipaddress
import socket


class IPAddr(str):
    """An address as text in its normal form (IPv4-mapped IPv6 folded to IPv4); `isValid` False when unparsable."""

    isValid: bool

    def __new__(cls, text: str) -> IPAddr:
        try:
            address = ipaddress.ip_address(str(text).strip().strip("[]"))
        except ValueError:
            made = super().__new__(cls, str(text))
            made.isValid = False
            return made
        if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
            address = address.ipv4_mapped
        made = super().__new__(cls, str(address))
        made.isValid = True
        return made

    @property
    def isIPv4(self) -> bool:
        return self.isValid and ":" not in self

    @property
    def isIPv6(self) -> bool:
        return self.isValid and ":" in self


class DNSUtils:
    """Name lookups through the system resolver (getaddrinfo / gethostbyaddr: /etc/hosts, then DNS)."""

    @staticmethod
    def ipToName(ip: str) -> str | None:
        try:
            return socket.gethostbyaddr(str(ip))[0]
        except (OSError, UnicodeError):
            return None

    @staticmethod
    def dnsToIp(name: str) -> set[IPAddr]:
        try:
            infos = socket.getaddrinfo(str(name), None, proto=socket.IPPROTO_TCP)
        except (OSError, UnicodeError):
            return set()
        return {IPAddr(str(info[4][0])) for info in infos}

    @staticmethod
    def textToIp(text: str, useDns: str = "yes") -> set[IPAddr]:
        address = IPAddr(text)
        if address.isValid:
            return {address}
        return DNSUtils.dnsToIp(text) if useDns in ("yes", "warn") else set()
