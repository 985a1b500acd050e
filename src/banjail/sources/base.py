"""The contract between the daemon and every log source (file tail, journal).

Duties of a source:
- It yields LogBatches: complete lines (never a partial line) of one file or journal, in order, with the Position
  after the last of them, as fast as it can read them, and waits without spinning (inotify or the journal's own wait) when there is nothing new:
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

from banjail.model import LogBatch, Position


class LogSource(Protocol):
    @property
    def name(self) -> str:
        """The path or `journal` name shown by `fail2ban-client status <jail>` under the file list."""
        ...

    def batches(self) -> AsyncIterator[LogBatch]:
        """Lines from the saved position onward, forever (until `close`)."""
        ...

    def position(self) -> Position:
        """Where the source stands after the last batch it yielded (what the daemon saves)."""
        ...

    async def close(self) -> None: ...
