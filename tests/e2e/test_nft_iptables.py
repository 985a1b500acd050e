"""banjail's own iptables, iptables-multiport/-allports and iptables-ipset actions against the real kernel, in
the namespaces of test_nft_native.py (server 10.77.0.1 listening on 2222, client 10.77.0.2)."""

from __future__ import annotations

import asyncio
import math
import re
import time
from dataclasses import replace
from typing import Any

import pytest
from lab.poll import until
from test_nft_native import CLIENT, OTHER, PORT, SHORT, Net, assert_blocked_until, net

from banjail.actions.base import Action
from banjail.actions.command import CommandAction
from banjail.actions.ipset import IpsetAction
from banjail.actions.registry import build_action
from banjail.config.load import load_action
from banjail.model import Ban

pytestmark = pytest.mark.e2e
__all__ = ["net"]  # the fixture, shared with test_nft_native.py


def firewall(net: Net, name: str, **args: str) -> Action:
    spec = load_action(name, config_dir=net.config, jail="sshd", args={"port": str(PORT), **args})
    return build_action(spec, jail="sshd", runner=net.runner)


def save(net: Net, *programs: str) -> str:
    """iptables-save without counters and comments (both families unless programs are named)."""
    text = "".join(net.inside(p) for p in programs or ("iptables-save", "ip6tables-save"))
    return "\n".join(line for line in text.splitlines() if line[:1] not in "#:")


CASES = [
    ("iptables", {}, CommandAction, "-A INPUT -p tcp -m tcp --dport 2222 -j f2b-sshd"),
    ("iptables-multiport", {}, CommandAction, "-A INPUT -p tcp -m multiport --dports 2222 -j f2b-sshd"),
    ("iptables-allports", {}, CommandAction, "-A INPUT -p tcp -j f2b-sshd"),
    (
        "iptables-ipset",
        {},
        IpsetAction,
        "-A INPUT -p tcp -m multiport --dports 2222 -m set --match-set f2b-sshd src "
        "-j REJECT --reject-with icmp-port-unreachable",
    ),
    (
        "iptables-ipset-proto6",
        {"native": ""},
        CommandAction,
        "-A INPUT -p tcp -m multiport --dports 2222 -m set --match-set f2b-sshd src "
        "-j REJECT --reject-with icmp-port-unreachable",
    ),
]


@pytest.mark.parametrize(("name", "args", "kind", "rule"), CASES)
def test_ban_restart_unban_stop(
    net: Net, name: str, args: dict[str, str], kind: type[Any], rule: str
) -> None:
    now = time.time()
    ban = Ban("sshd", CLIENT, CLIENT, now, now + 600, 1, 5)
    v6 = Ban("sshd", "2001:db8::7", "2001:db8::7", now, now + 600, 1, 5)
    first = firewall(net, name, **args)
    assert isinstance(first, kind)

    async def before_crash() -> None:
        await first.start()
        await first.ban([ban, v6])
        await first.ban([ban])  # again: no second rule or member

    asyncio.run(before_crash())
    assert not net.connects()
    # The daemon died without stopping; a new one starts and restores the ban.
    again = firewall(net, name, **args)

    async def after_restart() -> None:
        await again.start()
        assert not net.connects()
        await again.ban([Ban(b.jail, b.fid, b.ip, b.at, b.until, 1, 5, restored=True) for b in (ban, v6)])

    asyncio.run(after_restart())
    rules = save(net, "iptables-save")
    assert rules.count(rule) == 1, rules
    assert len(re.findall(rf"\b{re.escape(CLIENT)}\b", rules + net.inside("ipset", "list"))) == 1
    assert "2001:db8::7" in save(net, "ip6tables-save") + net.inside("ipset", "list")
    assert not net.connects()

    async def unban_and_stop() -> None:
        await again.unban([ban, v6])
        assert net.connects()
        await again.unban([ban])  # not there any more: no error
        await again.stop()

    asyncio.run(unban_and_stop())
    assert "f2b" not in save(net)
    assert net.inside("ipset", "list") == ""


def remaining(end: float, before: float, listed: float) -> set[int]:
    """The seconds `ipset list` may show left of a ban ending at `end`, banned after `before` and listed before
    `listed`: its timeout is the time left at the ban, rounded up (so the kernel ends it no earlier than `end`),
    and the listing shows what is left of it then, rounded down."""
    return set(range(math.floor(end - listed), math.ceil(end - before) + 1))


def timeout_of(member: str, listing: str) -> int | None:
    """The timeout `ipset list` shows for `member`, or None when it is not listed."""
    found = re.search(rf"^{re.escape(member)} timeout (\d+)$", listing, re.M)
    return int(found[1]) if found else None


