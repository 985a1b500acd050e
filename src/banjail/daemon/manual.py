"""Manual operations on a jail (`set <jail> banip/unbanip/attempt`, `unban`): the same pipeline as failures from
the log, so a manual ban is committed, logged and applied exactly like any other, and a manual unban is deleted
from the store before the actions remove it."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Sequence
from dataclasses import replace
from typing import TYPE_CHECKING

from banjail.core.bantarget import TargetError, ban_target
from banjail.daemon import effects
from banjail.daemon.jail import ActionJob
from banjail.daemon.logging import MSG, logger

if TYPE_CHECKING:
    from banjail.daemon.app import Daemon
    from banjail.daemon.jail import Jail

log_actions = logger("actions")

SETTLE_SECONDS = (
    5.0  # longest a manual ban/unban's reply waits for its actions (a firewall takes milliseconds)
)


def ban_targets(jail: Jail, values: Sequence[str]) -> list[str]:
    """The canonical form of every `set <jail> banip` value (banjail.core.bantarget), or a ControlError naming
    each value refused (then nothing is banned)."""
    ids = any("<F-ID>" in regex or "(?P<fid>" in regex for regex in jail.config.filter.failregex)
    found: list[str] = []
    problems: list[str] = []
    for value in values:
        try:
            found.append(ban_target(str(value), ids=ids))
        except TargetError as exc:
            problems.append(str(exc))
    if problems:
        raise effects.control(f"set {jail.name} banip: " + "; ".join(problems) + "; nothing was banned")
    return found


async def ban(daemon: Daemon, name: str, fids: Sequence[str]) -> int:
    """Manual bans (`set <jail> banip`): returns how many were newly banned."""
    jail = daemon.jails[name]
    now = daemon.clock.now()
    decided = [jail.state.ban(fid, now) for fid in fids]
    await daemon.carry_out(jail, decided, now)
    await settle(daemon, jail)
    return sum(1 for d in decided if d.kind == "banned")


async def unban(
    daemon: Daemon, name: str, targets: Sequence[str] | None, *, report_absent: bool = False
) -> int:
    """Manual unbans (addresses, networks, ids) in one jail, or every ban when targets is None."""
    jail = daemon.jails[name]
    now = daemon.clock.now()
    if targets is None:
        unbans = jail.state.book.remove_all(now)
        await daemon.db(daemon.store.del_ban, name, None)
        await daemon.unbans(jail, [replace(u, manual=False) for u in unbans])
        await settle(daemon, jail)
        return len(unbans)
    count = 0
    missed: list[str] = []
    for target in targets:
        unbans = jail.state.unban(target, now)
        if not unbans:
            await daemon.db(daemon.store.del_ban, name, target)
            log_actions.log(MSG, "%s is not banned", target)
            missed.append(target)
        count += await daemon.unbans(jail, unbans)
    if count:
        await settle(daemon, jail)
    if missed and report_absent:
        raise effects.not_banned(missed)
    return count


async def attempt(daemon: Daemon, name: str, fid: str, lines: Sequence[str]) -> int:
    """A manual failure (`set <jail> attempt`): returns the fid's retry count now (0 after a ban)."""
    jail = daemon.jails[name]
    now = daemon.clock.now()
    await daemon.carry_out(jail, jail.state.attempt(fid, lines, now), now)
    await settle(daemon, jail)
    return jail.state.counter.retries(fid)


async def settle(daemon: Daemon, jail: Jail, seconds: float = SETTLE_SECONDS) -> bool:
    """Wait until every action of `jail` has finished the jobs queued so far (at most `seconds`); False when
    the bound was reached first (the jobs go on; the reply just does not wait for them)."""
    done: asyncio.Future[None] = asyncio.get_running_loop().create_future()
    await daemon.enqueue(jail, ActionJob("settle", done=done))
    with contextlib.suppress(TimeoutError):
        await asyncio.wait_for(asyncio.shield(done), seconds)
        return True
    log_actions.warning(
        "[%s] actions still busy after %g s; answering without waiting for them", jail.name, seconds
    )
    return False
