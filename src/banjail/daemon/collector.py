"""The cyclic collector held off while a batch of log lines is processed, as long as the batch adds few objects.

A batch (up to 4096 lines) makes thousands of short-lived objects: the engine's records, the failures, the
jail's events, the checkpoint's rows. They live until the batch is committed and are then freed by reference
counting; none is in a cycle. CPython's collector runs every GC_THRESHOLDS[0] new objects
(banjail.daemon.interpreter), so it ran several times inside each batch, walking those objects (and, after
promoting them, walking them again in the next older generation) to free nothing: about a tenth of the daemon
bench's server CPU. Held off for the batch, it runs after it, when the batch's short-lived objects are gone and
what is left to walk is what the batch added for good (counter entries, bans).

Bounded pauses: a batch that keeps many objects alive (a flood of distinct addresses: every line a new counter
entry) would leave the collector one long walk at its end. So the hold ends early, for every batch in progress,
as soon as the young generation holds more than YOUNG_BUDGET objects (`check`, called between the steps of a
batch); the collector then runs in its usual small steps. Holds of several jails may overlap (a depth counter:
every batch runs on the event loop, so no lock); the collector runs again when the last ends. A hold keeps the
collector off only if it was on (the start-up restore turns it off by itself, banjail.daemon.app).
"""

from __future__ import annotations

import gc
from collections.abc import Callable

YOUNG_BUDGET = 20_000  # young objects a held-off collector may leave to its next walk (a few ms of walking)
RETRY_AFTER = 16  # batches of a jail run without a hold after one of its batches ended its hold early


class _Holds:
    depth = 0
    off = False  # True while the collector is off because of these holds
    early = 0  # holds ended early so far


class BatchHold:
    """One jail's holds: `begin` holds the collector off for a batch, unless one of the jail's recent batches was
    heavy (it ended its hold early: a flood of new addresses), then the next RETRY_AFTER batches run without."""

    def __init__(self) -> None:
        self._skip = 0

    def begin(self) -> Callable[[], None]:
        """Hold the collector off for one batch (event loop only); call the returned function once when the batch
        is done (in a finally)."""
        if self._skip:
            self._skip -= 1
            return _nothing
        if _Holds.depth == 0 and gc.isenabled():
            gc.disable()
            _Holds.off = True
        _Holds.depth += 1
        early = _Holds.early
        done = False

        def release() -> None:
            nonlocal done
            if done:
                return
            done = True
            _Holds.depth -= 1
            if _Holds.early != early:
                self._skip = RETRY_AFTER
            if _Holds.depth == 0:
                _resume()
            else:
                check()

        return release


def check() -> None:
    """End the holds early once the young generation is past YOUNG_BUDGET objects (cheap; call it often)."""
    if _Holds.off and gc.get_count()[0] > YOUNG_BUDGET:
        _Holds.early += 1
        _resume()


def _resume() -> None:
    if _Holds.off:
        _Holds.off = False
        gc.enable()


def _nothing() -> None:
    pass
