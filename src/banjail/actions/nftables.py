"""banjail's native nftables action: batched bans in kernel sets with per-element timeouts.

Layout in the kernel (names from the action's options; defaults shown for jail `sshd`):

    table inet banjail {
        set addr-set-sshd  { type ipv4_addr; flags timeout; }    # single addresses: one set per jail and family
        set addr6-set-sshd { type ipv6_addr; flags timeout; }
        set net-set-sshd   { type ipv4_addr; flags interval, timeout; }   # network (CIDR) bans
        set net6-set-sshd  { type ipv6_addr; flags interval, timeout; }
        chain f2b-sshd {                                          # one chain per jail, hooked at input
            type filter hook input priority -1; policy accept;
            meta l4proto { tcp } th dport { 22 } ip saddr @addr-set-sshd reject
            ... the same for addr6-set-sshd (ip6), net-set-sshd (ip) and net6-set-sshd (ip6)
        }
    }

Networks have sets of their own because nft checks an interval set's new elements against every element it
holds (0.75 s per transaction with 50k elements), while plain sets take 100k addresses in 0.3 s.

Guarantees:
- Every element carries the ban's remaining time as its timeout, so the kernel lifts a ban on time even when
  the daemon is down; a permanent ban has no timeout. A ban whose time is already over is not added.
- `ban(bans)` applies the whole batch in one `nft -f -` transaction (several, run side by side, for batches
  larger than `chunk` elements): either all of a chunk is in place or none of it. Restored bans go the same
  way. Network bans (`10.9.0.0/24`) go to the network sets as banjail.actions.netcover describes: each change
  rewrites those (small) sets whole, in one transaction.
- `start` is idempotent and keeps the elements already in the sets (after `kill -9` the bans stay enforced and
  no rule is duplicated: the jail's chain is flushed and refilled in the same transaction). `stop` removes the
  jail's chain and sets, and the table once no jail uses it. `unban` of an address not in a set is not an error.
- Repair: beside every ban transaction runs one that writes the jail's structure anew (chain, sets, rules, in
  one transaction), so a chain flushed, a rule or a set deleted behind banjail's back is back with the next ban.
  A transaction that fails (the table is gone: `nft flush ruleset`, a firewall reload) makes the action
  rebuild table, chain and sets and try once more; a second failure raises ActionError.
- nft runs by argv behind the Runner's prefix; no shell is involved and no log-derived text reaches nft: only
  addresses that parse as IP addresses are written, and config values are checked against narrow patterns.
"""

from __future__ import annotations

import asyncio
import logging
import re
import time
import weakref
from collections.abc import Callable, Mapping, Sequence

from banjail.actions.kernelset import KernelSetAction
from banjail.actions.netcover import Network, cover, networks
from banjail.actions.nftscript import (
    CHUNK,
    DEFAULTS,
    Layout,
    element,
    element_scripts,
    elements,
    layout_from,
)
from banjail.actions.program import run_program
from banjail.actions.runner import Runner
from banjail.config.schema import ActionSpec
from banjail.errors import ActionError
from banjail.model import Ban

__all__ = [
    "CHUNK",
    "DEFAULTS",
    "Layout",
    "NftablesAction",
    "element",
    "element_scripts",
    "elements",
    "layout_from",
]

log = logging.getLogger("banjail.actions")

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
        self._nets: dict[str, tuple[Network, float | None]] = {}  # network bans in force, by fid

    async def start(self) -> None:
        """Create the jail's table, chain, sets and rules (idempotent; elements already present stay)."""
        async with self._lock:
            await self._start()

    async def stop(self) -> None:
        """Remove the jail's chain and sets, then the table if no other jail's objects are left in it."""
        async with self._lock, _table_lock(self._table_key()):
            await self._nft(self.layout.stop_script(), "stopping")
            self._started = False
            self._nets.clear()
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
            self._nets.clear()
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
        nets = networks(bans) if len(items) < len(bans) else []
        if len(items) + len(nets) < len(bans):
            log.debug(
                "[%s] nftables: %d ban(s) skipped (over, or not an address)",
                self.jail,
                len(bans) - len(items) - len(nets),
            )
        async with self._lock:
            if not items and not nets:
                return
            if not self._started:
                # Also before an unban: the sets may hold elements a previous run left in the kernel.
                await self._start()
            label = f"{what} ({len(items) + len(nets)} address(es) in this batch)"
            scripts = element_scripts(self.layout, items, verb, self._chunk, refresh)
            if nets:
                for fid, network, until in nets:
                    if verb == "delete":
                        self._nets.pop(fid, None)
                    else:
                        self._nets[fid] = (network, until)
                scripts.append(self.layout.net_script(cover(self._nets, now), now))
            if verb == "add":
                # Repair beside the ban: the structure is written anew in a transaction of its own (about 17 ms
                # of nft's time; a ban's own takes 7), which the kernel commits before or after the elements:
                # the elements land as soon as without it, and a removed rule is back right after.
                scripts.append(self.layout.structure_script())
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
