"""What a FileSource keeps of a file rotated away: the reader it still reads to the end, and the copy a
copytruncate made (banjail.sources.file says when each is used)."""

from __future__ import annotations

import os
from dataclasses import dataclass

from banjail.sources.tail import FileReader, first_line


@dataclass(frozen=True, slots=True, eq=False)
class Retired:
    """A reader still read for the file that was at `path` (renamed away, or the copy of a copytruncate) until it
    is at its end and `deadline` (monotonic) has passed; `wd` is its watch, -1 for none. Compared by identity, as
    the source removes the one it finished."""

    path: str
    reader: FileReader
    wd: int
    deadline: float


def find_copy(path: str, reader: FileReader) -> FileReader | None:
    """After copytruncate: a reader at `reader`'s offset on the copy beside `path` (a file whose name starts with
    path's, whose first line is the one `reader` saw and that is long enough), or None."""
    if not reader.head:
        return None
    directory, base = os.path.split(path)
    try:
        entries = [e for e in os.scandir(directory or ".") if e.name.startswith(base) and e.name != base]
    except OSError:
        return None
    for entry in entries:
        try:
            if not entry.is_file() or entry.stat().st_size < reader.offset:
                continue
            fd = os.open(entry.path, os.O_RDONLY | os.O_CLOEXEC)
        except OSError:
            continue
        try:
            if first_line(fd) != reader.head:
                os.close(fd)  # not the copy: each candidate looked at must not keep a descriptor open
                continue
            copy = FileReader(entry.path, fd, reader.offset, reader.encoding, reader.max_line)
        except BaseException:
            os.close(fd)
            raise
        return copy
    return None
