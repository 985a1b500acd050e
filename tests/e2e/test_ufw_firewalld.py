"""The stock ufw and firewalld actions (issue 9), run for real: ufw 0.36 over iptables, and firewalld with its
own dbus-daemon, each inside a network namespace and a private host (mount, PID and UTS namespaces: an overlay
on /etc and /lib/ufw, a tmpfs /run) that the test creates, so the machine's own firewall and files are never
touched. banjail's CommandAction runs each action's commands there, as the daemon would."""

from __future__ import annotations

import asyncio
import hashlib
import os
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from lab.serverhost import ServerHost

from banjail.actions.command import CommandAction
from banjail.actions.runner import Runner
from banjail.config.load import load_action
from banjail.model import Ban

pytestmark = pytest.mark.e2e

V4 = Ban(
    "sshd", "192.0.2.1", "192.0.2.1", 1000.0, 1600.0, 1, 3, ("Failed password for x' $(id) from 192.0.2.1",)
)
V6 = Ban("sshd", "2001:db8::7", "2001:db8::7", 1000.0, 1600.0, 1, 3)
_COUNT = [0]


def _digest(path: str) -> str:
    """A digest of the host's files under `path` (names and contents), to show the test changed none of them."""
    h = hashlib.sha256()
    for root, _dirs, files in sorted(os.walk(path)):
        for name in sorted(files):
            full = os.path.join(root, name)
            h.update(full.encode())
            with open(full, "rb") as handle:
                h.update(handle.read())
    return h.hexdigest()


@pytest.fixture
def host(tmp_path: Path) -> Iterator[ServerHost]:
    if os.geteuid() != 0:
        pytest.skip("namespaces need root")
    _COUNT[0] += 1
    netns = f"bj-fw-{os.getpid()}-{_COUNT[0]}"
    subprocess.run(["ip", "netns", "add", netns], check=True, capture_output=True)
    server = ServerHost(netns, tmp_path)
    try:
        server.open()
        server.run(["ip", "link", "set", "lo", "up"])
        yield server
    finally:
        server.close()
        subprocess.run(["ip", "netns", "delete", netns], check=False, capture_output=True)


def _action(host: ServerHost, name: str, **args: str) -> CommandAction:
    loaded = load_action(name, config_dir="/nonexistent", jail="sshd", args=args)
    return CommandAction(loaded, jail="sshd", runner=Runner(prefix=tuple(host.argv([]))))


def _out(host: ServerHost, *argv: str) -> str:
    done = host.run(list(argv), check=False)
    return done.stdout + done.stderr


def test_ufw_bans_and_unbans_in_ufws_own_chains(host: ServerHost) -> None:
    before = (_digest("/etc/ufw"), _digest("/lib/ufw"))
    host.run(
        [
            "sh",
            "-c",
            "mkdir -p /run/lib-up /run/lib-work && mount -t overlay overlay -o "
            "lowerdir=/lib/ufw,upperdir=/run/lib-up,workdir=/run/lib-work /lib/ufw",
        ]
    )
    host.run(["ufw", "--force", "enable"])
    act = _action(host, "ufw", port="ssh,http,6000:6010")

    async def scenario() -> list[str]:
        seen = []
        await act.start()
        await act.ban([V4, V6])
        seen += [
            _out(host, "iptables", "-S", "ufw-user-input"),
            _out(host, "ip6tables", "-S", "ufw6-user-input"),
        ]
        seen.append(_out(host, "ufw", "status"))
        await act.unban([V4, V6])
        seen += [
            _out(host, "iptables", "-S", "ufw-user-input"),
            _out(host, "ip6tables", "-S", "ufw6-user-input"),
        ]
        await act.stop()
        return seen

    banned4, banned6, status, unbanned4, unbanned6 = asyncio.run(scenario())
    rule = "-p tcp -m multiport --dports 22,80,6000:6010 -j REJECT"
    assert f"-A ufw-user-input -s 192.0.2.1/32 {rule} --reject-with tcp-reset" in banned4
    assert f"-A ufw6-user-input -s 2001:db8::7/128 {rule} --reject-with tcp-reset" in banned6
    assert [line.split() for line in status.splitlines() if "banjail" in line] == [
        ["22,80,6000:6010/tcp", "REJECT", "192.0.2.1", "#", "banjail", "sshd"],
        ["22,80,6000:6010/tcp", "REJECT", "2001:db8::7", "#", "banjail", "sshd"],
    ]
    assert "192.0.2.1" not in unbanned4
    assert "2001:db8::7" not in unbanned6
    assert (_digest("/etc/ufw"), _digest("/lib/ufw")) == before  # the host's own ufw files are untouched


