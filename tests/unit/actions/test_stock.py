"""Upstream's own action.d files, unchanged, run by banjail.

Firewall actions run inside a network namespace the test creates (commands go through `ip netns exec NS`);
nothing touches the host's firewall. Mail actions talk to fake sendmail/mail/whois programs on PATH.
"""

from __future__ import annotations

import asyncio
import os
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

from banjail.actions.command import CommandAction
from banjail.actions.runner import Runner
from banjail.config.load import load_action
from banjail.model import Ban

UPSTREAM = Path("/etc/fail2ban")
pytestmark = pytest.mark.skipif(
    not (UPSTREAM / "action.d").is_dir(), reason="upstream fail2ban not installed"
)

V4 = Ban("sshd", "192.0.2.1", "192.0.2.1", 1000.0, 1600.0, 1, 3, ("l1 192.0.2.1", "l2 192.0.2.1"))
V6 = Ban("sshd", "2001:db8::7", "2001:db8::7", 1000.0, 1600.0, 1, 3)


def action(spec: str, runner: Runner, **args: str) -> CommandAction:
    options = {"port": "ssh", "protocol": "tcp", "chain": "INPUT"}
    loaded = load_action(spec, config_dir=UPSTREAM, jail="sshd", jail_options=options, args=args)
    return CommandAction(loaded, jail="sshd", runner=runner)


# -- firewall actions in a namespace -------------------------------------------------------------------------


@pytest.fixture(scope="module")
def netns() -> Iterator[str]:
    if os.geteuid() != 0:
        pytest.skip("network namespaces need root")
    name = f"bj-actions-{os.getpid()}"
    if subprocess.run(["ip", "netns", "add", name], capture_output=True, check=False).returncode:
        pytest.skip("cannot create a network namespace")
    try:
        subprocess.run(["ip", "netns", "exec", name, "ip", "link", "set", "lo", "up"], check=True)
        yield name
    finally:
        subprocess.run(["ip", "netns", "delete", name], check=False)


def inside(ns: str, *argv: str) -> str:
    done = subprocess.run(["ip", "netns", "exec", ns, *argv], capture_output=True, text=True, check=False)
    return done.stdout + done.stderr


# name, what shows a v4 ban / a v6 ban, how to list, what must be gone after stop
IPTABLES_V4 = "-A f2b-sshd -s 192.0.2.1/32 -j REJECT --reject-with icmp-port-unreachable"
IPTABLES_V6 = "-A f2b-sshd -s 2001:db8::7/128 -j REJECT --reject-with icmp6-port-unreachable"
FIREWALLS = [
    ("iptables", IPTABLES_V4, IPTABLES_V6, ["iptables-save"], ["ip6tables-save"], "f2b-sshd"),
    ("iptables-multiport", IPTABLES_V4, IPTABLES_V6, ["iptables-save"], ["ip6tables-save"], "f2b-sshd"),
    ("iptables-allports", IPTABLES_V4, IPTABLES_V6, ["iptables-save"], ["ip6tables-save"], "f2b-sshd"),
    ("iptables-ipset-proto6", "192.0.2.1", "2001:db8::7", ["ipset", "list"], ["ipset", "list"], "f2b-sshd"),
    ("nftables", "192.0.2.1", "2001:db8::7", ["nft", "list", "ruleset"], ["nft", "list", "ruleset"], "f2b"),
    (
        "nftables-multiport",
        "192.0.2.1",
        "2001:db8::7",
        ["nft", "list", "ruleset"],
        ["nft", "list", "ruleset"],
        "f2b",
    ),
    (
        "nftables-allports",
        "192.0.2.1",
        "2001:db8::7",
        ["nft", "list", "ruleset"],
        ["nft", "list", "ruleset"],
        "f2b",
    ),
]


@pytest.mark.parametrize(
    ("name", "v4", "v6", "list4", "list6", "gone"), FIREWALLS, ids=[f[0] for f in FIREWALLS]
)
def test_firewall_action_in_a_namespace(
    netns: str, name: str, v4: str, v6: str, list4: list[str], list6: list[str], gone: str
) -> None:
    act = action(name, Runner(prefix=("ip", "netns", "exec", netns)))

    async def scenario() -> list[str]:
        seen = []
        await act.start()
        await act.ban([V4, V6])
        seen += [inside(netns, *list4), inside(netns, *list6)]
        await act.unban([V4, V6])
        seen += [inside(netns, *list4), inside(netns, *list6)]
        await act.ban([V4])
        await act.stop()
        seen += [inside(netns, *list4), inside(netns, *list6)]
        return seen

    banned4, banned6, unbanned4, unbanned6, stopped4, stopped6 = asyncio.run(scenario())
    assert v4 in banned4
    assert v6 in banned6
    assert v4 not in unbanned4
    assert v6 not in unbanned6
    assert gone not in stopped4
    assert gone not in stopped6


def test_iptables_ipset_proto4_when_the_ipset_tool_accepts_it(netns: str) -> None:
    # proto4 is for ipset 4 (`ipset --create ... iphash`); modern ipset still reads these legacy options.
    act = action("iptables-ipset-proto4", Runner(prefix=("ip", "netns", "exec", netns)))
    asyncio.run(act.ban([V4]))
    assert "192.0.2.1" in inside(netns, "ipset", "list", "f2b-sshd")
    asyncio.run(act.unban([V4]))
    assert "192.0.2.1" not in inside(netns, "ipset", "list", "f2b-sshd")
    asyncio.run(act.stop())
    assert "f2b-sshd" not in inside(netns, "iptables-save") + inside(netns, "ipset", "list", "-n")


