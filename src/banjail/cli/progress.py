"""A progress bar on stderr while fail2ban-regex reads a big file. Only ever drawn on a terminal, so output that
is piped or captured never contains it."""

from __future__ import annotations

import time
from typing import Protocol, TextIO

# Files smaller than this are read too fast for a bar to help.
BIG_FILE = 32 << 20
_WIDTH = 30
_INTERVAL = 0.2  # seconds between redraws


class Progress(Protocol):
    def update(self, done: int, lines: int) -> None: ...

    def close(self) -> None: ...


class NoProgress:
    """Draws nothing."""

    def update(self, done: int, lines: int) -> None:
        pass

    def close(self) -> None:
        pass


class Bar:
    """A one-line bar, redrawn at most every 0.2 s and erased by `close`."""

    def __init__(self, total: int, stream: TextIO) -> None:
        self._total = max(total, 1)
        self._stream = stream
        self._started = time.monotonic()
        self._drawn = 0.0

    def update(self, done: int, lines: int) -> None:
        now = time.monotonic()
        if now - self._drawn < _INTERVAL:
            return
        self._drawn = now
        share = min(done / self._total, 1.0)
        filled = int(share * _WIDTH)
        rate = lines / max(now - self._started, 1e-9)
        self._stream.write(
            f"\r[{'#' * filled}{' ' * (_WIDTH - filled)}] {share:4.0%} {lines} lines {rate:,.0f} lines/s"
        )
        self._stream.flush()

    def close(self) -> None:
        if self._drawn:
            self._stream.write("\r\033[K")
            self._stream.flush()


def progress_for(size: int, stream: TextIO) -> Progress:
    """A Bar when `stream` is a terminal and the file is big, else NoProgress."""
    if size >= BIG_FILE and stream.isatty():
        return Bar(size, stream)
    return NoProgress()
