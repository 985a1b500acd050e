"""banjail.daemon.lanes: each action of a jail on its own queue, whole-jail jobs after every lane, the runs each
action made recorded in batches, and restored bans handed as new to an action that never applied them."""

from __future__ import annotations

import asyncio
import dataclasses
from collections.abc import Mapping, Sequence

import pytest
from daemon_harness import jail_config

from banjail.daemon import lanes
from banjail.daemon.jail import ActionJob, Jail, build_state
from banjail.daemon.lanes import Lanes, RunLog, restore_jobs, runs_of
from banjail.model import Ban
from banjail.store.actionruns import ActionRun
from banjail.store.checkpoint import Checkpoint

NOW = 1_700_000_000.0


def ban(fid: str, *, restored: bool = False, at: float = NOW) -> Ban:
    return Ban("test", fid, fid, at, at + 600, 1, 3, restored=restored)


class Gated:
    """An action whose bans wait for `gate` when `slow` (a whois that never answers); records every call."""

    def __init__(self, name: str, calls: list[str], slow: bool = False) -> None:
        self._name = name
        self.calls = calls
        self.gate = asyncio.Event()
        if not slow:
            self.gate.set()
        self.norestored = False
        self.failed: tuple[Ban, ...] = ()

    @property
    def name(self) -> str:
        return self._name

    async def start(self) -> None:
        self.calls.append(f"{self._name} start")

    async def stop(self) -> None:
        self.calls.append(f"{self._name} stop")

    async def ban(self, bans: Sequence[Ban]) -> None:
        await self.gate.wait()
        self.calls.append(f"{self._name} ban {','.join(b.fid for b in bans)}")

    async def unban(self, bans: Sequence[Ban]) -> None:
        self.calls.append(f"{self._name} unban {','.join(b.fid for b in bans)}")

    async def flush(self) -> None:
        pass

    def properties(self) -> Mapping[str, str]:
        return {}

    def set_property(self, key: str, value: str) -> None:
        pass


async def _nothing(checkpoint: Checkpoint) -> None:
    pass


async def _settle() -> None:
    for _ in range(20):
        await asyncio.sleep(0)


def _jail(*actions: Gated) -> Jail:
    config = jail_config()
    jail = Jail(config=config, state=build_state(config, history=lambda fid, jail: None))
    jail.actions = {a.name: a for a in actions}
    return jail


async def _written(runs: RunLog, sink: list[ActionRun]) -> list[ActionRun]:
    await runs.close()
    return sink


def test_a_slow_action_holds_neither_another_actions_bans_nor_its_own_order() -> None:
    async def scenario() -> tuple[list[str], list[str], bool, list[ActionRun]]:
        calls: list[str] = []
        mail, firewall = Gated("mail", calls, slow=True), Gated("fw", calls)
        jail = _jail(mail, firewall)
        sink: list[ActionRun] = []

        async def commit(checkpoint: Checkpoint) -> None:
            sink.extend(checkpoint.runs)

        log = RunLog(lambda: commit)
        task = asyncio.create_task(Lanes(jail, log).dispatch())
        for job in (
            ActionJob("start"),
            ActionJob("ban", (ban("192.0.2.1"),)),
            ActionJob("ban", (ban("192.0.2.2"),)),
        ):
            jail.queue.put_nowait(job)
        await _settle()
        while_held = list(calls)
        joined = asyncio.create_task(jail.queue.join())
        await _settle()
        held_join = not joined.done()
        mail.gate.set()
        await asyncio.wait_for(joined, 5)
        jail.queue.put_nowait(ActionJob("stop"))
        await asyncio.wait_for(jail.queue.join(), 5)
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)
        return while_held, calls, held_join, await _written(log, sink)

    while_held, calls, held_join, runs = asyncio.run(scenario())
    assert while_held == ["mail start", "fw start", "fw ban 192.0.2.1", "fw ban 192.0.2.2"]
    assert held_join, "queue.join() returned while a lane was still busy"
    assert calls[4:] == ["mail ban 192.0.2.1", "mail ban 192.0.2.2", "fw stop", "mail stop"]
    assert sorted((r.action, r.fid, r.op, r.status) for r in runs) == [
        ("fw", "192.0.2.1", "ban", 0),
        ("fw", "192.0.2.2", "ban", 0),
        ("mail", "192.0.2.1", "ban", 0),
        ("mail", "192.0.2.2", "ban", 0),
    ]