def test_route_action(netns: str) -> None:
    act = action("route", Runner(prefix=("ip", "netns", "exec", netns)))
    asyncio.run(act.ban([V4]))
    assert "unreachable 192.0.2.1" in inside(netns, "ip", "route", "show", "table", "all")
    asyncio.run(act.unban([V4]))
    assert "192.0.2.1" not in inside(netns, "ip", "route", "show", "table", "all")


# -- file and mail actions -----------------------------------------------------------------------------------


def test_hostsdeny_and_dummy(tmp_path: Path) -> None:
    deny = tmp_path / "hosts.deny"
    deny.write_text("sshd: 198.51.100.1\n")
    hosts = action("hostsdeny", Runner(), file=str(deny))
    dummy = action("dummy", Runner(), target=str(tmp_path / "dummy"))

    async def scenario() -> None:
        for act in (hosts, dummy):
            await act.start()
            await act.ban([V4, V6])
            await act.unban([V4])
            await act.stop()

    asyncio.run(scenario())
    assert deny.read_text() == "sshd: 198.51.100.1\nALL: [2001:db8::7]\n"  # upstream writes v6 in brackets
    assert not (tmp_path / "dummy").exists()  # dummy's actionstop removes its file


FAKE_MAILER = """#!/bin/sh
n=$(ls {out} | wc -l)
{{ printf 'argv:'; for a in "$@"; do printf ' [%s]' "$a"; done; printf '\\n'; cat; }} > {out}/$n
"""
FAKE_WHOIS = '#!/bin/sh\necho "whois for $1"\n'


@pytest.fixture
def mailer(tmp_path: Path) -> tuple[Runner, Path]:
    bin_dir, out = tmp_path / "bin", tmp_path / "mail"
    bin_dir.mkdir()
    out.mkdir()
    for program, text in (("sendmail", FAKE_MAILER), ("mail", FAKE_MAILER), ("whois", FAKE_WHOIS)):
        (bin_dir / program).write_text(text.format(out=out))
        (bin_dir / program).chmod(0o755)
    return Runner(env={"PATH": f"{bin_dir}:/usr/bin:/bin"}), out


def mails(out: Path) -> list[str]:
    return [(out / str(i)).read_text() for i in range(len(list(out.iterdir())))]


@pytest.mark.parametrize(
    "name", ["sendmail", "sendmail-whois", "sendmail-whois-lines", "sendmail-whois-matches"]
)
def test_sendmail_actions(tmp_path: Path, mailer: tuple[Runner, Path], name: str) -> None:
    runner, out = mailer
    log = tmp_path / "auth.log"
    log.write_text("a 192.0.2.1 x\nb 192.0.2.2 y\nc 192.0.2.1 z\n")
    pwned = tmp_path / "pwned"
    hostile = (
        f"Failed password for $(touch {pwned}) `touch {pwned}` from 192.0.2.1",
        f"'; touch {pwned}; \"",
    )
    ban = Ban("sshd", "192.0.2.1", "192.0.2.1", 1000.0, 1600.0, 1, 3, hostile)
    act = action(
        name, runner, logpath=str(log), mailcmd='sendmail -f "<sender>" "<dest>"', dest="admin@example.org"
    )

    async def scenario() -> None:
        await act.start()
        await act.ban([ban])
        await act.stop()

    asyncio.run(scenario())
    assert not pwned.exists()
    start, banned, stop = mails(out)
    assert start.startswith(
        "argv: [-f] [fail2ban] [admin@example.org]\nSubject: [Fail2Ban] sshd: started on "
    )
    assert stop.startswith("argv: [-f] [fail2ban] [admin@example.org]\nSubject: [Fail2Ban] sshd: stopped on ")
    head = banned.split("\n", 3)
    assert head[1].startswith("Subject: [Fail2Ban] sshd: banned 192.0.2.1 from ")
    assert "From: Fail2Ban <fail2ban>\nTo: admin@example.org\n" in banned
    assert "The IP 192.0.2.1 has just been banned by Fail2Ban after\n3 attempts against sshd." in banned
    if "whois" in name:
        assert "whois for 192.0.2.1\n" in banned
    if name == "sendmail-whois-lines":
        assert "Lines containing failures of 192.0.2.1 (max 1000)\na 192.0.2.1 x\nc 192.0.2.1 z\n" in banned
    if name == "sendmail-whois-matches":
        assert f"Matches:\n\n{hostile[0]}\n{hostile[1]}\n" in banned


def test_mail_whois_lines(tmp_path: Path, mailer: tuple[Runner, Path]) -> None:
    runner, out = mailer
    log = tmp_path / "auth.log"
    log.write_text("a 192.0.2.1 x\n")
    act = action("mail-whois-lines", runner, logpath=str(log), dest="admin@example.org")
    asyncio.run(act.ban([V4]))
    (banned,) = mails(out)
    first, body = banned.split("\n", 1)
    assert first.startswith("argv: [-E] [set escape] [-s] [[Fail2Ban] sshd: banned 192.0.2.1 from ")
    assert first.endswith("] [admin@example.org]")
    assert "whois for 192.0.2.1\n" in body
    assert "Lines containing failures of 192.0.2.1 (max 1000)\na 192.0.2.1 x\n" in body