def test_ufw_says_when_it_is_inactive(host: ServerHost) -> None:
    start = load_action("ufw", config_dir="/nonexistent", jail="sshd").options["actionstart"]
    done = host.run(["sh", "-c", start], check=False)
    assert (done.returncode, done.stderr) == (
        0,
        "banjail: ufw is inactive; jail sshd's bans are not enforced until 'ufw enable'\n",
    )


def _firewalld(host: ServerHost, workdir: Path) -> None:
    host.run(["mkdir", "-p", "/run/dbus"])
    host.popen(["dbus-daemon", "--system", "--nofork", "--nopidfile"], workdir / "dbus.log")
    deadline = time.monotonic() + 10
    while not _out(host, "ls", "/run/dbus").strip() and time.monotonic() < deadline:
        time.sleep(0.1)
    host.popen(
        ["firewalld", "--nofork", "--nopid", "--log-target", "file", "--log-file", "/run/firewalld.log"],
        workdir / "firewalld.log",
    )
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if host.run(["firewall-cmd", "--state"], check=False).stdout.strip() == "running":
            return
        time.sleep(0.3)
    pytest.fail("firewalld did not start within 60 s: " + (workdir / "firewalld.log").read_text()[-2000:])


def test_firewallcmd_rich_rules(host: ServerHost, tmp_path: Path) -> None:
    before = _digest("/etc/firewalld")
    _firewalld(host, tmp_path)
    act = _action(host, "firewallcmd-rich-rules", port="ssh,8080,6000:6010")

    async def scenario() -> list[str]:
        seen = []
        await act.start()
        await act.ban([V4, V6])
        seen += [_out(host, "firewall-cmd", "--list-rich-rules"), _out(host, "nft", "list", "ruleset")]
        await act.unban([V4, V6])
        seen += [_out(host, "firewall-cmd", "--list-rich-rules"), _out(host, "nft", "list", "ruleset")]
        await act.stop()
        return seen

    rules, ruleset, after, ruleset_after = asyncio.run(scenario())
    assert sorted(rules.splitlines()) == [
        'rule family="ipv4" source address="192.0.2.1" port port="6000-6010" protocol="tcp" reject',
        'rule family="ipv4" source address="192.0.2.1" port port="8080" protocol="tcp" reject',
        'rule family="ipv4" source address="192.0.2.1" service name="ssh" reject',
        'rule family="ipv6" source address="2001:db8::7" port port="6000-6010" protocol="tcp" reject',
        'rule family="ipv6" source address="2001:db8::7" port port="8080" protocol="tcp" reject',
        'rule family="ipv6" source address="2001:db8::7" service name="ssh" reject',
    ]
    assert "ip saddr 192.0.2.1" in ruleset and "ip6 saddr 2001:db8::7" in ruleset
    assert after.strip() == ""
    assert "192.0.2.1" not in ruleset_after and "2001:db8::7" not in ruleset_after
    assert _digest("/etc/firewalld") == before


def test_firewallcmd_ipset(host: ServerHost, tmp_path: Path) -> None:
    _firewalld(host, tmp_path)
    act = _action(host, "firewallcmd-ipset", port="ssh,http")

    async def scenario() -> list[str]:
        seen = []
        await act.start()
        await act.ban([V4, V6])
        seen += [_out(host, "firewall-cmd", "--direct", "--get-all-rules"), _out(host, "ipset", "list")]
        await act.unban([V4])
        seen.append(_out(host, "ipset", "list", "f2b-sshd"))
        await act.stop()
        seen += [_out(host, "firewall-cmd", "--direct", "--get-all-rules"), _out(host, "ipset", "list", "-n")]
        return seen

    rules, sets, unbanned, rules_after, sets_after = asyncio.run(scenario())
    assert (
        "ipv4 filter INPUT 0 -p tcp -m multiport --dports ssh,http -m set --match-set f2b-sshd src -j REJECT "
        "--reject-with icmp-port-unreachable" in rules
    )
    assert (
        "ipv6 filter INPUT 0 -p tcp -m multiport --dports ssh,http -m set --match-set f2b-sshd6 src -j REJECT "
        "--reject-with icmp6-port-unreachable" in rules
    )
    assert "192.0.2.1" in sets and "2001:db8::7" in sets
    assert "192.0.2.1" not in unbanned
    assert rules_after.strip() == ""
    assert "f2b-sshd" not in sets_after
