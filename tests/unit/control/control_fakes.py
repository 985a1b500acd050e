"""Test doubles for the control socket: a controller replaying upstream's recorded replies, and a ControlServer
running on its own event loop in a thread (so blocking clients can talk to it). A uniquely named module, so that
no other directory's conftest shadows it."""

from __future__ import annotations

import asyncio
import json
import threading
from pathlib import Path
from typing import Any

from banjail.control.server import ControlServer
from banjail.errors import ControlError

DATA = Path(__file__).parent / "data"
UPSTREAM_ROWS: list[dict[str, Any]] = json.loads((DATA / "upstream_replies.json").read_text())


class ReplayController:
    """Answers each command with the reply upstream's server gave to it (upstream_replies.json); records calls.

    Unknown commands get upstream's "Invalid command". `slow` commands wait for `release` first (to show that
    one slow command does not hold up the others).
    """

    def __init__(self, rows: list[dict[str, Any]] = UPSTREAM_ROWS) -> None:
        self.replies = {json.dumps(row["argv"]): row for row in rows}
        self.calls: list[list[Any]] = []
        self.release = asyncio.Event()

    async def dispatch(self, argv: list[Any]) -> object:
        self.calls.append(argv)
        if argv[:1] == ["sleep"]:
            await self.release.wait()
            return None
        if argv[:1] == ["crash"]:
            raise RuntimeError("handler bug")
        if argv == ["stop"]:
            return None
        if argv[:1] == ["status"] and argv[1:2] == ["--all"]:
            raise ControlError("Invalid command")
        row = self.replies.get(json.dumps(argv))
        if row is None:
            raise ControlError("Invalid command")
        if not row["ok"]:
            raise ControlError(row["error"])
        return row["value"]


class ServerThread:
    """A ControlServer on a private loop in a daemon thread."""

    def __init__(self, path: str, controller: ReplayController) -> None:
        self.path = path
        self.controller = controller
        self.stopped = threading.Event()
        self.loop = asyncio.new_event_loop()
        self.server = ControlServer(path, controller, on_stop=self.stopped.set)
        ready = threading.Event()

        def run() -> None:
            asyncio.set_event_loop(self.loop)
            self.loop.run_until_complete(self.server.start())
            ready.set()
            self.loop.run_forever()

        self.thread = threading.Thread(target=run, daemon=True)
        self.thread.start()
        assert ready.wait(5)

    def call(self, coro: Any) -> Any:
        return asyncio.run_coroutine_threadsafe(coro, self.loop).result(5)

    def release(self) -> None:
        self.loop.call_soon_threadsafe(self.controller.release.set)

    def close(self) -> None:
        self.call(self.server.close())
        self.loop.call_soon_threadsafe(self.loop.stop)
        self.thread.join(5)
        self.loop.close()
