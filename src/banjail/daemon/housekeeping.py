"""The daemon's periodic upkeep, one task: purge of old ban history (hourly, dbpurgeage), the host's own
addresses for ignoreself (every SELF_IPS_SECONDS while a jail uses them; the addresses themselves are cached and
read again when older than selfaddrs.REFRESH_SECONDS) and a fresh DNS resolution of ignoreip names (every
REFRESH_SECONDS). The task sleeps until the next of these is due, so an idle daemon wakes up rarely (issue 3:
idle CPU 0 %). Blocking work runs in executor threads, never on the event loop."""

from __future__ import annotations

import asyncio
import time
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from banjail.daemon.app import Daemon

SELF_IPS_SECONDS = 30.0
PURGE_SECONDS = 3600.0
REFRESH_SECONDS = 300.0


async def run(daemon: Daemon) -> None:
    """Run the upkeep until cancelled."""
    last_purge = last_refresh = last_self = time.monotonic()
    while True:
        mono = time.monotonic()
        due = [last_purge + PURGE_SECONDS, last_refresh + REFRESH_SECONDS]
        if any(j.state.ignore.ignoreself for j in daemon.jails.values()):
            due.append(last_self + SELF_IPS_SECONDS)
        await asyncio.sleep(max(1.0, min(due) - mono))
        mono = time.monotonic()
        if mono - last_self >= SELF_IPS_SECONDS:
            last_self = mono
            await refresh_self_ips(daemon)
        if mono - last_purge > PURGE_SECONDS:
            last_purge = mono
            await daemon.db(daemon.store.purge, daemon.clock.now(), daemon.dbpurgeage)
        if mono - last_refresh > REFRESH_SECONDS:
            last_refresh = mono
            for jail in list(daemon.jails.values()):
                await asyncio.get_running_loop().run_in_executor(None, jail.state.ignore.refresh)


async def refresh_self_ips(daemon: Daemon) -> None:
    """Give every jail that ignores its own addresses the current ones."""
    jails = [j for j in daemon.jails.values() if j.state.ignore.ignoreself]
    if jails:
        found = await asyncio.get_running_loop().run_in_executor(None, daemon.self_ips)
        for jail in jails:
            jail.state.ignore.set_self_ips(found)
