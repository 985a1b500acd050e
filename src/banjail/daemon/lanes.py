"""A jail's action jobs on independent per-action queues ("lanes"), and the record of what each action did.

    jail.queue (the jail's jobs, in order) ──► dispatch ──► one lane per action: its own FIFO and task
                                                        ──► stop / shutdown / reset: every lane idle, then
                                                            effects.run_job (in order, stop in reverse)
    lane: effects.run_action(job) ──► ActionRun per ban (ban/unban jobs) ──► RunLog ──► GroupCommit (riding
                                                                          along with the batches' checkpoints)

Invariants:
- One action's jobs run in the order the jail queued them (upstream's order, within an action); a job of one
  action never waits for another action's job, so a whois that hangs in a mail action holds neither the
  firewall's next ban nor any other jail. Jobs about the whole jail (stop, shutdown, reset) wait for every lane.
- `jail.queue.task_done()` for a job is called once every lane it went to has finished it: `jail.queue.join()`
  still means "every job queued so far is done".
- Every ban and unban an action finished is recorded (banjail.store.actionruns), off the flood path: runs are
  collected and handed to the daemon's GroupCommit as one checkpoint per round, so during a flood they share the
  batches' transactions (no fsync of their own). A firewall lane never waits for them (at least once across a
  kill: its ban is cleared, then restored, so a repeat is harmless).
- A side action (mail, whois, a report: `marked`) gets each ban exactly once across kill -9: its commands leave
  completion marks (banjail.actions.completion, banjail.daemon.completions) that say, at the next start, which
  runs ended after the kill (not run again), which still run (waited for in this lane only) and which were cut
  short (run again, logged: the one ambiguous case).
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import re
import time
from collections.abc import Awaitable, Callable, Iterable, Sequence

from banjail.actions.base import Action
from banjail.daemon import effects, metrics
from banjail.daemon.completions import Completions
from banjail.daemon.jail import ActionJob, Jail
from banjail.daemon.logging import logger
from banjail.model import Ban
from banjail.store.actionruns import ActionRun, first_line
from banjail.store.checkpoint import Checkpoint

WHOLE_JAIL = frozenset({"stop", "shutdown", "reset"})
# How long runs wait to share one commit: fewer transactions while actions run after a flood (one per run: 0.34
# CPU s for 1525 bans; 10 per round: 0.04 s). A kill -9 loses at most a round of records: a firewall action's
# ban applied again is harmless (after a kill its leftovers are cleared first), a marked side action's run is
# read back from its completion mark (kept until its round is committed), an unmarked one repeats it. 0.25 s
# rather than 0.05: the daemon bench's 1525 commands run for ~4.5 s after the bulk is read, and each round is
# a transaction with its fsync (actions alone, in-process, min of 3, 3 pairs: 0.60-0.68 -> 0.55-0.63 CPU s).
ROUND_SECONDS = 0.25
# A side action's command that ran this long has its record committed at once rather than in the round (a
# mail, a whois: few, and a kill during the next one must not repeat it).
SLOW_RUN_SECONDS = 0.05

log_actions = logger("actions")

Commit = Callable[[Checkpoint], Awaitable[None]]


class RunLog:
    """Collects action runs and commits them in rounds of ROUND_SECONDS: the runs made meanwhile go into one
    checkpoint. `commit` gives the daemon's current GroupCommit.commit (the database may be switched). Nothing
    waits for a round: a lost record only means the ban is handed again after a restart."""

    def __init__(self, commit: Callable[[], Commit], round_seconds: float = ROUND_SECONDS) -> None:
        self._commit = commit
        self._round = round_seconds
        self._pending: list[ActionRun] = []
        self._then: list[Callable[[], None]] = []
        self._task: asyncio.Task[None] | None = None
        self._tick: asyncio.Future[None] | None = None  # ends the round's wait (its timer, or `close`)

    def add(self, runs: Iterable[ActionRun], then: Callable[[], None] | None = None) -> None:
        """Queue runs for the next round; `then` is called once they are committed (a completion mark goes)."""
        self._pending.extend(runs)
        if then is not None:
            self._then.append(then)
        if self._task is None or self._task.done():
            self._task = asyncio.create_task(self._rounds(), name="action-runs")

    async def _rounds(self) -> None:
        loop = asyncio.get_running_loop()
        while self._pending:
            tick = self._tick = loop.create_future()
            timer = loop.call_later(self._round, _end_wait, tick)
            try:
                await tick
            finally:
                timer.cancel()
            taken, self._pending = tuple(self._pending), []
            then, self._then = self._then, []
            try:
                await self._commit()(Checkpoint("", runs=taken))
            except Exception as exc:
                log_actions.warning("cannot record %d action runs: %s", len(taken), exc)
                continue  # the marks stay: the next start reads them
            for call in then:
                call()

    async def commit_now(self) -> None:
        """Commit every run added so far, without waiting for the round (returns once they are durable)."""
        taken, self._pending = tuple(self._pending), []
        then, self._then = self._then, []
        if taken:
            await self._commit()(Checkpoint("", runs=taken))
        for call in then:
            call()

    async def flush(self) -> None:
        """Commit every run added so far (a restore is about to read them) and wait for the round in flight."""
        await self.commit_now()
        await self.close()

    async def close(self) -> None:
        """Wait until every run added so far is written (the round in wait is committed now: a stop or a restore
        does not wait for its timer)."""
        if self._tick is not None:
            _end_wait(self._tick)
        task = self._task
        if task is not None:
            await asyncio.gather(task, return_exceptions=True)


def side_action(action: Action) -> bool:
    """A command action that drives no firewall (mail, whois, a report): its effect cannot be checked or undone
    after a crash, so each ban is run and recorded on its own (a kill repeats at most the one in flight)."""
    return hasattr(action, "firewall") and action.firewall is None


def marked(action: Action) -> bool:
    """A side action that takes completion marks (banjail.actions.completion): exactly once across a kill."""
    return hasattr(action, "completion") and getattr(action, "firewall", None) is None


# A command action's error names its result as banjail.actions.runner.Outcome.describe() writes it.
_EXIT = re.compile(r"exit status (-?\d+)")
_STDERR = re.compile(r"stderr: (.*?)(?:; command: |\n|$)", re.S)


def outcome_of(error: str) -> tuple[int, str]:
    """(exit status, first line of stderr) of a failed run from its error text: the command's own exit status
    and stderr when the error names them, else 1 and the error's first line (a timeout, a native action)."""
    found = _EXIT.search(error)
    said = _STDERR.search(error)
    return (int(found.group(1)) if found else 1), first_line(said.group(1) if said else error)


