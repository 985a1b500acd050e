"""The daemon's completion marks (banjail.actions.completion): exactly once for side actions across kill -9.

    running:  action ──► begin (a mark appended to the journal, before the command) ──► command (+ trap: its
              status appended) ──► ended ──► ActionRun into the RunLog's round ──► committed ──► mark done; a
              journal of ROTATE marks is followed by a new one, and goes once all its marks are done
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
ROTATE = 1024  # marks per journal: a journal is removed once all its runs are committed and a newer one is in use

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
        self._journal: completion.Journal | None = None
        # journal path -> tokens of its marks not done yet; a journal goes when its set empties and it is not
        # the one being written
        self._open: dict[str, set[str]] = {}

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

    def begin(
        self, jail: str, action: str, op: str, ban: Ban, started: float, *, feeds: bool = True
    ) -> Mark | None:
        if not self._usable():
            return None
        assert self.directory is not None
        try:
            journal = self._journal
            if journal is None or journal.taken >= ROTATE:
                journal = self._rotate(self.directory)
            mark = journal.write(jail, action, op, ban, started, feeds=feeds)
        except OSError as exc:
            log_actions.warning("[%s] action %s: cannot write the mark of %s: %s", jail, action, ban.fid, exc)
            return None
        self._open.setdefault(mark.path, set()).add(mark.token)
        return mark

    def _rotate(self, directory: Path) -> completion.Journal:
        old, self._journal = self._journal, completion.Journal(directory)
        if old is not None:
            old.close()
            self._sweep(old.path)
        return self._journal

    def close(self) -> None:
        """Stop writing the journal (its marks are still done as their runs are committed)."""
        if self._journal is not None:
            path = self._journal.path
            self._journal.close()
            self._journal = None
            self._sweep(path)

    def _done(self, mark: Mark) -> None:
        """The mark's run is committed (or forgotten): its input goes, and its journal once that was the last."""
        if mark.feeds:
            completion.remove_input(mark)
        tokens = self._open.get(mark.path)
        if tokens is not None:
            tokens.discard(mark.token)
            self._sweep(mark.path)

    def _sweep(self, path: str) -> None:
        if self._open.get(path) or (self._journal is not None and self._journal.path == path):
            return
        self._open.pop(path, None)
        _unlink(Path(path))

    def ended(self, mark: Mark, status: int | None, error: str) -> None:
        self._record([run_of(mark, time.time(), status, error)], lambda: self._done(mark))

    def settle(self) -> list[ActionRun]:
        """Read the marks a killed server left (blocking: run at start, before any jail): returns the runs of
        those that ended (to commit before the restore reads the runs), keeps the live ones as orphans, forgets
        those cut short. The journals go by `forget_settled` once the ended runs are committed; a journal with
        an orphan stays until that orphan is decided."""
        self.orphans.clear()
        if not self._usable():
            return []
        assert self.directory is not None
        ended: list[ActionRun] = []
        pending: dict[str, Left] = {}
        for _path, lefts in completion.leftovers(self.directory):
            for left in lefts:
                if left.status is not None:
                    ended.append(run_of(left.mark, left.mark.started, left.status, ""))
                else:
                    pending[left.mark.carried] = left
        alive = completion.running(set(pending))
        for key, left in pending.items():
            if key in alive:
                self.orphans[left.mark.key] = left.mark
            else:
                _cut_short(left.mark)
        return ended

    def forget_settled(self) -> None:
        """Remove the journals the killed server left (their ended runs are committed now) but those holding an
        orphan: each of those goes once its last orphan is decided."""
        if self.directory is None:
            return
        kept: dict[str, set[str]] = {}
        for mark in self.orphans.values():
            kept.setdefault(mark.path, set()).add(mark.token)
        current = self._journal.path if self._journal is not None else ""
        for path, lefts in completion.leftovers(self.directory):
            name = str(path)
            if name == current or name in self._open:
                continue
            for left in lefts:
                if left.mark.token not in kept.get(name, ()):
                    completion.remove_input(left.mark)
            if name in kept:
                self._open[name] = kept[name]
            else:
                _unlink(path)

    async def orphan(self, jail: str, action: str, ban: Ban, timeout: float) -> bool:
        """Whether the killed server's command for this ban ended well (recorded now: do not run it again). An
        orphan still running is waited for, at most `timeout` seconds; one that did not end is run again."""
        mark = self.orphans.pop((jail, ban.fid, round(ban.at), action), None)
        if mark is None:
            return False
        deadline = time.monotonic() + timeout
        left = completion.status_of(mark)
        while left is not None and left.status is None and time.monotonic() < deadline:
            if not completion.running({mark.carried}):
                left = completion.status_of(mark)
                break
            await asyncio.sleep(POLL_SECONDS)
            left = completion.status_of(mark)
        if left is None or left.status is None:
            _cut_short(mark)
            self._done(mark)
            return False
        self._record([run_of(mark, time.time(), left.status, "")], lambda: self._done(mark))
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


def _unlink(path: Path) -> None:
    with contextlib.suppress(FileNotFoundError):
        os.unlink(path)