def test_a_stop_waits_for_every_lane() -> None:
    async def scenario() -> list[str]:
        calls: list[str] = []
        slow = Gated("slow", calls, slow=True)
        jail = _jail(slow, Gated("fw", calls))
        log = RunLog(lambda: _nothing)
        task = asyncio.create_task(Lanes(jail, log).dispatch())
        jail.queue.put_nowait(ActionJob("ban", (ban("192.0.2.1"),)))
        jail.queue.put_nowait(ActionJob("stop"))
        await _settle()
        before = list(calls)
        slow.gate.set()
        await asyncio.wait_for(jail.queue.join(), 5)
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)
        return [*before, "--", *calls[len(before) :]]

    assert asyncio.run(scenario()) == ["fw ban 192.0.2.1", "--", "slow ban 192.0.2.1", "fw stop", "slow stop"]


def test_runs_of_records_what_ran_and_how_it_ended() -> None:
    calls: list[str] = []
    action = Gated("fw", calls)
    a, b = ban("192.0.2.1"), ban("192.0.2.2", restored=True)
    job = ActionJob("ban", (a, b))
    key = [("192.0.2.1", 0, ""), ("192.0.2.2", 0, "")]
    assert [(r.fid, r.status, r.stderr) for r in runs_of("test", action, job, NOW, NOW + 1, "")] == key
    action.failed = (b,)
    found = runs_of("test", action, job, NOW, NOW + 1, "[test] error banning\nmore")
    assert [(r.fid, r.status, r.stderr) for r in found] == [
        ("192.0.2.1", 0, ""),
        ("192.0.2.2", 1, "[test] error banning"),
    ]
    action.norestored = True  # its restored bans were skipped, not run
    assert [r.fid for r in runs_of("test", action, job, NOW, NOW + 1, "")] == ["192.0.2.1"]
    assert runs_of("test", action, ActionJob("start"), NOW, NOW, "") == []
    unban = runs_of("test", action, ActionJob("unban", (a,)), NOW, NOW + 1, "boom")
    assert [(r.op, r.status, r.timeofban) for r in unban] == [("unban", 1, round(NOW))]


@pytest.mark.parametrize(
    ("applied", "since", "expected"),
    [
        # both actions applied both bans before the stop: one job, every ban restored
        ({("a", round(NOW), "fw"), ("a", round(NOW), "mail"), ("b", round(NOW), "fw"), ("b", round(NOW), "mail")},
         0.0, [(None, "a:R b:R")]),
        # killed between commit and commands: nobody applied b
        ({("a", round(NOW), "fw"), ("a", round(NOW), "mail")}, 0.0, [("fw", "a:R b:N"), ("mail", "a:R b:N")]),
        # the mail action never applied a: it gets it as new, the firewall as restored
        ({("a", round(NOW), "fw"), ("b", round(NOW), "fw"), ("b", round(NOW), "mail")},
         0.0, [("fw", "a:R b:R"), ("mail", "a:N b:R")]),
        # bans from before run recording began stay restored for everyone (no mail flood after an upgrade)
        (set(), NOW + 10, [(None, "a:R b:R")]),
    ],
)  # fmt: skip
def test_restore_jobs_hand_a_ban_as_new_to_an_action_that_never_applied_it(
    applied: set[tuple[str, int, str]], since: float, expected: list[tuple[str | None, str]]
) -> None:
    calls: list[str] = []
    actions = [Gated("fw", calls), Gated("mail", calls)]
    bans = [ban("a", restored=True), ban("b", restored=True)]
    jobs = restore_jobs(actions, bans, applied, since)
    found = [
        (
            None if j.action is None else j.action.name,
            " ".join(f"{b.fid}:{'R' if b.restored else 'N'}" for b in j.bans),
        )
        for j in jobs
    ]
    assert found == expected
    assert all(j.kind == "ban" for j in jobs)


