"""The composition root: one asyncio loop owns every jail, the store and the actions.

    LogSource.batches() ──► [position committed] ──► JailState.feed(line, now) ──► events
        Found / Ignored ────────────────────────────────────────────────────────► log (fail2ban.filter)
        AskIgnore ──► ignorecommand (subprocess, cached) ──► JailState.resume ──► events
        BanDecided(store) ──► store executor: add_bans (one transaction per batch)
                          ──► log `Ban` ──► jail action queue ──► Action.ban(batch)
    scheduler: every 5 s and at the earliest ban end ──► JailState.tick ──► Unban
                          ──► log `Unban` ──► jail action queue ──► Action.unban(batch)
    start-up: Store.active_bans(now) ──► JailState.restore ──► `Restore Ban` ──► actions (restored=True),
              all before any source is opened.

Durability and counting invariants:
- A ban is committed to the store before it is logged or handed to an action (kill -9 loses no reported ban).
- A batch's end position is committed before its lines are counted (the store executor is FIFO, so it also lands
  before any ban those lines cause): after kill -9 no line is counted twice; at worst the one batch in flight
  when the process died is not counted at all. A graceful stop finishes the batch in hand.
- Lines already in a file when its jail starts are catch-up reading: they keep their own dates and are dropped
  when older than findtime; later lines are read in operation (dates far from now count as now).
- Store calls run on one named single-thread executor; nothing else blocks the loop.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import Awaitable, Callable, Iterable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import replace
from typing import Any, TypeVar

from banjail import FAIL2BAN_COMPAT_VERSION
from banjail.actions.base import Action
from banjail.config.schema import Config, JailConfig
from banjail.core.banpolicy import BanHistory
from banjail.core.jail import AskIgnore, BanDecided, Event, Found, Ignored
from banjail.daemon import effects
from banjail.daemon.jail import ActionJob, Jail, backlog_sizes, build_state, ignore_cache
from banjail.daemon.logging import LogTarget, logger
from banjail.errors import ActionError, BanjailError
from banjail.model import Ban, LogLine, Position, Unban
from banjail.sources.base import LogSource
from banjail.store import Store

T = TypeVar("T")

# Upstream's failure-expiry cadence; also the longest the scheduler sleeps.
TICK_SECONDS = 5.0
POSITION_SECONDS = 1.0
REFRESH_SECONDS = 300.0

PositionLookup = Callable[[str], Position | None]
SourceFactory = Callable[[JailConfig, PositionLookup], list[LogSource]]
ActionFactory = Callable[[JailConfig], list[Action]]

log_server = logger("server")
log_jail = logger("jail")
log_filter = logger("filter")
log_actions = logger("actions")


class Daemon:
    """Every running jail, driven by one event loop. `start` restores bans and starts the jails; `stop` stops
    them (sources first, then the action queues drain, then actions stop); `wait_stopped` returns after stop.

    clock.now() gives the time every decision is taken at, so tests drive time with a FakeClock."""

    def __init__(
        self,
        config: Config,
        *,
        store: Store,
        sources: SourceFactory,
        actions: ActionFactory,
        clock: Any,
        logs: LogTarget | None = None,
        config_loader: Callable[[], Config] | None = None,
        dbfile: str | None = None,
    ) -> None:
        self.config = config
        self.store = store
        self.clock = clock
        self.logs = logs or LogTarget()
        self.jails: dict[str, Jail] = {}
        self.dbfile = dbfile
        self.dbpurgeage = config.server.dbpurgeage
        self.dbmaxmatches = config.server.dbmaxmatches
        self.started_at = time.time()
        self._make_sources = sources
        self._make_actions = actions
        self._load = config_loader
        self._executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="banjail-store")
        self._wake = asyncio.Event()
        self._stopped = asyncio.Event()
        self._stopping = False
        self._tasks: list[asyncio.Task[None]] = []
        self.on_stop: Callable[[], None] = lambda: None

    # -- the store executor -------------------------------------------------------------------------------------

    async def db(self, call: Callable[..., T], *args: Any) -> T:
        """Run one store call on the store executor (FIFO: calls commit in the order they are made)."""
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(self._executor, call, *args)

    # -- life cycle ---------------------------------------------------------------------------------------------

    async def start(self) -> None:
        """Start every configured jail, then the scheduler and the housekeeping tasks."""
        log_server.info("-" * 50)
        log_server.info("Starting Fail2ban v%s", _version())
        for jail_config in self.config.jails:
            try:
                await self.add_jail(jail_config)
                await self.start_jail(jail_config.name)
            except BanjailError as exc:
                log_server.error("Failed to start jail %r: %s", jail_config.name, exc)
        # Purge only now: jails stopped by the last shutdown are enabled again, so their positions and bans
        # survive; what remains disabled belongs to jails no longer configured.
        await self.db(self.store.purge, self.clock.now(), self.dbpurgeage)
        self._tasks.append(asyncio.create_task(self._schedule(), name="scheduler"))
        self._tasks.append(asyncio.create_task(self._housekeeping(), name="housekeeping"))

    async def add_jail(self, config: JailConfig) -> Jail:
        """Create jail `config.name` (not started). Raises ControlError-worthy BanjailError when it exists."""
        if config.name in self.jails:
            raise effects.exists(config.name)
        log_jail.info("Creating new jail '%s'", config.name)
        state = build_state(config, history=self.history)
        jail = Jail(config=config, state=state)
        jail.ignorecommand = config.ignorecommand
        jail.ignore_cache = ignore_cache(config)
        jail.logpaths = list(config.logpath)
        self.jails[config.name] = jail
        await self.db(self.store.add_jail, config.name)
        return jail

    async def start_jail(self, name: str) -> None:
        """Start a created jail: actions start, stored bans are re-applied, then its sources begin."""
        jail = self.jails[name]
        if jail.tasks:
            return
        jail.actions = {a.name: a for a in self._make_actions(jail.config)}
        jail.tasks.append(asyncio.create_task(self._run_actions(jail), name=f"actions:{name}"))
        await self._enqueue(jail, ActionJob("start"))
        await self._restore(jail)
        self._open_sources(jail)
        log_jail.info("Jail %r started", name)
        self._wake.set()

    def _open_sources(self, jail: Jail) -> None:
        name = jail.name
        config = replace(jail.config, logpath=tuple(jail.logpaths))
        jail.backlog = backlog_sizes(jail.logpaths)
        jail.sources = self._make_sources(config, lambda path: self.store.get_position(name, path))
        for source in jail.sources:
            jail.tasks.append(
                asyncio.create_task(self._read(jail, source), name=f"read:{name}:{source.name}")
            )

    async def _close_sources(self, jail: Jail) -> None:
        readers = [t for t in jail.tasks if t.get_name().startswith("read:")]
        for source in jail.sources:
            with contextlib.suppress(Exception):
                await source.close()
        for task in readers:
            task.cancel()
        await asyncio.gather(*readers, return_exceptions=True)
        await self._save_positions(jail)
        jail.tasks = [t for t in jail.tasks if t not in readers]
        jail.sources = []

    async def _restore(self, jail: Jail) -> None:
        now = self.clock.now()
        bans = await self.db(self.store.active_bans, now, jail.name)
        events = jail.state.restore(bans, now)
        await self.carry_out(jail, events, now)

    async def stop_jail(self, name: str, *, remove: bool = True) -> None:
        """Stop a jail: its sources close, its last positions are saved, its action queue drains, its actions
        stop (upstream's actionstop removes the firewall rules; the bans stay in the store)."""
        jail = self.jails.pop(name) if remove else self.jails[name]
        await self._close_sources(jail)
        if jail.tasks:  # started: its action queue has a worker
            await self._enqueue(jail, ActionJob("stop"))
            await jail.queue.join()
        for task in jail.tasks:
            task.cancel()
        await asyncio.gather(*jail.tasks, return_exceptions=True)
        jail.tasks.clear()
        jail.applied.clear()
        if remove:
            await self.db(self.store.disable_jail, name)
        log_jail.info("Jail %r stopped", name)

    async def stop(self) -> None:
        """Graceful stop: every jail stops (in reverse start order), the store closes. Idempotent."""
        if self._stopping:
            return
        self._stopping = True
        log_server.info("Shutdown in progress...")
        log_server.info("Stopping all jails")
        for name in reversed(list(self.jails)):
            await self.stop_jail(name)
        for task in self._tasks:
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        await self.db(self.store.close)
        self._executor.shutdown(wait=True)
        log_server.info("Exiting Fail2ban")
        self._stopped.set()
        self.on_stop()

    async def wait_stopped(self) -> None:
        await self._stopped.wait()

    @property
    def stopping(self) -> bool:
        return self._stopping

    # -- lines --------------------------------------------------------------------------------------------------

    async def _read(self, jail: Jail, source: LogSource) -> None:
        try:
            async for batch in source.batches():
                if not batch:
                    continue
                # Write-ahead: the position after this batch is committed before its lines are counted.
                ends = {line.source: line.position for line in batch}
                await self.db(self._commit_positions, jail.name, ends)
                now = self.clock.now()
                feed = jail.state.feed
                events: list[Event] = []
                backlog = jail.backlog
                if backlog:
                    self._catch_up(jail, batch, now, events)
                else:
                    for line in batch:
                        events.extend(feed(line.text, now))
                if events:
                    await self.carry_out(jail, events, now)
                await asyncio.sleep(0)  # let the control socket and other jails in between batches
        except asyncio.CancelledError:
            raise
        except Exception as exc:  # a source that dies must not take the daemon down
            log_filter.error("[%s] log source %s failed: %s", jail.name, source.name, exc)

    @staticmethod
    def _catch_up(jail: Jail, batch: list[LogLine], now: float, events: list[Event]) -> None:
        """Feed a batch that may hold lines written before the jail started (upstream's catch-up reading):
        those keep their own dates and are dropped when older than findtime; the rest is read in operation
        (dates far from now count as now)."""
        backlog = jail.backlog
        state = jail.state
        matcher = state.matcher
        for line in batch:
            limit = backlog.get(line.source)
            catching_up = limit is not None and line.position.offset <= limit
            if limit is not None and not catching_up:
                del backlog[line.source]  # this file is caught up
            if matcher is not None:
                matcher.live = not catching_up
            events.extend(state.feed(line.text, now, catching_up=catching_up))
        if matcher is not None:
            matcher.live = True

    def _commit_positions(self, jail: str, ends: dict[str, Position]) -> None:
        for path, position in ends.items():
            self.store.set_position(jail, path, position)

    async def _save_positions(self, jail: Jail) -> None:
        """Save where every source of the jail stands (per file, when the source follows several)."""
        for source in jail.sources:
            positions = getattr(source, "positions", None)
            ends = positions() if callable(positions) else {source.name: source.position()}
            if ends and ends != jail.saved.get(source.name):
                with contextlib.suppress(Exception):
                    await self.db(self._commit_positions, jail.name, ends)
                jail.saved[source.name] = ends

    async def carry_out(self, jail: Jail, events: Iterable[Event], now: float) -> None:
        """Carry out a batch of events in order: log failures, commit bans (one transaction), then log and apply
        them."""
        pending: list[Event] = list(events)
        decided: list[BanDecided] = []
        while pending:
            event = pending.pop(0)
            if isinstance(event, Found):
                log_filter.info("[%s] Found %s - %s", jail.name, event.failure.fid, _time2str(event.time))
            elif isinstance(event, Ignored):
                log_filter.info(
                    "[%s] Ignore %s by %s", jail.name, event.failure.ip or event.failure.fid, event.source
                )
            elif isinstance(event, AskIgnore):
                ignored = await effects.ignore_command(jail, event.failure, now)
                pending[0:0] = jail.state.resume(event, ignored, now)
            elif isinstance(event, BanDecided):
                decided.append(event)
            else:
                await self.unbans(jail, [event])
        if not decided:
            return
        durable = [d.ban for d in decided if d.store]
        if durable:
            await self.db(self.store.add_bans, durable)
        fresh: list[Ban] = []
        for d in decided:
            ban = d.ban
            if d.error:
                log_actions.error("[%s] bantime.formula failed: %s", jail.name, d.error)
            if d.kind == "banned":
                if ban.fid in jail.applied:
                    continue  # already handed to the actions (a restore over a live ban)
                log_actions.log(25, "[%s] %sBan %s", jail.name, "Restore " if ban.restored else "", ban.fid)
                jail.applied[ban.fid] = ban
                fresh.append(ban)
            elif d.kind == "prolonged":
                log_actions.log(
                    25,
                    "[%s] Increase Ban %s (%d # %s -> %s)",
                    jail.name,
                    ban.fid,
                    ban.count,
                    effects.duration(ban.bantime),
                    _time2str(ban.until) if ban.until else "permanent",
                )
                jail.applied[ban.fid] = ban
            elif d.kind == "already banned":
                log_actions.log(25, "[%s] %s already banned", jail.name, ban.fid)
            else:
                log_actions.info("[%s] Ignore %s, expired bantime", jail.name, ban.fid)
        if fresh:
            await self._enqueue(jail, ActionJob("ban", tuple(fresh)))
        self._wake.set()

    async def unbans(self, jail: Jail, unbans: Sequence[Unban]) -> int:
        """Log and remove bans that ended or were lifted; manual ones are deleted from the store first."""
        manual = [u.fid for u in unbans if u.manual]
        for fid in manual:
            await self.db(self.store.del_ban, jail.name, fid)
        removed: list[Ban] = []
        for unban in unbans:
            log_actions.log(25, "[%s] Unban %s", jail.name, unban.fid)
            ban = jail.applied.pop(unban.fid, None)
            if ban is not None:
                removed.append(ban)
        if removed:
            await self._enqueue(jail, ActionJob("unban", tuple(removed)))
        return len(unbans)

    async def _enqueue(self, jail: Jail, job: ActionJob) -> None:
        await jail.queue.put(job)

    async def _run_actions(self, jail: Jail) -> None:
        """The per-jail action queue: jobs run one at a time, actions in order (stop in reverse)."""
        while True:
            job = await jail.queue.get()
            try:
                await effects.run_job(jail, job)
            except asyncio.CancelledError:
                raise
            except ActionError as exc:
                log_actions.error("[%s] %s", jail.name, exc)
            except Exception as exc:
                log_actions.error("[%s] action %s failed: %r", jail.name, job.kind, exc)
            finally:
                jail.queue.task_done()

    # -- time ---------------------------------------------------------------------------------------------------

    async def _schedule(self) -> None:
        """Wake at the earliest ban end (and every TICK_SECONDS) and carry out the unbans that are due."""
        while True:
            now = self.clock.now()
            await self.tick(now)
            ends = [e for j in self.jails.values() if (e := j.state.next_wakeup()) is not None]
            delay = TICK_SECONDS if not ends else max(0.0, min(TICK_SECONDS, min(ends) - now + 0.001))
            self._wake.clear()
            with contextlib.suppress(asyncio.TimeoutError):
                await asyncio.wait_for(self._wake.wait(), delay)

    async def tick(self, now: float) -> None:
        """Expire failures and end due bans in every jail at `now`."""
        for jail in list(self.jails.values()):
            unbans = jail.state.tick(now)
            if unbans:
                await self.unbans(jail, unbans)

    async def _housekeeping(self) -> None:
        """Positions every second (a cheap safety net; batches already commit theirs), purge and DNS refresh."""
        last_purge = last_refresh = time.monotonic()
        while True:
            await asyncio.sleep(POSITION_SECONDS)
            for jail in list(self.jails.values()):
                await self._save_positions(jail)
            mono = time.monotonic()
            if mono - last_purge > 3600:
                last_purge = mono
                await self.db(self.store.purge, self.clock.now(), self.dbpurgeage)
            if mono - last_refresh > REFRESH_SECONDS:
                last_refresh = mono
                for jail in list(self.jails.values()):
                    await asyncio.get_running_loop().run_in_executor(None, jail.state.ignore.refresh)

    # -- operations the controller calls (manual bans and unbans are in banjail.daemon.manual) -------------------

    def history(self, fid: str, jail: str | None) -> BanHistory | None:
        """fid's ban history (bantime.increment). Read on the loop: the store serialises it with its writes."""
        return self.store.ban_history(fid, jail)

    async def restart_sources(self, jail: Jail) -> None:
        """Close the jail's sources (saving their positions) and open them again from its current config."""
        await self._close_sources(jail)
        if not any(t.get_name().startswith("actions:") for t in jail.tasks):
            return  # not started
        self._open_sources(jail)

    async def replace_actions(self, jail: Jail) -> None:
        """Stop the jail's actions and start the ones its current config lists, handing them every ban."""
        from banjail.daemon.reload import restored_bans

        await self._enqueue(jail, ActionJob("stop"))
        await jail.queue.join()
        jail.actions = {a.name: a for a in self._make_actions(jail.config)}
        for job in restored_bans(jail):
            await self._enqueue(jail, job)
        jail.applied = {b.fid: b for b in jail.state.book.banned()}

    async def reload(self, loader_result: Config, name: str | None, *, restart: bool, unban: bool) -> None:
        """Apply a freshly loaded configuration (see banjail.daemon.reload)."""
        from banjail.daemon.reload import apply

        await apply(self, loader_result, name, restart=restart, unban=unban)

    def load_config(self) -> Awaitable[Config]:
        loader = self._load
        if loader is None:
            raise effects.control("reload is not possible: the daemon was started without a config directory")
        return asyncio.get_running_loop().run_in_executor(None, loader)


def _time2str(when: float) -> str:
    return time.strftime("%Y-%m-%d %H:%M:%S", time.localtime(when))


def _version() -> str:
    return FAIL2BAN_COMPAT_VERSION
