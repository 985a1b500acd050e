"""banjail.actions.handover: the scripts that hold a jail's bans over a graceful restart, and the real thing
in a network namespace the test creates (nft loads the script; the held address is dropped, another is not)."""

from __future__ import annotations

import shutil
import subprocess
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from banjail.actions import handover
from banjail.actions.command import CommandAction
from banjail.config.load import load_action
from banjail.model import Ban

NOW = 1_000_000.0


def ban(ip: str, until: float | None) -> Ban:
    return Ban("sshd", ip, ip, NOW - 5, until, 1, 3)


HEAD = """add table inet banjail-handover
add set inet banjail-handover j_sshd_4 { type ipv4_addr; flags timeout; }
add set inet banjail-handover j_sshd_6 { type ipv6_addr; flags timeout; }
add chain inet banjail-handover j_sshd { type filter hook input priority -5; policy accept; }
flush chain inet banjail-handover j_sshd
"""


def test_hold_script_holds_addresses_for_at_most_the_handover_and_the_ban() -> None:
    options = {"type": "multiport", "port": "ssh,2200:2299", "protocol": "tcp"}
    bans = [
        ban("10.1.0.1", NOW + 600),
        ban("10.1.0.2", NOW + 3),
        ban("2001:db8::1", None),
        ban("10.1.0.3", NOW),
    ]
    assert handover.hold_script("sshd", options, bans, NOW) == HEAD + (
        "add rule inet banjail-handover j_sshd meta l4proto tcp th dport { ssh, 2200-2299 } ip saddr @j_sshd_4 drop\n"
        "add rule inet banjail-handover j_sshd meta l4proto tcp th dport { ssh, 2200-2299 } ip6 saddr @j_sshd_6 drop\n"
        "add element inet banjail-handover j_sshd_4 { 10.1.0.1 timeout 15s, 10.1.0.2 timeout 3s }\n"
        "add element inet banjail-handover j_sshd_6 { 2001:db8::1 timeout 15s }\n"
    )


@pytest.mark.parametrize(
    ("options", "match"),
    [
        ({"type": "allports", "protocol": "tcp"}, "meta l4proto tcp "),
        ({"type": "oneport", "port": "22", "protocol": "udp"}, "meta l4proto udp th dport { 22 } "),
        ({"type": "multiport", "port": "ssh", "protocol": "all"}, ""),
    ],
)
def test_hold_script_matches_what_the_action_blocks(options: dict[str, str], match: str) -> None:
    script = handover.hold_script("sshd", options, [ban("10.1.0.1", None)], NOW)
    assert script is not None
    assert f"add rule inet banjail-handover j_sshd {match}ip saddr @j_sshd_4 drop\n" in script


@pytest.mark.parametrize(
    ("options", "bans"),
    [
        ({"port": "ssh; rm -rf /", "protocol": "tcp"}, [ban("10.1.0.1", None)]),  # not a port list: no hold
        ({"port": "ssh", "protocol": "tcp udp"}, [ban("10.1.0.1", None)]),
        (
            {"port": "ssh", "protocol": "tcp"},
            [ban("10.1.0.0/24", None), ban("user@example", None)],
        ),  # no address
        ({"port": "ssh", "protocol": "tcp"}, [ban("10.1.0.1", NOW - 1)]),  # over already
    ],
)
def test_nothing_to_hold(options: dict[str, str], bans: list[Ban]) -> None:
    assert handover.hold_script("sshd", options, bans, NOW) is None


def test_release_script_creates_then_deletes_so_it_never_fails() -> None:
    assert handover.release_script("my-jail.x") == (
        "add table inet banjail-handover\n"
        "add set inet banjail-handover j_my_jail_x_4 { type ipv4_addr; flags timeout; }\n"
        "add set inet banjail-handover j_my_jail_x_6 { type ipv6_addr; flags timeout; }\n"
        "add chain inet banjail-handover j_my_jail_x { type filter hook input priority -5; policy accept; }\n"
        "flush chain inet banjail-handover j_my_jail_x\n"
        "delete chain inet banjail-handover j_my_jail_x\n"
        "delete set inet banjail-handover j_my_jail_x_4\n"
        "delete set inet banjail-handover j_my_jail_x_6\n"
    )


@pytest.mark.parametrize("value", ["yes", "True", "on", "1"])
def test_declared(value: str) -> None:
    assert handover.declared({"handover": value})
    assert not handover.declared({"handover": "no"})
    assert not handover.declared({})


