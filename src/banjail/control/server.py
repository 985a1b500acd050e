"""The control socket: an asyncio Unix-socket server in front of the daemon's controller.

Each connection speaks one of two framings, recognised from its first byte: `{` starts banjail's JSON lines,
anything else is upstream's pickle framing (see legacy.py). Requests on one connection are answered in order;
connections are served concurrently, and each request is awaited on the daemon's loop, so a slow command never
blocks the others. A malformed or oversized request gets an error reply; nothing a client sends can end the
server.
"""

from __future__ import annotations

import asyncio
import contextlib
import inspect
import json
import logging
import os
import socket
import stat
from collections.abc import Callable
from typing import Any, Protocol

from banjail.control import legacy, nesting
from banjail.control.protocol import MAX_REQUEST, VERSION
from banjail.errors import ControlError

log = logging.getLogger("banjail.control")


class Controller(Protocol):
    """What the server needs from the daemon: carry out one upstream command, return upstream's value for it,
    or raise ControlError(message) where the message is what the client prints."""

    async def dispatch(self, argv: list[Any]) -> object: ...


def encode_json(value: object) -> str:
    """JSON text of a reply value; values JSON cannot hold (sets, objects) become lists or their text."""

    def fallback(obj: object) -> object:
        if isinstance(obj, set | frozenset):
            return sorted(obj, key=str)
        return str(obj)

    return json.dumps(value, default=fallback, ensure_ascii=False)


