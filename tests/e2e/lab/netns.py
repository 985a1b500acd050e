"""A private network of namespaces: one server and named client hosts on a bridge, 10.78.0.0/24.

Guarantees: nothing is created in the host's own network namespace (every veth is made inside the server
namespace with its peer placed straight into the client's), and `close()` deletes every namespace it made, which
takes their links, addresses and firewalls with them. Names carry the creating process id, so parallel runs and
other tests' namespaces never collide.
"""

from __future__ import annotations

import os
import subprocess
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

SUBNET_PREFIX = "10.78.0."
SERVER_ADDRESS = SUBNET_PREFIX + "1"


@dataclass(frozen=True)
class Node:
    """One namespace of the lab: its role (`server`, `attacker`, ...), namespace name and IPv4 address."""

    role: str
    netns: str
    address: str


def ip(*args: str, timeout: float = 10) -> str:
    """Run `ip ARGS`; raise with its stderr when it fails."""
    run = subprocess.run(["ip", *args], capture_output=True, text=True, timeout=timeout, check=False)
    if run.returncode != 0:
        raise RuntimeError(f"ip {' '.join(args)}: {run.stderr.strip()}")
    return run.stdout


def in_netns(netns: str, argv: Sequence[str], timeout: float = 30) -> subprocess.CompletedProcess[str]:
    """Run argv in a network namespace only (host mounts); never raises on a non-zero status."""
    return subprocess.run(
        ["ip", "netns", "exec", netns, *argv], capture_output=True, text=True, timeout=timeout, check=False
    )


class Lab:
    """The server namespace with a bridge `br0` at SERVER_ADDRESS and one namespace per client role."""

    def __init__(self, clients: Sequence[str], tag: str = "") -> None:
        stem = f"bjseed{tag}{os.getpid()}"
        self.server = Node("server", f"{stem}-srv", SERVER_ADDRESS)
        self.clients: Mapping[str, Node] = {
            role: Node(role, f"{stem}-{role[:3]}{n}", f"{SUBNET_PREFIX}{n + 2}")
            for n, role in enumerate(clients)
        }
        self._made: list[str] = []

    def __getitem__(self, role: str) -> Node:
        return self.server if role == "server" else self.clients[role]

    def open(self) -> Lab:
        """Create the namespaces and links; on any failure, delete what was made and raise."""
        try:
            self._create()
        except BaseException:
            self.close()
            raise
        return self

    def _create(self) -> None:
        srv = self.server.netns
        self._add(srv)
        ip("-n", srv, "link", "set", "lo", "up")
        ip("-n", srv, "link", "add", "br0", "type", "bridge")
        ip("-n", srv, "addr", "add", f"{SERVER_ADDRESS}/24", "dev", "br0")
        ip("-n", srv, "link", "set", "br0", "up")
        for n, node in enumerate(self.clients.values()):
            self._add(node.netns)
            port = f"port{n}"
            ip("-n", srv, "link", "add", port, "type", "veth", "peer", "name", "eth0", "netns", node.netns)
            ip("-n", srv, "link", "set", port, "master", "br0")
            ip("-n", srv, "link", "set", port, "up")
            ip("-n", node.netns, "link", "set", "lo", "up")
            ip("-n", node.netns, "addr", "add", f"{node.address}/24", "dev", "eth0")
            ip("-n", node.netns, "link", "set", "eth0", "up")

    def _add(self, netns: str) -> None:
        ip("netns", "add", netns)
        self._made.append(netns)

    def close(self) -> None:
        """Delete every namespace this lab made (idempotent)."""
        while self._made:
            netns = self._made.pop()
            subprocess.run(["ip", "netns", "delete", netns], capture_output=True, timeout=10, check=False)
