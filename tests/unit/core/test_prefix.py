"""Prefix bans (banprefix4/banprefix6): failures of a network count together; an ignored address inside it keeps
its addresses apart."""

from __future__ import annotations

import ipaddress
import random

import pytest

from banjail.core.banpolicy import BanPolicy
from banjail.core.counter import FailureCounter
from banjail.core.ignore import IgnoreSet
from banjail.core.jail import BanDecided, Event, Found, JailState, PrefixSplit
from banjail.core.prefix import BanPrefix
from banjail.errors import ConfigError
from banjail.filter.matcher import Matcher
from banjail.model import FilterSpec

T0 = 1_700_000_000.0
SPEC = FilterSpec(failregex=(r"^fail from <HOST>$",))


def state(prefix: BanPrefix, ignore: tuple[str, ...] = (), maxretry: int = 3) -> JailState:
    return JailState(
        "test",
        matcher=Matcher(SPEC, live=True, check_all=False),
        counter=FailureCounter("test", maxretry=maxretry, findtime=600),
        policy=BanPolicy(bantime=600),
        ignore=IgnoreSet(ignore, ignoreself=False),
        prefix=prefix,
    )


@pytest.mark.parametrize(
    ("prefix", "ip", "network"),
    [
        (BanPrefix(v6=64), "2001:db8:1:2::c", "2001:db8:1:2::/64"),
        (BanPrefix(v6=64), "2001:db8:1:2:ffff:ffff:ffff:ffff", "2001:db8:1:2::/64"),
        (BanPrefix(v6=64), "192.0.2.7", None),  # IPv4 stays per address
        (BanPrefix(v4=24), "192.0.2.7", "192.0.2.0/24"),
        (BanPrefix(v4=24), "2001:db8::1", None),
        (BanPrefix(), "2001:db8::1", None),
        (BanPrefix(v6=48), "not-an-address", None),
    ],
)
def test_network_of_an_address(prefix: BanPrefix, ip: str, network: str | None) -> None:
    assert prefix.network(ip) == network


@pytest.mark.parametrize(("v4", "v6"), [(0, 128), (33, 128), (32, 0), (32, 129)])
def test_out_of_range_lengths_are_refused(v4: int, v6: int) -> None:
    with pytest.raises(ConfigError):
        BanPrefix(v4, v6)


def _hosts(network: str, count: int, seed: int) -> list[str]:
    net = ipaddress.ip_network(network)
    rng = random.Random(seed)
    return [str(net.network_address + rng.randrange(1, net.num_addresses - 1)) for _ in range(count)]


def _feed(jail: JailState, ips: list[str]) -> list[Event]:
    events: list[Event] = []
    for i, ip in enumerate(ips):
        events += jail.feed(f"fail from {ip}", T0 + i)
    return events


def _bans(events: list[Event]) -> list[tuple[str, str | None]]:
    return [(e.ban.fid, e.ban.ip) for e in events if isinstance(e, BanDecided)]


@pytest.mark.parametrize("seed", range(5))
def test_addresses_of_one_network_below_maxretry_are_banned_together(seed: int) -> None:
    # three distinct addresses of one /64, each failing once: per address none reaches maxretry 3
    ips = _hosts("2001:db8:1:2::/64", 3, seed)
    assert _bans(_feed(state(BanPrefix(v6=64)), ips)) == [("2001:db8:1:2::/64", "2001:db8:1:2::/64")]
    assert _bans(_feed(state(BanPrefix()), ips)) == []


@pytest.mark.parametrize("seed", range(5))
def test_an_address_of_another_network_does_not_count_with_it(seed: int) -> None:
    ips = _hosts("2001:db8:1:2::/64", 2, seed) + _hosts("2001:db8:1:3::/64", 1, seed)
    jail = state(BanPrefix(v6=64))
    events = _feed(jail, ips)
    assert _bans(events) == []
    assert [e.failure.fid for e in events if isinstance(e, Found)] == [
        "2001:db8:1:2::/64",
        "2001:db8:1:2::/64",
        "2001:db8:1:3::/64",
    ]


@pytest.mark.parametrize(
    ("ignore", "rule"),
    [
        (("2001:db8:1:2::1",), "2001:db8:1:2::1"),
        (("2001:db8:1:2:8000::/65",), "2001:db8:1:2:8000::/65"),  # a smaller ignored network inside
        (("2001:db8::/32",), None),  # a larger one covers the attacker's addresses themselves: all ignored
    ],
)
def test_an_ignored_address_inside_keeps_the_addresses_apart(
    ignore: tuple[str, ...], rule: str | None
) -> None:
    jail = state(BanPrefix(v6=64), ignore)
    ips = ["2001:db8:1:2::a", "2001:db8:1:2::b", "2001:db8:1:2::c", "2001:db8:1:2::a", "2001:db8:1:2::a"]
    events = _feed(jail, ips)
    splits = [(e.network, e.rule.entry) for e in events if isinstance(e, PrefixSplit)]
    if rule is None:
        assert (splits, _bans(events)) == ([], [])
        return
    assert splits == [("2001:db8:1:2::/64", rule)]  # told once, not for every failure
    assert _bans(events) == [("2001:db8:1:2::a", "2001:db8:1:2::a")]