class ControlServer:
    """Serve `controller` on the Unix socket `path` (mode 0600).

    `on_stop` is called once the reply to a successful `stop` (the whole server) has been sent, so the client
    sees "Shutdown successful" before the daemon goes away; if it returns an awaitable, that is awaited in a task.
    The daemon handles a stale socket file before start (`-x`); start fails if the path exists. With `listener`
    (a listening socket systemd passed, see banjail.daemon.activation) nothing is bound, and the socket file,
    systemd's, is left in place at close.
    """

    def __init__(
        self,
        path: str,
        controller: Controller,
        *,
        on_stop: Callable[[], object] | None = None,
        listener: socket.socket | None = None,
    ) -> None:
        self.path = path
        self._listener = listener
        self._controller = controller
        self._on_stop = on_stop
        self._server: asyncio.base_events.Server | None = None
        self._inode: tuple[int, int] | None = None
        self._connections: dict[asyncio.Task[None], asyncio.StreamWriter] = {}
        self._background: set[asyncio.Task[Any]] = set()

    async def start(self) -> None:
        """Bind and listen; the socket accepts connections when this returns."""
        if self._listener is not None:
            self._server = await asyncio.start_unix_server(self._accept, sock=self._listener, limit=MAX_REQUEST)
            return
        old_umask = os.umask(0o177)  # the socket is never visible with wider permissions, even for a moment
        try:
            self._server = await asyncio.start_unix_server(self._accept, path=self.path, limit=MAX_REQUEST)
        finally:
            os.umask(old_umask)
        os.chmod(self.path, 0o600)
        st = os.stat(self.path)
        self._inode = (st.st_dev, st.st_ino)

    async def close(self) -> None:
        """Stop accepting, end open connections and remove the socket file (only if it is still ours)."""
        if self._server is not None:
            self._server.close()
        # Closing the transports ends every connection's read with EOF, so each handler returns on its own;
        # one still waiting on a long command after a grace period is cancelled.
        for writer in self._connections.values():
            writer.close()
        if self._connections:
            _, late = await asyncio.wait(list(self._connections), timeout=1.0)
            for task in late:
                task.cancel()
            if late:
                await asyncio.wait(late)
        if self._server is not None:
            await self._server.wait_closed()
            self._server = None
        with contextlib.suppress(OSError):
            st = os.stat(self.path)
            if stat.S_ISSOCK(st.st_mode) and (st.st_dev, st.st_ino) == self._inode:
                os.unlink(self.path)

    async def _accept(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        task = asyncio.current_task()
        assert task is not None
        self._connections[task] = writer
        try:
            first = await reader.read(1)
            if first == b"{":
                await self._serve_json(first, reader, writer)
            elif first:
                await self._serve_legacy(first, reader, writer)
        except (ConnectionError, asyncio.IncompleteReadError):
            pass  # the client went away (or the server is closing); nothing to answer
        except asyncio.CancelledError:
            pass  # close() gave up waiting for this connection's command
        finally:
            self._connections.pop(task, None)
            writer.close()
            with contextlib.suppress(Exception):
                await writer.wait_closed()

    async def _run(self, argv: list[Any]) -> tuple[bool, object]:
        """(True, value) or (False, message). Never raises for a bad command."""
        try:
            return True, await self._controller.dispatch(argv)
        except ControlError as exc:
            return False, str(exc)
        except Exception as exc:  # a bug in a handler must not end the connection or the server
            log.exception("Command %r has failed", argv)
            return False, f"{type(exc).__name__}: {exc}" if str(exc) else type(exc).__name__

    def _after(self, argv: list[Any], ok: bool) -> None:
        if ok and argv in (["stop"], ["stop", "--unban"]) and self._on_stop is not None:
            result = self._on_stop()
            if inspect.isawaitable(result):
                task = asyncio.ensure_future(result)
                self._background.add(task)
                task.add_done_callback(self._background.discard)

    async def _serve_json(
        self, first: bytes, reader: asyncio.StreamReader, writer: asyncio.StreamWriter
    ) -> None:
        pending = first
        while True:
            try:
                line = pending + await reader.readuntil(b"\n")
            except asyncio.LimitOverrunError:
                await self._send(writer, _json_error(f"request longer than {MAX_REQUEST} bytes"))
                return  # the stream cannot be resynchronised
            except asyncio.IncompleteReadError as exc:
                if not (pending + exc.partial).strip():
                    return
                line = pending + exc.partial
            pending = b""
            if not line.strip():
                continue
            argv, problem = _parse_json(line)
            if argv is None:
                await self._send(writer, _json_error(problem))
            else:
                ok, value = await self._run(argv)
                reply = (
                    {"v": VERSION, "ok": True, "value": value}
                    if ok
                    else {"v": VERSION, "ok": False, "error": value}
                )
                await self._send(writer, (encode_json(reply) + "\n").encode())
                self._after(argv, ok)
            if reader.at_eof():
                return

    async def _serve_legacy(
        self, first: bytes, reader: asyncio.StreamReader, writer: asyncio.StreamWriter
    ) -> None:
        pending = first
        while True:
            try:
                frame = pending + await reader.readuntil(legacy.END)
            except asyncio.LimitOverrunError:
                await self._send(writer, legacy.dump_error(f"request longer than {MAX_REQUEST} bytes"))
                return
            pending = b""
            data = frame[: -len(legacy.END)]
            if data == legacy.CLOSE:
                return
            try:
                argv = legacy.load_request(data)
            except legacy.LegacyError as exc:
                log.error("PROTO-error: %s", exc)
                await self._send(writer, legacy.dump_error(str(exc)))
                continue
            ok, value = await self._run(argv)
            try:
                reply = legacy.dump_reply(value) if ok else legacy.dump_error(str(value))
            except Exception as exc:  # a value pickle cannot hold is a server bug; say so instead of hanging
                reply = legacy.dump_error(f"cannot encode the reply: {exc}")
            await self._send(writer, reply)
            self._after(argv, ok)

    @staticmethod
    async def _send(writer: asyncio.StreamWriter, data: bytes) -> None:
        writer.write(data)
        await writer.drain()


def _json_error(message: str) -> bytes:
    return (encode_json({"v": VERSION, "ok": False, "error": message}) + "\n").encode()


def _parse_json(line: bytes) -> tuple[list[Any] | None, str]:
    if nesting.json_depth(line) > nesting.MAX_DEPTH:
        return None, nesting.TOO_DEEP
    try:
        request = json.loads(line)
    except (ValueError, RecursionError) as exc:  # RecursionError cannot happen within MAX_DEPTH: a guard
        return None, f"malformed request: {exc}"
    if not isinstance(request, dict):
        return None, "a request must be a JSON object"
    version = request.get("v", VERSION)
    if version != VERSION:
        return None, f"unsupported protocol version {version!r}; this server speaks {VERSION}"
    cmd = request.get("cmd")
    if not isinstance(cmd, list) or not cmd:
        return None, 'a request must have "cmd": a non-empty list'
    return cmd, ""
