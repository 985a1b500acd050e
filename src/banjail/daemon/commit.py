"""Group commit: the checkpoints of batches processed at about the same time go to the store in one transaction.

Every jail's reader hands the checkpoint of the batch it just processed to `GroupCommit.commit` and waits; the
first waiting checkpoint is committed at once on the store executor, and every checkpoint that arrives while that
transaction (and its fsync) runs goes into the next one. So a lone burst is committed with no added delay, and a
flood over many jails costs one fsync per round, not one per batch.

Invariant: `commit` returns only after its checkpoint is durable (or raised the store's error), and checkpoints
are committed in the order they were handed in.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable, Sequence

from banjail.daemon.metrics import COMMIT_SECONDS
from banjail.store.checkpoint import Checkpoint

Run = Callable[[Callable[[Sequence[Checkpoint]], None], Sequence[Checkpoint]], Awaitable[None]]


class GroupCommit:
    """Coalesces checkpoints into store transactions. `write` is the store's `commit`; `run` runs it on the
    store executor (the daemon's `db`)."""

    def __init__(self, write: Callable[[Sequence[Checkpoint]], None], run: Run) -> None:
        self._write = write
        self._run = run
        self._pending: list[tuple[Checkpoint, asyncio.Future[None]]] = []
        self._task: asyncio.Task[None] | None = None
        self.transactions = 0  # how many store transactions were made (for tests and stats)

    @property
    def pending(self) -> int:
        """Checkpoints waiting for the next transaction (a queue depth for the metrics)."""
        return len(self._pending)

    async def commit(self, checkpoint: Checkpoint) -> None:
        """Make `checkpoint` durable; returns when its transaction committed (raises the store's error)."""
        future: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self._pending.append((checkpoint, future))
        if self._task is None or self._task.done():
            self._task = asyncio.create_task(self._drain(), name="group-commit")
        await asyncio.shield(future)

    async def _drain(self) -> None:
        while self._pending:
            await asyncio.sleep(0)  # checkpoints made in the same loop turn share the transaction
            taken, self._pending = self._pending, []
            started = time.monotonic()
            try:
                await self._run(self._write, [c for c, _ in taken])
                COMMIT_SECONDS.histogram().observe(time.monotonic() - started)
            except Exception as exc:
                for _, future in taken:
                    if not future.done():
                        future.set_exception(exc)
                continue
            finally:
                self.transactions += 1
            for _, future in taken:
                if not future.done():
                    future.set_result(None)

    async def close(self) -> None:
        """Wait for the transaction in flight and every pending one."""
        task = self._task
        if task is not None:
            await asyncio.gather(task, return_exceptions=True)
