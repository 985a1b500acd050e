"""How a file source learns that something may have changed: inotify events, or a polling tick.

Both watchers have the same duties: `wait` returns when files may have new data (or the timeout passes), and
`take_rescan` says whether names in a watched directory may have changed since it was last asked (a file
created, renamed or deleted), so the source re-evaluates its globs only then.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from typing import Protocol

from banjail.sources.inotify import DIR_EVENTS, FILE_EVENTS, IN_IGNORED, IN_Q_OVERFLOW, Inotify

log = logging.getLogger(__name__)


class Watcher(Protocol):
    name: str

    def watch_file(self, path: str) -> int: ...

    def watch_dir(self, path: str) -> int: ...

    def unwatch(self, handle: int) -> None: ...

    def take_rescan(self) -> bool: ...

    async def wait(self, timeout: float | None) -> None: ...

    def close(self) -> None: ...


class PollWatcher:
    """Wakes every `interval` seconds; every tick may have changed names (a poll cannot know)."""

    name = "polling"

    def __init__(self, interval: float) -> None:
        self.interval = max(0.01, interval)

    def watch_file(self, path: str) -> int:
        return -1

    def watch_dir(self, path: str) -> int:
        return -1

    def unwatch(self, handle: int) -> None:
        pass

    def take_rescan(self) -> bool:
        return True

    async def wait(self, timeout: float | None) -> None:
        await asyncio.sleep(self.interval if timeout is None else min(self.interval, max(0.0, timeout)))

    def close(self) -> None:
        pass


class InotifyWatcher:
    """Wakes on inotify events. The descriptor is read by the loop's reader callback as soon as it is readable,
    which sets a flag; `wait` clears the flag when it returns, before the source reads, so a write that lands
    after that read wakes the next `wait` (no lost wake-up).

    Raises OSError at construction when inotify is unavailable (the caller falls back to polling)."""

    name = "pyinotify"

    def __init__(self) -> None:
        self._inotify = Inotify()
        self._woken = asyncio.Event()
        self._rescan = True
        self._dirs: set[int] = set()
        self._loop = asyncio.get_running_loop()
        self._loop.add_reader(self._inotify.fileno(), self._on_readable)

    def _on_readable(self) -> None:
        try:
            events = self._inotify.read()
        except OSError as error:
            log.error("reading inotify events failed: %s", error)
            events = []
        for event in events:
            if event.mask & IN_Q_OVERFLOW or event.wd in self._dirs:
                self._rescan = True
                if event.mask & IN_IGNORED:  # the directory itself is gone: its watch with it
                    self._dirs.discard(event.wd)
        self._woken.set()

    def watch_file(self, path: str) -> int:
        try:
            return self._inotify.add_watch(path, FILE_EVENTS)
        except OSError as error:
            log.warning("cannot watch %s (%s): it is read when its directory changes", path, error)
            return -1

    def watch_dir(self, path: str) -> int:
        """Watch a directory's names; asking again is cheap (the kernel returns the same watch for the same
        directory) and picks up a directory that was deleted and created again."""
        try:
            wd = self._inotify.add_watch(path, DIR_EVENTS)
        except OSError:
            return -1
        self._dirs.add(wd)
        return wd

    def unwatch(self, handle: int) -> None:
        if handle >= 0 and handle not in self._dirs:
            self._inotify.rm_watch(handle)

    def take_rescan(self) -> bool:
        rescan, self._rescan = self._rescan, False
        return rescan

    async def wait(self, timeout: float | None) -> None:
        if not self._woken.is_set():
            if timeout is None:
                await self._woken.wait()
            else:
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self._woken.wait(), max(0.0, timeout))
        self._woken.clear()

    def close(self) -> None:
        if self._inotify.fileno() >= 0:
            self._loop.remove_reader(self._inotify.fileno())
            self._inotify.close()
