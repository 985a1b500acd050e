"""Signal handling on the event loop: SIGTERM/SIGINT stop gracefully and a second one forces the exit, SIGUSR1
reopens the log file (after logrotate), SIGHUP reloads the configuration."""

from __future__ import annotations

import asyncio
import os
import signal
from collections.abc import Awaitable, Callable

from banjail.daemon.logging import logger

log_server = logger("server")

FORCED_EXIT = 255


def install(
    loop: asyncio.AbstractEventLoop,
    *,
    stop: Callable[[], Awaitable[None]],
    reopen: Callable[[], object],
    reload: Callable[[], Awaitable[object]],
) -> Callable[[], None]:
    """Install the handlers; return a function that removes them."""
    tasks: set[asyncio.Task[object]] = set()
    stopping = False

    def spawn(coro: Awaitable[object]) -> None:
        task: asyncio.Task[object] = asyncio.ensure_future(coro)
        tasks.add(task)
        task.add_done_callback(tasks.discard)

    def on_stop(signum: int) -> None:
        nonlocal stopping
        if stopping:
            log_server.warning("Caught signal %d again: forcing exit", signum)
            os._exit(FORCED_EXIT)
        stopping = True
        log_server.debug("Caught signal %d. Exiting", signum)
        spawn(stop())

    def on_reopen() -> None:
        log_server.debug("Caught signal %d. Flushing logs", signal.SIGUSR1)
        reopen()

    def on_reload() -> None:
        log_server.info("Caught signal %d. Reloading", signal.SIGHUP)
        spawn(reload())

    loop.add_signal_handler(signal.SIGTERM, on_stop, signal.SIGTERM)
    loop.add_signal_handler(signal.SIGINT, on_stop, signal.SIGINT)
    loop.add_signal_handler(signal.SIGUSR1, on_reopen)
    loop.add_signal_handler(signal.SIGHUP, on_reload)

    def remove() -> None:
        for signum in (signal.SIGTERM, signal.SIGINT, signal.SIGUSR1, signal.SIGHUP):
            loop.remove_signal_handler(signum)

    return remove