def test_a_side_action_runs_and_records_each_ban_on_its_own() -> None:
    async def scenario() -> tuple[list[str], list[list[tuple[str, float | None, int | None]]]]:
        calls: list[str] = []
        mail = Gated("mail", calls)
        mail.firewall = None  # type: ignore[attr-defined]  # a command action that drives no firewall
        jail = _jail(mail)
        rounds: list[list[tuple[str, float | None, int | None]]] = []

        async def commit(checkpoint: Checkpoint) -> None:
            rounds.append([(r.fid, r.ended, r.status) for r in checkpoint.runs])

        log = RunLog(lambda: commit)
        task = asyncio.create_task(Lanes(jail, log).dispatch())
        jail.queue.put_nowait(ActionJob("ban", (ban("192.0.2.1"), ban("192.0.2.2"))))
        await asyncio.wait_for(jail.queue.join(), 5)
        await log.close()
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)
        return calls, rounds

    calls, rounds = asyncio.run(scenario())
    assert calls == ["mail ban 192.0.2.1", "mail ban 192.0.2.2"]  # one ban per call
    runs = [r for batch in rounds for r in batch]
    assert [(fid, ended is None, status) for fid, ended, status in runs] == [
        ("192.0.2.1", True, None),  # recorded at its start
        ("192.0.2.1", False, 0),  # and at its end
        ("192.0.2.2", True, None),
        ("192.0.2.2", False, 0),
    ]


@pytest.mark.parametrize(
    ("error", "expected"),
    [
        (
            "[test] action rec: error banning 192.0.2.54: exit status 4; stderr: iptables: No chain/target/match "
            "by that name.; command: echo x",
            (4, "iptables: No chain/target/match by that name."),
        ),
        ("[t] a: error banning x: exit status 2; stdout: hi; stderr: line one\nline two; command: y", (2, "line one")),
        ("[t] a: error banning x: timed out after 5 s (process group killed)",
         (1, "[t] a: error banning x: timed out after 5 s (process group killed)")),
    ],
)
def test_a_failed_run_keeps_the_commands_exit_status_and_first_stderr_line(
    error: str, expected: tuple[int, str]
) -> None:
    assert lanes.outcome_of(error) == expected


def test_runs_share_a_round_and_close_commits_it_without_waiting_for_its_timer() -> None:
    """Runs added within a round go into one checkpoint after it; `close` (a stop, a restore's flush) ends the
    round's wait at once instead of sleeping out ROUND_SECONDS, and calls each run's `then` after the commit."""

    def run(fid: str) -> ActionRun:
        return ActionRun("a", fid, 0, "fw", "ban", 1.0, 2.0, 0, "")

    async def scenario() -> tuple[list[list[str]], list[str], float]:
        rounds: list[list[str]] = []
        done: list[str] = []

        async def commit(checkpoint: Checkpoint) -> None:
            rounds.append([r.fid for r in checkpoint.runs])

        log = RunLog(lambda: commit, round_seconds=30.0)
        log.add([run("192.0.2.1")], lambda: done.append("1"))
        await asyncio.sleep(0)
        log.add([run("192.0.2.2")], lambda: done.append("2"))
        loop = asyncio.get_running_loop()
        started = loop.time()
        await asyncio.wait_for(log.close(), 5)
        return rounds, done, loop.time() - started

    rounds, done, waited = asyncio.run(scenario())
    assert rounds == [["192.0.2.1", "192.0.2.2"]]
    assert done == ["1", "2"]
    assert waited < 1.0


@pytest.mark.parametrize(
    "job",
    [
        ActionJob("ban", (ban("a"), ban("b")), read_at=12.5),
        ActionJob("ban", (ban("a"),)),
        ActionJob("unban", (ban("c", restored=True),), action=Gated("x", [])),
    ],
)
def test_a_job_for_one_ban_is_dataclasses_replace(job: ActionJob) -> None:
    for one in job.bans:
        made, expected = lanes.single(job, one), dataclasses.replace(job, bans=(one,))
        assert [getattr(made, f.name) for f in dataclasses.fields(ActionJob)] == [
            getattr(expected, f.name) for f in dataclasses.fields(ActionJob)
        ]
