"""The text of banjail's native nftables action (pure: no I/O): the kernel layout of a jail from the action's
options, the set elements of bans, and the `nft -f -` scripts that build, fill and empty them. The layout and
what the scripts guarantee are described in banjail.actions.nftables."""

from __future__ import annotations

import ipaddress
import math
import re
import socket
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from banjail.actions.netcover import Network, element_text
from banjail.errors import ConfigError, Problem
from banjail.model import Ban

CHUNK = 50_000  # elements per transaction: big enough for speed, small enough for nft's memory
_IDENT = re.compile(r"[A-Za-z][A-Za-z0-9_.-]{0,200}\Z")
_PORT = re.compile(r"[A-Za-z0-9_-]+\Z")
_PROTO = re.compile(r"[a-z0-9]+\Z")
_BLOCKTYPE = re.compile(r"[a-z0-9 -]+\Z")
_PRIORITY = re.compile(r"-?[0-9]+\Z")
_HOOK = {"input", "forward", "prerouting", "output", "postrouting"}
DEFAULTS: Mapping[str, str] = {
    "type": "multiport",
    "port": "ssh",
    "protocol": "tcp",
    "blocktype": "reject",
    "table": "banjail",
    "chain_hook": "input",
    "chain_priority": "-1",
    "nftables": "nft",
    "timeout": "60",
}


@dataclass(frozen=True, slots=True)
class Layout:
    """The nftables objects of one jail, and the statements that build them (pure: no I/O)."""

    table: str
    chain: str
    set4: str
    set6: str
    match: str  # the rule's match before the address test, e.g. `meta l4proto { tcp } th dport { 22 }`
    blocktype: str
    hook: str = "input"
    priority: str = "-1"
    ipv6: bool = True
    net4: str = (
        ""  # the interval sets of network (CIDR) bans; "" for net-set-<chain's jail> (see layout_from)
    )
    net6: str = ""

    @property
    def families(self) -> tuple[tuple[str, str, str], ...]:
        """(nft address family, set name, set type) of the address sets, for every family this jail bans."""
        both = (("ip", self.set4, "ipv4_addr"), ("ip6", self.set6, "ipv6_addr"))
        return both if self.ipv6 else both[:1]

    @property
    def net_families(self) -> tuple[tuple[str, str, str], ...]:
        """(nft address family, set name, set type) of the network sets (interval sets), as `families`."""
        both = (
            ("ip", self.net4 or "net-" + self.set4, "ipv4_addr"),
            ("ip6", self.net6 or "net-" + self.set6, "ipv6_addr"),
        )
        return both if self.ipv6 else both[:1]

    def _sets(self) -> list[str]:
        flags = [(n, k, "timeout") for _, n, k in self.families]
        flags += [(n, k, "interval, timeout") for _, n, k in self.net_families]
        return [f"add set inet {self.table} {n} {{ type {k}; flags {f}; }}" for n, k, f in flags]

    def structure_script(self) -> str:
        """The jail's chain, sets and rules, created when missing and the rules written anew (one transaction:
        never a moment without them), in an existing table; elements already in the sets are kept. The action
        runs it beside every ban transaction, so whatever was removed behind banjail's back (chain, rules,
        sets) is back with the ban; a missing table makes it fail, and the action then runs start_script
        (under the table lock)."""
        lines = [
            f"add chain inet {self.table} {self.chain} "
            f"{{ type filter hook {self.hook} priority {self.priority}; policy accept; }}",
            f"flush chain inet {self.table} {self.chain}",
            *self._sets(),
        ]
        match = f"{self.match} " if self.match else ""
        for family, name, _ in (*self.families, *self.net_families):
            lines.append(
                f"add rule inet {self.table} {self.chain} {match}{family} saddr @{name} {self.blocktype}"
            )
        return "\n".join(lines) + "\n"

    def start_script(self) -> str:
        """Create what is missing and (re)write the chain's rules; existing set elements are kept."""
        return f"add table inet {self.table}\n" + self.structure_script()

    def stop_script(self) -> str:
        """Remove the jail's chain and sets; creating them first makes the transaction valid in any state."""
        lines = [
            f"add table inet {self.table}",
            f"add chain inet {self.table} {self.chain}",
            *self._sets(),
            f"delete chain inet {self.table} {self.chain}",
        ]
        lines += [f"delete set inet {self.table} {n}" for _, n, _ in (*self.families, *self.net_families)]
        return "\n".join(lines) + "\n"

    def flush_script(self) -> str:
        names = [n for _, n, _ in (*self.families, *self.net_families)]
        return "".join(f"flush set inet {self.table} {n}\n" for n in names)

    def net_script(self, cover: Mapping[Network, float | None], now: float) -> str:
        """Replace the network sets' elements by `cover` (see banjail.actions.netcover) in one transaction:
        the sets hold few elements, and writing them whole keeps the interval sets free of overlaps."""
        lines = []
        for version, (_, name, _) in zip((4, 6), self.net_families, strict=False):
            lines.append(f"flush set inet {self.table} {name}")
            items = [element_text(n, until, now) for n, until in cover.items() if n.version == version]
            if items:
                lines.append(f"add element inet {self.table} {name} {{ {', '.join(items)} }}")
        return "\n".join(lines) + "\n"


