"""Reading a log for fail2ban-regex: whole lines in big chunks, so memory stays flat however long the log is.

Upstream's fail2ban-regex tests every line except empty ones and comments (lines starting with "#"); those are not
counted at all. `segments` cuts them out of a chunk while keeping track of the real line numbers.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass

CHUNK_BYTES = 1 << 20

# A skipped line: empty, or a comment. Multiline mode so "^" is any line start inside the chunk.
_SKIPPED = re.compile(r"^(?:#[^\n]*)?\n", re.MULTILINE)
_CR_EOL = re.compile(r"\r+\n")


@dataclass(frozen=True, slots=True)
class Chunk:
    """Complete lines, each ending with "\\n", decoded; `first_lineno` is the 1-based number of the first one;
    `end` is the byte offset in the file just after the chunk (for progress)."""

    text: str
    first_lineno: int
    end: int


def read_chunks(path: str, encoding: str, size: int = CHUNK_BYTES) -> Iterator[Chunk]:
    """The file's lines in chunks of about `size` bytes, split at line ends and decoded with `encoding`
    (undecodable bytes become U+FFFD, never an error). A last line without "\\n" is completed with one.

    Raises OSError if the file cannot be opened or read.
    """
    lineno = 1
    offset = 0
    rest = b""
    with open(path, "rb") as handle:
        while True:
            block = handle.read(size)
            if not block:
                break
            offset += len(block)
            data = rest + block
            cut = data.rfind(b"\n") + 1
            if not cut:  # no line end yet: a very long line keeps growing until one comes
                rest = data
                continue
            rest = data[cut:]
            text = data[:cut].decode(encoding, errors="replace")
            yield Chunk(text, lineno, offset - len(rest))
            lineno += text.count("\n")
    if rest:
        yield Chunk(rest.decode(encoding, errors="replace") + "\n", lineno, offset)


def literal_chunk(text: str) -> Chunk:
    """A LOG argument that is log text itself, as one chunk."""
    return Chunk(text + "\n", 1, len(text))


def segments(chunk: Chunk) -> Iterator[tuple[str, int]]:
    """The runs of testable lines in `chunk` as (text, first_lineno), with empty and comment lines left out and
    "\\r" before line ends removed. Almost every chunk of a real log has no such line and is yielded whole."""
    text = chunk.text
    if "\r" in text:
        text = _CR_EOL.sub("\n", text)
    if not (text.startswith(("#", "\n")) or "\n#" in text or "\n\n" in text):
        yield text, chunk.first_lineno
        return
    start = 0
    lineno = chunk.first_lineno
    for skipped in _SKIPPED.finditer(text):
        if skipped.start() > start:
            yield text[start : skipped.start()], lineno
        lineno += text.count("\n", start, skipped.end())
        start = skipped.end()
    if start < len(text):
        yield text[start:], lineno
