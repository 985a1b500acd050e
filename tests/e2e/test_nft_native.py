"""banjail's native nftables action against the real kernel, in network namespaces the test creates.

Server namespace 10.77.0.1 (a TCP listener on port 2222), client namespace 10.77.0.2, linked by a veth pair.
nft runs through `ip netns exec SERVER`; nothing touches the host's namespace or firewall. The nft program is
a wrapper that logs each invocation, so the tests can count transactions.
"""

from __future__ import annotations

import asyncio
import json
import math
import os
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from daemon_run import Server, wait_for, write_config
from lab.poll import until

from banjail.actions.command import CommandAction
from banjail.actions.nftables import NftablesAction
from banjail.actions.registry import build_action
from banjail.actions.runner import Runner
from banjail.config.load import load_action
from banjail.model import Ban

pytestmark = pytest.mark.e2e

SERVER, CLIENT, PORT = "10.77.0.1", "10.77.0.2", 2222
OTHER = "10.77.0.200"  # a second address of the client namespace, outside 10.77.0.0/25
LISTENER = (
    "import socket\n"
    "s = socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)\n"
    f"s.bind(('0.0.0.0', {PORT})); s.listen(64)\n"
    "while True: s.accept()[0].close()\n"
)


def sh(*argv: str) -> str:
    done = subprocess.run(argv, capture_output=True, text=True, check=False)
    return done.stdout + done.stderr


class Net:
    def __init__(self, tag: str, tmp: Path) -> None:
        self.srv, self.cli = f"bjnft-s-{tag}", f"bjnft-c-{tag}"
        self.log = tmp / "nft-calls.log"
        self.nft = tmp / "nft"
        self.nft.write_text(f'#!/bin/sh\necho "$*" >> {self.log}\nexec nft "$@"\n')
        self.nft.chmod(0o755)
        self.runner = Runner(prefix=("ip", "netns", "exec", self.srv))
        self.config = tmp / "etc"  # an empty config dir: banjail's stock action.d files are used
        self.config.mkdir()

    def inside(self, *argv: str) -> str:
        return sh("ip", "netns", "exec", self.srv, *argv)

    def calls(self) -> list[str]:
        return self.log.read_text().splitlines() if self.log.exists() else []

    def connects(self, source: str = CLIENT) -> bool:
        probe = (
            "import socket; "
            f"socket.create_connection(('{SERVER}', {PORT}), timeout=2, source_address=('{source}', 0)).close()"
        )
        done = subprocess.run(
            ["ip", "netns", "exec", self.cli, "python3", "-c", probe], capture_output=True, check=False
        )
        return done.returncode == 0

    def elements(self, set_name: str) -> dict[str, int | None]:
        """Address -> timeout in seconds (None: permanent) of a set in the server namespace."""
        text = self.inside("nft", "-j", "list", "set", "inet", "banjail", set_name)
        found: dict[str, int | None] = {}
        for entry in json.loads(text)["nftables"]:
            for item in entry.get("set", {}).get("elem", []):
                if isinstance(item, dict) and "prefix" in item:  # a network in an interval set, no timeout
                    found[f"{item['prefix']['addr']}/{item['prefix']['len']}"] = None
                elif isinstance(item, dict):
                    value = item["elem"]["val"]
                    if isinstance(value, dict):  # a network with a timeout
                        value = f"{value['prefix']['addr']}/{value['prefix']['len']}"
                    found[value] = item["elem"].get("timeout")
                else:
                    found[item] = None
        return found


