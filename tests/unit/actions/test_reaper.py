"""banjail.actions.reaper through the Runner: one epoll per loop for every command, one timer standing for every
timeout (a later, shorter timeout still fires on time), cancellation after the exit still reaps, and the reaper
goes with its loop."""

from __future__ import annotations

import asyncio
import gc
import os
import sys
from pathlib import Path

import pytest

from banjail.actions import reaper
from banjail.actions.render import Script
from banjail.actions.runner import Runner


def _zombies() -> list[int]:
    """This process's children that exited and were not reaped."""
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if fields[0] == "Z" and int(fields[1]) == os.getpid():
            found.append(int(entry.name))
    return found


# (script, timeout) started together, in this order -> returncode (None: timed out)
CONCURRENT = [
    ([("sleep 2", 30.0), ("sleep 30", 0.3)], [0, None]),  # a later, shorter timeout fires before the first's
    ([("sleep 30", 0.3), ("exit 3", 30.0)], [None, 3]),
    ([("sleep 30", 0.2), ("sleep 30", 0.4), ("true", 30.0)], [None, None, 0]),
    ([("exit 1", 5.0), ("exit 2", 5.0), ("exit 0", 5.0)], [1, 2, 0]),
]


@pytest.mark.parametrize(("commands", "expected"), CONCURRENT)
def test_concurrent_commands_end_or_time_out_each_on_its_own(
    commands: list[tuple[str, float]], expected: list[int | None]
) -> None:
    async def run_all() -> list[int | None]:
        runner = Runner()
        outcomes = await asyncio.gather(
            *(runner.run(Script(text, {}), timeout) for text, timeout in commands)
        )
        return [outcome.returncode for outcome in outcomes]

    assert asyncio.run(asyncio.wait_for(run_all(), 20)) == expected
    assert _zombies() == []


def test_cancelled_after_the_exit_the_command_is_still_reaped() -> None:
    async def cancel_late() -> None:
        task = asyncio.ensure_future(Runner().run(Script("exit 0", {}), 30))
        for _ in range(200):  # the command exits; its future is settled before the task resumes
            await asyncio.sleep(0.01)
            if task.done():
                break
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)

    asyncio.run(cancel_late())
    assert _zombies() == []


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="counts /proc/self/fd")
@pytest.mark.parametrize("commands", [1, 5, 40])
def test_one_reader_per_loop_and_it_goes_with_the_loop(commands: int) -> None:
    gc.collect()  # the reapers of earlier tests' loops go with those loops
    before = len(os.listdir("/proc/self/fd"))

    async def run_many() -> tuple[int, int]:
        runner = Runner()
        start = len(os.listdir("/proc/self/fd"))  # with the loop's own (its epoll, its self-pipe)
        opened = []
        for _ in range(commands):
            assert (await runner.run(Script("true", {}), 5)).returncode == 0
            opened.append(len(os.listdir("/proc/self/fd")))
        assert len(set(opened)) == 1  # nothing piles up from one command to the next
        return start, opened[0]

    start, during = asyncio.run(run_many())
    gc.collect()
    assert during == start + 1  # the reaper's epoll, while its loop lives
    assert len(os.listdir("/proc/self/fd")) == before
    assert len(reaper._REAPERS) == 0


def test_forget_takes_only_the_child_it_was_given() -> None:
    """A pidfd number is reused once closed: forgetting a settled child must not take a later one with it."""

    async def run() -> tuple[bool, bool]:
        loop = asyncio.get_running_loop()
        found = reaper.for_loop(loop)
        pid = os.posix_spawn("/bin/sh", ["/bin/sh", "-c", "sleep 0.2"], dict(os.environ))
        pidfd, future = found.watch(loop, pid, 30)
        stale: asyncio.Future[bool] = loop.create_future()  # a settled child's future, same pidfd number
        found.forget(pidfd, stale)
        exited = await asyncio.wait_for(future, 10)  # still watched: its exit is seen
        os.waitpid(pid, 0)
        other = os.posix_spawn("/bin/sh", ["/bin/sh", "-c", "sleep 30"], dict(os.environ))
        otherfd, later = found.watch(loop, other, 30)
        found.forget(otherfd, later)  # the right one: forgotten, its pidfd closed
        os.kill(other, 9)
        os.waitpid(other, 0)
        await asyncio.sleep(0.05)
        return exited, later.done()

    assert asyncio.run(run()) == (True, False)
