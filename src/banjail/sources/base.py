"""The contract between the daemon and every log source (file tail, journal).

Duties of a source:
- It yields batches of complete lines (never a partial line), in order, each with the Position after it, as fast
  as it can read them, and waits without spinning (inotify or the journal's own wait) when there is nothing new:
  idle CPU is 0 %.
- It never loses and never repeats a line across rotation (rename+create, copytruncate) or a restart from a saved
  Position (a file whose first-line hash differs from the saved one is read from its start).
- Invalid UTF-8 is decoded with replacement; a line longer than 64 KiB is cut (the rest up to the newline is
  dropped and counted), so no line can stall the daemon.
- A batch is bounded (say 4096 lines or 1 MiB) so the daemon can yield to the event loop between batches.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Protocol

from banjail.model import LogLine, Position


class LogSource(Protocol):
    @property
    def name(self) -> str:
        """The path or `journal` name shown by `fail2ban-client status <jail>` under the file list."""
        ...

    def batches(self) -> AsyncIterator[list[LogLine]]:
        """Lines from the saved position onward, forever (until `close`)."""
        ...

    def position(self) -> Position:
        """Where the source stands after the last batch it yielded (what the daemon saves)."""
        ...

    async def close(self) -> None: ...
