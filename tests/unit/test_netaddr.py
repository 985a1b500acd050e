"""banjail.netaddr: address texts as fail2ban reads, masks and prints them."""

from __future__ import annotations

import re
import socket

import pytest

from banjail import netaddr


@pytest.mark.parametrize(
    ("text", "family", "prefix", "expected"),
    [
        ("192.0.2.1", 0, -1, "192.0.2.1"),
        ("192.0.2.01", 0, -1, None),  # leading zeros are not an address
        ("256.1.1.1", 0, -1, None),
        ("::ffff:192.0.2.1", 0, -1, "192.0.2.1"),  # IPv4-mapped folds to IPv4
        ("::FFFF:c000:0201", 0, -1, "192.0.2.1"),
        ("2001:DB8:0:0:0:0:0:1", 0, -1, "2001:db8::1"),
        ("2001:db8:0:1:1:1:1:1", 0, -1, "2001:db8:0:1:1:1:1:1"),  # one zero group is not compressed
        ("192.0.2.77", 0, 24, "192.0.2.0/24"),
        ("192.0.2.77", 0, 32, "192.0.2.77"),
        ("192.0.2.77", 0, 0, "0.0.0.0"),  # prefix 0 masks all and prints no suffix
        ("192.0.2.77", 0, 40, "192.0.2.77"),  # wider than the family: ignored
        ("2001:db8::1", 0, 64, "2001:db8::/64"),
        ("::ffff:192.0.2.1", 0, 128, "::ffff:192.0.2.1"),  # with a prefix it stays IPv6
        ("192.0.2.1", socket.AF_INET6, -1, None),
        ("example.com", 0, -1, None),
    ],
)
def test_canonical(text: str, family: int, prefix: int, expected: str | None) -> None:
    assert netaddr.canonical(text, family=family, prefix=prefix) == expected


@pytest.mark.parametrize(
    ("text", "prefix", "expected"),
    [
        ("[2001:db8::1]", -1, "2001:db8::1"),
        ("192.0.2.9/24", -1, "192.0.2.0/24"),
        ("192.0.2.9/255.255.0.0", -1, "192.0.0.0/16"),
        ("user/24", -1, "user"),  # not an address: the text before the prefix stays
        ("alice", -1, "alice"),
        ("[x]", -2, "[x]"),  # raw: untouched
        ("::ffff:10.0.0.1", -1, "10.0.0.1"),
    ],
)
def test_identifier(text: str, prefix: int, expected: str) -> None:
    assert netaddr.identifier(text, prefix) == expected


@pytest.mark.parametrize("text", ["a/b", "1.2.3.4/x", "a/1/2"])
def test_identifier_rejects_unreadable_prefix(text: str) -> None:
    with pytest.raises(ValueError):
        netaddr.identifier(text)


@pytest.mark.parametrize(
    ("text", "address", "dns"),
    [
        ("192.0.2.1", True, True),
        ("[2001:db8::2]", True, False),
        ("2001:db8::2", True, False),
        ("999.0.0.1", False, True),
        ("host.example.org", False, True),
        ("bad name", False, False),
        ("trailing-", False, False),
        ("", False, False),
    ],
)
def test_is_address_and_dns_name(text: str, address: bool, dns: bool) -> None:
    assert netaddr.is_address(text) is address
    assert netaddr.is_dns_name(text) is dns


@pytest.mark.parametrize(
    ("usedns", "text", "groups"),
    [
        ("warn", "from 192.0.2.5 port", {"ip4": "192.0.2.5", "ip6": None, "dns": None}),
        ("warn", "from ::ffff:192.0.2.5 port", {"ip4": "192.0.2.5", "ip6": None, "dns": None}),
        ("warn", "from [2001:db8::5] port", {"ip4": None, "ip6": "2001:db8::5", "dns": None}),
        ("warn", "from host.example.org port", {"ip4": None, "ip6": None, "dns": "host.example.org"}),
        ("no", "from 192.0.2.5 port", {"ip4": "192.0.2.5", "ip6": None}),
    ],
)
def test_host_pattern(usedns: str, text: str, groups: dict[str, str | None]) -> None:
    m = re.search("from " + netaddr.host_pattern(usedns) + " port", text)
    assert m is not None
    assert m.groupdict() == groups
