"""The composition root: one asyncio loop owns every jail, the store and the actions.

    LogSource.batches() ──► LogBatch ──► Scanner: JailState.match (jail's thread) + count (loop) ──► events
        AskIgnore ──► ignorecommand (subprocess, cached) ──► JailState.resume ──► events
        events ──► Checkpoint(position, counted failures, bans decided)
               ──► GroupCommit: ONE store transaction (shared with the batches of other jails ready meanwhile)
               ──► log `Found` / `Ignore` / `Ban` ──► jail action queue ──► Action.ban(batch)
    scheduler (banjail.daemon.scheduler): every 5 s and at the earliest ban end ──► JailState.tick ──► Unban
                          ──► log `Unban` ──► jail action queue ──► Action.unban(batch)
    start-up (banjail.daemon.restore): Store.active_bans(now) ──► JailState.restore ──► `Restore Ban` ──► actions (restored=True for an
              action that applied the ban before the stop, as a new ban for one that never did: banjail.daemon.
              lanes.restore_jobs); after a kill -9 first `reset` (held bans, firewall leftovers cleared);
              Store.counted_failures ──► JailState.recount; all before any source is opened.
    actions: each action of a jail has its own queue (banjail.daemon.lanes); each run is recorded (actionruns).

Durability and counting invariants (exactly once):
- A batch's new position, the failures it counted and the bans it decided are committed in one transaction, and
  only then is anything of it logged or handed to an action. kill -9 before the commit: the next process reads
  the batch again and counts it once (nothing of it was stored or reported); after it: nothing is read again, the
  counted failures come back with `recount`, the bans with `restore`. No reported ban is lost, no line counted
  twice. A graceful stop lets the reader finish the batch in hand.
- Positions are only ever saved by a batch's checkpoint (a position never runs ahead of the counting).
- Lines already in a file when its jail starts are catch-up reading (the source never mixes them with newer
  lines in one batch): they keep their own dates and are dropped when older than findtime; later lines are read
  in operation (dates far from now count as now).
- Store calls run on one named single-thread executor; each jail's lines are matched on the jail's own scan thread
  (banjail.daemon.scanning: host name lookups wait there, bounded and cached); nothing else blocks the loop.
- Shutdown leaves the bans of persistent actions (kernel sets with timeouts) in place; `stop <jail>` removes them.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import Awaitable, Callable, Iterable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import replace
from typing import TYPE_CHECKING, Any, TypeVar

from banjail import FAIL2BAN_COMPAT_VERSION
from banjail.actions.base import Action
from banjail.config.schema import ActionSpec, Config, JailConfig
from banjail.core.banpolicy import BanHistory
from banjail.core.jail import Event
from banjail.daemon import effects, housekeeping, metrics, outcome, reading, restore, selfaddrs
from banjail.daemon.commit import GroupCommit
from banjail.daemon.completions import Completions, directory_for
from banjail.daemon.jail import ActionJob, Jail, build_state, ignore_cache
from banjail.daemon.lanes import Lanes, RunLog
from banjail.daemon.logging import NOTICE, LogTarget, logger
from banjail.daemon.scheduler import Scheduler
from banjail.daemon.wiring import no_logs_to_skip
from banjail.errors import BanjailError
from banjail.filter import engine as engines
from banjail.model import Ban, Position, Unban
from banjail.sources.base import LogSource
from banjail.store import Store
from banjail.store.checkpoint import Checkpoint

if TYPE_CHECKING:
    from banjail.fleet.hub import Fleet

T = TypeVar("T")

CLOSE_SECONDS = 10.0  # how long a graceful stop waits for a reader to finish the batch in hand

PositionLookup = Callable[[str], Position | None]
SourceFactory = Callable[[JailConfig, PositionLookup], list[LogSource]]
ActionFactory = Callable[[JailConfig], list[Action]]
ActionBuilder = Callable[[JailConfig, ActionSpec], Action]

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
        action_builder: ActionBuilder | None = None,
    ) -> None:
        self.config = config
        self.store = store
        self.clock = clock
        self.logs = logs or LogTarget()
        self.jails: dict[str, Jail] = {}
        self.dbfile = dbfile
        purgeage = config.server.dbpurgeage
        # Replies give it as upstream does: an int unless fractional.
        self.dbpurgeage: int | float = int(purgeage) if float(purgeage).is_integer() else purgeage
        self.dbmaxmatches = config.server.dbmaxmatches
        self.started_at = time.time()
        self._make_sources = sources
        self.make_actions = actions  # a jail's actions, built from its config
        self._build_action = action_builder
        self.self_ips: Callable[[], tuple[str, ...]] = selfaddrs.current
        self._load = config_loader
        self._executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="banjail-store")
        self.committer = GroupCommit(store.commit, self.db)
        self.runs = RunLog(lambda: self.committer.commit)
        self.marks = Completions(directory_for(dbfile), self.runs.add)  # side actions' completion marks
        self.unclean = False  # the previous server was killed: firewall leftovers are cleared at jail start
        self.booting = False  # start() is starting the configured jails (their restore is the start-up one)
        self.scheduler = Scheduler(self)
        self._stopped = asyncio.Event()
        self._stopping = False
        self._tasks: list[asyncio.Task[None]] = []
        self.on_stop: Callable[[], None] = lambda: None
        self.fleet: Fleet | None = None  # set by the server when fail2ban.local has a [fleet] section

    # -- the store executor -------------------------------------------------------------------------------------

    async def db(self, call: Callable[..., T], *args: Any) -> T:
        """Run one store call on the store executor (FIFO: calls commit in the order they are made)."""
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(self._executor, call, *args)

    # -- life cycle ---------------------------------------------------------------------------------------------

    async def start(self) -> None:
        """Start every configured jail, then the scheduler and the housekeeping tasks."""
        log_server.info("-" * 50)
        log_server.info("Starting Fail2ban v%s", FAIL2BAN_COMPAT_VERSION)
        self.unclean = await self.db(self.store.begin_run)
        if self.unclean:
            log_server.info("The last server did not stop gracefully: its firewall rules are cleared at restore")
        await self.settle_marks()
        self.booting = True
        for jail_config in self.config.jails:
            skip = no_logs_to_skip(jail_config)
            if skip:
                log_server.warning("Skipping jail %r: %s", jail_config.name, skip)
                continue
            try:
                await self.add_jail(jail_config)
                await self.start_jail(jail_config.name)
            except BanjailError as exc:
                log_server.error("Failed to start jail %r: %s", jail_config.name, exc)
                # created but its actions could not be built: it must not stay half there (no task runs yet)
                self.jails.pop(jail_config.name, None)
        self.booting = False
        # Purge only now: jails stopped by the last shutdown are enabled again, so their positions and bans
        # survive; what remains disabled belongs to jails no longer configured.
        await self.db(self.store.purge, self.clock.now(), self.dbpurgeage)
        self._tasks.append(asyncio.create_task(self.scheduler.run(), name="scheduler"))
        self._tasks.append(asyncio.create_task(housekeeping.run(self), name="housekeeping"))
        if self.fleet is not None:  # after every jail restored its bans: remote ones meet them in the books
            await self.fleet.start()

    async def settle_marks(self) -> None:
        """Record what the marks of the last (killed) server's side-action commands say before any restore reads
        the runs (banjail.daemon.completions)."""
        ended = await self.db(self.marks.settle)
        if ended:
            await self.committer.commit(Checkpoint("", runs=tuple(ended)))
            log_server.info("%d side-action run(s) of the last server ended after it: recorded", len(ended))
        self.marks.forget_settled()

    async def add_jail(self, config: JailConfig) -> Jail:
        """Create jail `config.name` (not started). Raises ControlError-worthy BanjailError when it exists."""
        if config.name in self.jails:
            raise effects.exists(config.name)
        log_jail.info("Creating new jail '%s'", config.name)
        state = build_state(
            config, history=self.history, self_ips=self.self_ips, warn=lambda p: log_jail.warning("%s", p)
        )
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
        built = {a.name: a for a in self.make_actions(jail.config)}
        # Actions added (addaction) between `add` and `start`, as upstream's client does, come after these.
        jail.actions = {**built, **{k: a for k, a in jail.actions.items() if k not in built}}
        jail.tasks.append(
            asyncio.create_task(Lanes(jail, self.runs, self.marks).dispatch(), name=f"actions:{name}")
        )
        await restore.restore(self, jail)
        # the restored bans are queued: a hold left by the last shutdown can go once they are applied
        await self.enqueue(jail, ActionJob("release"))
        await restore.recount(self, jail)
        self._open_sources(jail)
        matcher = jail.state.matcher
        if matcher is not None:
            # in the way upstream names a jail's backend ("Jail 'sshd' uses pyinotify {}")
            log_jail.info("Jail %r uses matching engine %s", name, engines.describe(matcher.engine, matcher.engine_note))
        if jail.config.filter_note:  # fail2ban's packaged filter file was replaced (banjail.config.packaged)
            log_jail.log(NOTICE, "[%s] %s", name, jail.config.filter_note)
        log_jail.info("Jail %r started", name)
        self.scheduler.wake()

    def _open_sources(self, jail: Jail) -> None:
        name = jail.name
        config = replace(jail.config, logpath=tuple(jail.logpaths))
        jail.sources = self._make_sources(config, lambda path: self.store.get_position(name, path))
        for source in jail.sources:
            jail.tasks.append(asyncio.create_task(self._read(jail, source), name=f"read:{name}:{source.name}"))

    async def _close_sources(self, jail: Jail) -> None:
        readers = [t for t in jail.tasks if t.get_name().startswith("read:")]
        for source in jail.sources:
            with contextlib.suppress(Exception):
                await source.close()
        # A reader in the middle of a batch finishes it (counts, commits, reports); one waiting for lines stops.
        deadline = time.monotonic() + CLOSE_SECONDS
        while jail.reading and time.monotonic() < deadline:
            await asyncio.sleep(0.005)
        for task in readers:
            task.cancel()
        await asyncio.gather(*readers, return_exceptions=True)
        jail.tasks = [t for t in jail.tasks if t not in readers]
        jail.sources = []

    async def stop_jail(self, name: str, *, remove: bool = True, shutdown: bool = False) -> None:
        """Stop a jail: its sources close (a batch in hand is finished), its action queue drains, its actions
        stop (upstream's actionstop removes the firewall rules; the bans stay in the store). At `shutdown`,
        persistent actions are not stopped: their bans stay enforced until the next start re-adds them."""
        jail = self.jails.pop(name) if remove else self.jails[name]
        await self._close_sources(jail)
        if jail.tasks:  # started: its action queue has a worker
            # at shutdown, the bans of the actions it stops are held over the restart (banjail.actions.handover)
            held = tuple(jail.state.book.banned()) if shutdown else ()
            await self.enqueue(jail, ActionJob("shutdown", held) if shutdown else ActionJob("stop"))
            await jail.queue.join()
        for task in jail.tasks:
            task.cancel()
        await asyncio.gather(*jail.tasks, return_exceptions=True)
        jail.tasks.clear()
        jail.applied.clear()
        jail.scanner.close()
        if remove:
            await self.db(self.store.disable_jail, name)
        log_jail.info("Jail %r stopped", name)

    async def stop(self) -> None:
        """Graceful stop: every jail stops (in reverse start order), the store closes. Idempotent."""
        if self._stopping:
            return
        self._stopping = True
        log_server.info("Shutdown in progress...")
        if self.fleet is not None:
            await self.fleet.close()
        log_server.info("Stopping all jails")
        for name in reversed(list(self.jails)):
            await self.stop_jail(name, shutdown=True)
        for task in self._tasks:
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        await self.runs.close()
        self.marks.close()  # every run is committed: an emptied journal goes now
        await self.committer.close()
        await self.db(self.store.end_run)
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
        backlog: dict[str, int] | None = None
        try:
            async for batch in source.batches():
                await jail.awake.wait()  # `set <jail> idle on` holds what is read until `idle off`, as upstream
                if not batch.lines:
                    continue
                jail.reading += 1
                release = jail.collector.begin()  # the batch's short-lived objects are freed before it runs
                try:
                    if backlog is None:  # the source has opened its files by its first batch
                        sizes = getattr(source, "backlog", None)
                        backlog = sizes() if callable(sizes) else {}
                    limit = backlog.get(batch.source)
                    catching_up = limit is not None and batch.position.offset <= limit
                    if limit is not None and not catching_up:
                        del backlog[batch.source]  # this file is caught up
                    now = self.clock.now()
                    jail.batch_read_at = time.monotonic()  # for the ban latency (banjail.daemon.metrics)
                    cpu = jail.scanner.cpu  # the scan thread's CPU seconds so far (banjail.daemon.scanning)
                    # catch-up lines keep their own dates (the scanner sets the matcher's mode for the batch)
                    events = await jail.scanner.scan(jail.state, batch.lines, now, catching_up=catching_up)
                    metrics.batch_read(jail.name, batch.source, len(batch.lines), jail.scanner.cpu - cpu)
                    await self.carry_out(jail, events, now, ((batch.source, batch.position),))
                    reading.report_cut(jail.name, jail.sources, jail.cut, jail.config.maxlinelength)
                    reading.report_undated(jail.name, jail.state.matcher, jail.cut, now)
                finally:
                    release()
                    jail.reading -= 1
                    jail.batch_read_at = 0.0
                await asyncio.sleep(0)  # let the control socket and other jails in between batches
        except asyncio.CancelledError:
            raise
        except Exception as exc:  # a source that dies must not take the daemon down
            log_filter.error("[%s] log source %s failed: %s", jail.name, source.name, exc)

    async def carry_out(
        self,
        jail: Jail,
        events: Iterable[Event],
        now: float,
        positions: tuple[tuple[str, Position], ...] = (),
        *,
        remote: bool = False,
        fleet_cursor: tuple[str, str] | None = None,
    ) -> None:
        """Carry out a batch of events in order (see banjail.daemon.outcome): commit the batch's checkpoint, then
        log and apply."""
        await outcome.carry_out(self, jail, events, now, positions, remote=remote, fleet_cursor=fleet_cursor)

    def wake(self) -> None:
        """Make the scheduler look at ban ends again (a ban was added or changed)."""
        self.scheduler.wake()

    async def enqueue(self, jail: Jail, job: ActionJob) -> None:
        """Queue an action job on the jail's ordered action queue."""
        await jail.queue.put(job)

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
            await self.enqueue(jail, ActionJob("unban", tuple(removed)))
        return len(unbans)

    # -- time ---------------------------------------------------------------------------------------------------

    async def tick(self, now: float) -> None:
        """Expire failures and end due bans in every jail at `now`."""
        for jail in list(self.jails.values()):
            unbans = jail.state.tick(now)
            if unbans:
                await self.unbans(jail, unbans)

    # -- operations the controller calls (manual bans and unbans are in banjail.daemon.manual) -------------------

    def build_action(self, config: JailConfig, spec: ActionSpec) -> Action:
        """One action for jail `config` from a resolved spec (`addaction`); BanjailError when it cannot be built."""
        if self._build_action is None:
            raise effects.control("this server cannot add actions at run time (it was started without a builder)")
        return self._build_action(config, spec)

    def history(self, fid: str, jail: str | None) -> BanHistory | None:
        """fid's ban history (bantime.increment). Read on the loop: the store serialises it with its writes."""
        return self.store.ban_history(fid, jail)

    async def restart_sources(self, jail: Jail) -> None:
        """Close the jail's sources (saving their positions) and open them again from its current config."""
        await self._close_sources(jail)
        if not any(t.get_name().startswith("actions:") for t in jail.tasks):
            return  # not started
        self._open_sources(jail)

    async def reload(self, loader_result: Config, name: str | None, *, restart: bool, unban: bool) -> None:
        """Apply a freshly loaded configuration (see banjail.daemon.reload)."""
        from banjail.daemon.reload import apply

        await apply(self, loader_result, name, restart=restart, unban=unban)

    def load_config(self) -> Awaitable[Config]:
        loader = self._load
        if loader is None:
            raise effects.control("reload is not possible: the daemon was started without a config directory")
        return asyncio.get_running_loop().run_in_executor(None, loader)
