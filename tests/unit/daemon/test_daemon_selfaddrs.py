"""ignoreself: the host's own addresses from the kernel (netlink RTM_GETADDR), cached with a short refresh, and
the daemon ignoring failures from them."""

from __future__ import annotations

import os
import shutil
import socket
import struct
import subprocess
import sys
from pathlib import Path

import pytest
from daemon_harness import Harness, jail_config, run

from banjail.daemon import housekeeping, selfaddrs

HEADER = struct.Struct("=IHHII")


def attr(kind: int, data: bytes) -> bytes:
    raw = struct.pack("=HH", 4 + len(data), kind) + data
    return raw + b"\0" * (-len(raw) % 4)


def message(kind: int, body: bytes) -> bytes:
    return HEADER.pack(HEADER.size + len(body), kind, 2, 1, 0) + body


def newaddr(family: int, *attrs: bytes) -> bytes:
    return message(20, struct.pack("=BBBBI", family, 24, 0, 0, 1) + b"".join(attrs))


V4_LOCAL = newaddr(
    socket.AF_INET,
    attr(1, socket.inet_pton(socket.AF_INET, "10.0.0.2")),  # IFA_ADDRESS: the peer of a point-to-point link
    attr(2, socket.inet_pton(socket.AF_INET, "10.0.0.1")),  # IFA_LOCAL: the interface's own address
    attr(3, b"eth0\0"),
)
V6 = newaddr(socket.AF_INET6, attr(1, socket.inet_pton(socket.AF_INET6, "fd00::2")))
DONE = message(3, struct.pack("=i", 0))

PARSE_CASES: list[tuple[str, bytes, tuple[list[str], bool]]] = [
    ("v4 takes IFA_LOCAL", V4_LOCAL, (["10.0.0.1"], False)),
    ("v6 and the end", V6 + DONE, (["fd00::2"], True)),
    ("several", V4_LOCAL + V6 + DONE, (["10.0.0.1", "fd00::2"], True)),
    ("unknown family skipped", newaddr(99, attr(1, b"\1\2")) + DONE, ([], True)),
    ("truncated message ignored", V6[:-3], ([], False)),
    ("acknowledgement", message(2, struct.pack("=i", 0)), ([], False)),
]


@pytest.mark.parametrize(("label", "data", "expected"), PARSE_CASES, ids=[c[0] for c in PARSE_CASES])
def test_parse_addresses(label: str, data: bytes, expected: tuple[list[str], bool]) -> None:
    assert selfaddrs.parse_addresses(data) == expected


def test_a_kernel_error_is_an_oserror() -> None:
    with pytest.raises(OSError, match="netlink RTM_GETADDR failed"):
        selfaddrs.parse_addresses(message(2, struct.pack("=i", -1)))


def test_loopback_comes_first_and_alone_when_the_kernel_cannot_be_asked() -> None:
    def fails() -> list[str]:
        raise PermissionError(1, "denied")

    def named() -> list[str]:
        return ["127.0.1.1", "192.0.2.9"]

    assert selfaddrs.local_addresses(lambda: ["192.0.2.9", "::1"], named) == (
        "127.0.0.1",
        "::1",
        "192.0.2.9",
        "127.0.1.1",
    )
    assert selfaddrs.local_addresses(fails, list) == ("127.0.0.1", "::1")


def test_hosts_file_addresses_of_the_hosts_names() -> None:
    text = (
        "127.0.0.1\tlocalhost\n"
        "127.0.1.1\tWeb1.example.org web1  # Debian's own-name line\n"
        "::1     localhost ip6-localhost\n"
        "# 10.0.0.1 web1\n"
        "192.0.2.30 other web10\n"
    )
    assert selfaddrs.hosts_addresses(text, ["localhost", "web1"]) == ["127.0.0.1", "127.0.1.1", "::1"]


def test_cached_and_read_again_after_max_age() -> None:
    reads: list[int] = []
    now = [100.0]

    def read() -> tuple[str, ...]:
        reads.append(1)
        return (f"10.0.0.{len(reads)}",)

    cached = selfaddrs.SelfAddresses(read, max_age=30, clock=lambda: now[0])
    assert (cached(), cached()) == (("10.0.0.1",), ("10.0.0.1",))
    now[0] += 29.9
    assert cached() == ("10.0.0.1",)
    now[0] += 0.1
    assert cached() == ("10.0.0.2",)
    assert len(reads) == 2


@pytest.mark.skipif(os.geteuid() != 0 or shutil.which("unshare") is None, reason="needs root and unshare")
def test_every_interface_address_of_a_fresh_network_namespace() -> None:
    script = (
        "ip link set lo up && ip addr add 10.55.0.7/24 dev lo && ip addr add 10.55.1.1/32 dev lo"
        " && ip -6 addr add fd55::7/64 dev lo nodad"
        f" && {sys.executable} -c 'from banjail.daemon import selfaddrs; print(*selfaddrs.interface_addresses())'"
    )
    done = subprocess.run(["unshare", "-n", "sh", "-c", script], capture_output=True, text=True, timeout=30)
    assert done.returncode == 0, done.stderr
    # Exactly this namespace's addresses (the host's own interfaces are not in it).
    assert sorted(done.stdout.split()) == ["10.55.0.7", "10.55.1.1", "127.0.0.1", "::1", "fd55::7"]


def test_daemon_ignores_its_own_addresses_and_picks_up_new_ones(tmp_path: Path) -> None:
    own = ["127.0.0.1", "::1", "192.0.2.50"]

    async def scenario() -> list[str]:
        h = Harness(tmp_path, [jail_config(ignoreself=True)])
        h.daemon.self_ips = lambda: tuple(own)
        h.capture_log()
        try:
            await h.daemon.start()
            h.source().feed("fail from 192.0.2.50", "fail from 192.0.2.51")
            await h.settle()
            own.append("192.0.2.51")  # an address added to an interface: seen at the next refresh
            await housekeeping.refresh_self_ips(h.daemon)
            h.source().feed("fail from 192.0.2.51")
            await h.settle()
            await h.controller.dispatch(["set", "test", "ignoreself", "false"])
            h.source().feed("fail from 192.0.2.50")
            await h.settle()
            await h.daemon.stop()
        finally:
            h.release_log()
        return [m for m in h.messages() if "[test]" in m]

    lines = run(scenario())
    assert [line.split(" - ")[0] for line in lines] == [
        "INFO    [test] Ignore 192.0.2.50 by ignoreself rule",
        "INFO    [test] Found 192.0.2.51",
        "INFO    [test] Ignore 192.0.2.51 by ignoreself rule",
        "INFO    [test] Found 192.0.2.50",
    ]