def layout_from(options: Mapping[str, str], jail: str, *, ipv6: bool = True) -> Layout:
    """The Layout the action's options describe; raises ConfigError naming each bad value and what is valid."""
    values = {**DEFAULTS, **{k: v.strip() for k, v in options.items()}}
    label = values.get("name") or jail
    problems: list[Problem] = []

    def bad(option: str, fix: str) -> None:
        problems.append(
            Problem(
                "invalid value",
                section=f"{jail} action nftables",
                option=option,
                value=values.get(option, ""),
                fix=fix,
            )
        )

    def ident(option: str, default: str) -> str:
        value = values.get(option) or default
        if not _IDENT.match(value):
            values[option] = value
            bad(option, "an nftables name: a letter, then letters, digits, _ . -")
        return value

    table = ident("table", "banjail")
    chain = ident("chain_name", f"f2b-{label}")
    set4 = ident("set4", f"addr-set-{label}")
    set6 = ident("set6", f"addr6-set-{label}")
    net4 = ident("netset4", f"net-set-{label}")
    net6 = ident("netset6", f"net6-set-{label}")
    kind = values["type"]
    protocols = [p.strip() for p in values["protocol"].replace(" ", ",").split(",") if p.strip()]
    if not all(_PROTO.match(p) for p in protocols):
        bad("protocol", "protocol names such as tcp, udp, sctp separated by commas")
    l4 = f"meta l4proto {{ {', '.join(protocols)} }}" if protocols and protocols != ["all"] else ""
    if kind == "allports":
        match = l4
    elif kind == "multiport":
        ports = [
            p.strip().replace(":", "-") for p in values["port"].replace(" ", ",").split(",") if p.strip()
        ]
        if not ports or not all(_PORT.match(p) for p in ports):
            bad("port", "ports, service names or ranges a:b separated by commas")
        match = f"{l4} th dport {{ {', '.join(ports)} }}".strip()
    else:
        bad("type", "multiport or allports")
        match = ""
    blocktype = values["blocktype"]
    if not _BLOCKTYPE.match(blocktype):
        bad("blocktype", "an nftables verdict such as reject or drop")
    hook = values["chain_hook"]
    if hook not in _HOOK:
        bad("chain_hook", "one of " + ", ".join(sorted(_HOOK)))
    priority = values["chain_priority"]
    if not _PRIORITY.match(priority):
        bad("chain_priority", "an integer")
    if problems:
        raise ConfigError(problems)
    return Layout(table, chain, set4, set6, match, blocktype, hook, priority, ipv6, net4, net6)


def element(ban: Ban, now: float) -> tuple[str, str] | None:
    """The address and set element for `ban` at `now` (`10.0.0.1 timeout 600s`, the time left rounded up to
    the second, or the bare address for a permanent ban); None when the ban has no address, is not a single
    address, or is already over."""
    found = elements((ban,), now)
    return found[0] if found else None


def elements(bans: Iterable[Ban], now: float) -> list[tuple[str, str]]:
    """`element` for many bans, leaving out those that give None. This is the hot loop of a flood or a restore
    (about 1 us per ban): inet_pton accepts exactly the dotted quads nft reads as one address; anything else
    (IPv6, mapped IPv4, junk) takes the slow path through ipaddress."""
    found: list[tuple[str, str]] = []
    add = found.append
    pton, inet, ceil = socket.inet_pton, socket.AF_INET, math.ceil
    for ban in bans:
        address = ban.ip
        if address is None:
            continue
        try:
            pton(inet, address)
        except OSError:
            try:
                parsed = ipaddress.ip_address(address)
            except ValueError:
                continue
            if parsed.version == 6 and parsed.ipv4_mapped is not None:
                parsed = parsed.ipv4_mapped
            address = str(parsed)
        until = ban.until
        if until is None:
            add((address, address))
            continue
        left = ceil(until - now)
        if left > 0:
            add((address, f"{address} timeout {left}s"))
    return found


def element_scripts(
    layout: Layout,
    elements: Iterable[tuple[str, str]],
    verb: str,
    chunk: int = CHUNK,
    refresh: bool = False,
) -> list[str]:
    """One nft script per `chunk` distinct addresses (pairs from `elements`), each a single transaction.
    verb: add | delete.

    `delete` first adds each address (a no-op when present), so deleting an address that is already gone or
    expired is not an error. `refresh` (with add) deletes and re-adds, so a new timeout replaces the old one.
    """
    scripts: list[str] = []
    # One entry per address, the last given winning: nft refuses to delete the same element twice in one
    # statement, and a batch may name an address twice (banned, unbanned by hand, banned again).
    pending = list(dict(elements).items())
    for begin in range(0, len(pending), max(1, chunk)):
        part = pending[begin : begin + max(1, chunk)]
        lines: list[str] = []
        for name, items in (
            (layout.set4, [e for e in part if ":" not in e[0]]),
            (layout.set6, [e for e in part if ":" in e[0]]),
        ):
            if not items or (name == layout.set6 and not layout.ipv6):
                continue
            head = f"element inet {layout.table} {name}"
            if verb == "delete" or refresh:
                bare = ", ".join([address for address, _ in items])
                lines += [f"add {head} {{ {bare} }}", f"delete {head} {{ {bare} }}"]
            if verb == "add":
                lines.append(f"add {head} {{ {', '.join([text for _, text in items])} }}")
        if lines:
            scripts.append("\n".join(lines) + "\n")
    return scripts
