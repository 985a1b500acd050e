"""`reload`: apply a freshly loaded configuration to the running daemon without losing bans.

- A jail that is gone from the configuration stops (its bans stay in the store, as upstream's delJail).
- A new jail is created and started (its stored bans are restored).
- A jail whose options changed keeps its ban book and its failure counts; its matcher, ignore rules and ban
  policy are rebuilt; its sources restart only when what they read changed; when its actions changed, the old
  actions stop and the new ones start and receive every current ban (restored=True).
- `--unban` lifts every ban of the affected jails first; `--restart` stops them and starts them afresh (bans come
  back from the store).
A jail whose new configuration is invalid keeps running as it was (a new one is not created); the error is logged
and the reload fails with every such jail's problems (file:line), so the client says so and exits 255.
"""

from __future__ import annotations

import dataclasses
from typing import TYPE_CHECKING

from banjail.config.schema import Config, JailConfig
from banjail.daemon import bantime, manual
from banjail.daemon.jail import ActionJob, Jail, build_state, ignore_cache
from banjail.daemon.logging import logger
from banjail.errors import BanjailError

if TYPE_CHECKING:
    from banjail.daemon.app import Daemon

log_server = logger("server")
_SOURCE_FIELDS = ("logpath", "backend", "journalmatch", "logencoding")


async def apply(daemon: Daemon, config: Config, name: str | None, *, restart: bool, unban: bool) -> None:
    wanted = {j.name: j for j in config.jails}
    targets = [name] if name is not None else list(dict.fromkeys([*daemon.jails, *wanted]))
    for target in targets:
        if target in daemon.jails and unban:
            await manual.unban(daemon, target, None)
        if target in daemon.jails and (restart or target not in wanted):
            await daemon.stop_jail(target)
    daemon.config = config
    failed: dict[str, str] = {}
    for target in targets:
        new = wanted.get(target)
        if new is None:
            continue
        try:
            running = daemon.jails.get(target)
            if running is None:
                await daemon.add_jail(new)
                await daemon.start_jail(target)
            elif running.config != new:
                log_server.info("Reload jail %r", target)
                await _update(daemon, running, new)
                log_server.info("Jail %r reloaded", target)
        except BanjailError as exc:
            keeps = "it keeps its previous configuration" if target in daemon.jails else "it is not started"
            log_server.error("Reload of jail %r failed, %s: %s", target, keeps, exc)
            failed[target] = f"Reload of jail {target!r} failed, {keeps}:\n{exc}"
    if failed:
        # what runs is what the daemon's configuration says: the failed jails' previous one
        kept = tuple(
            daemon.jails[j.name].config if j.name in failed and j.name in daemon.jails else j
            for j in config.jails
        )
        daemon.config = dataclasses.replace(config, jails=kept)
        raise BanjailError("\n".join(failed.values()))


async def _update(daemon: Daemon, jail: Jail, new: JailConfig) -> None:
    old = jail.config
    state = build_state(new, history=daemon.history, self_ips=daemon.self_ips)
    if old.action_specs != new.action_specs or old.actions != new.actions:
        # built before anything else changes: new actions that cannot be built leave the jail as it was
        jail.config = new
        try:
            await replace_actions(daemon, jail)
        except BanjailError:
            jail.config = old
            raise
    # Keep what the jail knows: its bans and its failure counts (with the new counting options).
    state.book = jail.state.book
    counter = jail.state.counter
    counter.maxretry, counter.findtime, counter.maxmatches = new.maxretry, new.findtime, new.maxmatches
    state.counter = counter
    jail.state = state
    jail.config = new
    # the configured bantime is the jail's again: the bans that follow it move, as after `set bantime`
    await bantime.moved(daemon, jail, state.book.rebase(state.policy.bantime))
    jail.ignorecommand = new.ignorecommand
    jail.ignore_cache = ignore_cache(new)
    if any(getattr(old, f) != getattr(new, f) for f in _SOURCE_FIELDS):
        jail.logpaths = list(new.logpath)
        await daemon.restart_sources(jail)


async def replace_actions(daemon: Daemon, jail: Jail) -> None:
    """Stop the jail's actions and start the ones its current config lists, handing them every ban. The new
    actions are built first: when they cannot be, this raises and the old ones go on."""
    actions = {a.name: a for a in daemon.make_actions(jail.config)}
    await daemon.enqueue(jail, ActionJob("stop"))
    await jail.queue.join()
    jail.actions = actions
    for job in restored_bans(jail):
        await daemon.enqueue(jail, job)
    jail.applied = {b.fid: b for b in jail.state.book.banned()}


def restored_bans(jail: Jail) -> tuple[ActionJob, ...]:
    """The job that hands every current ban to freshly started actions."""
    bans = tuple(dataclasses.replace(b, restored=True) for b in jail.state.book.banned())
    return (ActionJob("start"), ActionJob("ban", bans)) if bans else (ActionJob("start"),)
