"""The /metrics endpoint on an event loop: what it answers to each request, and the config checks of `metrics`
and `banprefix4/6` (errors name file, section, option, value and fix)."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from banjail.config.load import load_config
from banjail.errors import ConfigError
from banjail.metrics.http import MetricsServer
from banjail.metrics.listen import parse_listen


async def _ask(raw: bytes) -> bytes:
    server = MetricsServer("127.0.0.1", 0, lambda: "# HELP a b\n# TYPE a gauge\na 1\n")
    await server.start()
    try:
        reader, writer = await asyncio.open_connection("127.0.0.1", server.port)
        writer.write(raw)
        await writer.drain()
        reply = await asyncio.wait_for(reader.read(), 5)
        writer.close()
        return reply
    finally:
        await server.close()


@pytest.mark.parametrize(
    ("request_bytes", "status", "body"),
    [
        (b"GET /metrics HTTP/1.1\r\nHost: x\r\n\r\n", b"200 OK", b"# HELP a b\n# TYPE a gauge\na 1\n"),
        (b"GET /metrics?x=1 HTTP/1.0\r\n\r\n", b"200 OK", b"# HELP a b\n# TYPE a gauge\na 1\n"),
        (b"HEAD /metrics HTTP/1.1\r\n\r\n", b"200 OK", b""),
        (b"GET / HTTP/1.1\r\n\r\n", b"404 Not Found", b"metrics are at /metrics\n"),
        (b"POST /metrics HTTP/1.1\r\n\r\n", b"405 Method Not Allowed", b"only GET\n"),
        (b"GET /metrics HTTP/1.1\r\nX: " + b"y" * 70_000 + b"\r\n\r\n", b"", b""),  # head too long: dropped
    ],
)
def test_answers(request_bytes: bytes, status: bytes, body: bytes) -> None:
    reply = asyncio.run(_ask(request_bytes))
    if not status:
        assert reply == b""
        return
    head, _, got = reply.partition(b"\r\n\r\n")
    assert head.split(b"\r\n")[0] == b"HTTP/1.1 " + status
    assert got == body
    if status == b"200 OK":
        assert b"Content-Type: text/plain; version=0.0.4; charset=utf-8" in head


@pytest.mark.parametrize(
    ("text", "parsed"),
    [("127.0.0.1:9191", ("127.0.0.1", 9191)), ("[::1]:9191", ("::1", 9191)), (":9191", ("0.0.0.0", 9191))],
)
def test_listen_addresses(text: str, parsed: tuple[str, int]) -> None:
    assert parse_listen(text) == parsed


@pytest.mark.parametrize(
    ("file", "text", "message"),
    [
        (
            "fail2ban.local",
            "[Definition]\nmetrics = localhost\n",
            "fail2ban.local:2: [Definition] metrics = 'localhost': is not a listen address (write HOST:PORT, "
            "e.g. 127.0.0.1:9191 or [::1]:9191; leave it empty to turn metrics off)",
        ),
        (
            "jail.local",
            "[sshd]\nenabled = true\nbanprefix6 = 200\n",
            "jail.local:3: [sshd] banprefix6 = '200': is not a prefix length from 1 to 128 (use 128 for IPv6 or 32 "
            "for IPv4 (one address, the default), or a network such as 64 or 24)",
        ),
    ],
)
def test_bad_values_are_named(tmp_path: Path, file: str, text: str, message: str) -> None:
    (tmp_path / file).write_text(text)
    with pytest.raises(ConfigError) as caught:
        load_config(tmp_path)
    shown = [str(p).replace(str(tmp_path) + "/", "") for p in caught.value.problems]
    assert message in shown, shown
