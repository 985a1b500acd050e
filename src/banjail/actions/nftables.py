"""banjail's native nftables action: batched bans in kernel sets with per-element timeouts.

Layout in the kernel (names from the action's options; defaults shown for jail `sshd`):

    table inet banjail {
        set addr-set-sshd  { type ipv4_addr; flags timeout; }    # one set per jail and family
        set addr6-set-sshd { type ipv6_addr; flags timeout; }
        chain f2b-sshd {                                          # one chain per jail, hooked at input
            type filter hook input priority -1; policy accept;
            meta l4proto { tcp } th dport { 22 } ip saddr @addr-set-sshd reject
            meta l4proto { tcp } th dport { 22 } ip6 saddr @addr6-set-sshd reject
        }
    }

Guarantees:
- Every element carries the ban's remaining time as its timeout, so the kernel lifts a ban on time even when
  the daemon is down; a permanent ban has no timeout. A ban whose time is already over is not added.
- `ban(bans)` applies the whole batch in one `nft -f -` transaction (several, run side by side, for batches
  larger than `chunk` elements): either all of a chunk is in place or none of it. Restored bans go the same
  way.
- `start` is idempotent and keeps the elements already in the sets (after `kill -9` the bans stay enforced and
  no rule is duplicated: the jail's chain is flushed and refilled in the same transaction). `stop` removes the
  jail's chain and sets, and the table once no jail uses it. `unban` of an address not in a set is not an error.
- A transaction that fails (the table was flushed away by hand or by a firewall reload) makes the action
  rebuild its chain and sets and try once more; a second failure raises ActionError.
- nft runs by argv behind the Runner's prefix; no shell is involved and no log-derived text reaches nft: only
  addresses that parse as IP addresses are written, and config values are checked against narrow patterns.
"""

from __future__ import annotations

import asyncio
import ipaddress
import logging
import math
import re
import socket
import time
import weakref
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass

from banjail.actions.kernelset import KernelSetAction
from banjail.actions.program import run_program
from banjail.actions.runner import Runner
from banjail.config.schema import ActionSpec
from banjail.errors import ActionError, ConfigError, Problem
from banjail.model import Ban

log = logging.getLogger("banjail.actions")

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

    @property
    def families(self) -> tuple[tuple[str, str, str], ...]:
        """(nft address family, set name, set type) for every family this jail bans."""
        both = (("ip", self.set4, "ipv4_addr"), ("ip6", self.set6, "ipv6_addr"))
        return both if self.ipv6 else both[:1]

    def start_script(self) -> str:
        """Create what is missing and (re)write the chain's rules; existing set elements are kept."""
        lines = [
            f"add table inet {self.table}",
            f"add chain inet {self.table} {self.chain} "
            f"{{ type filter hook {self.hook} priority {self.priority}; policy accept; }}",
            f"flush chain inet {self.table} {self.chain}",
        ]
        for _, name, kind in self.families:
            lines.append(f"add set inet {self.table} {name} {{ type {kind}; flags timeout; }}")
        for family, name, _ in self.families:
            match = f"{self.match} " if self.match else ""
            lines.append(
                f"add rule inet {self.table} {self.chain} {match}{family} saddr @{name} {self.blocktype}"
            )
        return "\n".join(lines) + "\n"

    def stop_script(self) -> str:
        """Remove the jail's chain and sets; creating them first makes the transaction valid in any state."""
        lines = [
            f"add table inet {self.table}",
            f"add chain inet {self.table} {self.chain}",
        ]
        lines += [
            f"add set inet {self.table} {n} {{ type {k}; flags timeout; }}" for _, n, k in self.families
        ]
        lines.append(f"delete chain inet {self.table} {self.chain}")
        lines += [f"delete set inet {self.table} {n}" for _, n, _ in self.families]
        return "\n".join(lines) + "\n"

    def flush_script(self) -> str:
        return "".join(f"flush set inet {self.table} {n}\n" for _, n, _ in self.families)


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
    return Layout(table, chain, set4, set6, match, blocktype, hook, priority, ipv6)


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


# One lock per event loop and table: a jail's stop must not delete the table while another jail creates
# its chain in it. All jails of a daemon share one loop, so this serialises exactly the racing operations.
_TABLE_LOCKS: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, dict[str, asyncio.Lock]] = (
    weakref.WeakKeyDictionary()
)


def _table_lock(key: str) -> asyncio.Lock:
    locks = _TABLE_LOCKS.setdefault(asyncio.get_running_loop(), {})
    return locks.setdefault(key, asyncio.Lock())


