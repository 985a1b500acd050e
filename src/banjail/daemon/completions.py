"""The daemon's completion marks (banjail.actions.completion): exactly once for side actions across kill -9.

    running:  action ──► begin (mark file, before the command) ──► command (+ trap: status into the mark)
              ──► ended ──► ActionRun into the RunLog's round ──► committed ──► mark removed
    at start: settle(): every mark the killed server left ──► status appended: its run is recorded (the ban
              counts as applied: never run again)  ──► no status and a live process carries it: an orphan,
              kept until its ban's turn comes in the action's lane (`orphan`: wait, bounded by the action's
              timeout, then decide)  ──► neither: cut short, forgotten (the ban is run again, and this is logged)

Invariant: a side action's ban is run again after a kill only when its command did not end (see the module doc of
banjail.actions.completion for the one ambiguous case). Marks live next to the database (`<dbfile>.runs/`): they
belong to its records and outlive what they outlive (a reboot), not /run's tmpfs.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import time
from collections.abc import Callable
from pathlib import Path

from banjail.actions import completion
from banjail.actions.completion import Left, Mark
from banjail.daemon.logging import logger
from banjail.model import Ban
from banjail.store.actionruns import ActionRun, first_line

log_actions = logger("actions")
POLL_SECONDS = 0.05

Record = Callable[[list[ActionRun], Callable[[], None]], None]


def directory_for(dbfile: str | None) -> Path | None:
    """Where the marks of `dbfile`'s runs live; None without a database file (nothing is restored then)."""
    if dbfile is None or dbfile == ":memory:":
        return None
    return Path(f"{dbfile}.runs")


def run_of(mark: Mark, ended: float | None, status: int | None, error: str) -> ActionRun:
    return ActionRun(
        mark.jail,
        mark.fid,
        mark.timeofban,
        mark.action,
        mark.op,
        mark.started,
        ended,
        status,
        first_line(error),
    )


class Completions:
    """The daemon's implementation of banjail.actions.completion.Completion, over one directory."""

    def __init__(self, directory: Path | None, record: Record) -> None:
        self.directory = directory
        self._record = record
        self._ready = False
        self.orphans: dict[tuple[str, str, int, str], Mark] = {}

    def _usable(self) -> bool:
        if self.directory is None:
            return False
        if not self._ready:
            try:
                self.directory.mkdir(mode=0o700, exist_ok=True)
            except OSError as exc:
                log_actions.warning(
                    "no completion marks in %s: %s (side actions: at least once)", self.directory, exc
                )
                self.directory = None
                return False
            self._ready = True
        return True

    def begin(self, jail: str, action: str, op: str, ban: Ban, started: float) -> Mark | None:
        if not self._usable():
            return None
        assert self.directory is not None
        try:
            return completion.write(self.directory, jail, action, op, ban, started)
        except OSError as exc:
            log_actions.warning("[%s] action %s: cannot write the mark of %s: %s", jail, action, ban.fid, exc)
            return None

    def ended(self, mark: Mark, status: int | None, error: str) -> None:
        self._record([run_of(mark, time.time(), status, error)], lambda: completion.remove(mark))

    def settle(self) -> list[ActionRun]:
        """Read the marks a killed server left (blocking: run at start, before any jail): returns the runs of
        those that ended (to commit before the restore reads the runs), keeps the live ones as orphans, forgets
        those cut short. The ended marks are removed by `forget_settled` once their runs are committed."""
        self.orphans.clear()
        if not self._usable():
            return []
        assert self.directory is not None
        ended: list[ActionRun] = []
        pending: dict[str, Left] = {}
        for path, left in completion.leftovers(self.directory):
            if left is None:
                _unlink(path)  # a half-written intent: the command never started
                _unlink(Path(f"{path}{completion.INPUT}"))
            elif left.status is not None:
                ended.append(run_of(left.mark, left.mark.started, left.status, ""))
            else:
                pending[left.mark.path] = left
        alive = completion.running(set(pending))
        for key, left in pending.items():
            if key in alive:
                self.orphans[left.mark.key] = left.mark
            else:
                _cut_short(left.mark)
        return ended

    def forget_settled(self) -> None:
        """Remove the marks of ended runs (their runs are committed now); orphans stay."""
        if self.directory is None:
            return
        kept = {m.path for m in self.orphans.values()}
        for _path, left in completion.leftovers(self.directory):
            if left is not None and left.mark.path not in kept and left.status is not None:
                completion.remove(left.mark)

    async def orphan(self, jail: str, action: str, ban: Ban, timeout: float) -> bool:
        """Whether the killed server's command for this ban ended well (recorded now: do not run it again). An
        orphan still running is waited for, at most `timeout` seconds; one that did not end is run again."""
        mark = self.orphans.pop((jail, ban.fid, round(ban.at), action), None)
        if mark is None:
            return False
        deadline = time.monotonic() + timeout
        left = completion.read(Path(mark.path))
        while left is not None and left.status is None and time.monotonic() < deadline:
            if not completion.running({mark.path}):
                left = completion.read(Path(mark.path))
                break
            await asyncio.sleep(POLL_SECONDS)
            left = completion.read(Path(mark.path))
        if left is None or left.status is None:
            _cut_short(mark)
            return False
        self._record([run_of(mark, time.time(), left.status, "")], lambda: completion.remove(mark))
        log_actions.info(
            "[%s] action %s: %s was run by the last (killed) server: exit status %d%s",
            jail,
            action,
            ban.fid,
            left.status,
            "" if left.status == 0 else " (run again)",
        )
        return left.status == 0


def _cut_short(mark: Mark) -> None:
    log_actions.warning(
        "[%s] action %s: the last (killed) server's %s of %s did not end: run again (it may have had effect)",
        mark.jail,
        mark.action,
        mark.op,
        mark.fid,
    )
    completion.remove(mark)


def _unlink(path: Path) -> None:
    with contextlib.suppress(FileNotFoundError):
        os.unlink(path)
