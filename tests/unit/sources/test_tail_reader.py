"""FileReader.read against a plain model of its contract, on generated files: every complete line once, in
order, its first max_line bytes kept (the rest dropped and counted), one "\\r" before the newline removed, decoded
with replacement; at most max_lines lines per call; the offset just after the last line returned."""

from __future__ import annotations

import random
from pathlib import Path

import pytest

from banjail.sources.tail import FileReader

PIECES = [b"a", b"Z", b"0", b" ", b"sshd[1]: ", b"\r", b"\xc3\xa9", b"\xe2\x82\xac", b"\xff", b"\x00", b"\t"]


def _line(rng: random.Random, max_line: int) -> bytes:
    size = rng.choice([0, 1, 5, 40, max_line - 1, max_line, max_line + 1, 3 * max_line])
    text = b"".join(rng.choice(PIECES) if rng.random() < 0.2 else b"x" for _ in range(size))
    return text + (b"\r" if rng.random() < 0.1 else b"")


def _model(data: bytes, max_line: int, encoding: str) -> tuple[list[str], int]:
    lines, cut = [], 0
    for raw in data.split(b"\n")[:-1]:
        if len(raw) > max_line:
            raw, cut = raw[:max_line], cut + 1
        if raw.endswith(b"\r"):
            raw = raw[:-1]
        lines.append(raw.decode(encoding, "replace"))
    return lines, cut


@pytest.mark.parametrize("seed", range(12))
def test_reading_in_batches_gives_the_model_lines(tmp_path: Path, seed: int) -> None:
    rng = random.Random(seed)
    max_line = rng.choice([16, 64, 1024])  # a partial last line shorter than this waits for its newline
    encoding = rng.choice(["utf-8", "latin-1"])
    data = b"".join(_line(rng, max_line) + b"\n" for _ in range(rng.randrange(1, 3000)))
    path = tmp_path / "log"
    path.write_bytes(data + b"partial")  # shorter than any max_line: waits for its newline
    expected, cut = _model(data, max_line, encoding)
    reader = FileReader.open(str(path), encoding, max_line=max_line)
    got: list[str] = []
    try:
        for _ in range(10_000):  # bounded: every call returns at least one line until the end
            batch = reader.read(rng.choice([1, 7, 100, 4096]), rng.choice([1 << 10, 1 << 20]))
            if not batch:
                break
            got.extend(batch)
        assert (got, reader.lines_cut, reader.offset) == (expected, cut, len(data))
    finally:
        reader.close()
