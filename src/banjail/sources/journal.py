"""JournalSource: the systemd journal through a `journalctl -o json --follow` subprocess.

No binding is needed: journalctl is on every systemd machine, does its own waiting (idle CPU 0 %), and its JSON
is stable. The cursor of the last entry yielded is the Position (`Position.cursor`), so a restart resumes right
after it with `--after-cursor`. If journalctl exits, it is started again after a delay that doubles up to
`max_backoff` (and returns to its start once a run has lasted a minute), resuming from the last cursor; what it
printed on stderr is logged.

Matches: each `journalmatch` value is one line of the jail option (shell-like words, e.g. `_SYSTEMD_UNIT=sshd.service
+ _COMM=sshd`); several lines are alternatives, joined with journalctl's `+`, as upstream joins them.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import shlex
import time
from collections.abc import AsyncIterator, Sequence

from banjail.errors import SourceError
from banjail.model import LogBatch, Position
from banjail.sources.journalentry import FIELDS, format_entry

log = logging.getLogger(__name__)

NAME = "systemd-journal"  # upstream's name for the journal in its logs table and status output
READ_SIZE = 1 << 20
STABLE_RUN = 60.0
_DECODER = (
    json.JSONDecoder()
)  # raw_decode: journalctl prints one bare object per line  # a run this long resets the restart delay


def match_args(journalmatch: Sequence[str]) -> list[str]:
    """journalctl's positional match arguments for the jail's `journalmatch` lines."""
    groups = [words for words in (shlex.split(line) for line in journalmatch) if words]
    args: list[str] = []
    for words in groups:
        if args:
            args.append("+")
        args.extend(words)
    return args


def _stamp(seconds: float) -> str:
    return time.strftime("%Y-%m-%d %H:%M:%S", time.localtime(seconds))


class JournalSource:
    """Entries matching `journalmatch` from just after `cursor` (or `position.cursor`, as the daemon saved it),
    or else from `since` (POSIX seconds; upstream starts `findtime` before now), or else only entries that arrive
    from now on. `name` is the source's name and every line's `source` (the key its position is saved under).

    `system_only` reads the system journal only (upstream's default flags); `args` are extra journalctl options
    (`--directory=...`, `--file=...`, `--namespace=...` from the backend's arguments).
    """

    def __init__(
        self,
        journalmatch: Sequence[str],
        *,
        cursor: str | None = None,
        position: Position | None = None,
        since: float | None = None,
        name: str = NAME,
        journalctl: str = "journalctl",
        system_only: bool = True,
        args: Sequence[str] = (),
        encoding: str = "utf-8",
        max_lines: int = 4096,
        backoff: float = 0.5,
        max_backoff: float = 30.0,
    ) -> None:
        self._matches = match_args(journalmatch)
        self._cursor = cursor or (position.cursor if position is not None else "")
        self._name = name
        self._since = since
        self._journalctl = journalctl
        self._system_only = system_only
        self._args = list(args)
        self._encoding = encoding
        self._max_lines = max_lines
        self._backoff = backoff
        self._max_backoff = max_backoff
        self._process: asyncio.subprocess.Process | None = None
        self._stderr_task: asyncio.Task[None] | None = None
        self._closed = False
        self._started = 0.0
        self._cursor_refused = False
        self.restarts = 0
        self.entries_skipped = 0  # JSON lines that were not a usable entry

    @property
    def name(self) -> str:
        return self._name

    def position(self) -> Position:
        return Position(cursor=self._cursor)

    @property
    def pid(self) -> int | None:
        """The running journalctl's process id (None between runs)."""
        process = self._process
        return process.pid if process is not None and process.returncode is None else None

    def argv(self) -> list[str]:
        """The journalctl command for the current position."""
        argv = [self._journalctl, "--output=json", "--follow", "--no-pager", "--all", "--quiet"]
        argv.append("--output-fields=" + ",".join(FIELDS))
        if self._system_only:
            argv.append("--system")
        argv.extend(self._args)
        if self._cursor:
            argv.append("--after-cursor=" + self._cursor)
        elif self._since is not None:
            argv.append(f"--since=@{self._since:.6f}")
        else:
            argv.append("--lines=0")
        argv.extend(self._matches)
        return argv

    async def batches(self) -> AsyncIterator[LogBatch]:
        delay = self._backoff
        first = True
        self._started = time.time()
        if self._since is None and not self._cursor:
            # Entries that arrive while journalctl restarts must not be skipped by a second --lines=0.
            self._since = self._started
        try:
            while not self._closed:
                started = time.monotonic()
                cursor = self._cursor
                self._cursor_refused = False
                try:
                    await self._spawn()
                except FileNotFoundError as error:
                    if first:
                        raise SourceError(
                            f"journal: cannot run {self._journalctl!r} ({error.strerror}); install systemd's "
                            "journalctl or set backend to a file backend"
                        ) from error
                    log.error("journal: cannot run %s: %s", self._journalctl, error)
                else:
                    async for batch in self._read():
                        yield batch
                    code = await self._reap()
                    if self._closed:
                        return
                    self._forget_refused_cursor(cursor)
                    log.error(
                        "journal: %s exited with code %s; restarting in %.2fs", self._journalctl, code, delay
                    )
                first = False
                if time.monotonic() - started >= STABLE_RUN:
                    delay = self._backoff
                await asyncio.sleep(delay)
                delay = min(delay * 2, self._max_backoff)
                self.restarts += 1
        finally:
            await self.close()

    async def _spawn(self) -> None:
        self._process = await asyncio.create_subprocess_exec(
            *self.argv(),
            stdin=asyncio.subprocess.DEVNULL,
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.PIPE,
        )
        assert self._process.stderr is not None
        self._stderr_task = asyncio.create_task(self._log_stderr(self._process.stderr))

    async def _log_stderr(self, stream: asyncio.StreamReader) -> None:
        while line := await stream.readline():
            text = line.decode(self._encoding, "replace").rstrip()
            if "seek to cursor" in text:
                self._cursor_refused = True
            log.warning("journalctl: %s", text)

    def _forget_refused_cursor(self, cursor: str) -> None:
        """A saved cursor journalctl cannot seek to (journal files vacuumed, another machine's journal) would
        make every restart fail the same way: read from `since` instead (the start time when none was given)."""
        if cursor and self._cursor_refused and self._cursor == cursor:
            if self._since is None:
                self._since = self._started
            log.warning("journal: cursor %r refused; reading from %s instead", cursor, _stamp(self._since))
            self._cursor = ""

    async def _read(self) -> AsyncIterator[LogBatch]:
        assert self._process is not None and self._process.stdout is not None
        stdout = self._process.stdout
        rest = b""
        while True:
            data = await stdout.read(READ_SIZE)
            if not data:
                return
            data = rest + data
            cut = data.rfind(b"\n") + 1
            rest = data[cut:]
            batch: list[str] = []
            # split on "\n" only: bytes.splitlines() also ends a line at a lone "\r"
            for raw in data[:cut].split(b"\n"):
                line = self._line(raw)
                if line is not None:
                    batch.append(line)
                if len(batch) >= self._max_lines:
                    yield LogBatch(self._name, batch, self.position())
                    batch = []
            if batch:
                yield LogBatch(self._name, batch, self.position())

    def _line(self, raw: bytes) -> str | None:
        if not raw.strip():
            return None
        try:
            entry = _DECODER.raw_decode(raw.decode("utf-8", "replace"))[0]
        except ValueError:
            entry = None
        line = format_entry(entry, self._encoding) if isinstance(entry, dict) else None
        if line is None:
            self.entries_skipped += 1
            log.warning("journal: skipped an entry that is not journal JSON: %.200r", raw)
            return None
        if line.cursor:
            self._cursor = line.cursor
        return line.text

    async def _reap(self) -> int | None:
        process, self._process = self._process, None
        if process is None:
            return None
        code = await process.wait()
        if self._stderr_task is not None:
            with contextlib.suppress(asyncio.CancelledError):
                await self._stderr_task
            self._stderr_task = None
        return code

    async def close(self) -> None:
        """Stop journalctl (SIGTERM, SIGKILL after 2 s) and end the iteration."""
        self._closed = True
        process = self._process
        if process is not None and process.returncode is None:
            with contextlib.suppress(ProcessLookupError):
                process.terminate()
            try:
                await asyncio.wait_for(process.wait(), 2.0)
            except TimeoutError:
                with contextlib.suppress(ProcessLookupError):
                    process.kill()
        await self._reap()
