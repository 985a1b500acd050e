"""The daemon side of the fleet: publishing the bans this host decides, applying the bans other hosts decided.

Publishing: `outbox(jail, bans)` gives the signed notices of a batch's new local bans; the daemon commits them
with the bans (banjail.daemon.outcome), then `wake()`s the sender, which XADDs what the outbox holds and removes
what Redis acknowledged. Redis away: local banning goes on, the outbox grows, the sender retries with backoff.

Subscribing: one blocking XREAD after the stored cursor. Each entry is verified (dropped, logged and counted when
it is not), own notices and jails that do not subscribe are skipped, and every remote ban goes through the host's
own ignore rules before it is offered to the jail's book (banjail.fleet.remote). The resulting decisions and the
id of the last entry read are committed in one transaction, then logged and applied by the jail's actions, as
any other ban. A new host (no cursor) reads the stream from its start: the stream is trimmed to the longest
bantime, so that is the set of bans in force (expired ones are dropped by the book), then follows it.
"""

from __future__ import annotations

import asyncio
import functools
import sqlite3
from collections.abc import Awaitable, Callable, Sequence
from typing import TYPE_CHECKING, TypeVar

from banjail.core.banbook import BANNED, PROLONGED
from banjail.core.jail import BanDecided, Event, Ignored
from banjail.daemon import effects
from banjail.daemon.logging import logger
from banjail.errors import BanjailError
from banjail.fleet import link, remote
from banjail.fleet.counters import FleetCounters, FleetSnapshot
from banjail.fleet.notice import Notice, NoticeError, ban_notice, decode, encode, unban_notice
from banjail.fleet.settings import PUBLISHES, SUBSCRIBES, FleetConfig, safe_url
from banjail.model import Ban
from banjail.store import fleetstate
from banjail.store.checkpoint import Checkpoint
from banjail.store.sqlite import SqliteStore

if TYPE_CHECKING:
    from banjail.daemon.app import Daemon
    from banjail.daemon.jail import Jail

T = TypeVar("T")
log_fleet = logger("fleet")
SEND_BATCH = 500
RESTART_S = 1.0


