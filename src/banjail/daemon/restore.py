"""A jail's state coming back at its start, before any of its sources is opened: the store's active bans are
restored (re-applied by its actions; after a kill -9 the actions are first `reset`: held bans and firewall
leftovers cleared) and the failures counted before the restart (within findtime) are counted again.

A restored ban keeps its stored length (it does not follow later `set bantime` changes, as upstream), capped at
the jail's max bantime as upstream does, except at the start after a kill -9 (see `restore`)."""

from __future__ import annotations

import gc
from typing import TYPE_CHECKING

from banjail.daemon import metrics
from banjail.daemon.jail import ActionJob, Jail
from banjail.model import Ban

if TYPE_CHECKING:
    from banjail.daemon.app import Daemon

FREEZE_BANS = 10_000  # a restore at least this large freezes what it made out of the cyclic collector's sight


async def restore(daemon: Daemon, jail: Jail) -> None:
    """Queue the jail's `reset` (after an unclean stop) and `start` jobs, then restore its active bans: each is
    logged `Restore Ban` and handed to the actions (banjail.daemon.lanes.restore_jobs)."""
    now = daemon.clock.now()
    # A restore makes a few long-lived objects per stored ban (100k bans: ~0.5M); the cyclic collector would
    # walk them again and again as they pile up (a third of the restore's time), and they hold no cycles.
    enabled = gc.isenabled()
    gc.disable()
    bans: list[Ban] = []
    try:
        bans = await daemon.db(daemon.store.active_bans, now, jail.name)
        metrics.RESTORED.value(jail.name).inc(len(bans))
        if daemon.unclean:
            await daemon.enqueue(jail, ActionJob("reset", tuple(bans)))
        await daemon.enqueue(jail, ActionJob("start"))
        # Upstream caps a stored length at the jail's max bantime (the configured bantime, or bantime.maxtime
        # with increment): a bantime lowered in the configuration shortens restored bans. Right after a kill -9
        # the stored lengths are what the killed server had in force, `set bantime` raises included
        # (banjail.daemon.bantime stores them), and a crash must not shorten them: no cap then.
        events = jail.state.restore(bans, now, cap=not (daemon.unclean and daemon.booting))
        await daemon.carry_out(jail, events, now)
    finally:
        if enabled:
            if len(bans) >= FREEZE_BANS:
                # The restored bans live until they end. Enabled again as they are, the collector's next run
                # would walk every object made meanwhile (0.1 s at 100k bans), and every full run after it
                # again; frozen, they are out of its sight (refcounting still frees each when it goes).
                gc.freeze()
            gc.enable()


async def recount(daemon: Daemon, jail: Jail) -> None:
    """Rebuild the jail's failure counter from the failures counted before the restart (within findtime); a
    count that reaches maxretry again is carried out as a ban."""
    now = daemon.clock.now()
    since = now - jail.state.counter.findtime
    counted = await daemon.db(daemon.store.counted_failures, jail.name, since)
    if counted:
        events = jail.state.recount(((c.failure(), c.time, c.count) for c in counted), now)
        if events:
            await daemon.carry_out(jail, events, now)
