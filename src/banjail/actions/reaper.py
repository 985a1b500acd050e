"""Waiting for action commands to exit: one epoll of pidfds per event loop, watched by the loop once.

A ban runs one command, and the server's CPU per command is what a flood costs once matching is cheap. Watching
each command's pidfd with loop.add_reader / remove_reader costs two trips through asyncio's selector per
command (a SelectorKey, a Handle, two epoll_ctl with their Python wrapping), and a call_later / cancel pair for
the timeout; that was 40 % of the Runner's CPU per command. Here the loop watches one epoll file descriptor for
its whole life; a command's pidfd goes into that epoll (one epoll_ctl) and out of it by its close, and one timer
per loop, armed at the earliest deadline of the commands running, stands for every timeout.

Invariants:
- `watch` returns a future settled once: True when the command exited, False when its deadline passed first.
  The child is never reaped here: its caller reaps it (after a kill of its group when it timed out or the
  caller was cancelled), so its pid stays the command's until then and a killpg cannot reach another group.
- The pidfd is closed when the future is settled or the child forgotten (`forget`): no descriptor outlives it.
"""

from __future__ import annotations

import asyncio
import os
import select
import time
import weakref
from dataclasses import dataclass

# asyncio runs a timer up to this much before its time (BaseEventLoop._clock_resolution, from the same clock).
_RESOLUTION = time.get_clock_info("monotonic").resolution


@dataclass(slots=True)
class _Child:
    pid: int
    deadline: float
    future: asyncio.Future[bool]


class Reaper:
    """The children of one event loop's commands (made by `for_loop`, on the loop, where it is used)."""

    def __init__(self, loop: asyncio.AbstractEventLoop) -> None:
        # The reaper keeps no reference to its loop (the loop holds it through its reader): `_REAPERS` keys it
        # weakly, and the epoll is closed when the loop is collected.
        self._epoll = select.epoll()
        self._children: dict[int, _Child] = {}  # pidfd -> child
        # The time of the earliest timer armed (None: none). Timers are not cancelled (a handle would hold the
        # loop): a later one that fires finds nothing due and arms nothing earlier.
        self._armed: float | None = None
        loop.add_reader(self._epoll.fileno(), self._ready)

    def watch(
        self, loop: asyncio.AbstractEventLoop, pid: int, timeout: float
    ) -> tuple[int, asyncio.Future[bool]]:
        """Watch `pid` (a child of this process, not reaped yet): (its pidfd, the future of its status)."""
        pidfd = os.pidfd_open(pid)
        future: asyncio.Future[bool] = loop.create_future()
        deadline = loop.time() + timeout
        try:
            self._epoll.register(pidfd, select.EPOLLIN)
        except BaseException:
            os.close(pidfd)
            raise
        self._children[pidfd] = _Child(pid, deadline, future)
        self._arm(loop, deadline)
        return pidfd, future

    def _arm(self, loop: asyncio.AbstractEventLoop, when: float) -> None:
        if self._armed is not None and self._armed <= when:
            return  # an earlier timer fires first and arms the next one
        self._armed = when
        loop.call_at(when, self._expire, when)

    def forget(self, pidfd: int, future: asyncio.Future[bool]) -> None:
        """Stop watching the child `watch` gave (pidfd, future) for (its caller was cancelled); nothing when it is
        settled already. The future tells it apart from a later child whose pidfd got the same number."""
        child = self._children.get(pidfd)
        if child is not None and child.future is future:
            del self._children[pidfd]
            os.close(pidfd)  # also takes it out of the epoll: this process holds no other descriptor of it

    def _ready(self) -> None:
        for pidfd, _ in self._epoll.poll(0):
            child = self._children.pop(pidfd, None)
            if child is None:
                continue
            os.close(pidfd)
            if not child.future.done():  # else cancelled: the caller's kill path reaps it
                child.future.set_result(True)

    def _expire(self, when: float) -> None:
        loop = asyncio.get_running_loop()
        if self._armed == when:
            self._armed = None
        now = loop.time() + _RESOLUTION
        earliest: float | None = None
        for pidfd, child in list(self._children.items()):
            if child.deadline <= now:
                del self._children[pidfd]
                os.close(pidfd)
                if not child.future.done():
                    child.future.set_result(False)
            elif earliest is None or child.deadline < earliest:
                earliest = child.deadline
        if earliest is not None:
            self._arm(loop, earliest)


_REAPERS: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, Reaper] = weakref.WeakKeyDictionary()


def for_loop(loop: asyncio.AbstractEventLoop) -> Reaper:
    """The running loop's reaper (made at its first command)."""
    found = _REAPERS.get(loop)
    if found is None:
        found = _REAPERS[loop] = Reaper(loop)
    return found
