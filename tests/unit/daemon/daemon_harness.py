"""An in-process daemon for tests: FakeClock, a real SqliteStore in a temp dir, scripted sources and recording
actions (no sockets, no subprocesses)."""

from __future__ import annotations

import asyncio
import io
import logging
import os
from collections.abc import AsyncIterator, Callable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from banjail.clock import FakeClock
from banjail.config.schema import Config, JailConfig, ServerConfig
from banjail.daemon.app import Daemon
from banjail.daemon.controller import Controller
from banjail.daemon.logging import FORMAT, ROOT, LogTarget
from banjail.errors import ControlError
from banjail.model import Ban, FilterSpec, LogBatch, Position
from banjail.store.sqlite import SqliteStore

START = 1_700_000_000.0
REGEX = r"^fail from <HOST>$"


def jail_config(name: str = "test", **options: Any) -> JailConfig:
    base = JailConfig(
        name=name,
        filter=FilterSpec(failregex=(REGEX,), name="test"),
        logpath=(f"/log/{name}",),
        maxretry=3,
        findtime=600,
        bantime=600,
        ignoreself=False,
    )
    return replace(base, **options)


class ScriptedSource:
    """A LogSource whose lines the test pushes with `feed` (one batch per call); `position` is the offset after
    the lines fed so far. A real file at its name gives its size as the catch-up backlog."""

    def __init__(self, name: str, saved: Position | None) -> None:
        self.name = name
        self.saved = saved
        self._queue: asyncio.Queue[LogBatch | None] = asyncio.Queue()
        self._position = saved or Position()
        self._fed = self._position.offset
        self.closed = False
        try:
            self._backlog = {name: os.stat(name).st_size}
        except OSError:
            self._backlog = {}

    def feed(self, *texts: str) -> None:
        self._fed += sum(len(text) + 1 for text in texts)
        self._queue.put_nowait(LogBatch(self.name, list(texts), Position(self._fed, "hash")))

    def backlog(self) -> dict[str, int]:
        return dict(self._backlog)

    async def batches(self) -> AsyncIterator[LogBatch]:
        while True:
            batch = await self._queue.get()
            if batch is None:
                return
            self._position = batch.position
            yield batch

    def position(self) -> Position:
        return self._position

    async def close(self) -> None:
        self.closed = True
        self._queue.put_nowait(None)


@dataclass
class Recorder:
    """Every call any recording action received, in order: (action, method, fids, restored flags)."""

    calls: list[tuple[str, str, tuple[str, ...], tuple[bool, ...]]] = field(default_factory=list)

    def of(self, method: str) -> list[tuple[str, ...]]:
        return [c[2] for c in self.calls if c[1] == method]


class RecordingAction:
    def __init__(self, name: str, recorder: Recorder) -> None:
        self._name = name
        self._recorder = recorder
        self._props = {"actionban": "echo <ip>"}

    @property
    def name(self) -> str:
        return self._name

    def _record(self, method: str, bans: Sequence[Ban] = ()) -> None:
        self._recorder.calls.append(
            (self._name, method, tuple(b.fid for b in bans), tuple(b.restored for b in bans))
        )

    async def start(self) -> None:
        self._record("start")

    async def stop(self) -> None:
        self._record("stop")

    async def ban(self, bans: Sequence[Ban]) -> None:
        self._record("ban", bans)

    async def unban(self, bans: Sequence[Ban]) -> None:
        self._record("unban", bans)

    async def flush(self) -> None:
        self._record("flush")

    def properties(self) -> Mapping[str, str]:
        return dict(self._props)

    def set_property(self, key: str, value: str) -> None:
        self._props[key] = value


