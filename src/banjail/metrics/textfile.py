"""`metrics_textfile = PATH`: the registry's text written to PATH every 15 s (`metrics_interval`), atomically (a temp file in the same
directory, flushed, then renamed over PATH), so node_exporter's textfile collector never reads half a file. The
write runs off the event loop; a failure is logged once per kind of error, and the next round tries again."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import tempfile
from collections.abc import Callable

INTERVAL = 15.0

log = logging.getLogger("fail2ban.server")


def write_atomically(path: str, text: str) -> None:
    """Replace `path` by a file holding `text` (mode 0644), never leaving a partial file at `path`."""
    directory = os.path.dirname(os.path.abspath(path))
    fd, temp = tempfile.mkstemp(prefix=".banjail-metrics.", suffix=".tmp", dir=directory)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as out:
            out.write(text)
            out.flush()
            os.fsync(out.fileno())
        os.chmod(temp, 0o644)
        os.replace(temp, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(temp)
        raise


async def run(path: str, render: Callable[[], str], interval: float = INTERVAL) -> None:
    """Write `render()` to `path` now and every `interval` seconds until cancelled."""
    loop = asyncio.get_running_loop()
    told = ""
    while True:
        try:
            await loop.run_in_executor(None, write_atomically, path, render())
            told = ""
        except OSError as exc:
            if str(exc) != told:
                log.error("cannot write metrics_textfile %s: %s", path, exc)
                told = str(exc)
        await asyncio.sleep(interval)
