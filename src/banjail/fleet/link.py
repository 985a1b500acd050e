"""The fleet's Redis connections (redis.asyncio; the only module that imports the `redis` package).

A Link is one connection of one role (`publisher`: XADD; `subscriber`: blocking XREAD, which holds its
connection) with its state. A failed call marks it down: one log line when it goes down (with the reason), one
when it is back, never one per retry; retries wait with exponential backoff (BACKOFF_FIRST doubling up to
BACKOFF_MAX). Timeouts are short enough that a silent network cut (packets dropped) is noticed within
SOCKET_TIMEOUT, and the blocking read returns at least every BLOCK_MS with nothing (to notice a dead link), at
once when an entry arrives: there is no polling interval.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Mapping, Sequence
from typing import Any

import redis.asyncio as aioredis
from redis.exceptions import RedisError

from banjail.fleet.counters import FleetCounters

BLOCK_MS = 2000
SOCKET_TIMEOUT = BLOCK_MS / 1000 + 2.0
CONNECT_TIMEOUT = 2.0
BACKOFF_FIRST = 0.1
BACKOFF_MAX = 5.0
READ_COUNT = 500

# What a Redis call raises when the server or the network is away.
FAILURES: tuple[type[BaseException], ...] = (RedisError, OSError, asyncio.TimeoutError)

Entries = list[tuple[str, dict[str, str]]]


class Link:
    """One Redis connection for `role`, connected on first use and again after a failure."""

    def __init__(
        self, url: str, role: str, counters: FleetCounters, log: logging.Logger, safe_url: str
    ) -> None:
        self.url = url
        self.role = role
        self._counters = counters
        self._log = log
        self._where = safe_url
        self._client: aioredis.Redis | None = None
        self._delay = BACKOFF_FIRST
        self.state = "off"
        self._set("connecting")

    def _set(self, state: str) -> None:
        self.state = state
        setattr(self._counters, self.role, state)

    def client(self) -> aioredis.Redis:
        if self._client is None:
            self._client = aioredis.from_url(
                self.url,
                decode_responses=True,
                socket_timeout=SOCKET_TIMEOUT,
                socket_connect_timeout=CONNECT_TIMEOUT,
                retry_on_timeout=False,
            )
        return self._client

    async def ensure(self) -> None:
        """Connect (PING) unless the link is up, so that `connected` is logged when it is, not at the first
        entry. Raises one of FAILURES."""
        if self.state != "up":
            await self.client().ping()
            self.up()

    def up(self) -> None:
        """The last call worked."""
        if self.state != "up":
            self._log.info("fleet: %s connected to %s", self.role, self._where)
        self._set("up")
        self._delay = BACKOFF_FIRST

    async def down(self, exc: BaseException) -> None:
        """The last call failed: drop the connection, log if this is news, and wait the backoff delay."""
        if self.state != "down":
            self._counters.reconnects += self.state == "up"
            self._log.warning(
                "fleet: %s lost %s (%s); retrying with backoff up to %gs",
                self.role,
                self._where,
                _why(exc),
                BACKOFF_MAX,
            )
        self._set("down")
        await self.close()
        await asyncio.sleep(self._delay)
        self._delay = min(BACKOFF_MAX, self._delay * 2)

    async def close(self) -> None:
        client, self._client = self._client, None
        if client is not None:
            with contextlib.suppress(*FAILURES):
                await client.aclose()


async def publish(link: Link, stream: str, entries: Sequence[Mapping[str, str]], minid: str | None) -> None:
    """XADD every entry to `stream` in one round trip (a pipeline, in order), trimming entries older than
    `minid` (exactly: an approximate trim keeps a whole node of old entries). Raises one of FAILURES when Redis is away."""
    await link.ensure()
    pipe = link.client().pipeline(transaction=False)
    for entry in entries:
        fields: dict[Any, Any] = dict(entry)
        pipe.xadd(stream, fields, minid=minid, approximate=False)
    await pipe.execute()


async def read(link: Link, stream: str, after: str) -> Entries:
    """The entries of `stream` after id `after` (at most READ_COUNT), waiting up to BLOCK_MS for the first."""
    await link.ensure()
    found: Any = await link.client().xread({stream: after}, count=READ_COUNT, block=BLOCK_MS)
    entries: Entries = []
    streams = found.items() if isinstance(found, dict) else (found or ())  # RESP3 answers with a map
    for _name, items in streams:
        for entry_id, fields in items:
            entries.append((str(entry_id), {str(k): str(v) for k, v in fields.items()}))
    return entries


def _why(exc: BaseException) -> str:
    text = str(exc).strip()
    return f"{type(exc).__name__}: {text}" if text else type(exc).__name__