def runs_of(
    jail: str, action: Action, job: ActionJob, started: float, ended: float, error: str
) -> list[ActionRun]:
    """The runs to record for `action` having carried out ban/unban `job` (error: its error text, "" if none).
    A norestored action's restored bans were skipped, not run: nothing is recorded for them."""
    if job.kind not in ("ban", "unban") or not job.bans:
        return []
    failed: set[str] | None = None
    if error:
        found = getattr(action, "failed", None)
        failed = {b.fid for b in found} if job.kind == "ban" and isinstance(found, tuple) else None
    skip = job.kind == "ban" and getattr(action, "norestored", False) is True
    status, line = outcome_of(error)
    runs = []
    for ban in job.bans:
        if skip and ban.restored:
            continue
        bad = bool(error) if failed is None else ban.fid in failed
        runs.append(
            ActionRun(
                jail,
                ban.fid,
                round(ban.at),
                action.name,
                job.kind,
                started,
                ended,
                status if bad else 0,
                line if bad else "",
            )
        )
    return runs


def restore_jobs(
    actions: Sequence[Action], bans: Sequence[Ban], applied: set[tuple[str, int, str]], since: float
) -> list[ActionJob]:
    """The jobs that hand restored `bans` to the actions: each action gets a ban as restored when it applied it
    before the stop (or the ban predates run recording, `since`), as a new ban when it never applied it. One
    job for every action when they all see the same; else one job per action."""
    views: list[tuple[Action, tuple[Ban, ...]]] = []
    differs = False
    for action in actions:
        view = []
        for ban in bans:
            key = round(ban.at)
            if key < since or (ban.fid, key, action.name) in applied:
                view.append(ban)
            else:
                view.append(dataclasses.replace(ban, restored=False))
                differs = True
        views.append((action, tuple(view)))
    if not differs or not actions:
        return [ActionJob("ban", tuple(bans))]
    return [ActionJob("ban", view, action=action) for action, view in views]


