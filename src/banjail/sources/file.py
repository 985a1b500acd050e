"""FileSource: the lines of one log path or glob, across rotation, restarts and files that appear later.

One FileSource serves one `logpath` value (a path or a glob). It holds a FileReader per matched file and yields
their lines in LogBatches, one file per batch; a batch names its file in `source` and carries the Position after
its last line, so the daemon saves one position per file (as upstream's `logs` table does). A file's first batch
ends at the file's size when the source started (`backlog`), so the daemon can tell catch-up reading from new
lines batch by batch. A source has no jail in it: the daemon may feed each batch to
every jail that watches the same path ("read once, match many").

Rotation:
- rename+create: the reader keeps its descriptor to the renamed file and is "retired": on every wake it is read
  before the new file at the path (in bounded batches, so a big unread rest costs no memory), until it is at its
  end and `rotate_grace` seconds have passed (a writer may still hold the old file). The new file is read from
  its start. If the new name also matches the glob (`auth.log*` matching `auth.log.1`), the reader is adopted
  under that name, ahead of the others, instead of reading the file again.
- copytruncate: the file shrank below the offset, or its first line changed. Lines written between the last read
  and the copy are taken from the copy (a file beside it whose first line is the one the reader saw and that is
  long enough), read like a retired file from the reader's offset, and the file is read again from 0.

Limit: a whole generation renamed away before the source ever opened it (two rotations between two reads) has
no name the source could know; upstream has the same limit.
"""

from __future__ import annotations

import asyncio
import codecs
import glob
import locale
import logging
import os
import time
from collections.abc import AsyncIterator, Mapping

from banjail.errors import SourceError
from banjail.model import LogBatch, Position
from banjail.sources.rotation import Retired, find_copy
from banjail.sources.tail import DEFAULT_MAX_LINE, FileReader, Identity
from banjail.sources.watch import InotifyWatcher, PollWatcher, Watcher

log = logging.getLogger(__name__)

BACKENDS = ("auto", "pyinotify", "inotify", "polling")


