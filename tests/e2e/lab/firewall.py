"""What the lab server's firewall holds, read with `nft -j` and `iptables -S` inside its network namespace."""

from __future__ import annotations

import json
from typing import Any

from .netns import in_netns


def nft_elements(netns: str, table: str, set_name: str, family: str = "inet") -> list[str]:
    """The addresses in an nftables set (an empty list when the set or table does not exist)."""
    run = in_netns(netns, ["nft", "-j", "list", "set", family, table, set_name], timeout=10)
    if run.returncode != 0:
        return []
    found: list[str] = []
    for item in json.loads(run.stdout)["nftables"]:
        for element in item.get("set", {}).get("elem", []):
            found.append(_element_address(element))
    return found


def _element_address(element: Any) -> str:
    # A plain element is a string; one with a timeout is {"elem": {"val": ..., "timeout": ..., "expires": ...}}.
    if isinstance(element, dict) and "elem" in element:
        return str(element["elem"]["val"])
    return str(element)


def nft_ruleset(netns: str) -> str:
    """`nft list ruleset` text."""
    return in_netns(netns, ["nft", "list", "ruleset"], timeout=10).stdout


def iptables_rules(netns: str, family: int = 4) -> list[str]:
    """`iptables -S` (or ip6tables) lines."""
    tool = "iptables" if family == 4 else "ip6tables"
    return in_netns(netns, [tool, "-w", "-S"], timeout=10).stdout.splitlines()


def flush(netns: str) -> None:
    """Empty the server namespace's firewall (ours alone: the lab created this namespace)."""
    in_netns(netns, ["nft", "flush", "ruleset"], timeout=10)
