"""The daemon's periodic upkeep, one task: purge of old ban history (hourly, dbpurgeage), the host's own
addresses for ignoreself (every HOUSEKEEPING_SECONDS; the addresses themselves are cached and read again when
older than selfaddrs.REFRESH_SECONDS) and a fresh DNS resolution of ignoreip names (every REFRESH_SECONDS).
Blocking work runs in executor threads, never on the event loop."""

from __future__ import annotations

import asyncio
import time
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from banjail.daemon.app import Daemon

HOUSEKEEPING_SECONDS = 10.0
PURGE_SECONDS = 3600.0
REFRESH_SECONDS = 300.0


async def run(daemon: Daemon) -> None:
    """Run the upkeep until cancelled."""
    last_purge = last_refresh = time.monotonic()
    while True:
        await asyncio.sleep(HOUSEKEEPING_SECONDS)
        await refresh_self_ips(daemon)
        mono = time.monotonic()
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