class FileSource:
    """Lines of the file(s) at `path` (a glob is re-evaluated when a watched directory changes).

    Files present at start resume from `positions[file]` (or `position` for a plain path) when its first-line
    hash matches, else start at their end with `tail`, else at 0; files appearing later are read from 0.
    `backend`: "auto" (inotify, polling when unavailable), "pyinotify"/"inotify", or "polling" every
    `poll_interval` seconds. A batch holds at most `max_lines` lines and about `max_bytes` bytes.
    """

    def __init__(
        self,
        path: str,
        *,
        position: Position | None = None,
        positions: Mapping[str, Position] | None = None,
        tail: bool = False,
        encoding: str = "utf-8",
        backend: str = "auto",
        poll_interval: float = 1.0,
        rotate_grace: float = 2.0,
        rescan_interval: float = 10.0,
        max_lines: int = 4096,
        max_bytes: int = 1 << 20,
        max_line: int = DEFAULT_MAX_LINE,
    ) -> None:
        if backend not in BACKENDS:
            raise SourceError(
                f"{path}: backend {backend!r} is not a file backend (use one of {', '.join(BACKENDS)})"
            )
        self._pattern = path
        self._is_glob = glob.has_magic(path)
        self._saved = dict(positions or {})
        if position is not None and not self._is_glob:
            self._saved.setdefault(path, position)
        self._tail = tail
        self._encoding = locale.getpreferredencoding(False) if encoding.lower() == "auto" else encoding
        try:
            codecs.lookup(self._encoding)
        except LookupError:
            raise SourceError(
                f"{path}: unknown logencoding {encoding!r} (use auto, utf-8, latin-1 or another Python codec name)"
            ) from None
        self._backend = backend
        self._poll_interval = poll_interval
        self._rotate_grace = rotate_grace
        self._rescan_interval = rescan_interval
        self._max_lines = max_lines
        self._max_bytes = max_bytes
        self.max_line = max_line
        self._live: dict[str, FileReader] = {}
        self._wds: dict[str, int] = {}
        self._retired: list[Retired] = []
        self._last: dict[str, Position] = {}
        self._backlog: dict[str, int] = {}
        self._position = Position()
        self._watcher: Watcher | None = None
        self._dirs: dict[str, int] = {}
        self._deferred: set[str] = set()
        self._cut_closed = 0  # lines cut by readers since closed
        self._started = False
        self._closed = False
        self._next_rescan = 0.0

    @property
    def name(self) -> str:
        return self._pattern

    @property
    def backend(self) -> str:
        """The backend in use once reading started ("pyinotify" or "polling"), else the one asked for."""
        return self._watcher.name if self._watcher is not None else self._backend

    @property
    def files(self) -> list[str]:
        """The files currently followed (what `fail2ban-client status` lists)."""
        return sorted(self._live)

    @property
    def lines_cut(self) -> int:
        live = sum(r.lines_cut for r in self._live.values()) + sum(r.reader.lines_cut for r in self._retired)
        return self._cut_closed + live

    def lag(self) -> dict[str, int]:
        """Bytes not read yet per followed file (a rotated file still being read counts under its old name): what
        `status` shows while the jail is behind its logs."""
        behind: dict[str, int] = {}
        readers = [(p, r) for p, r in self._live.items()] + [(r.path, r.reader) for r in self._retired]
        for path, reader in readers:
            try:
                size = os.fstat(reader.fd).st_size
            except OSError:
                continue
            if size > reader.offset:
                behind[path] = behind.get(path, 0) + size - reader.offset
        return behind

    def position(self) -> Position:
        return self._position

    def positions(self) -> dict[str, Position]:
        """The position of every file that yielded a line, by path."""
        return dict(self._last)

    def backlog(self) -> dict[str, int]:
        """Each file opened when reading started that was not read to its end then, with its size at that moment:
        a batch of that file ending at or before that offset is catch-up reading (no batch straddles it)."""
        return dict(self._backlog)

    async def batches(self) -> AsyncIterator[LogBatch]:
        self._start()
        try:
            while not self._closed:
                found = self.step()
                if found:
                    for batch in found:
                        yield batch
                    await asyncio.sleep(0)  # let the loop breathe between batches of a backlog
                    continue
                assert self._watcher is not None
                await self._watcher.wait(self._timeout())
        finally:
            self._stop()

    async def close(self) -> None:
        self._closed = True
        self._stop()

    # -- the synchronous core: one wake-up ---------------------------------------------------------------------

    def _start(self) -> None:
        if self._started:
            return
        self._started = True
        if self._backend == "polling":
            self._watcher = PollWatcher(self._poll_interval)
        else:
            try:
                self._watcher = InotifyWatcher()
            except OSError as error:
                if self._backend != "auto":
                    raise SourceError(f"{self._pattern}: inotify is unavailable ({error})") from error
                log.warning(
                    "%s: inotify unavailable (%s), polling every %ss",
                    self._pattern,
                    error,
                    self._poll_interval,
                )
                self._watcher = PollWatcher(self._poll_interval)
        self._rescan(startup=True)

    def step(self) -> list[LogBatch]:
        """What one wake-up finds: at most `max_lines` lines in all, one batch per file (the rest is read by the
        next call)."""
        watcher = self._watcher
        assert watcher is not None
        now = time.monotonic()
        # Live files first: a rename that the glob also matches must find the reader retired, to adopt it.
        self._check_live()
        if watcher.take_rescan() or now >= self._next_rescan:
            self._rescan(startup=False)
        out: list[LogBatch] = []
        room = self._read_retired(out, now)
        for path, reader in list(self._live.items()):
            if room <= 0:
                break
            lines = reader.read(room, self._max_bytes)
            if lines:
                position = self._last[path] = reader.position()
                out.append(LogBatch(path, lines, position))
                room -= len(lines)
        if out:
            self._position = out[-1].position
        return out

    def _timeout(self) -> float | None:
        now = time.monotonic()
        deadlines = [r.deadline for r in self._retired]
        if self._needs_periodic_rescan():
            deadlines.append(self._next_rescan)
        if any(wd < 0 for wd in self._wds.values()):
            # A file inotify refused to watch (max_user_watches reached): its writes wake nobody, so poll it.
            deadlines.append(now + self._poll_interval)
        return max(0.0, min(deadlines) - now) if deadlines else None

    def _needs_periodic_rescan(self) -> bool:
        # A directory that does not exist yet, or a glob in the directory part, cannot be watched by name.
        return (
            bool(self._deferred)
            or any(wd < 0 for wd in self._dirs.values())
            or glob.has_magic(os.path.dirname(self._pattern))
        )

    def _matches(self) -> list[str]:
        if self._is_glob:
            return sorted(p for p in glob.glob(self._pattern) if os.path.isfile(p))
        return [self._pattern]

    def _watch_dirs(self) -> None:
        assert self._watcher is not None
        directory = os.path.dirname(self._pattern) or "."
        wanted = glob.glob(directory) if glob.has_magic(directory) else [directory]
        for path in wanted:
            self._dirs[path] = self._watcher.watch_dir(path) if os.path.isdir(path) else -1
        if not wanted:
            self._dirs.setdefault(directory, -1)

    def _rescan(self, *, startup: bool) -> None:
        self._watch_dirs()
        self._deferred.clear()
        for path in self._matches():
            if path in self._live:
                continue
            try:
                identity = Identity.of(os.stat(path))
            except OSError:
                continue
            adopted = self._adopt(path, identity)
            if adopted is not None:
                self._follow(path, adopted, first=True)
                continue
            try:
                if startup:
                    reader = FileReader.open(
                        path,
                        self._encoding,
                        resume=self._saved.get(path),
                        tail=self._tail,
                        max_line=self.max_line,
                    )
                    if reader.boundary:
                        self._backlog[path] = reader.boundary
                else:
                    reader = FileReader.open(path, self._encoding, max_line=self.max_line)
                    reader.boundary = 0
            except OSError as error:
                log.error("cannot open log %s: %s", path, error)
                continue
            if not startup and self._is_glob and self._looks_like_copy(reader):
                reader.close()
                self._deferred.add(path)
                continue
            log.info("Added logfile: %r (pos = %d, hash = %s)", path, reader.offset, reader.hash)
            self._follow(path, reader)
        interval = self._poll_interval if self._deferred else self._rescan_interval
        self._next_rescan = time.monotonic() + interval

    def _looks_like_copy(self, reader: FileReader) -> bool:
        """A new file of the glob that may be a copy being made of a followed file (copytruncate): its first line
        is not complete yet, or is a followed file's. It is looked at again on the next rescan; a copy is taken
        over by the truncation that follows it."""
        return not reader.head or any(live.head == reader.head for live in self._live.values())

    def _adopt(self, path: str, identity: Identity) -> FileReader | None:
        """A reader already open on this inode (a rotation renamed it to a name the glob also matches)."""
        for index, retired in enumerate(self._retired):
            if retired.reader.identity == identity:
                del self._retired[index]
                assert self._watcher is not None
                self._watcher.unwatch(retired.wd)
                return retired.reader
        return None

    def _follow(self, path: str, reader: FileReader, *, first: bool = False) -> None:
        """Follow `reader` as the file at `path`; `first` puts it before the others, so a reader adopted after a
        rotation finishes its older lines before the new file at its old name is read."""
        assert self._watcher is not None
        reader.path = path
        if first:
            self._live = {path: reader, **self._live}
        else:
            self._live[path] = reader
        self._wds[path] = self._watcher.watch_file(path)

    def _retire(self, path: str) -> None:
        """Keep reading the file that was at `path` (first, in bounded batches) until its grace is over."""
        reader = self._live.pop(path)
        reader.boundary = 0  # its rest is read in order before the new file; no catch-up split any more
        wd = self._wds.pop(path, -1)
        self._retired.append(Retired(path, reader, wd, time.monotonic() + self._rotate_grace))

    def _check_live(self) -> None:
        for path, reader in list(self._live.items()):
            try:
                identity = Identity.of(os.stat(path))
            except OSError:
                self._retire(path)  # renamed away or deleted; the directory watch sees what comes next
                continue
            if identity != reader.identity:
                self._retire(path)
                adopted = self._adopt(path, identity)
                if adopted is None:
                    try:
                        adopted = FileReader.open(path, self._encoding, max_line=self.max_line)
                    except OSError as error:
                        log.error("cannot open log %s: %s", path, error)
                        continue
                log.info("Log rotation detected for %s", path)
                self._follow(path, adopted)
            elif reader.replaced():
                log.info("Log truncation detected for %s", path)
                self._recover_copy(path, reader)
                reader.restart()

    def _recover_copy(self, path: str, reader: FileReader) -> None:
        """After copytruncate: the lines between the reader's offset and the end of the copy are read next, as
        from a file rotated away (and the copy is adopted if the glob matches its name)."""
        copy = find_copy(path, reader)
        if copy is not None:
            self._retired.append(Retired(path, copy, -1, time.monotonic() + self._rotate_grace))

    def _read_retired(self, out: list[LogBatch], now: float) -> int:
        """Append a batch per retired file with lines; return the room left for lines."""
        assert self._watcher is not None
        room = self._max_lines
        for retired in list(self._retired):
            if room <= 0:
                break
            reader = retired.reader
            # Lines of the old file carry its own positions until the new file at the path has yielded one;
            # after that they must not move the path's saved position back to the old file.
            last = self._last.get(retired.path)
            fixed = None if last is None or last.first_line_hash == reader.hash else last
            lines = reader.read(room, self._max_bytes)
            room -= len(lines)
            if now >= retired.deadline and room > 0:  # at its end, and the grace is over
                lines.extend(reader.flush())
                self._watcher.unwatch(retired.wd)
                self._cut_closed += reader.lines_cut
                reader.close()
                self._retired.remove(retired)
            if lines:
                position = fixed or reader.position()
                if fixed is None:
                    self._last[retired.path] = position
                out.append(LogBatch(retired.path, lines, position))
        return room

    def _stop(self) -> None:
        self._cut_closed = self.lines_cut
        for reader in self._live.values():
            reader.close()
        for retired in self._retired:
            retired.reader.close()
        self._live.clear()
        self._retired.clear()
        if self._watcher is not None:
            self._watcher.close()
            self._watcher = None
