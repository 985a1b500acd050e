"""The ban-end scheduler: one task that wakes at the earliest ban end of any jail (and at least every
TICK_SECONDS, upstream's failure-expiry cadence) and has the daemon end what is due (Daemon.tick). A ban added or
changed wakes it at once (`wake`), so a new earliest end is never slept past."""

from __future__ import annotations

import asyncio
import contextlib
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from banjail.daemon.app import Daemon

# Upstream's failure-expiry cadence; also the longest the scheduler sleeps.
TICK_SECONDS = 5.0


class Scheduler:
    """Runs `Daemon.tick` at every ban end and every TICK_SECONDS until cancelled."""

    def __init__(self, daemon: Daemon) -> None:
        self._daemon = daemon
        self._wake = asyncio.Event()

    def wake(self) -> None:
        """Look at the ban ends again now (a ban was added or changed)."""
        self._wake.set()

    async def run(self) -> None:
        """Tick, sleep until the earliest ban end (at most TICK_SECONDS) or a wake, again; until cancelled."""
        daemon = self._daemon
        while True:
            now = daemon.clock.now()
            await daemon.tick(now)
            ends = [e for j in daemon.jails.values() if (e := j.state.next_wakeup()) is not None]
            delay = TICK_SECONDS if not ends else max(0.0, min(TICK_SECONDS, min(ends) - now + 0.001))
            self._wake.clear()
            with contextlib.suppress(asyncio.TimeoutError):
                await asyncio.wait_for(self._wake.wait(), delay)
