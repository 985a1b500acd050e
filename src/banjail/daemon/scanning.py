"""Matching a jail's lines off the event loop: each jail has one scan thread, so a line that waits (a host name
lookup, see banjail.daemon.dns) or a long regex holds up that jail alone, while the loop keeps serving the
control socket, the other jails' counting and commits, and the actions.

Order: the jail's reader awaits each slice before it hands over the next, so the jail's lines are matched and
counted in file order, as on the loop. Matching touches only the jail's matcher and scan statistics (never the
counter or the ban book), and the counting of a slice's failures runs on the loop, where every other change to a
jail's state is made.

Time slices: a batch (up to 4096 lines) is matched in slices of at most SLICE_LINES lines, the loop counting each
slice's failures before the next is matched (the batch is still committed as one, with its position). CPython's GIL is handed over between bytecodes at
least every 5 ms (sys.getswitchinterval), so busy scan threads of several jails share the interpreter with each
other and with the loop; one regex call is the unit that cannot be interrupted, which `maxlinelength` bounds
(banjail.sources.tail).
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from banjail.core.jail import Event, JailState

SLICE_LINES = 4096


class Scanner:
    """One jail's scan thread (created on first use, ended by `close`)."""

    def __init__(self) -> None:
        self._pool: ThreadPoolExecutor | None = None
        self.cpu = 0.0  # CPU seconds the scan thread spent matching (banjail.daemon.metrics; written by it alone)

    async def scan(
        self, state: JailState, lines: Sequence[str], now: float, *, catching_up: bool = False
    ) -> list[Event]:
        """The events of `lines`, in order, as JailState.scan gives them; matching runs on the jail's thread."""
        if state.matcher is None or not lines:
            return []
        if self._pool is None:
            self._pool = ThreadPoolExecutor(1, thread_name_prefix="banjail-scan")
        loop = asyncio.get_running_loop()
        events: list[Event] = []
        for start in range(0, len(lines), SLICE_LINES):
            part = lines[start : start + SLICE_LINES]
            outcomes = await loop.run_in_executor(self._pool, self._match, state, part, now)
            events.extend(state.count(outcomes, now, catching_up=catching_up))
        return events

    def _match(self, state: JailState, part: Sequence[str], now: float) -> Any:
        started = time.thread_time()
        try:
            return state.match(part, now)
        finally:
            self.cpu += time.thread_time() - started

    def close(self) -> None:
        """End the thread once a slice in progress is done (a jail that stops)."""
        if self._pool is not None:
            self._pool.shutdown(wait=False)
            self._pool = None