@pytest.fixture
def net(tmp_path: Path) -> Iterator[Net]:
    if os.geteuid() != 0:
        pytest.skip("network namespaces need root")
    net = Net(str(os.getpid() % 100000), tmp_path)
    listener: subprocess.Popen[bytes] | None = None
    try:
        for ns in (net.srv, net.cli):
            subprocess.run(["ip", "netns", "add", ns], check=True)
            subprocess.run(["ip", "netns", "exec", ns, "ip", "link", "set", "lo", "up"], check=True)
        subprocess.run(
            [
                "ip",
                "link",
                "add",
                "bjv0",
                "netns",
                net.srv,
                "type",
                "veth",
                "peer",
                "name",
                "bjv1",
                "netns",
                net.cli,
            ],
            check=True,
        )
        for ns, dev, addr in ((net.srv, "bjv0", SERVER), (net.cli, "bjv1", CLIENT), (net.cli, "bjv1", OTHER)):
            subprocess.run(
                ["ip", "netns", "exec", ns, "ip", "addr", "add", f"{addr}/24", "dev", dev], check=True
            )
            subprocess.run(["ip", "netns", "exec", ns, "ip", "link", "set", dev, "up"], check=True)
        listener = subprocess.Popen(["ip", "netns", "exec", net.srv, "python3", "-c", LISTENER])
        deadline = time.monotonic() + 5
        while not net.connects() and time.monotonic() < deadline:
            time.sleep(0.05)
        yield net
    finally:
        if listener is not None:
            listener.kill()
            listener.wait()
        for ns in (net.srv, net.cli):
            subprocess.run(["ip", "netns", "delete", ns], check=False)


def native(net: Net, jail: str = "sshd", **args: str) -> NftablesAction:
    spec = load_action(
        "nftables",
        config_dir=net.config,
        jail=jail,
        jail_options={"port": str(PORT)},
        args={"nftables": str(net.nft), "port": str(PORT), **args},
    )
    action = build_action(spec, jail=jail, runner=net.runner)
    assert isinstance(action, NftablesAction)
    return action


def addr(i: int) -> str:
    return f"10.{100 + (i >> 16)}.{(i >> 8) & 255}.{i & 255}"


# A ban short enough for the kernel to lift while the test waits, long enough that a ban command and a probe fit
# in it on a loaded machine (at load 13, one with 1 s had expired before the probe ran).
SHORT = 3


def left(end: float, before: float, after: float) -> set[int]:
    """The timeouts an element of a ban ending at `end` may carry when its command was made between `before` and
    `after`: the time left then, rounded up to the second (banjail.actions.nftscript.element)."""
    return set(range(math.ceil(end - after), math.ceil(end - before) + 1))


def assert_blocked_until(net: Net, end: float) -> None:
    """The client cannot connect, probed before the ban's `end` (after it the kernel may rightly let it in)."""
    probed = time.time()
    assert probed < end, f"the ban command took until {probed - end:.1f}s after the ban's end: nothing to probe"
    assert not net.connects()


def test_ten_thousand_bans_in_one_transaction_with_timeouts(net: Net) -> None:
    action = native(net)
    now = time.time()
    bans = [Ban("sshd", addr(i), addr(i), now, now + 600, 1, 5) for i in range(10_000)]
    bans += [
        Ban("sshd", CLIENT, CLIENT, now, None, 1, 5),  # permanent
        Ban("sshd", "2001:db8::7", "2001:db8::7", now, now + 60, 1, 5),
    ]

    async def scenario() -> float:
        await action.start()
        assert net.connects()
        started = len(net.calls())
        await action.ban(bans)
        # The whole batch: one transaction (and beside it the one that writes the jail's structure anew).
        assert net.calls()[started:] == ["-f -", "-f -"]
        return time.time()

    applied = asyncio.run(scenario())
    v4 = net.elements("addr-set-sshd")
    assert len(v4) == 10_001
    assert v4[CLIENT] is None
    assert {v4[addr(i)] for i in range(10_000)} <= left(now + 600, now, applied)
    assert net.elements("addr6-set-sshd").keys() == {"2001:db8::7"}
    assert net.elements("addr6-set-sshd")["2001:db8::7"] in left(now + 60, now, applied)
    assert not net.connects()


def test_unban_lets_in_and_tolerates_what_is_gone(net: Net) -> None:
    action = native(net)
    now = time.time()
    client = Ban("sshd", CLIENT, CLIENT, now, now + 600, 1, 5)
    gone = Ban("sshd", "10.9.9.9", "10.9.9.9", now, now + 600, 1, 5)  # never banned (or expired already)

    async def scenario() -> None:
        await action.ban([client])
        assert not net.connects()
        await action.unban([client, gone])

    asyncio.run(scenario())
    assert net.connects()
    assert net.elements("addr-set-sshd") == {}


