"""What a batch of jail events turns into: one checkpoint committed to the store, then log lines and action jobs.

    events ──► Found: a counted failure (stored) and `[jail] Found <fid> - <time>` (`Attempt` when manual)
           ──► Ignored: `[jail] Ignore <ip> by <source>`
           ──► AskIgnore: the ignorecommand (awaited); its answer resumes the jail's pipeline in place
           ──► BanDecided: bans to store; the fid's stored failures are forgotten (not for restored bans)
           ──► Restored: bans back from the store at start (nothing to store), one batch for the actions
           ──► Unban: handed to Daemon.unbans at once
    then:  Checkpoint(positions, failures, cleared, bans) ──► GroupCommit (ONE transaction)
           ──► `Found`/`Ignore` lines ──► `Restore Ban`/`Ban`/`Increase Ban` lines ──► the jail's action queue

Invariant: nothing of a batch is logged or handed to an action before its checkpoint is durable, so a kill -9 at
any moment either loses the whole batch (the next process reads and counts it again) or none of it.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Iterable
from typing import TYPE_CHECKING

from banjail.core.jail import AskIgnore, BanDecided, Event, Found, Ignored, PrefixSplit, Restored
from banjail.daemon import effects, metrics
from banjail.daemon.jail import ActionJob, Jail
from banjail.daemon.lanes import restore_jobs
from banjail.daemon.logging import NOTICE, log_many, logger
from banjail.model import Ban, Position, Unban
from banjail.store.checkpoint import Checkpoint, CountedFailure

if TYPE_CHECKING:
    from banjail.daemon.app import Daemon

_EVENT_SLICE = 512  # events turned into the checkpoint between two chances for the socket and other jails

log_server = logger("server")
log_filter = logger("filter")
log_actions = logger("actions")


async def carry_out(
    daemon: Daemon,
    jail: Jail,
    events: Iterable[Event],
    now: float,
    positions: tuple[tuple[str, Position], ...] = (),
    *,
    remote: bool = False,
    fleet_cursor: tuple[str, str] | None = None,
) -> None:
    """Carry out a batch of events in order: commit the batch's checkpoint (positions, counted failures,
    bans; one transaction), then log failures and bans and hand the bans to the actions.

    With a fleet (banjail.fleet.hub), the notices of the batch's new local bans go into the same transaction
    (its outbox); `remote` batches (bans other hosts decided) publish nothing and commit `fleet_cursor`, the
    stream id read, with the bans it produced."""
    pending: list[Event] = list(events)
    notes: list[str] = []  # fail2ban.filter lines (Found, Ignore), in event order
    decided: list[BanDecided] = []
    restored: list[Ban] = []
    counted: dict[str, list[CountedFailure]] = {}
    cleared: set[str] = set()
    evidence: list[CountedFailure] = []  # this batch's failures that became a ban (banjail.store.evidence)
    source = positions[0][0] if positions else ""
    name = jail.name
    note = notes.append
    found_head, attempt_head = f"[{name}] Found ", f"[{name}] Attempt "
    stamped: float | None = None  # the last failure time and its text: a flood's failures share their second
    stamp = ""
    # The list's iterator reads pending[index] next, so the events `resume` inserts there come next, in order.
    for index, event in enumerate(pending, 1):
        if not index % _EVENT_SLICE:
            await asyncio.sleep(0)  # a flood's batch of 4096 failures must not hold the control socket
        # Found first, by exact type: a flood's batch is thousands of them, and each isinstance test before
        # the right one, and a call per row, cost as much as the row (events are final dataclasses)
        if type(event) is Found:
            failure = event.failure
            fid = failure.fid
            at = event.time
            # CountedFailure.of, inlined (positional: the field order)
            row = CountedFailure(fid, failure.ip, at, event.count, failure.lines, failure.groups, source,
                                 failure.regex_index)  # fmt: skip
            rows = counted.get(fid)
            if rows is None:
                counted[fid] = [row]
            else:
                rows.append(row)
            if at != stamped:
                stamped, stamp = at, time2str(at)
            note(f"{attempt_head if event.attempt else found_head}{fid} - {stamp}")
        elif type(event) is BanDecided:
            decided.append(event)
            if not event.ban.restored:
                # The fid's count became this decision: its stored failures go, later ones start anew.
                cleared.add(event.ban.fid)
                evidence += counted.pop(event.ban.fid, ())
        elif isinstance(event, Restored):
            restored.extend(event.bans)
        elif isinstance(event, Ignored):
            notes.append(f"[{name}] Ignore {event.failure.ip or event.failure.fid} by {event.source}")
        elif isinstance(event, PrefixSplit):
            rule = event.rule
            by = f"{rule.source} {rule.entry}".strip() if rule.entry else rule.source
            notes.append(
                f"[{name}] {event.network} is not banned as a whole: it holds an address ignored by {by}; "
                "its addresses are counted and banned one by one"
            )
        elif isinstance(event, AskIgnore):
            ignored = await effects.ignore_command(jail, event.failure, now)
            pending[index:index] = jail.state.resume(event, ignored, now)
        elif isinstance(event, Unban):
            await daemon.unbans(jail, [event])
    # The loop above may have awaited: a `set bantime` meanwhile moved the ends of bans that follow it. No await
    # from here to the commit's queueing, so the rows hold the ends the book has (banjail.daemon.bantime).
    decided = _current(jail, decided)
    stored = tuple(d.ban for d in decided if d.store)
    fleet = daemon.fleet
    outbox = fleet.outbox(jail, stored) if fleet is not None and stored and not remote else ()
    checkpoint = Checkpoint(
        name,
        positions,
        tuple([c for group in counted.values() for c in group]),
        tuple(cleared),
        stored,
        evidence=tuple(evidence),
        outbox=outbox,
        fleet_cursor=fleet_cursor,
        expire_before=now - jail.state.counter.findtime,
    )
    if checkpoint:
        try:
            await daemon.committer.commit(checkpoint)
        except Exception as exc:
            metrics.ERRORS.value("db").inc()
            log_server.error("[%s] cannot write to the database: %s", name, exc)
        if outbox and fleet is not None:
            fleet.wake()
    log_many(log_filter, logging.INFO, notes)
    if restored:
        await _restored(daemon, jail, restored)
    if decided:
        await _decided(daemon, jail, decided)


async def _restored(daemon: Daemon, jail: Jail, bans: list[Ban]) -> None:
    """Log `Restore Ban` for the bans back from the store and hand them to the actions as one batch (a ban
    already handed to them, a restore over a live ban, is not handed again): as restored to an action that
    applied it before the stop, as new to one that never did (banjail.daemon.lanes.restore_jobs)."""
    name = jail.name
    applied = jail.applied
    fresh = [ban for ban in bans if ban.fid not in applied] if applied else bans
    applied.update([(ban.fid, ban) for ban in fresh])
    log_many(log_actions, NOTICE, [f"[{name}] Restore Ban {ban.fid}" for ban in fresh])
    if fresh:
        store = daemon.store
        await daemon.runs.flush()  # runs of this process (a reload restarting the jail) are read too
        done = await daemon.db(store.applied_actions, name)
        since = await daemon.db(store.runs_since)
        for job in restore_jobs(list(jail.actions.values()), fresh, done, since):
            await daemon.enqueue(jail, job)
    daemon.wake()


def _current(jail: Jail, decided: list[BanDecided]) -> list[BanDecided]:
    """The decisions with their bans as the book has them now (BanBook.current)."""
    current = jail.state.book.current
    out = []
    for d in decided:
        ban = current(d.ban) if d.kind in ("banned", "prolonged") else d.ban
        out.append(d if ban is d.ban else BanDecided(d.kind, ban, d.store, d.error))
    return out


async def _decided(daemon: Daemon, jail: Jail, decided: list[BanDecided]) -> None:
    """Log the committed ban decisions (upstream's words) and hand the new bans to the actions: the new ones to
    ban, the prolonged ones (a newer ban of a banned fid) to `prolong`, so a kernel timeout moves with the end."""
    name = jail.name
    notices: list[str] = []
    fresh: list[Ban] = []
    longer: list[Ban] = []
    for d in _current(jail, decided):  # again: the commit was awaited
        ban = d.ban
        if d.error:
            log_actions.error("[%s] bantime.formula failed: %s", name, d.error)
        if d.kind == "banned":
            if ban.fid in jail.applied:
                continue  # already handed to the actions (a restore over a live ban)
            notices.append(f"[{name}] {'Restore ' if ban.restored else ''}Ban {ban.fid}")
            jail.applied[ban.fid] = ban
            fresh.append(ban)
        elif d.kind == "prolonged":
            until = time2str(ban.until) if ban.until else "permanent"
            notices.append(
                f"[{name}] Increase Ban {ban.fid} ({ban.count} # {effects.duration(ban.bantime)} -> {until})"
            )
            if ban.fid in jail.applied:
                longer.append(ban)
            jail.applied[ban.fid] = ban
        elif d.kind == "already banned":
            notices.append(f"[{name}] {ban.fid} already banned")
        else:
            log_many(log_actions, NOTICE, notices)
            notices = []
            log_actions.info("[%s] Ignore %s, expired bantime", name, ban.fid)
    log_many(log_actions, NOTICE, notices)
    if fresh:
        await daemon.enqueue(jail, ActionJob("ban", tuple(fresh), read_at=jail.batch_read_at))
    if longer:
        await daemon.enqueue(jail, ActionJob("prolong", tuple(longer)))
    daemon.wake()


_STAMP: list[tuple[int, str]] = [(-1, "")]


def time2str(when: float) -> str:
    """Upstream's local time text of a log line's time (`2026-11-25 10:00:00`)."""
    # Failures of a flood share their second: format each second once.
    second = int(when)
    last = _STAMP[0]
    if last[0] == second:
        return last[1]
    text = time.strftime("%Y-%m-%d %H:%M:%S", time.localtime(second))
    _STAMP[0] = (second, text)
    return text
