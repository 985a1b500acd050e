"""Host name lookups for the daemon (usedns names in <HOST>, ignoreip names): cached, bounded in time and in
threads, never on the event loop.

A jail's lines are matched on the jail's own scan thread (banjail.daemon.scanning), so a lookup holds up only that
jail, and its lines stay in order: the line that named the host is counted, with the addresses found, before the
next line is read. Other jails, bans and the control socket go on meanwhile.

- Every lookup runs on a small shared pool (LOOKUP_THREADS) and is waited for at most LOOKUP_TIMEOUT seconds; a
  lookup still running then is left to finish in its thread (getaddrinfo cannot be cancelled) and the name counts
  as unresolved. A name being looked up is looked up once, whoever asks.
- Answers are cached: found addresses for POSITIVE_TTL, "nothing" (no such name, or no answer in time) for
  NEGATIVE_TTL, at most CACHE_NAMES names. A name that timed out is logged once per NEGATIVE_TTL.
"""

from __future__ import annotations

import logging
import socket
import threading
import time
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from concurrent.futures import TimeoutError as FutureTimeout

LOOKUP_TIMEOUT = (
    5.0  # seconds a line waits for its name (glibc's default per try; upstream waits for all tries)
)
LOOKUP_THREADS = 4  # lookups in flight at once; more wait their turn (and time out like the rest)
POSITIVE_TTL = 300.0
NEGATIVE_TTL = 60.0
CACHE_NAMES = 4096

Lookup = Callable[[str], tuple[str, ...]]

log = logging.getLogger("banjail.filter")


def getaddrinfo_lookup(name: str) -> tuple[str, ...]:
    """The addresses `name` resolves to, in the resolver's order without repeats; () when it does not resolve."""
    try:
        infos = socket.getaddrinfo(name, None, proto=socket.IPPROTO_TCP)
    except (OSError, UnicodeError):
        return ()
    return tuple(dict.fromkeys(str(info[4][0]) for info in infos))


class HostResolver:
    """A thread-safe, cached, time-bounded resolver: `resolver(name)` returns the addresses of `name` (possibly
    none) within about `timeout` seconds, whatever the system resolver does."""

    def __init__(
        self,
        lookup: Lookup = getaddrinfo_lookup,
        *,
        timeout: float = LOOKUP_TIMEOUT,
        threads: int = LOOKUP_THREADS,
        positive_ttl: float = POSITIVE_TTL,
        negative_ttl: float = NEGATIVE_TTL,
        max_names: int = CACHE_NAMES,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._lookup = lookup
        self.timeout = timeout
        self._threads = threads
        self._ttl = (positive_ttl, negative_ttl)
        self._max = max_names
        self._clock = clock
        self._lock = threading.Lock()
        self._cache: dict[str, tuple[float, tuple[str, ...]]] = {}  # name -> (expires, addresses)
        self._pending: dict[str, Future[tuple[str, ...]]] = {}
        self._pool: ThreadPoolExecutor | None = None
        self.timeouts = 0  # lookups given up on, since start

    def __call__(self, name: str) -> tuple[str, ...]:
        now = self._clock()
        with self._lock:
            cached = self._cache.get(name)
            if cached is not None and cached[0] > now:
                return cached[1]
            future = self._pending.get(name)
            fresh = future is None
            if future is None:
                if self._pool is None:
                    self._pool = ThreadPoolExecutor(self._threads, thread_name_prefix="banjail-dns")
                future = self._pool.submit(self._lookup, name)
                self._pending[name] = future
        if fresh:  # outside the lock: a lookup that is already done runs the callback right here
            future.add_done_callback(lambda done: self._finished(name, done))
        try:
            return future.result(self.timeout)
        except FutureTimeout:
            self._remember(name, (), timed_out=True)
            return ()
        except Exception:  # a lookup function that fails is a name that does not resolve
            return ()

    def _finished(self, name: str, future: Future[tuple[str, ...]]) -> None:
        try:
            found = future.result()
        except Exception:
            found = ()
        self._remember(name, found)

    def _remember(self, name: str, found: tuple[str, ...], *, timed_out: bool = False) -> None:
        now = self._clock()
        with self._lock:
            if timed_out:
                cached = self._cache.get(name)
                if cached is not None and cached[0] > now:
                    return  # the answer arrived meanwhile, or another waiter already gave up
                self.timeouts += 1
            else:
                self._pending.pop(name, None)
            if len(self._cache) >= self._max:
                # drop the entries that expired; if none did, the oldest half (dicts keep insertion order)
                live = {k: v for k, v in self._cache.items() if v[0] > now}
                if len(live) >= self._max:
                    live = dict(list(live.items())[self._max // 2 :])
                self._cache = live
            self._cache[name] = (now + self._ttl[0 if found else 1], found)
        if timed_out:
            log.warning(
                "Unable to resolve %r within %.0f s (usedns/ignoreip): counted as unresolved for %.0f s",
                name,
                self.timeout,
                self._ttl[1],
            )

    def close(self) -> None:
        """Stop the pool without waiting for lookups in flight (they end with the resolver's own timeout)."""
        with self._lock:
            pool, self._pool = self._pool, None
        if pool is not None:
            pool.shutdown(wait=False, cancel_futures=True)


RESOLVER = HostResolver()
"""The daemon's resolver (one per process: every jail shares its cache)."""
