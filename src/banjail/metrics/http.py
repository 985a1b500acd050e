"""`metrics = HOST:PORT`: a minimal HTTP/1.1 endpoint on the server's own event loop that answers `GET /metrics`
with the registry's text (and 404 to any other path, 405 to any other method). One request per connection
(`Connection: close`); a request head longer than 8 KiB or slower than 5 s is dropped, so a stuck or hostile
client costs one small buffer and never blocks the loop."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Callable

from banjail.metrics.exposition import CONTENT_TYPE
from banjail.metrics.listen import parse_listen

__all__ = ["MetricsServer", "parse_listen"]

HEAD_LIMIT = 8192
HEAD_TIMEOUT = 5.0


class MetricsServer:
    """Serves `render()` at GET /metrics on (host, port). `start` binds (OSError when the port is taken)."""

    def __init__(self, host: str, port: int, render: Callable[[], str]) -> None:
        self.host = host
        self.port = port
        self._render = render
        self._server: asyncio.Server | None = None

    async def start(self) -> None:
        self._server = await asyncio.start_server(self._serve, self.host, self.port, reuse_address=True)
        sockets = self._server.sockets
        if sockets and self.port == 0:
            self.port = int(sockets[0].getsockname()[1])

    async def close(self) -> None:
        if self._server is not None:
            self._server.close()
            with contextlib.suppress(Exception):
                await self._server.wait_closed()
            self._server = None

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            head = await asyncio.wait_for(reader.readuntil(b"\r\n\r\n"), HEAD_TIMEOUT)
        except (asyncio.LimitOverrunError, asyncio.IncompleteReadError, TimeoutError, ConnectionError):
            writer.close()
            return
        if len(head) > HEAD_LIMIT:
            writer.close()
            return
        words = head.split(b"\r\n", 1)[0].split()
        method, path = (words[0], words[1]) if len(words) >= 2 else (b"", b"")
        if method not in (b"GET", b"HEAD"):
            status, body, kind = "405 Method Not Allowed", b"only GET\n", "text/plain"
        elif path.split(b"?", 1)[0] != b"/metrics":
            status, body, kind = "404 Not Found", b"metrics are at /metrics\n", "text/plain"
        else:
            status, body, kind = "200 OK", self._render().encode(), CONTENT_TYPE
        header = (
            f"HTTP/1.1 {status}\r\nContent-Type: {kind}\r\nContent-Length: {len(body)}\r\n"
            "Connection: close\r\n\r\n"
        ).encode()
        with contextlib.suppress(ConnectionError):
            writer.write(header if method == b"HEAD" else header + body)
            await writer.drain()
        writer.close()