def test_ipset_batch_with_timeouts_in_one_restore(net: Net) -> None:
    action = firewall(net, "iptables-ipset")
    now = time.time()
    bans = [
        Ban("sshd", f"10.200.{i >> 8}.{i & 255}", f"10.200.{i >> 8}.{i & 255}", now, now + 600, 1, 5)
        for i in range(5000)
    ]
    bans += [
        Ban("sshd", OTHER, OTHER, now, now + 600, 1, 5),  # the probe's second address
        Ban("sshd", "10.9.0.1", "10.9.0.1", now, None, 1, 5),  # permanent
        Ban("sshd", "10.9.0.2", "10.9.0.2", now, now + 40 * 86400, 1, 5),  # beyond ipset's limit
    ]
    asyncio.run(action.ban(bans))
    listing = net.inside("ipset", "list", "f2b-sshd")
    assert "Number of entries: 5003" in listing
    assert timeout_of("10.200.0.1", listing) in remaining(now + 600, now, time.time())
    assert re.search(r"^10\.9\.0\.1 timeout 0$", listing, re.M)
    assert re.search(r"^10\.9\.0\.2 timeout 0$", listing, re.M)
    assert not net.connects(OTHER)
    # A short ban, on its own so that the batch's time on a loaded machine does not eat it: the kernel lifts it.
    now = time.time()
    asyncio.run(action.ban([Ban("sshd", CLIENT, CLIENT, now, now + SHORT, 1, 5)]))
    assert_blocked_until(net, now + SHORT)
    assert until(net.connects, 30, period=0.1) is not None
    assert "Number of entries: 5003" in net.inside("ipset", "list", "f2b-sshd")
    asyncio.run(action.stop())


@pytest.mark.parametrize("blocktype", ["blackhole", "unreachable"])
def test_route_action(net: Net, blocktype: str) -> None:
    action = firewall(net, "route", blocktype=blocktype)
    ban = Ban("sshd", CLIENT, CLIENT, time.time(), None, 1, 5)

    async def scenario() -> None:
        await action.ban([ban])
        await action.ban([ban])  # replaces, never fails on an existing route
        assert net.inside("ip", "route", "show", "type", blocktype).split() == [blocktype, CLIENT]
        assert not net.connects()
        await action.unban([ban])
        await action.unban([ban])

    asyncio.run(scenario())
    assert net.inside("ip", "route", "show", "type", blocktype) == ""
    assert net.connects()


def test_ipset_network_bans_drop_inside_the_net_only(net: Net) -> None:
    action = firewall(net, "iptables-ipset")
    now = time.time()
    wide = Ban("sshd", "10.77.0.0/25", "10.77.0.0/25", now, now + 600, 1, 5)
    narrow = Ban("sshd", "10.77.0.0/26", None, now, None, 1, 0)  # `banip 10.77.0.0/26`: permanent

    async def scenario() -> None:
        await action.ban([wide, narrow])
        assert not net.connects()  # 10.77.0.2 is inside both
        assert net.connects(OTHER)  # 10.77.0.200 is inside neither
        await action.unban([wide])
        assert not net.connects()  # the /26 still holds it
        await action.unban([narrow])
        assert net.connects()

    asyncio.run(scenario())
    assert "Number of entries: 0" in net.inside("ipset", "list", "f2bn-sshd")
    now = time.time()
    asyncio.run(action.ban([replace(wide, at=now, until=now + 600)]))
    listing = net.inside("ipset", "list", "f2bn-sshd")
    assert timeout_of("10.77.0.0/25", listing) in remaining(now + 600, now, time.time())
    asyncio.run(action.stop())
    assert "f2b" not in save(net)
    assert net.inside("ipset", "list") == ""


@pytest.mark.parametrize(
    "removal",
    [
        pytest.param(("iptables", "-F", "INPUT"), id="iptables -F"),
        pytest.param(("nft", "flush", "ruleset"), id="nft flush ruleset"),
    ],
)
def test_ipset_rules_removed_behind_its_back_are_back_at_the_next_ban(
    net: Net, removal: tuple[str, ...]
) -> None:
    action = firewall(net, "iptables-ipset")
    now = time.time()
    asyncio.run(action.ban([Ban("sshd", "10.5.5.5", "10.5.5.5", now, now + 600, 1, 5)]))
    net.inside(*removal)
    assert "match-set f2b-sshd" not in save(net, "iptables-save")
    asyncio.run(action.ban([Ban("sshd", CLIENT, CLIENT, now, now + 600, 1, 5)]))
    assert not net.connects()
    assert save(net, "iptables-save").count("--match-set f2b-sshd src") == 1


def test_a_destroyed_set_is_created_again_at_the_next_ban(net: Net) -> None:
    action = firewall(net, "iptables-ipset")
    now = time.time()
    asyncio.run(action.ban([Ban("sshd", "10.5.5.5", "10.5.5.5", now, now + 600, 1, 5)]))
    net.inside("iptables", "-F", "INPUT")
    net.inside("ipset", "destroy", "f2b-sshd")
    asyncio.run(action.ban([Ban("sshd", CLIENT, CLIENT, now, now + 600, 1, 5)]))
    assert not net.connects()
    assert CLIENT in net.inside("ipset", "list", "f2b-sshd")
