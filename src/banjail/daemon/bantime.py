"""A jail's bantime changes (`set <jail> bantime`, a reload): the end of every ban that follows it (Ban.follows)
moves, in the book, in the store and in the kernel, before the client gets its reply.

- Book: JailState.set_bantime (BanBook.rebase). An end moved into the past is lifted at the scheduler's next
  wake-up, which comes at once; upstream 1.0.2 only looks again at the end it had planned before the change, so
  a lowered bantime takes effect there only then.
- Store: the moved bans' rows (`bips`, which the restore reads, and their `bans` history row) get the new
  bantime, all in one transaction (a Checkpoint's `moved`, through the daemon's GroupCommit: one UPDATE per
  table and ban by key, about a second for 100k bans). Upstream keeps the bantime a row was written with, so a
  restart after a kill -9 brings back the old, shorter end; banjail restores the moved one (and after an unclean
  stop it does not cap stored lengths at the configured bantime either: banjail.daemon.restore), so a crash
  never lets an attacker back in before the end the admin set. A lowered bantime is stored too: the store holds
  the end in force, whichever way it moved.
- Ordering: the book moves and the checkpoint is queued in one step of the event loop, and a batch being
  carried out reads its bans back from the book just before it queues its own checkpoint and again before it
  hands them to the actions (banjail.daemon.outcome), so neither a row nor a kernel element keeps an older end.
- Kernel: the bans the actions already hold go to them again as one `prolong` job, queued before anything else
  can queue an unban: native nftables and ipset replace the element's timeout (it would otherwise expire in the
  kernel at the old end, or hold past the new one), a command action runs its actionprolong if it has one.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace
from typing import TYPE_CHECKING

from banjail.daemon import metrics
from banjail.daemon.jail import ActionJob, Jail
from banjail.daemon.logging import logger
from banjail.model import Ban
from banjail.store.checkpoint import Checkpoint
from banjail.timespec import str2seconds

if TYPE_CHECKING:
    from banjail.daemon.app import Daemon

log_server = logger("server")


async def set_bantime(daemon: Daemon, jail: Jail, text: str) -> float:
    """`set <jail> bantime TEXT`: the jail's new bantime in seconds (-1: permanent), once the moved ends are
    durable in the store."""
    value = str2seconds(text)
    jail.config = replace(jail.config, bantime=value)
    await moved(daemon, jail, jail.state.set_bantime(value))
    return value


async def moved(daemon: Daemon, jail: Jail, bans: Sequence[Ban]) -> None:
    """Carry out the ends that moved (JailState.set_bantime, BanBook.rebase): hand the bans the actions hold to
    them again (`prolong`), then store every moved ban's new bantime. Returns once that is committed."""
    if not bans:
        return
    now = daemon.clock.now()
    applied = jail.applied
    held = []
    for ban in bans:
        # A ban whose end is now past is not handed on: the tick lifts it, and `applied` keeps the end the
        # actions hold, so its unban reaches the kernel (a native action skips deleting an element it takes for
        # expired in the kernel already).
        if ban.fid in applied and (ban.until is None or ban.until > now):
            applied[ban.fid] = ban
            held.append(ban)
    if held:
        # put_nowait: queued before this coroutine can yield, so ahead of any unban of these bans
        jail.queue.put_nowait(ActionJob("prolong", tuple(held)))
    bantime = jail.state.policy.bantime
    log_server.info(
        "[%s] bantime %s: the end of %d ban(s) that follow it moved", jail.name, f"{bantime:g}", len(bans)
    )
    daemon.wake()
    try:
        # The commit queues the checkpoint before its first await: no batch's checkpoint can slip in between
        # the book's move and this one with the ends of before.
        await daemon.committer.commit(Checkpoint(jail.name, moved=tuple(bans)))
    except Exception as exc:
        metrics.ERRORS.value("db").inc()
        log_server.error("[%s] cannot write the moved ban ends to the database: %s", jail.name, exc)