def test_a_short_ban_expires_in_the_kernel_by_itself(net: Net) -> None:
    action = native(net)
    now = time.time()
    asyncio.run(action.ban([Ban("sshd", CLIENT, CLIENT, now, now + SHORT, 1, 5)]))
    assert_blocked_until(net, now + SHORT)
    # The kernel lifts it by itself (nothing of banjail runs now): the probe gets in, the set is empty.
    assert until(net.connects, 30, period=0.1) is not None
    assert net.elements("addr-set-sshd") == {}


def test_stop_removes_the_table_only_after_the_last_jail(net: Net) -> None:
    sshd, web = native(net), native(net, jail="web", port="http")

    async def scenario() -> None:
        await sshd.start()
        await web.start()
        await sshd.stop()
        assert "addr-set-sshd" not in net.inside("nft", "-t", "list", "table", "inet", "banjail")
        assert "addr-set-web" in net.inside("nft", "-t", "list", "table", "inet", "banjail")
        await web.stop()
        await web.stop()  # idempotent

    asyncio.run(scenario())
    assert net.inside("nft", "list", "ruleset") == ""


def test_a_restart_after_kill_keeps_bans_and_adds_no_rule(net: Net) -> None:
    now = time.time()
    asyncio.run(native(net).ban([Ban("sshd", CLIENT, CLIENT, now, now + 600, 1, 5)]))
    # A new daemon (the old one died without stopping): start, then restore the ban from the store.
    again = native(net)
    restored = Ban("sshd", CLIENT, CLIENT, now, now + 600, 1, 5, restored=True)

    async def scenario() -> None:
        await again.start()
        assert not net.connects()  # enforced throughout: the set kept its element
        await again.ban([restored])

    asyncio.run(scenario())
    chain = net.inside("nft", "list", "chain", "inet", "banjail", "f2b-sshd")
    assert chain.count("saddr @addr-set-sshd") == 1
    assert chain.count("saddr @addr6-set-sshd") == 1
    assert not net.connects()


def test_prolong_replaces_the_timeout(net: Net) -> None:
    action = native(net)
    now = time.time()
    asyncio.run(action.ban([Ban("sshd", CLIENT, CLIENT, now, now + 60, 1, 5)]))
    asyncio.run(action.prolong([Ban("sshd", CLIENT, CLIENT, now, now + 3600, 2, 5)]))
    assert net.elements("addr-set-sshd") == {CLIENT: 3600}


def test_allports_and_drop(net: Net) -> None:
    action = native(net, type="allports", blocktype="drop")
    asyncio.run(action.ban([Ban("sshd", CLIENT, CLIENT, time.time(), None, 1, 5)]))
    chain = net.inside("nft", "list", "chain", "inet", "banjail", "f2b-sshd")
    assert "meta l4proto tcp ip saddr @addr-set-sshd drop" in chain
    assert not net.connects()


def test_the_same_file_runs_as_commands_with_native_off(net: Net) -> None:
    spec = load_action(
        "nftables",
        config_dir=net.config,
        jail="sshd",
        jail_options={"port": str(PORT)},
        args={"nftables": str(net.nft), "port": str(PORT), "native": ""},
    )
    action = build_action(spec, jail="sshd", runner=net.runner)
    assert isinstance(action, CommandAction)
    now = time.time()
    ban = Ban("sshd", CLIENT, CLIENT, now, now + 600, 1, 5)

    async def scenario() -> None:
        await action.start()
        await action.ban([ban])
        assert not net.connects()
        assert net.elements("addr-set-sshd") == {CLIENT: None}
        await action.unban([ban])
        await action.unban([ban])
        assert net.connects()
        await action.stop()

    asyncio.run(scenario())
    assert net.inside("nft", "list", "ruleset") == ""


