"""Reading a log for fail2ban-regex: whole lines in big chunks, so memory stays flat however long the log is.

Upstream's fail2ban-regex tests every line except empty ones and comments (lines starting with "#"); those are not
counted at all. `segments` cuts them out of a chunk while keeping track of the real line numbers.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass

try:  # the C check (setup.py builds it when it can); segments' regexes below decide without it
    from banjail.cli import _logtext
except ImportError:  # pragma: no cover - a build without a compiler
    _logtext = None  # type: ignore[assignment]

# 128 KiB (about 1,300 auth.log lines): a chunk, its matches and its outcomes are made in one pass and read in the
# next, and at 1 MiB they no longer stayed in the CPU's cache in between. The 1M-line bench log, upstream's sshd
# filter, CPU s of three runs each: report 1.08-1.14 -> 0.98-1.06, --json 1.42-1.78 -> 1.09-1.12; peak RSS
# 29.7 -> 20.4 MB. Instruction counts hardly change (callgrind cannot see the cache); below 128 KiB the per-chunk
# work starts to show.
CHUNK_BYTES = 1 << 17

# A skipped line: empty, or a comment. Multiline mode so "^" is any line start inside the chunk.
_SKIPPED = re.compile(r"^(?:#[^\n]*)?\n", re.MULTILINE)
_CR_EOL = re.compile(r"\r+\n")
# Where a skipped line may start inside a chunk (one search instead of two substring scans).
_SKIP_HINT = re.compile("\n[\n#]")


@dataclass(frozen=True, slots=True)
class Chunk:
    """Complete lines, each ending with "\\n", decoded; `end` is the byte offset in the file just after them
    (for progress). Lines are not counted here: the matcher counts them anyway."""

    text: str
    end: int


def read_chunks(path: str, encoding: str, size: int = CHUNK_BYTES) -> Iterator[Chunk]:
    """The file's lines in chunks of about `size` bytes, split at line ends and decoded with `encoding`
    (undecodable bytes become U+FFFD, never an error). A last line without "\\n" is not read: only complete
    lines count, and upstream's fail2ban-regex skips it too (the writer may still be in the middle of it).

    Raises OSError if the file cannot be opened or read.
    """
    # One buffer for the whole file: a chunk is read into it behind the incomplete line the last one left, and
    # decoded from a view of it, so no block is copied on its way to the decoder (two copies per MB before).
    buf = bytearray(size)
    held = 0  # bytes of an incomplete line at the start of buf
    offset = 0
    with open(path, "rb", buffering=0) as handle:
        while True:
            if len(buf) < held + size:  # a line longer than a chunk: room for the next read behind it
                buf.extend(bytes(held + size - len(buf)))
            with memoryview(buf) as view:
                got = handle.readinto(view[held : held + size])
                if not got:
                    break
                offset += got
                end = held + got
                cut = buf.rfind(b"\n", 0, end) + 1
                if not cut:  # no line end yet: a very long line keeps growing until one comes
                    held = end
                    continue
                text = str(view[:cut], encoding, "replace")
                buf[: end - cut] = view[cut:end]
            held = end - cut
            yield Chunk(text, offset - held)


def with_next(chunks: Iterator[Chunk], ahead: bool) -> Iterator[tuple[Chunk, Chunk | None]]:
    """Each chunk with the one after it (None after the last, or without `ahead`), read before the chunk is
    given. An error reading the next one is raised after the chunk was given, where the plain loop raised it."""
    if not ahead:
        for chunk in chunks:
            yield chunk, None
        return
    current = next(chunks, None)
    while current is not None:
        try:
            following = next(chunks, None)
        except Exception:
            yield current, None
            raise
        yield current, following
        current = following


def literal_chunk(text: str) -> Chunk:
    """A LOG argument that is log text itself, as one chunk."""
    return Chunk(text + "\n", len(text))


@dataclass(frozen=True, slots=True)
class Segments:
    """The runs of testable lines of a chunk: (text, lines before it in the chunk) pairs. `lines` is the chunk's
    number of lines, or None when the chunk is one whole run (then its count is what the matcher saw)."""

    runs: tuple[tuple[str, int], ...]
    lines: int | None


def segments(text: str) -> Segments:
    """Cut the empty and comment lines out of `text` (complete lines) and drop "\\r" before line ends. A chunk of
    a real log almost never has such lines; checking that costs one pass over the text in C (about five times faster
    than the regex search that decides without the extension), counting nothing."""
    if _logtext is not None and _logtext.plain(text):
        return Segments(((text, 0),), None)
    if "\r" in text:
        text = _CR_EOL.sub("\n", text)
    if not text.startswith(("#", "\n")) and _SKIP_HINT.search(text) is None:
        return Segments(((text, 0),), None)
    runs = []
    start = 0
    lineno = 0
    for skipped in _SKIPPED.finditer(text):
        if skipped.start() > start:
            runs.append((text[start : skipped.start()], lineno))
        lineno += text.count("\n", start, skipped.end())
        start = skipped.end()
    if start < len(text):
        runs.append((text[start:], lineno))
        lineno += text.count("\n", start)
    return Segments(tuple(runs), lineno)