class NftablesAction(KernelSetAction):
    """The native nftables action of one jail (see the module doc for what it guarantees)."""

    DEFAULTS = DEFAULTS

    def __init__(
        self,
        spec: ActionSpec,
        *,
        jail: str,
        runner: Runner | None = None,
        clock: Callable[[], float] = time.time,
        ipv6: bool = True,
        chunk: int = CHUNK,
    ) -> None:
        super().__init__(spec, jail=jail, runner=runner, clock=clock, ipv6=ipv6)
        self._chunk = chunk
        self.layout = layout_from(self._options, jail, ipv6=ipv6)

    async def start(self) -> None:
        """Create the jail's table, chain, sets and rules (idempotent; elements already present stay)."""
        async with self._lock:
            await self._start()

    async def stop(self) -> None:
        """Remove the jail's chain and sets, then the table if no other jail's objects are left in it."""
        async with self._lock, _table_lock(self._table_key()):
            await self._nft(self.layout.stop_script(), "stopping")
            self._started = False
            listing = await run_program(
                self.runner,
                (self._nft_program(), "-t", "list", "table", "inet", self.layout.table),
                timeout=self.timeout,
            )
            if listing.ok and not re.search(r"^\s*(set|chain|map|flowtable)\s", listing.stdout, re.M):
                await self._nft(f"delete table inet {self.layout.table}\n", "removing the table")

    async def ban(self, bans: Sequence[Ban]) -> None:
        """Add every ban of the batch with its remaining time as timeout, in as few transactions as possible."""
        await self._elements(bans, "add", "banning")

    async def reban(self, bans: Sequence[Ban]) -> None:
        await self._elements(bans, "add", "rebanning")

    async def prolong(self, bans: Sequence[Ban]) -> None:
        """Replace the timeouts of bans that got longer."""
        await self._elements(bans, "add", "prolonging", refresh=True)

    async def unban(self, bans: Sequence[Ban]) -> None:
        """Remove the addresses; one already gone (expired in the kernel) is not an error."""
        await self._elements(bans, "delete", "unbanning")

    async def flush(self) -> None:
        """Empty the jail's sets (the chain and its rules stay)."""
        async with self._lock:
            if self._started:
                await self._nft(self.layout.flush_script(), "flushing")

    def properties(self) -> Mapping[str, str]:
        return {**DEFAULTS, **self._options}

    def set_property(self, key: str, value: str) -> None:
        """Change an option; a changed layout applies at the next start."""
        options = {**self._options, key: value}
        self.layout = layout_from(options, self.jail, ipv6=self._ipv6)
        self._options = options

    # -- internals ----------------------------------------------------------------------------------------

    async def _elements(self, bans: Sequence[Ban], verb: str, what: str, refresh: bool = False) -> None:
        now = self._clock()
        items = elements(bans, now)
        if len(items) < len(bans):
            log.debug(
                "[%s] nftables: %d ban(s) skipped (over, or not an address)",
                self.jail,
                len(bans) - len(items),
            )
        async with self._lock:
            if not items:
                return
            if not self._started:
                # Also before an unban: the sets may hold elements a previous run left in the kernel.
                await self._start()
            label = f"{what} ({len(items)} address(es) in this batch)"
            scripts = element_scripts(self.layout, items, verb, self._chunk, refresh)
            # The chunks name distinct addresses, so they may commit in any order: run their nft processes side
            # by side (each parses its text on its own core; the kernel commits them one after the other).
            # Every chunk finishes (or fails) before the lock is let go; the first failure is raised.
            results = await asyncio.gather(*(self._apply(s, label) for s in scripts), return_exceptions=True)
            for result in results:
                if isinstance(result, BaseException):
                    raise result

    async def _apply(self, script: str, label: str) -> None:
        try:
            await self._nft(script, label)
        except ActionError as first:
            # Someone removed our table or sets (`nft flush ruleset`, a firewall reload): build them again and
            # retry once, as upstream repairs an action whose check fails.
            log.warning("%s; recreating the jail's chain and sets and trying again", first)
            await self._start()
            await self._nft(script, label)

    async def _start(self) -> None:
        async with _table_lock(self._table_key()):
            try:
                await self._nft(self.layout.start_script(), "starting")
            except ActionError as first:
                # A set or chain left with another definition (another version, a hand edit): rebuild them.
                log.warning("%s; recreating the jail's chain and sets", first)
                await self._nft(self.layout.stop_script() + self.layout.start_script(), "starting")
        self._started = True

    async def _nft(self, script: str, what: str) -> None:
        outcome = await run_program(
            self.runner, (self._nft_program(), "-f", "-"), script.encode(), self.timeout
        )
        if not outcome.ok:
            first = script.splitlines()[0] if script else ""
            head = first if len(first) < 200 else first[:200] + "..."
            raise ActionError(
                f"[{self.jail}] action {self.name}: error {what}: {outcome.describe()}; "
                f"nft script starts: {head}"
            )

    def _nft_program(self) -> str:
        return self._options.get("nftables", "").strip() or DEFAULTS["nftables"]

    def _table_key(self) -> str:
        return " ".join((*self.runner.prefix, self.layout.table))
