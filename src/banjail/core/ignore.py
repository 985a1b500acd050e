"""IgnoreSet: which failures a jail must not count (ignoreself, ignoreip), and IgnoreCache for ignorecommand.

Order and words are upstream's, because its log lines (`[jail] Ignore <ip> by <source>`) are parsed by users:
the host's own addresses first ("ignoreself rule"), then single addresses ("ip"), then networks and DNS names in
the order they were added ("ip" for a network, "dns" for a name). IPv4-mapped IPv6 addresses (::ffff:a.b.c.d) are
the IPv4 address, in entries and in queries. DNS names are resolved when added (or on `refresh`) through the
injected resolver, so `contains` never waits on the network.
"""

from __future__ import annotations

import ipaddress
from collections import OrderedDict
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass

from banjail.errors import ConfigError, Problem

Address = ipaddress.IPv4Address | ipaddress.IPv6Address
Network = ipaddress.IPv4Network | ipaddress.IPv6Network
Resolver = Callable[[str], Iterable[str]]

SELF = "ignoreself rule"
BY_IP = "ip"
BY_DNS = "dns"

_MAPPED = ipaddress.IPv6Network("::ffff:0:0/96")


def parse_address(text: str) -> Address | None:
    """The address `text` denotes (IPv4-mapped IPv6 folded to IPv4, `[v6]` brackets allowed), or None."""
    text = text.strip()
    if text.startswith("[") and text.endswith("]"):
        text = text[1:-1]
    try:
        address = ipaddress.ip_address(text)
    except ValueError:
        return None
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        return address.ipv4_mapped
    return address


def parse_network(text: str) -> Network | None:
    """The network `a.b.c.d/len`, `a.b.c.d/mask` or `v6/len` denotes (host bits ignored), or None."""
    try:
        network = ipaddress.ip_network(text.strip(), strict=False)
    except ValueError:
        return None
    if isinstance(network, ipaddress.IPv6Network) and network.prefixlen >= 96 and network.subnet_of(_MAPPED):
        address = network.network_address.ipv4_mapped
        assert address is not None
        return ipaddress.IPv4Network((int(address), network.prefixlen - 96))
    return network


def split_entries(text: str) -> list[str]:
    """The entries of an `ignoreip` value or of an ignore file: separated by spaces, commas or new lines; `#`
    starts a comment that runs to the end of its line."""
    words: list[str] = []
    for line in text.splitlines():
        words.extend(line.split("#", 1)[0].replace(",", " ").split())
    return words


@dataclass(frozen=True, slots=True)
class IgnoreMatch:
    """Why an address is ignored: source is "ignoreself rule", "ip" or "dns"; entry the ignoreip entry that
    matched ("" for ignoreself; for an entry from a file, the line's entry, and `file` names the file)."""

    source: str
    entry: str = ""
    file: str = ""


# Answers `match` remembers per address text; past it the memo starts over (a flood of new addresses).
MEMO_SIZE = 16_384
_UNSEEN = object()


