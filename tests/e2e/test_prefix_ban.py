"""banprefix6 through the installed server and real nftables, in a network namespace the test creates: three
addresses of one /64, each below maxretry, are banned together (the /64 is in the jail's net6 set); an address of
another /64 is not."""

from __future__ import annotations

import json
import os
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest
from daemon_run import Server, append, wait_for, write_config

pytestmark = pytest.mark.e2e


def _nft_elements(ns: str, set_name: str) -> list[str]:
    done = subprocess.run(
        ["ip", "netns", "exec", ns, "nft", "-j", "list", "set", "inet", "banjail", set_name],
        capture_output=True,
        text=True,
        check=False,
        timeout=10,
    )
    if done.returncode != 0:
        return []
    found: list[str] = []
    for entry in json.loads(done.stdout)["nftables"]:
        for item in entry.get("set", {}).get("elem", []):
            value = item["elem"]["val"] if isinstance(item, dict) and "elem" in item else item
            if isinstance(value, dict) and "prefix" in value:
                value = f"{value['prefix']['addr']}/{value['prefix']['len']}"
            found.append(str(value))
    return found


@pytest.fixture
def netns() -> Iterator[str]:
    if os.geteuid() != 0:
        pytest.skip("network namespaces need root")
    name = f"bjpfx-{os.getpid()}"
    subprocess.run(["ip", "netns", "add", name], check=True, timeout=10)
    try:
        subprocess.run(["ip", "netns", "exec", name, "ip", "link", "set", "lo", "up"], check=True, timeout=10)
        yield name
    finally:
        subprocess.run(["ip", "netns", "delete", name], check=False, timeout=10)


def test_three_addresses_of_one_64_are_banned_as_the_64(netns: str, tmp_path: Path) -> None:
    conf = write_config(tmp_path, maxretry=3)
    local = conf / "jail.local"
    local.write_text(local.read_text().replace("action = rec", "action = nftables[port=22]\nbanprefix6 = 64"))
    server = Server(tmp_path, prefix=("ip", "netns", "exec", netns))
    try:
        server.start()
        attack = ["2001:db8:1:2::a", "2001:db8:1:2::b", "2001:db8:1:2::c"]  # one failure each
        other = ["2001:db8:1:3::a", "2001:db8:1:3::a"]  # another /64, two failures: below maxretry
        append(tmp_path / "test.log", [f"fail from {ip} port 22" for ip in [*other, *attack]])
        wait_for(lambda: _nft_elements(netns, "net6-set-test"), 15, "the /64 in the net6 set")
        assert _nft_elements(netns, "net6-set-test") == ["2001:db8:1:2::/64"]
        assert _nft_elements(netns, "addr6-set-test") == []
        assert server.ask("get", "test", "banned") == ["2001:db8:1:2::/64"]
        # the other /64 is still counting (one entry, two failures), nothing of it is banned
        assert server.ask("status", "test", "short") == [
            [
                "Filter",
                [["Currently failed", 1], ["Total failed", 5], ["File list", [str(tmp_path / "test.log")]]],
            ],
            ["Actions", [["Currently banned", 1], ["Total banned", 1]]],
        ]
        listing = ["ip", "netns", "exec", netns, "nft", "list", "set", "inet", "banjail", "net6-set-test"]
        print(
            subprocess.run(listing, capture_output=True, text=True, timeout=10, check=False).stdout
        )  # for -s
        why = server.ask("why", "2001:db8:1:2::c")
        assert why["fids"] == ["2001:db8:1:2::c", "2001:db8:1:2::/64"]  # type: ignore[index]
        (ban,) = why["jails"][0]["bans"]  # type: ignore[index]
        assert (ban["network"], len(ban["failures"])) == ("2001:db8:1:2::/64", 3)
        assert sorted(f["lines"][0] for f in ban["failures"]) == [f"fail from {ip} port 22" for ip in attack]
        log = (tmp_path / "f2b.log").read_text()
        assert "[test] Ban 2001:db8:1:2::/64" in log
        assert "2001:db8:1:3::" not in "".join(_nft_elements(netns, "net6-set-test"))
    finally:
        server.stop()


def test_a_command_action_gets_the_network_as_ip_and_an_ignored_address_splits_it(tmp_path: Path) -> None:
    conf = write_config(tmp_path, maxretry=3)  # the recording command action: `echo ban <ip> ... >> rec`
    local = conf / "jail.local"
    local.write_text(local.read_text() + "banprefix6 = 64\nbanprefix4 = 24\nignoreip = 198.51.100.1\n")
    server = Server(tmp_path)
    try:
        server.start()
        append(
            tmp_path / "test.log",
            [f"fail from 2001:db8:5:6::{n} port 22" for n in (1, 2, 3)]
            + [f"fail from 198.51.100.{n} port 22" for n in (7, 8, 9)],  # its /24 holds an ignored address
        )
        # the shell creates the file before echo writes to it: wait for the line itself
        wait_for(
            lambda: (tmp_path / "rec").exists() and (tmp_path / "rec").read_text().endswith("\n"),
            15,
            "the ban",
        )
        assert server.ask("get", "test", "banned") == ["2001:db8:5:6::/64"]
        assert (tmp_path / "rec").read_text() == "ban 2001:db8:5:6::/64 0\n"
        log = (tmp_path / "f2b.log").read_text()
        assert (
            "[test] 198.51.100.0/24 is not banned as a whole: it holds an address ignored by ip 198.51.100.1; "
            "its addresses are counted and banned one by one"
        ) in log
        assert server.ask("status", "test", "short")[0][1][0] == ["Currently failed", 3]  # type: ignore[index]
    finally:
        server.stop()