def test_a_flushed_ruleset_is_rebuilt_at_the_next_ban(net: Net) -> None:
    action = native(net)
    now = time.time()
    asyncio.run(action.ban([Ban("sshd", "10.5.5.5", "10.5.5.5", now, now + 600, 1, 5)]))
    net.inside("nft", "flush", "ruleset")  # a firewall reload by someone else
    assert net.connects()
    asyncio.run(action.ban([Ban("sshd", CLIENT, CLIENT, now, now + 600, 1, 5)]))
    assert not net.connects()
    assert list(net.elements("addr-set-sshd")) == [CLIENT]


def test_network_bans_drop_inside_the_net_only(net: Net) -> None:
    action = native(net)
    now = time.time()
    wide = Ban("sshd", "10.77.0.0/25", "10.77.0.0/25", now, now + 60, 1, 5)  # from a failregex with <SUBNET>
    narrow = Ban("sshd", "10.77.0.0/26", None, now, now + 600, 1, 0)  # `banip 10.77.0.0/26`, overlaps `wide`
    assert net.connects() and net.connects(OTHER)

    async def scenario() -> None:
        await action.ban([wide])
        assert not net.connects()  # 10.77.0.2 is inside 10.77.0.0/25
        assert net.connects(OTHER)  # 10.77.0.200 is not
        await action.ban([narrow])  # inside the banned /25: the /25 enforces it, no overlap error
        assert list(net.elements("net-set-sshd")) == ["10.77.0.0/25"]
        await action.unban([wide])  # the /26 takes its place
        assert not net.connects()
        await action.unban([narrow])
        assert net.connects()

    asyncio.run(scenario())
    assert net.connects(OTHER)
    assert net.elements("addr-set-sshd") == {}
    v6 = Ban("sshd", "2001:db8::1/64", None, now, None, 1, 0)
    asyncio.run(action.ban([v6]))
    assert net.elements("net6-set-sshd") == {"2001:db8::/64": None}


def test_a_flushed_chain_or_a_deleted_set_is_rebuilt_by_the_next_ban(net: Net) -> None:
    action = native(net)
    now = time.time()
    asyncio.run(action.ban([Ban("sshd", "10.5.5.5", "10.5.5.5", now, now + 600, 1, 5)]))
    # The table and sets stay, the rules go: adding an element alone would succeed and enforce nothing.
    net.inside("nft", "flush", "chain", "inet", "banjail", "f2b-sshd")
    net.inside("nft", "delete", "set", "inet", "banjail", "addr6-set-sshd")
    asyncio.run(action.ban([Ban("sshd", CLIENT, CLIENT, now, now + 600, 1, 5)]))
    assert not net.connects()
    chain = net.inside("nft", "list", "chain", "inet", "banjail", "f2b-sshd")
    assert chain.count("saddr @addr-set-sshd") == 1
    assert chain.count("saddr @addr6-set-sshd") == 1
    assert set(net.elements("addr-set-sshd")) == {"10.5.5.5", CLIENT}


def test_the_daemon_bans_a_network_and_restores_it_into_an_empty_firewall(net: Net, tmp_path: Path) -> None:
    conf = write_config(tmp_path / "d")
    local = conf / "jail.local"
    local.write_text(
        local.read_text().replace("action = rec", f"action = nftables[port={PORT}, nftables={net.nft}]")
    )
    server = Server(tmp_path / "d", prefix=("ip", "netns", "exec", net.srv))
    try:
        server.start()
        assert server.ask("set", "test", "banip", "10.77.0.0/25") == 1
        assert (net.connects(), net.connects(OTHER)) == (False, True)
        server.stop()
        net.inside("nft", "flush", "ruleset")  # as after a reboot: the store alone holds the ban
        assert net.connects()
        server.start()
        wait_for(lambda: not net.connects(), 10, "the restored network ban")
        assert net.connects(OTHER)
        assert list(net.elements("net-set-test")) == ["10.77.0.0/25"]
        assert server.ask("set", "test", "unbanip", "10.77.0.0/25") == 1
        assert net.connects()
    finally:
        server.stop()
