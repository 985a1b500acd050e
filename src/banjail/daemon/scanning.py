"""Matching a jail's lines off the event loop: each jail has one scan thread, so a line that waits (a host name
lookup, see banjail.daemon.dns) or a long regex holds up that jail alone, while the loop keeps serving the
control socket, the other jails' counting and commits, and the actions.

Order: the jail's reader awaits each slice before it hands over the next, so the jail's lines are matched and
counted in file order, as on the loop. Matching touches only the jail's matcher and scan statistics (never the
counter or the ban book), and the counting of a slice's failures runs on the loop, where every other change to a
jail's state is made.

Time slices: a batch (up to 4096 lines) is matched in slices of at most SLICE_LINES lines, the loop counting each
slice's failures before the next is matched (the batch is still committed as one, with its position). The loop
counts COUNT_SLICE failures at a time and lets the control socket and the other jails in between, so counting a
whole batch never holds the loop. CPython's GIL is handed over between bytecodes every
banjail.daemon.interpreter.SWITCH_SECONDS, so busy scan threads of several jails
share the interpreter with each other and with the loop; one regex call is the unit that cannot be interrupted,
which `maxlinelength` bounds (banjail.sources.tail).

Snapshot: the matcher a batch is matched with is taken on the loop when the batch starts (its mode, live or
catch-up, is set on the loop before the first slice and reset after the last), so a control command that replaces the jail's regexes (`set <jail>
addfailregex`, `reload`) while the batch is matched swaps `JailState.matcher` for the next batch and never changes
what the scan thread is running.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from banjail.core.jail import Event, JailState
from banjail.daemon import collector
from banjail.filter.matcher import Matcher

# 2048: the slice's matches and failures are made by the scan thread and read by the counting right after, and at
# 4096 lines they left the CPU's cache in between. Matching 200k bench lines (upstream's sshd filter, live mode,
# the daemon's collector thresholds), best CPU s of five, two runs: 4096-line slices 0.255-0.274, 2048 0.236,
# 1024 0.222-0.228; each slice is one hand-over to the scan thread and back, so the smaller step was not taken.
SLICE_LINES = 2048
COUNT_SLICE = 256  # failures counted on the loop between two chances for the socket (~2 ms of counting)


class Scanner:
    """One jail's scan thread (created on first use, ended by `close`)."""

    def __init__(self) -> None:
        self._pool: ThreadPoolExecutor | None = None
        self.cpu = 0.0  # CPU seconds the scan thread spent matching (banjail.daemon.metrics; written by it alone)

    async def scan(
        self, state: JailState, lines: Sequence[str], now: float, *, catching_up: bool = False
    ) -> list[Event]:
        """The events of `lines`, in order, as JailState.scan gives them; matching runs on the jail's thread with
        the matcher the jail had when the call started (catch-up lines keep their own dates)."""
        matcher = state.matcher
        if matcher is None or not lines:
            return []
        if self._pool is None:
            self._pool = ThreadPoolExecutor(1, thread_name_prefix="banjail-scan")
        loop = asyncio.get_running_loop()
        events: list[Event] = []
        if catching_up:
            matcher.live = False  # set on the loop while no slice of this jail is matched
        try:
            for start in range(0, len(lines), SLICE_LINES):
                part = lines[start : start + SLICE_LINES]
                outcomes = await loop.run_in_executor(self._pool, self._match, state, matcher, part, now)
                for at in range(0, len(outcomes), COUNT_SLICE):
                    collector.check()  # a batch that keeps many objects lets the collector run as usual
                    if at:
                        await asyncio.sleep(0)
                    events.extend(state.count(outcomes[at : at + COUNT_SLICE], now, catching_up=catching_up))
                collector.check()
        finally:
            if catching_up:
                matcher.live = True
        return events

    def _match(self, state: JailState, matcher: Matcher, part: Sequence[str], now: float) -> Any:
        started = time.thread_time()
        try:
            return state.match(part, now, matcher=matcher)
        finally:
            self.cpu += time.thread_time() - started

    def close(self) -> None:
        """End the thread once a slice in progress is done (a jail that stops)."""
        if self._pool is not None:
            self._pool.shutdown(wait=False)
            self._pool = None
