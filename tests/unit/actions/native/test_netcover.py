"""The pure part of network (CIDR) bans: which bans name a network, and the cover the kernel holds."""

from __future__ import annotations

import time
from ipaddress import ip_network

import pytest

from banjail.actions.ipset import network_items, restore_script
from banjail.actions.netcover import Network, cover, element_text, network_of, networks
from banjail.model import Ban

NOW = 1_700_000_000.0


def ban(fid: str, ip: str | None, until: float | None = NOW + 600) -> Ban:
    return Ban("sshd", fid, ip, NOW, until, 1, 3)


@pytest.mark.parametrize(
    ("given", "expected"),
    [
        (ban("10.9.0.0/24", "10.9.0.0/24"), "10.9.0.0/24"),  # from a failregex with <SUBNET>
        (ban("10.9.0.5/24", None), "10.9.0.0/24"),  # `banip 10.9.0.5/24`: host bits ignored
        (ban("2001:db8::1/64", None), "2001:db8::/64"),
        (ban("::ffff:10.1.2.0/120", None), "10.1.2.0/24"),  # IPv4-mapped folds to IPv4
        (ban("10.9.0.5", "10.9.0.5"), None),  # a single address goes to the address set
        (ban("alice", None), None),  # an F-ID that is no address
        (ban("10.9.0.0/33", None), None),
    ],
)
def test_network_of(given: Ban, expected: str | None) -> None:
    found = network_of(given)
    assert (None if found is None else str(found)) == expected


def test_networks_keeps_order_and_ends() -> None:
    bans = [ban("10.1.0.0/16", None, NOW + 5), ban("10.2.0.7", "10.2.0.7"), ban("10.3.0.0/24", None, None)]
    assert networks(bans) == [
        ("10.1.0.0/16", ip_network("10.1.0.0/16"), NOW + 5),
        ("10.3.0.0/24", ip_network("10.3.0.0/24"), None),
    ]


def held(*entries: tuple[str, float | None]) -> dict[str, tuple[Network, float | None]]:
    return {f"fid{i}": (ip_network(net), until) for i, (net, until) in enumerate(entries)}


@pytest.mark.parametrize(
    ("entries", "expected"),
    [
        pytest.param([("10.9.0.0/24", NOW + 60)], {"10.9.0.0/24": NOW + 60}, id="one"),
        pytest.param(
            [("10.9.0.0/24", NOW + 900), ("10.9.0.0/16", NOW + 60)],
            {"10.9.0.0/16": NOW + 60},
            id="inside a larger one: the larger one enforces it",
        ),
        pytest.param(
            [("10.9.0.0/24", NOW + 60), ("10.9.0.0/24", None)],
            {"10.9.0.0/24": None},
            id="same net: latest end",
        ),
        pytest.param(
            [
                ("10.9.0.0/24", NOW + 60),
                ("10.8.0.0/24", NOW + 90),
                ("2001:db8::/32", None),
                ("2001:db8:1::/48", None),
            ],
            {"10.8.0.0/24": NOW + 90, "10.9.0.0/24": NOW + 60, "2001:db8::/32": None},
            id="disjoint ones stay, both families",
        ),
        pytest.param(
            [("10.9.0.0/24", NOW - 1), ("10.9.0.0/25", NOW + 9)], {"10.9.0.0/25": NOW + 9}, id="over"
        ),
        pytest.param([], {}, id="none"),
    ],
)
def test_cover(entries: list[tuple[str, float | None]], expected: dict[str, float | None]) -> None:
    assert {str(n): end for n, end in cover(held(*entries), NOW).items()} == expected


def test_when_the_larger_ban_ends_the_smaller_one_takes_its_place() -> None:
    both = held(("10.9.0.0/24", NOW + 900), ("10.9.0.0/16", NOW + 60))
    assert list(cover(both, NOW)) == [ip_network("10.9.0.0/16")]
    del both["fid1"]  # the /16 was unbanned
    assert list(cover(both, NOW)) == [ip_network("10.9.0.0/24")]


def test_element_text() -> None:
    assert element_text(ip_network("10.9.0.0/24"), NOW + 0.2, NOW) == "10.9.0.0/24 timeout 1s"
    assert element_text(ip_network("10.9.0.0/24"), None, NOW) == "10.9.0.0/24"


def test_cover_of_many_networks_is_fast_and_keeps_the_outermost() -> None:
    nets = {f"a{i}": (ip_network(f"10.{i >> 8}.{i & 255}.0/24"), NOW + 60) for i in range(20_000)}
    nets["wide"] = (ip_network("10.0.0.0/12"), NOW + 60)  # holds 10.0.0.0 - 10.15.255.255
    started = time.perf_counter()
    found = cover(nets, NOW)
    assert time.perf_counter() - started < 2  # about 0.1 s; a pairwise check took minutes
    assert len(found) == 20_000 - 16 * 256 + 1
    assert ip_network("10.0.0.0/12") in found and ip_network("10.16.0.0/24") in found


def test_ipset_members_of_network_bans_split_what_hash_net_refuses() -> None:
    bans = [
        ban("0.0.0.0/0", None, None),
        ban("10.9.0.0/24", None, NOW + 9.5),
        ban("10.1.0.0/16", None, NOW - 1),
    ]
    assert network_items(bans, NOW) == [
        ("0.0.0.0/1", "0.0.0.0/1"),
        ("128.0.0.0/1", "128.0.0.0/1"),
        ("10.9.0.0/24", "10.9.0.0/24 timeout 10s"),
    ]
    assert restore_script(network_items(bans, NOW), "n4", "n6", "add", NOW, nets=True) == (
        "add n4 0.0.0.0/1 timeout 0\nadd n4 128.0.0.0/1 timeout 0\nadd n4 10.9.0.0/24 timeout 10\n"
    )