class Fleet:
    """One host's membership in the fleet. Built by the server when fail2ban.local has a [fleet] section;
    `start` after the jails restored their bans, `close` before they stop."""

    def __init__(self, config: FleetConfig, daemon: Daemon) -> None:
        self.config = config
        self.daemon = daemon
        self.counters = FleetCounters()
        where = safe_url(config.redis)
        self._publisher = link.Link(config.redis, "publisher", self.counters, log_fleet, where)
        source = config.replica or config.redis
        self._subscriber = link.Link(source, "subscriber", self.counters, log_fleet, safe_url(source))
        self._wake = asyncio.Event()
        self._tasks: list[asyncio.Task[None]] = []

    # -- what the rest of the daemon calls ----------------------------------------------------------------------

    def snapshot(self) -> FleetSnapshot:
        """The fleet counters now (for metrics: banjail.fleet.counters.FleetSnapshot)."""
        return self.counters.snapshot()

    @staticmethod
    def mode(jail: Jail) -> str:
        return jail.config.fleet

    def outbox(self, jail: Jail, bans: Sequence[Ban]) -> tuple[dict[str, str], ...]:
        """The signed notices for `bans`, the bans a batch of `jail`'s own lines or commands decided (never a
        batch of remote notices: those are not sent on), about to be committed: none unless the jail publishes.
        A local decision that prolonged a ban from the fleet is published too, with this host as its origin."""
        if self.mode(jail) not in PUBLISHES:
            return ()
        now = self.daemon.clock.now()
        host, key = self.config.host, self.config.key
        filter_name = jail.config.filter.name
        return tuple(
            encode(
                ban_notice(
                    jail.name, b.fid, b.at, b.until, b.count, host, remote.reason_for(b, filter_name), now
                ),
                key,
            )
            for b in bans
        )

    def wake(self) -> None:
        """New notices are in the outbox."""
        self._wake.set()

    async def publish_unbans(self, jail: Jail, targets: Sequence[str]) -> None:
        """`unbanip --fleet`: queue unban notices for `targets` (whatever the jail's mode: asked by hand)."""
        now = self.daemon.clock.now()
        entries = [
            encode(unban_notice(jail.name, t, self.config.host, now), self.config.key) for t in targets
        ]
        await self._store(lambda db: fleetstate.enqueue(db, entries))
        self.wake()

    async def start(self) -> None:
        self._store_or_fail()
        self._tasks.append(asyncio.create_task(_kept(self._send, "sender"), name="fleet:send"))
        self._tasks.append(asyncio.create_task(_kept(self._receive, "subscriber"), name="fleet:receive"))
        self.wake()  # notices left in the outbox by the last run go out now
        log_fleet.info("fleet: host %r on stream %r", self.config.host, self.config.stream)

    async def close(self) -> None:
        for task in self._tasks:
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        self._tasks.clear()
        await self._publisher.close()
        await self._subscriber.close()

    # -- the store ----------------------------------------------------------------------------------------------

    def _store_or_fail(self) -> SqliteStore:
        store = self.daemon.store
        if not isinstance(store, SqliteStore):
            raise BanjailError(
                "[fleet] needs the database: set dbfile in fail2ban.local (the outbox and the stream cursor live there)"
            )
        return store

    async def _store(self, work: Callable[[sqlite3.Connection], T]) -> T:
        """Run `work` in a transaction on the store executor, the fleet's tables made first if missing (the
        database may have been switched with `set dbfile`)."""
        store = self._store_or_fail()

        def run(db: sqlite3.Connection) -> T:
            fleetstate.create(db)
            return work(db)

        return await self.daemon.db(store.run, run)

    # -- publishing ---------------------------------------------------------------------------------------------

    def _minid(self) -> str | None:
        """Entries older than the longest bantime of a publishing jail can go (None: a permanent ban may be in
        the stream, nothing is trimmed)."""
        longest = 0.0
        for jail in self.daemon.jails.values():
            config = jail.config
            if self.mode(jail) not in PUBLISHES:
                continue
            if config.bantime < 0 or (config.bantime_increment and config.bantime_maxtime is None):
                return None
            longest = max(longest, config.bantime, config.bantime_maxtime or 0.0)
        oldest = self.daemon.clock.now() - longest - 60  # a minute's slack for clocks that differ
        return f"{max(0, int(oldest * 1000))}-0"

    async def _send(self) -> None:
        while True:
            await self._wake.wait()
            self._wake.clear()
            while True:
                rows = await self._store(lambda db: fleetstate.pending(db, SEND_BATCH))
                if not rows:
                    self.counters.outbox = 0
                    break
                try:
                    await link.publish(
                        self._publisher, self.config.stream, [e for _, e in rows], self._minid()
                    )
                except asyncio.CancelledError:
                    raise
                except link.FAILURES as exc:
                    self.counters.outbox = await self._store(fleetstate.depth)
                    await self._publisher.down(exc)
                    continue
                self._publisher.up()
                ids = [i for i, _ in rows]
                await self._store(functools.partial(fleetstate.sent, ids=ids))
                self.counters.messages_out += len(ids)
                self.counters.outbox = await self._store(fleetstate.depth)

    # -- subscribing --------------------------------------------------------------------------------------------

    async def _receive(self) -> None:
        stream = self.config.stream
        after = await self._store(lambda db: fleetstate.cursor(db, stream)) or "0"
        while True:
            try:
                entries = await link.read(self._subscriber, stream, after)
            except asyncio.CancelledError:
                raise
            except link.FAILURES as exc:
                await self._subscriber.down(exc)
                continue
            self._subscriber.up()
            if entries:
                await self._apply(entries)
                after = entries[-1][0]

    async def _apply(self, entries: link.Entries) -> None:
        """Apply stream entries; commit their decisions with the id of the last one."""
        daemon = self.daemon
        now = daemon.clock.now()
        counters = self.counters
        by_jail: dict[str, list[Event]] = {}
        for entry_id, values in entries:
            counters.messages_in += 1
            try:
                notice = decode(values, self.config.key)
            except NoticeError as exc:
                counters.drop(str(exc).split(":", 1)[0])
                log_fleet.warning(
                    "fleet: dropped stream entry %s from %r: %s", entry_id, values.get("origin", "?"), exc
                )
                continue
            jail = daemon.jails.get(notice.jail)
            if notice.origin == self.config.host or jail is None or self.mode(jail) not in SUBSCRIBES:
                counters.skipped += 1
                continue
            if notice.kind == "unban" and by_jail.get(jail.name):
                # carry_out removes unbans at once but applies bans after their commit: bans read before this
                # unban are carried out first, so that it finds them applied
                await daemon.carry_out(jail, by_jail.pop(jail.name), now, remote=True)
            events = by_jail.setdefault(jail.name, [])
            changed = await self._decide(jail, notice, now, events)
            if changed:
                counters.applied += 1
            elif changed is None:
                counters.ignored += 1
            else:
                counters.skipped += 1
        cursor = (self.config.stream, entries[-1][0])
        # The cursor goes with the last jail's decisions: a crash between two jails' commits reads the entries
        # again, and the first jail finds its bans in force (restored from the store) and changes nothing.
        last = next((n for n in reversed(by_jail) if n in daemon.jails), None)
        for name, events in by_jail.items():
            jail = daemon.jails.get(name)
            if jail is not None:
                await daemon.carry_out(
                    jail, events, now, remote=True, fleet_cursor=cursor if name == last else None
                )
        if last is None:
            try:
                await daemon.committer.commit(Checkpoint("", fleet_cursor=cursor))
            except Exception as exc:
                log_fleet.error("fleet: cannot write the stream cursor to the database: %s", exc)

    async def _decide(self, jail: Jail, notice: Notice, now: float, events: list[Event]) -> bool | None:
        """Turn one remote notice into jail events: True when it changes the jail, False when there is nothing
        to do, None when the host's ignore rules refused it."""
        state = jail.state
        if notice.kind == "unban":
            unbans = state.unban(notice.target, now)
            events.extend(unbans)
            return bool(unbans)
        failure = remote.as_failure(notice, now)
        source = state.ignore.contains(failure.ip or failure.fid)
        if source is None and jail.ignorecommand and await effects.ignore_command(jail, failure, now):
            source = "command"
        if source is not None:
            events.append(Ignored(failure, source))
            return None
        admission = state.book.admit(remote.offer(notice, now, state.book.get(notice.target)), now)
        if admission.kind not in (BANNED, PROLONGED):
            return False
        events.append(BanDecided(admission.kind, admission.ban, True))
        return True


async def _kept(loop: Callable[[], Awaitable[None]], role: str) -> None:
    """Run one of the fleet's loops for the daemon's life: an unexpected error (the database, a bug) is logged
    and the loop starts again a second later, so the fleet never stops silently."""
    while True:
        try:
            await loop()
        except asyncio.CancelledError:
            raise
        except Exception as exc:
            log_fleet.error("fleet: %s failed: %r; starting it again in %gs", role, exc, RESTART_S)
            await asyncio.sleep(RESTART_S)