@pytest.fixture
def netns() -> Iterator[str]:
    if shutil.which("nft") is None or shutil.which("ip") is None:
        pytest.skip("nft or ip is not installed")
    name = f"bjho{uuid.uuid4().hex[:8]}"
    if subprocess.run(["ip", "netns", "add", name], capture_output=True, check=False).returncode != 0:
        pytest.skip("cannot create a network namespace here")
    try:
        yield name
    finally:
        subprocess.run(["ip", "netns", "delete", name], check=False)


def _nft(netns: str, script: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(["ip", "netns", "exec", netns, "nft", "-f", "-"], input=script, text=True,
                          capture_output=True, check=False, timeout=10)  # fmt: skip


def test_real_nft_loads_the_hold_and_the_release_in_a_namespace(netns: str) -> None:
    options = {"type": "multiport", "port": "ssh,2200:2299", "protocol": "tcp"}
    hold = handover.hold_script("sshd", options, [ban("10.1.0.1", NOW + 600), ban("2001:db8::1", None)], NOW)
    assert hold is not None
    assert _nft(netns, hold).returncode == 0
    assert _nft(netns, hold).returncode == 0  # a second shutdown's hold replaces the first
    listed = subprocess.run(["ip", "netns", "exec", netns, "nft", "list", "table", "inet", "banjail-handover"],
                            capture_output=True, text=True, check=True).stdout  # fmt: skip
    assert "10.1.0.1" in listed and "2001:db8::1" in listed and "dport { 22, 2200-2299 }" in listed
    assert listed.count("drop") == 2
    for _ in range(2):  # twice: releasing what is not there is fine
        done = _nft(netns, handover.release_script("sshd"))
        assert done.returncode == 0, done.stderr
    listed = subprocess.run(["ip", "netns", "exec", netns, "nft", "list", "table", "inet", "banjail-handover"],
                            capture_output=True, text=True, check=True).stdout  # fmt: skip
    assert "chain" not in listed and "set" not in listed


@pytest.mark.parametrize(
    ("script", "tool"),
    [
        ("iptables -w -I f2b-sshd 1 -s 192.0.2.1 -j REJECT", "iptables"),
        ("/sbin/ip6tables -w -D f2b-sshd -s 2001:db8::1 -j DROP", "ip6tables"),
        ("ipset -exist add f2b-sshd 192.0.2.1 timeout 600", "ipset"),
        ("nft add element inet f2b-table addr-set-sshd { 192.0.2.1 }", "nft"),
        ("{ iptables -C f2b-x -j RETURN >/dev/null 2>&1; } || { iptables -N f2b-x || true; }", "iptables"),
        ("for proto in $(echo tcp); do\n  iptables -I INPUT -p $proto -j f2b-x\ndone", "iptables"),
        ("if true; then ipset flush f2b-x; fi", "ipset"),
        ("LC_ALL=C iptables -L", "iptables"),
        ("echo iptables -I INPUT", None),  # an argument, not a command
        ("printf %b 'Subject: banned' | /usr/sbin/sendmail -f root root", None),
        ("whois 192.0.2.1 | grep -i iptables", None),
        ("", None),
    ],
)
def test_firewall_tool_is_the_first_firewall_command(script: str, tool: str | None) -> None:
    assert handover.firewall_tool(script) == tool


def _expected_tool(name: str) -> str | None:
    """Upstream's files by what their names say they drive."""
    if "ipset" in name and (name.startswith(("iptables", "shorewall", "firewallcmd"))):
        return "ipset"
    if name.startswith(("iptables", "symbiosis-blacklist")):
        return "iptables"
    if name.startswith("nftables"):
        return "nft"
    return None


UPSTREAM_ACTIONS = Path("/etc/fail2ban/action.d")


@pytest.mark.skipif(not UPSTREAM_ACTIONS.is_dir(), reason="upstream fail2ban is not installed")
def test_upstreams_own_firewall_files_are_recognised_by_their_commands() -> None:
    names = sorted(p.stem for p in UPSTREAM_ACTIONS.glob("*.conf"))
    assert len(names) > 50
    found = {}
    for name in names:
        action = CommandAction(
            load_action(name, config_dir=UPSTREAM_ACTIONS.parent, jail="sshd", args={}), jail="x"
        )
        found[name] = action.firewall
    assert found == {name: _expected_tool(name) for name in names}
    options = {"type": "multiport", "port": "ssh", "protocol": "tcp"}
    assert handover.covers(options, "iptables") and not handover.covers(options, None)
