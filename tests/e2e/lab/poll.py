"""A bounded poll for end-to-end tests."""

from __future__ import annotations

import time
from collections.abc import Callable


def until(check: Callable[[], object], timeout: float = 10, period: float = 0.005) -> float | None:
    """Poll `check` for at most `timeout` seconds; the wall-clock time it first held, or None."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if check():
            return time.time()
        time.sleep(period)
    return None
