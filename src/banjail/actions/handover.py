"""A bridge over a graceful restart for command actions whose actionstop removes their bans (iptables rules).

Upstream runs actionstop when the server stops, and actionstart and one ban per restored address when it starts
again: in between, every banned address gets in (about a second in banjail's seed scenario). banjail keeps that
contract (actionstop runs, the action's rules go) and closes the gap: a command action that runs iptables,
ip6tables, ipset or nft commands (recognised by its actionban's commands: upstream's own iptables-*, ipset and
nftables files, unchanged) or whose file declares `handover = yes` in [Init] has, just before it stops at daemon
shutdown, the jail's bans written to `table inet banjail-handover`:

- one set per family, whose elements the kernel expires after at most HANDOVER_SECONDS (less when the ban ends
  sooner), so a stop that is not followed by a start leaves nothing enforced for longer than that;
- one chain per jail, hooked before the usual filter chains, that drops those addresses' traffic to the action's
  ports (`protocol` and `port`, as the action matches them; every port of `protocol` with `type = allports`).

When the jail has started again and its restored bans are applied, its chain and sets are deleted. A start after
an unclean stop (kill -9) holds the restored bans the same way while the killed server's rules are cleared and
applied again (banjail.actions.command.CommandAction.clear_leftovers). Nothing here
comes from a log line but addresses, and each is written only after it parsed as one.
"""

from __future__ import annotations

import ipaddress
import re
from collections.abc import Iterable, Mapping

from banjail.model import Ban

HANDOVER_SECONDS = 15
TABLE = "inet banjail-handover"
PRIORITY = -5  # before the filter chains at priority 0, so the hold applies whatever they say
_PORT = re.compile(r"[A-Za-z0-9_-]+(?::[A-Za-z0-9_-]+)?\Z")
_PROTOCOL = re.compile(r"[a-z0-9]+\Z")


# Firewall programs whose rules a command action's actionstop removes (the handover bridges them).
FIREWALL_TOOLS = frozenset(
    {"iptables", "ip6tables", "iptables-legacy", "ip6tables-legacy", "iptables-nft", "ip6tables-nft", "ipset", "nft"}
)
# Simple commands are separated by these; their first word (after keywords and variable assignments) runs.
_SEPARATORS = re.compile(r"[;&|{}()\n`]")
_KEYWORDS = frozenset({"if", "then", "else", "elif", "do", "while", "until", "!", "time", "exec", "command"})
_ASSIGNMENT = re.compile(r"[A-Za-z_][A-Za-z0-9_]*=")


def firewall_tool(script: str) -> str | None:
    """The first firewall program (FIREWALL_TOOLS, any directory) `script` runs as a command, or None."""
    for segment in _SEPARATORS.split(script):
        for word in segment.split():
            if word in _KEYWORDS or _ASSIGNMENT.match(word):
                continue
            name = word.rsplit("/", 1)[-1]
            if name in FIREWALL_TOOLS:
                return name
            break
    return None


def covers(options: Mapping[str, str], tool: str | None) -> bool:
    """Whether an action's bans are held over a restart: it runs a firewall tool, or declares `handover`."""
    return tool is not None or declared(options)


def declared(options: Mapping[str, str]) -> bool:
    """Whether an action's options ask for the handover (`handover = yes|true|on|1`)."""
    return options.get("handover", "").strip().lower() in ("yes", "true", "on", "1")


def _names(jail: str) -> tuple[str, str, str]:
    base = "j_" + re.sub(r"[^A-Za-z0-9_]", "_", jail)
    return base, base + "_4", base + "_6"


def _match(options: Mapping[str, str]) -> str | None:
    """nft text matching the traffic the action blocks (protocol and ports), or None when it cannot say."""
    protocol = options.get("protocol", "tcp").strip().lower()
    if not _PROTOCOL.match(protocol):
        return None
    head = "" if protocol == "all" else f"meta l4proto {protocol} "
    if options.get("type", "").strip() == "allports" or protocol == "all":
        return head
    ports = [p.strip() for p in options.get("port", "").split(",") if p.strip()]
    if not ports or not all(_PORT.match(p) for p in ports):
        return None
    return head + "th dport { " + ", ".join(p.replace(":", "-") for p in ports) + " } "


def hold_script(jail: str, options: Mapping[str, str], bans: Iterable[Ban], now: float) -> str | None:
    """The nft script that holds `bans` (the jail's bans in force at `now`) for the handover, or None when there
    is nothing to hold or the action's ports cannot be expressed."""
    match = _match(options)
    if match is None:
        return None
    elements: dict[int, list[str]] = {4: [], 6: []}
    for ban in bans:
        try:
            address = ipaddress.ip_address(ban.ip or ban.fid)
        except ValueError:
            continue  # a network or an id: not held
        left = HANDOVER_SECONDS if ban.until is None else min(HANDOVER_SECONDS, int(ban.until - now))
        if left >= 1:
            elements[address.version].append(f"{address} timeout {left}s")
    if not elements[4] and not elements[6]:
        return None
    chain, set4, set6 = _names(jail)
    lines = [*_structure(chain, set4, set6), f"flush chain {TABLE} {chain}"]
    lines += [
        f"add rule {TABLE} {chain} {match}ip saddr @{set4} drop",
        f"add rule {TABLE} {chain} {match}ip6 saddr @{set6} drop",
    ]
    for name, found in ((set4, elements[4]), (set6, elements[6])):
        if found:
            lines.append(f"add element {TABLE} {name} {{ {', '.join(found)} }}")
    return "\n".join(lines) + "\n"


def release_script(jail: str) -> str:
    """The nft script that removes the jail's handover (whether or not there is one: it is created first, so
    the one transaction never fails for a missing object)."""
    chain, set4, set6 = _names(jail)
    lines = [
        *_structure(chain, set4, set6),
        f"flush chain {TABLE} {chain}",
        f"delete chain {TABLE} {chain}",
        f"delete set {TABLE} {set4}",
        f"delete set {TABLE} {set6}",
    ]
    return "\n".join(lines) + "\n"


def _structure(chain: str, set4: str, set6: str) -> list[str]:
    return [
        f"add table {TABLE}",
        f"add set {TABLE} {set4} {{ type ipv4_addr; flags timeout; }}",
        f"add set {TABLE} {set6} {{ type ipv6_addr; flags timeout; }}",
        f"add chain {TABLE} {chain} {{ type filter hook input priority {PRIORITY}; policy accept; }}",
    ]