class Lanes:
    """The lanes of one jail; `dispatch` is the jail's `actions:<name>` task (cancelling it ends every lane)."""

    def __init__(self, jail: Jail, runs: RunLog, marks: Completions | None = None) -> None:
        self._jail = jail
        self._runs = runs
        self._marks = marks
        self._lanes: dict[
            int, tuple[asyncio.Queue[tuple[ActionJob, Callable[[], None]]], asyncio.Task[None]]
        ] = {}

    async def dispatch(self) -> None:
        jail = self._jail
        try:
            while True:
                job = await jail.queue.get()
                try:
                    if job.kind in WHOLE_JAIL and job.action is None:
                        await self._idle()
                        await self._whole(job)
                        jail.queue.task_done()
                    else:
                        self._fan_out(job)
                except asyncio.CancelledError:
                    raise
                except Exception as exc:
                    log_actions.error("[%s] action %s failed: %r", jail.name, job.kind, exc)
                    jail.queue.task_done()
                    _resolve(job)
        finally:
            lanes = [task for _, task in self._lanes.values()]
            for task in lanes:
                task.cancel()
            with contextlib.suppress(BaseException):
                await asyncio.gather(*lanes, return_exceptions=True)
            self._lanes.clear()

    def _fan_out(self, job: ActionJob) -> None:
        jail = self._jail
        if job.action is not None:
            targets = [job.action]
        elif job.kind == "release":
            owner = effects.handover_action(list(jail.actions.values()))
            targets = [] if owner is None else [owner]
        else:
            targets = list(jail.actions.values())
        if not targets:
            jail.queue.task_done()
            _resolve(job)
            return
        left = [len(targets)]

        def done() -> None:
            left[0] -= 1
            if left[0] == 0:
                jail.queue.task_done()
                _resolve(job)

        for action in targets:
            self._lane(action).put_nowait((job, done))

    def _lane(self, action: Action) -> asyncio.Queue[tuple[ActionJob, Callable[[], None]]]:
        found = self._lanes.get(id(action))
        if found is None:
            queue: asyncio.Queue[tuple[ActionJob, Callable[[], None]]] = asyncio.Queue()
            if self._marks is not None and marked(action):
                action.completion = self._marks  # type: ignore[attr-defined]
            task = asyncio.create_task(
                self._work(action, queue), name=f"lane:{self._jail.name}:{action.name}"
            )
            found = self._lanes[id(action)] = (queue, task)
        return found[0]

    async def _work(self, action: Action, queue: asyncio.Queue[tuple[ActionJob, Callable[[], None]]]) -> None:
        jail = self._jail
        while True:
            job, done = await queue.get()
            try:
                if job.kind == "settle":
                    continue  # a lane is FIFO: reaching it means every earlier job of this action is finished
                if job.kind == "ban" and job.bans and marked(action):
                    job = await self._not_run_before(action, job)
                if job.kind == "ban" and len(job.bans) > 0 and side_action(action):
                    mine = not marked(action)
                    actions = list(jail.actions.values())
                    # a jail with no firewall action: its ban latency is its first side action's
                    latency = bool(actions) and action is actions[0] and all(side_action(a) for a in actions)
                    for ban in job.bans:
                        await self._one(action, single(job, ban), mine, latency)
                elif job.kind != "ban" or job.bans:
                    started = time.time()
                    error = await effects.run_action(jail, action, job)
                    # a marked action records its bans' runs itself, when each command (or mail) ended
                    skip = job.kind == "ban" and marked(action)
                    runs = [] if skip else runs_of(jail.name, action, job, started, time.time(), error)
                    if runs:
                        self._runs.add(runs)
                    if job.kind == "ban" and not error:
                        # ban latency (log line read -> firewall applied) is a firewall action's, not a mail's
                        metrics.bans_applied(jail.name, len(job.bans), job.read_at, time.monotonic())
            except asyncio.CancelledError:
                raise
            except Exception as exc:
                log_actions.error("[%s] action %s %s failed: %r", jail.name, action.name, job.kind, exc)
            finally:
                queue.task_done()
                done()

    async def _not_run_before(self, action: Action, job: ActionJob) -> ActionJob:
        """`job` without the bans the killed server's command already carried out (banjail.daemon.completions:
        an orphan command still running is waited for here, in this action's lane only)."""
        marks = self._marks
        if marks is None or not marks.orphans:
            return job
        timeout = float(getattr(action, "timeout", 60.0))
        kept = [b for b in job.bans if not await marks.orphan(self._jail.name, action.name, b, timeout)]
        return job if len(kept) == len(job.bans) else dataclasses.replace(job, bans=tuple(kept))

    async def _one(self, action: Action, job: ActionJob, mine: bool, latency: bool) -> None:
        """One ban on a side action. A marked one (banjail.actions.completion; `mine` False) records the run
        itself when its command ends; else it is recorded here at its start (an interrupted run shows as one
        that never ended) and at its end (in the round: a kill may repeat it). `latency`: the ban latency is
        this action's (see _work)."""
        started = time.time()
        begun = runs_of(self._jail.name, action, job, started, started, "") if mine else []
        if begun:
            self._runs.add([dataclasses.replace(r, ended=None, status=None) for r in begun])
        error = await effects.run_action(self._jail, action, job)
        runs = runs_of(self._jail.name, action, job, started, time.time(), error) if mine else []
        if latency and not error:
            metrics.bans_applied(self._jail.name, len(job.bans), job.read_at, time.monotonic())
        if runs:
            self._runs.add(runs)
            if time.time() - started >= SLOW_RUN_SECONDS:
                # a slow command (a mail, a whois): its record is durable before the next one, at the cost of one
                # commit per SLOW_RUN_SECONDS at most; a fast one's waits for the round
                await self._runs.commit_now()

    async def _idle(self) -> None:
        for queue, _ in list(self._lanes.values()):
            await queue.join()

    async def _whole(self, job: ActionJob) -> None:
        await effects.run_job(self._jail, job)
        if job.kind in ("stop", "shutdown"):
            # every lane is idle, and the actions may now be replaced (reload): lanes are made again on demand
            for _, task in self._lanes.values():
                task.cancel()
            self._lanes.clear()


def single(job: ActionJob, ban: Ban) -> ActionJob:
    """`job` for `ban` alone: dataclasses.replace(job, bans=(ban,)) without its field walk at every ban."""
    return ActionJob(job.kind, (ban,), job.action, job.read_at, job.done)


def _end_wait(tick: asyncio.Future[None]) -> None:
    if not tick.done():
        tick.set_result(None)


def _resolve(job: ActionJob) -> None:
    """Tell whoever waits for `job` (a "settle" job's future) that every lane has reached it."""
    if job.done is not None and not job.done.done():
        job.done.set_result(None)
