"""Reading complete lines from one open log file, from a byte offset onward.

A FileReader holds an open descriptor (so a file renamed away by rotation can still be read to its end) and the
offset just after the last complete line it returned. It never buffers a partial line: it reads again from the
offset, so a line is returned once, whole, when its newline has arrived.

The file's identity for resuming is upstream's: the MD5 of its first line including the newline (the same value
fail2ban stores in its `logs.firstlinemd5` column).
"""

from __future__ import annotations

import os
import stat
from dataclasses import dataclass

from banjail.digest import md5_hex
from banjail.model import Position

MAX_LINE = 64 * 1024  # the longest `maxlinelength` may be (and the part of the first line its hash covers)
DEFAULT_MAX_LINE = (
    8 * 1024
)  # `maxlinelength` default: bytes kept of one line; the rest is dropped and counted
READ_SIZE = 1 << 18  # one pread; a batch (at most 4096 lines) takes as many as it needs


def first_line(fd: int) -> bytes:
    """The first line of the file with its newline, the first MAX_LINE bytes of a longer one, or b"" while the
    first line is not complete yet."""
    head = os.pread(fd, MAX_LINE, 0)
    end = head.find(b"\n")
    if end >= 0:
        return head[: end + 1]
    return head if len(head) >= MAX_LINE else b""


def line_hash(line: bytes) -> str:
    """Upstream's first-line hash ("" when there is no complete first line yet)."""
    return md5_hex(line) if line else ""


@dataclass(frozen=True, slots=True)
class Identity:
    dev: int
    ino: int

    @staticmethod
    def of(st: os.stat_result) -> Identity:
        return Identity(st.st_dev, st.st_ino)