class Harness:
    """A daemon with FakeClock, a real store file, scripted sources and recording actions."""

    def __init__(self, tmp: Path, jails: Sequence[JailConfig], *, clock: FakeClock | None = None) -> None:
        self.tmp = tmp
        self.clock = clock or FakeClock(START)
        self.recorder = Recorder()
        self.sources: dict[str, ScriptedSource] = {}
        self.config = Config(server=ServerConfig(dbfile=str(tmp / "db.sqlite3")), jails=tuple(jails))
        self.next_config: Config | None = None
        self.log = io.StringIO()
        self._handler: logging.Handler | None = None
        self.daemon = self._build()
        self.controller = Controller(self.daemon, stop_after_reply=False)

    def _build(self) -> Daemon:
        store = SqliteStore(str(self.tmp / "db.sqlite3"), fsync=False)

        def sources(config: JailConfig, saved: Callable[[str], Position | None]) -> list[Any]:
            paths = [entry.split(" ")[0] for entry in config.logpath]
            made = [ScriptedSource(path, saved(path)) for path in paths]
            for source in made:
                self.sources[f"{config.name}:{source.name}"] = source
            return made

        def actions(config: JailConfig) -> list[Any]:
            return [RecordingAction(spec.split("[")[0], self.recorder) for spec in config.actions or ("rec",)]

        return Daemon(
            self.config,
            store=store,
            sources=sources,
            actions=actions,
            clock=self.clock,
            logs=LogTarget(),
            config_loader=lambda: self.next_config or self.config,
            dbfile=str(self.tmp / "db.sqlite3"),
            action_builder=lambda config, spec: RecordingAction(spec.name, self.recorder),
        )

    def capture_log(self) -> None:
        handler = logging.StreamHandler(self.log)
        handler.setFormatter(logging.Formatter(FORMAT))
        root = logging.getLogger(ROOT)
        root.addHandler(handler)
        root.setLevel(logging.INFO)
        self._handler = handler

    def release_log(self) -> None:
        if self._handler is not None:
            logging.getLogger(ROOT).removeHandler(self._handler)

    def messages(self) -> list[str]:
        """Logged lines without time, logger and pid: `NOTICE  [test] Ban 192.0.2.7`."""
        return [line.split("]: ", 1)[1] for line in self.log.getvalue().splitlines() if "]: " in line]

    def source(self, jail: str = "test", path: str | None = None) -> ScriptedSource:
        return self.sources[f"{jail}:{path or '/log/' + jail}"]

    async def settle(self) -> None:
        """Let every task run until the action queues are drained."""
        for _ in range(6):
            for _ in range(10):
                await asyncio.sleep(0)
            # a batch is matched on its jail's scan thread (banjail.daemon.scanning): wait for it, bounded
            for _ in range(2000):
                if not any(jail.reading for jail in self.daemon.jails.values()):
                    break
                await asyncio.sleep(0.005)
            if not self.daemon.stopping:
                await self.daemon.db(lambda: None)  # FIFO: every store call made so far has finished
            for jail in list(self.daemon.jails.values()):
                await jail.queue.join()

    async def restart(self) -> Harness:
        """Stop this daemon and start a new one on the same store (a daemon restart)."""
        await self.daemon.stop()
        fresh = Harness(self.tmp, self.config.jails, clock=self.clock)
        fresh.recorder = self.recorder
        fresh.log = self.log
        fresh._handler = self._handler
        return fresh


def run(coro: Any) -> Any:
    return asyncio.run(coro)


async def replies(h: Harness, commands: Sequence[Sequence[Any]]) -> list[object]:
    """Each command's reply, in order ("error", message) for a refused one, letting the daemon settle after
    each."""
    found: list[object] = []
    for argv in commands:
        try:
            found.append(await h.controller.dispatch(list(argv)))
        except ControlError as exc:
            found.append(("error", str(exc)))
        await h.settle()
    return found


def fresh_replies(
    tmp: Path,
    commands: Sequence[Sequence[Any]],
    jails: Sequence[JailConfig] | None = None,
    prepare: Callable[[Harness], None] | None = None,
) -> list[object]:
    """Every command's reply (see replies) on a fresh daemon with `jails` (default: one jail `test`), started
    after `prepare` and stopped after the last command."""

    async def scenario() -> list[object]:
        h = Harness(tmp, jails or [jail_config()])
        if prepare is not None:
            prepare(h)
        await h.daemon.start()
        try:
            return await replies(h, commands)
        finally:
            await h.daemon.stop()

    result: list[object] = run(scenario())
    return result
