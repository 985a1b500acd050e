"""The daemon's edge calls: running a jail's action jobs, the ignorecommand, and the errors the controller shows.

Everything here is awaited from the event loop and never blocks it: actions are awaited coroutines (their own
subprocesses), the ignorecommand is an asyncio subprocess with a timeout.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import shlex
import signal
import time
from collections.abc import Sequence

from banjail.actions import handover
from banjail.actions.base import Action, persistent
from banjail.actions.program import run_program
from banjail.actions.runner import Runner
from banjail.daemon import metrics
from banjail.daemon.jail import ActionJob, Jail
from banjail.daemon.logging import logger
from banjail.errors import ControlError
from banjail.model import Failure

IGNORECOMMAND_TIMEOUT = 30.0

log_actions = logger("actions")
HANDOVER_TIMEOUT = 10.0
log_filter = logger("filter")


async def run_job(jail: Jail, job: ActionJob) -> None:
    """Carry out one action job on every action of the jail, in order (stop: in reverse order). A failing
    action is logged and does not keep the others from running. `shutdown` stops only the actions whose bans do
    not outlive the daemon (see Action.persistent); `reset` (start after an unclean stop) holds the restored
    bans and clears what the killed server's firewall commands left. A job naming one action runs on that
    action only."""
    actions = list(jail.actions.values()) if job.action is None else [job.action]
    if job.kind in ("stop", "shutdown"):
        actions.reverse()
    if job.kind == "shutdown":
        actions = [a for a in actions if not persistent(a)]
    if job.kind in ("shutdown", "reset", "release"):
        await _handover(jail, actions, job)
    if job.kind == "release":
        return
    for action in actions:
        await run_action(jail, action, job)


async def run_action(jail: Jail, action: Action, job: ActionJob) -> str:
    """Carry out `job` on one action; "" when it succeeded, else the error (which is logged)."""
    try:
        if job.kind == "start":
            await action.start()
        elif job.kind == "ban":
            await action.ban(job.bans)
        elif job.kind == "unban":
            await action.unban(job.bans)
        elif job.kind == "prolong":  # the bans' ends moved (prolonged, or the jail's bantime changed)
            prolong = getattr(action, "prolong", None)
            if callable(prolong):
                await prolong(job.bans)
        elif job.kind == "flush":
            await action.flush()
        elif job.kind in ("stop", "shutdown"):
            await action.stop()
        elif job.kind == "release":
            await _handover(jail, [action], job)
        elif job.kind == "reset":
            clear = getattr(action, "clear_leftovers", None)
            if callable(clear):
                await clear()
        metrics.action_ran(jail.name, action.name, job.kind, failed=False)
        return ""
    except asyncio.CancelledError:
        raise
    except Exception as exc:
        metrics.action_ran(jail.name, action.name, job.kind, failed=True)
        ids = ", ".join(b.fid for b in job.bans[:5]) + (" ..." if len(job.bans) > 5 else "")
        log_actions.error(
            "Failed to execute %s jail '%s' action '%s'%s: %s",
            job.kind,
            jail.name,
            action.name,
            f" for {ids}" if ids else "",
            exc,
        )
        return str(exc) or repr(exc)


def handover_action(actions: Sequence[Action]) -> Action | None:
    """The jail's action whose bans are held over a restart (banjail.actions.handover): the first that declares
    `handover` or runs iptables, ip6tables, ipset or nft commands; None when there is none."""
    for action in actions:
        spec = getattr(action, "spec", None)
        options = getattr(spec, "options", None)
        if isinstance(options, dict) and handover.covers(options, getattr(action, "firewall", None)):
            return action
    return None


def ignorecommand_argv(template: str, failure: Failure) -> list[str]:
    """The shell command line for `ignorecommand` with <ip> (and <F-*> groups) substituted, every value quoted,
    since groups come from the log and must never reach the shell unquoted."""
    values = {"ip": failure.ip or failure.fid, "fid": failure.fid}
    values.update({f"F-{key.upper()}": value for key, value in failure.groups})
    text = template
    for key, value in values.items():
        text = text.replace(f"<{key}>", shlex.quote(value))
    return ["/bin/sh", "-c", text]


async def ignore_command(jail: Jail, failure: Failure, now: float) -> bool:
    """Run the jail's ignorecommand for a failure: exit 0 means ignore, 1 means count it; anything else is
    logged as an error and counts it (upstream's rule). Answers are cached per ignorecache."""
    key = failure.ip or failure.fid
    cache = jail.ignore_cache
    if cache is not None:
        known = cache.get(key, now)
        if known is not None:
            return known
    argv = ignorecommand_argv(jail.ignorecommand, failure)
    proc = await asyncio.create_subprocess_exec(
        *argv, stdout=asyncio.subprocess.DEVNULL, stderr=asyncio.subprocess.PIPE, start_new_session=True
    )
    try:
        _, err = await asyncio.wait_for(proc.communicate(), IGNORECOMMAND_TIMEOUT)
    except TimeoutError:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, signal.SIGKILL)
        await proc.wait()
        log_filter.error("[%s] ignorecommand timed out for %s", jail.name, key)
        return False
    if proc.returncode not in (0, 1):
        log_filter.error(
            "[%s] ignorecommand failed for %s (exit %s): %s",
            jail.name,
            key,
            proc.returncode,
            err.decode(errors="replace").strip(),
        )
        return False
    ignored = proc.returncode == 0
    if cache is not None:
        cache.set(key, ignored, now)
    return ignored


def duration(seconds: float) -> str:
    """Upstream's short duration text for `Increase Ban` lines: `1d 02:03:04`, `00:10:00`."""
    if seconds < 0:
        return "permanent"
    total = int(seconds)
    days, rest = divmod(total, 86400)
    hours, rest = divmod(rest, 3600)
    minutes, secs = divmod(rest, 60)
    clock = f"{hours:02d}:{minutes:02d}:{secs:02d}"
    return f"{days}d {clock}" if days else clock


def control(message: str) -> ControlError:
    return ControlError(message)


def exists(name: str) -> ControlError:
    return ControlError(f"The jail '{name}' already exists")


def not_banned(ids: list[str]) -> ControlError:
    return ControlError(f"not banned: {ids!r}")


async def _handover(jail: Jail, actions: Sequence[Action], job: ActionJob) -> None:
    """At shutdown and at a start after an unclean stop (`reset`), hold the jail's bans (job.bans) for the
    restart in banjail.actions.handover's kernel sets; at `release`, remove the hold. Done for the jail's
    handover action (handover_action: one hold per jail); a failure is logged and the action's own stop or
    restore goes on as upstream's would."""
    action = handover_action(actions)
    if action is None:
        return
    options = getattr(getattr(action, "spec", None), "options", {})
    if job.kind == "release":
        script: str | None = handover.release_script(jail.name)
    else:
        script = handover.hold_script(jail.name, options, job.bans, time.time())
    if script is None:
        return
    runner = getattr(action, "runner", None)
    found = await run_program(
        runner if isinstance(runner, Runner) else Runner(), ("nft", "-f", "-"), script.encode(), HANDOVER_TIMEOUT
    )
    if found.returncode == 127:  # no nft on this machine: the restart lapses as upstream's does
        log_actions.debug("[%s] no restart handover: nft is not available", jail.name)
    elif not found.ok:
        log_actions.warning("[%s] restart handover (%s) failed: %s", jail.name, job.kind, found.describe())