class FileReader:
    """Complete lines of one open file. Invariant: `offset` is 0 or just after a newline (or just after the kept
    part of a cut line while `skipping`), and every byte before it has been returned or deliberately dropped."""

    def __init__(
        self, path: str, fd: int, offset: int, encoding: str, max_line: int = DEFAULT_MAX_LINE
    ) -> None:
        self.path = path
        self.max_line = max_line
        self.fd = fd
        self.identity = Identity.of(os.fstat(fd))
        self.offset = offset
        self.encoding = encoding
        self.head = first_line(fd)
        self.hash = line_hash(self.head)
        self.skipping = False  # inside a line longer than max_line: drop bytes up to its newline
        self.lines_cut = 0
        self.boundary = 0  # the file's size when opened at start (0: none, or passed)

    @classmethod
    def open(
        cls,
        path: str,
        encoding: str,
        *,
        resume: Position | None = None,
        tail: bool = False,
        max_line: int = DEFAULT_MAX_LINE,
    ) -> FileReader:
        """Open `path` and place the reader: at the saved offset when `resume`'s first-line hash is this file's
        and the file is at least that long, else at the end of the last complete line if `tail`, else at 0.

        Raises OSError when the file cannot be opened (FileNotFoundError when it does not exist) or is a
        directory."""
        fd = os.open(path, os.O_RDONLY | os.O_CLOEXEC | os.O_NONBLOCK)
        try:
            st = os.fstat(fd)
            if stat.S_ISDIR(st.st_mode):
                raise IsADirectoryError(21, "is a directory", path)
            reader = cls(path, fd, 0, encoding, max_line)
        except BaseException:
            os.close(fd)
            raise
        if resume is not None and resume.first_line_hash and resume.first_line_hash == reader.hash:
            if resume.offset <= st.st_size:
                reader.offset = resume.offset
        elif tail:
            reader.offset = reader.last_line_end(st.st_size)
        if reader.offset < st.st_size:
            reader.boundary = st.st_size
        return reader

    def last_line_end(self, size: int) -> int:
        """Offset just after the last newline before `size` (0 if none)."""
        at = size
        while at > 0:
            start = max(0, at - READ_SIZE)
            block = os.pread(self.fd, at - start, start)
            cut = block.rfind(b"\n")
            if cut >= 0:
                return start + cut + 1
            at = start
        return 0

    def position(self) -> Position:
        return Position(self.offset, self.hash)

    def replaced(self) -> bool:
        """True when the file was truncated (copytruncate, `> file`) since the reader last looked: it is now
        shorter than the offset, or its first line is no longer the one the reader saw."""
        size = os.fstat(self.fd).st_size
        if size < self.offset:
            return True
        if self.head:
            return os.pread(self.fd, len(self.head), 0) != self.head
        return False

    def restart(self) -> None:
        """Read the (truncated) file again from its start."""
        self.offset = 0
        self.skipping = False
        self.head = first_line(self.fd)
        self.hash = line_hash(self.head)

    def read(self, max_lines: int, max_bytes: int) -> list[str]:
        """Up to `max_lines` complete lines (about `max_bytes` at most) from the offset on, decoded with
        replacement, without their line ends ("\\r\\n" or "\\n"); the offset moves past them. A batch never
        crosses `boundary` (the file's size when it was opened at start): the lines before it are catch-up
        reading and the daemon treats the batch that ends there as such."""
        if not self.head:
            self.head = first_line(self.fd)
            self.hash = line_hash(self.head)
        out: list[str] = []
        budget = max_bytes
        while len(out) < max_lines and budget > 0:
            data = os.pread(self.fd, min(READ_SIZE, max(budget, self.max_line + 1)), self.offset)
            if not data:
                break
            if self.skipping:
                end = data.find(b"\n")
                self.offset += len(data) if end < 0 else end + 1
                self.skipping = end < 0
                continue
            start = self._complete(data, max_lines - len(out), out)
            self.offset += start
            budget -= start
            if start == 0:
                if len(data) <= self.max_line:
                    break  # a partial line: wait for its newline
                # A line longer than max_line without its newline yet: keep its head, drop the rest as it comes.
                self.offset += len(data)
                budget -= len(data)
                self.skipping = True
                out.append(self._text(data))
            if self.boundary and self.offset >= self.boundary:
                self.boundary = 0
                break  # the catch-up part ends here
        return out

    def _complete(self, data: bytes, room: int, out: list[str]) -> int:
        """Append the complete lines at the start of `data` (at most `room`, none past `boundary`) to `out`;
        return the bytes used."""
        cut = data.rfind(b"\n") + 1
        if not cut:
            return 0
        boundary = self.boundary - self.offset
        if 0 < boundary < cut:
            # Stop at the last newline at or before the boundary (if the first line crosses it, take that one).
            last = data.rfind(b"\n", 0, boundary) + 1
            cut = last or data.find(b"\n") + 1
        chunk = data[:cut]
        if chunk.isascii() and b"\r" not in chunk:
            # The common case, one decode and one split for the whole chunk (no list of bytes lines): with ASCII
            # bytes every character is one byte, so lengths in characters are lengths in bytes.
            texts = chunk.decode(self.encoding, "replace").split("\n")
            texts.pop()  # what follows the last newline: nothing
            used = cut
            if len(texts) > room:
                del texts[room:]
                used = sum(map(len, texts)) + room
            if used <= self.max_line + 1 or max(map(len, texts)) <= self.max_line:
                out.extend(texts)
                return used
        parts = chunk.split(b"\n")
        parts.pop()
        used = cut
        if len(parts) > room:
            del parts[room:]
            used = sum(map(len, parts)) + len(parts)
        chunk = data[:used]
        if (used <= self.max_line + 1 or max(map(len, parts)) <= self.max_line) and b"\r" not in chunk:
            # One decode for the whole chunk: "\n" is never inside a multi-byte character of an ASCII-compatible
            # encoding, so the lines are the same as decoding each one.
            texts = chunk.decode(self.encoding, "replace").split("\n")
            texts.pop()
            out.extend(texts)
            return used
        out.extend([self._text(part) for part in parts])
        return used

    def _text(self, raw: bytes) -> str:
        if len(raw) > self.max_line:
            raw = raw[: self.max_line]
            self.lines_cut += 1
        if raw.endswith(b"\r"):
            raw = raw[:-1]
        return raw.decode(self.encoding, "replace")

    def flush(self) -> list[str]:
        """The unterminated last line of a file that will not grow any more (rotated away and abandoned)."""
        if self.skipping:
            return []
        rest = os.pread(self.fd, self.max_line + 1, self.offset)
        if not rest or b"\n" in rest:
            return []
        self.offset += len(rest)
        return [self._text(rest)]

    def close(self) -> None:
        if self.fd >= 0:
            os.close(self.fd)
            self.fd = -1
