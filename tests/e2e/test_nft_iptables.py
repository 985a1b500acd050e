"""banjail's own iptables, iptables-multiport/-allports and iptables-ipset actions against the real kernel, in
the namespaces of test_nft_native.py (server 10.77.0.1 listening on 2222, client 10.77.0.2)."""

from __future__ import annotations

import asyncio
import re
import time
from typing import Any

import pytest
from test_nft_native import CLIENT, PORT, Net, net

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


def test_ipset_batch_with_timeouts_in_one_restore(net: Net) -> None:
    action = firewall(net, "iptables-ipset")
    now = time.time()
    bans = [
        Ban("sshd", f"10.200.{i >> 8}.{i & 255}", f"10.200.{i >> 8}.{i & 255}", now, now + 600, 1, 5)
        for i in range(5000)
    ]
    bans += [
        Ban("sshd", CLIENT, CLIENT, now, now + 1, 1, 5),  # short: the kernel lifts it
        Ban("sshd", "10.9.0.1", "10.9.0.1", now, None, 1, 5),  # permanent
        Ban("sshd", "10.9.0.2", "10.9.0.2", now, now + 40 * 86400, 1, 5),  # beyond ipset's limit
    ]
    asyncio.run(action.ban(bans))
    listing = net.inside("ipset", "list", "f2b-sshd")
    assert "Number of entries: 5003" in listing
    assert re.search(r"^10\.200\.0\.1 timeout (59[5-9]|600)$", listing, re.M)
    assert re.search(r"^10\.9\.0\.1 timeout 0$", listing, re.M)
    assert re.search(r"^10\.9\.0\.2 timeout 0$", listing, re.M)
    assert not net.connects()
    time.sleep(1.6)
    assert net.connects()
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