class IgnoreSet:
    """The ignoreip/ignoreself rules of one jail. `contains` is cheap: an address seen before is one dict lookup
    (a bounded memo of answers, emptied by every change of the rules); a new one is parsed once, then a dict
    lookup for single addresses and one set lookup per distinct prefix length for networks."""

    def __init__(
        self,
        entries: Iterable[str] = (),
        *,
        ignoreself: bool = True,
        self_ips: Iterable[str] = (),
        resolver: Resolver | None = None,
        files: Mapping[str, str] | None = None,
    ) -> None:
        """`entries` are ignoreip words; a `file:PATH` entry takes its words from files[PATH] (read by the
        caller). Raises ConfigError listing every entry that is neither an address, a network nor a name."""
        self._memo: dict[str, IgnoreMatch | None] = {}
        self._ignoreself = ignoreself
        self._resolver = resolver
        self._files = dict(files or {})
        self._self: frozenset[Address] = frozenset(a for a in map(parse_address, self_ips) if a is not None)
        self._entries: list[str] = []
        self._singles: dict[Address, IgnoreMatch] = {}
        self._networks: dict[int, dict[int, IgnoreMatch]] = {}  # prefix key -> masked address -> match
        self._names: list[tuple[IgnoreMatch, frozenset[Address]]] = []
        problems: list[Problem] = []
        for entry in entries:
            try:
                self.add(entry)
            except ConfigError as exc:
                problems.extend(exc.problems)
        if problems:
            raise ConfigError(problems)

    @property
    def ignoreself(self) -> bool:
        """Whether the host's own addresses are ignored (`set <jail> ignoreself`)."""
        return self._ignoreself

    @ignoreself.setter
    def ignoreself(self, value: bool) -> None:
        self._ignoreself = value
        self._memo = {}

    @property
    def remembered(self) -> int:
        """How many answers of `match` are remembered (at most MEMO_SIZE)."""
        return len(self._memo)

    @property
    def entries(self) -> tuple[str, ...]:
        """The ignoreip entries as given, in order (what `get <jail> ignoreip` lists)."""
        return tuple(self._entries)

    def add(self, entry: str) -> None:
        """Add one ignoreip entry (`addignoreip`); an exact duplicate is ignored, as upstream."""
        entry = entry.strip()
        if not entry or entry in self._entries:
            return
        if entry.startswith("file:"):
            path = entry[5:]
            if path not in self._files:
                raise ConfigError(
                    Problem(f"ignore file {path!r} was not read", option="ignoreip", value=entry)
                )
            matches = [IgnoreMatch("", word, path) for word in split_entries(self._files[path])]
        else:
            matches = [IgnoreMatch("", entry)]
        for match in matches:
            self._add_one(match)
        self._entries.append(entry)
        self._memo = {}

    def _add_one(self, match: IgnoreMatch) -> None:
        word = match.entry
        address = parse_address(word)
        if address is not None:
            self._singles.setdefault(address, IgnoreMatch(BY_IP, word, match.file))
            return
        if "/" in word:
            network = parse_network(word)
            if network is None:
                raise ConfigError(
                    Problem(
                        "not an address, a network or a host name",
                        option="ignoreip",
                        value=word,
                        fix="write a.b.c.d, a.b.c.d/len, an IPv6 address or network, or a DNS name",
                    )
                )
            if network.num_addresses == 1:
                self._singles.setdefault(network.network_address, IgnoreMatch(BY_IP, word, match.file))
                return
            key = network.prefixlen if network.version == 4 else 256 + network.prefixlen
            self._networks.setdefault(key, {}).setdefault(
                int(network.network_address), IgnoreMatch(BY_IP, word, match.file)
            )
            return
        self._names.append((IgnoreMatch(BY_DNS, word, match.file), self._resolve(word)))

    def _resolve(self, name: str) -> frozenset[Address]:
        if self._resolver is None:
            return frozenset()
        found = (parse_address(text) for text in self._resolver(name))
        return frozenset(a for a in found if a is not None)

    def remove(self, entry: str) -> None:
        """Remove an ignoreip entry (`delignoreip`); unknown entries are ignored."""
        entry = entry.strip()
        if entry not in self._entries:
            return
        remaining = [e for e in self._entries if e != entry]
        self._entries = []
        self._singles.clear()
        self._networks.clear()
        self._names.clear()
        for kept in remaining:
            self.add(kept)
        self._memo = {}

    def refresh(self, resolver: Resolver | None = None) -> None:
        """Resolve every DNS entry again (with `resolver`, or the one given at construction)."""
        if resolver is not None:
            self._resolver = resolver
        # (may run off the loop while `match` runs on it) names first, then a new memo: an answer worked out
        # with the old names goes into the old memo, which nothing reads any more
        self._names = [(match, self._resolve(match.entry)) for match, _ in self._names]
        self._memo = {}

    def set_self_ips(self, self_ips: Iterable[str]) -> None:
        """Replace the host's own addresses (for ignoreself)."""
        self._self = frozenset(a for a in map(parse_address, self_ips) if a is not None)
        self._memo = {}

    def ignores_nothing(self) -> bool:
        """True when no rule can match any address (`match` is then None for every one), so a caller counting
        a batch may skip asking."""
        return (
            not self._singles
            and not self._networks
            and not self._names
            and not (self._ignoreself and self._self)
        )

    def match(self, ip: str) -> IgnoreMatch | None:
        """Why `ip` is ignored, or None. Anything that is not an address is never ignored (as upstream)."""
        if (  # ignores_nothing(), inlined: this runs for every failure
            not self._singles
            and not self._networks
            and not self._names
            and not (self._ignoreself and self._self)
        ):
            return None
        memo = self._memo  # taken before the rules are read (see refresh)
        found = memo.get(ip, _UNSEEN)
        if found is not _UNSEEN:
            return found  # type: ignore[return-value]
        found = self._match(ip)
        if len(memo) >= MEMO_SIZE:
            memo.clear()
        memo[ip] = found
        return found

    def _match(self, ip: str) -> IgnoreMatch | None:
        address = parse_address(ip)
        if address is None:
            return None
        if self._ignoreself and address in self._self:
            return IgnoreMatch(SELF)
        found = self._singles.get(address)
        if found is not None:
            return found
        if self._networks:
            value = int(address)
            v6 = address.version == 6
            width = 128 if v6 else 32
            for key, table in self._networks.items():
                if (key >= 256) != v6:
                    continue
                prefix = key - 256 if v6 else key
                masked = value >> (width - prefix) << (width - prefix) if prefix else 0
                hit = table.get(masked)
                if hit is not None:
                    return hit
        for name_match, addresses in self._names:
            if address in addresses:
                return name_match
        return None

    def overlap(self, network: str) -> IgnoreMatch | None:
        """The first ignore rule that covers any address of `network` (a prefix ban must not ban it whole), or
        None. Checked in `match`'s order: own addresses, single addresses, networks, resolved names."""
        net = parse_network(network)
        if net is None:
            return None
        if self.ignoreself and any(a.version == net.version and a in net for a in self._self):
            return IgnoreMatch(SELF)
        for address, found in self._singles.items():
            if address.version == net.version and address in net:
                return found
        width = 32 if net.version == 4 else 128
        for key, table in self._networks.items():
            v6 = key >= 256
            if v6 != (net.version == 6):
                continue
            prefix = key - 256 if v6 else key
            for masked, found in table.items():
                other = ipaddress.ip_network((masked, prefix)) if prefix <= width else None
                if other is not None and net.overlaps(other):
                    return found
        for name_match, addresses in self._names:
            if any(a.version == net.version and a in net for a in addresses):
                return name_match
        return None

    def contains(self, ip: str) -> str | None:
        """The upstream word for why `ip` is ignored ("ignoreself rule", "ip", "dns"), or None."""
        found = self.match(ip)
        return None if found is None else found.source


class IgnoreCache:
    """The `ignorecache` of one jail: remembered ignorecommand answers, each valid for `max_time` seconds, at
    most `max_count` of them (the oldest are dropped first, as upstream). Pure: time is an argument."""

    def __init__(self, max_count: int = 100, max_time: float = 300) -> None:
        self.max_count = max_count
        self.max_time = max_time
        self._items: OrderedDict[str, tuple[bool, float]] = OrderedDict()

    def __len__(self) -> int:
        return len(self._items)

    def get(self, key: str, now: float) -> bool | None:
        """The remembered answer for `key` (True: ignore), or None when unknown or expired."""
        item = self._items.get(key)
        if item is None:
            return None
        if item[1] > now:
            return item[0]
        del self._items[key]
        return None

    def set(self, key: str, ignore: bool, now: float) -> None:
        """Remember the answer for `key` until now + max_time."""
        items = self._items
        if key not in items and len(items) >= self.max_count:
            # Full: expired answers go first; if none had expired, the oldest answer makes room.
            for stale in [k for k, (_, until) in items.items() if until <= now]:
                del items[stale]
            while len(items) >= self.max_count:
                items.popitem(last=False)
        items[key] = (ignore, now + self.max_time)
        items.move_to_end(key)
