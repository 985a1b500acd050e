"""Reading logs in chunks of whole lines, and skipping what upstream skips."""

from __future__ import annotations

from pathlib import Path

import pytest

from banjail.cli.logfile import Chunk, literal_chunk, read_chunks, segments


def test_chunks_split_at_line_ends_and_number_lines(tmp_path: Path) -> None:
    log = tmp_path / "log"
    log.write_bytes(b"one\ntwo\nthree\nfour")
    chunks = list(read_chunks(str(log), "utf-8", size=5))
    assert "".join(c.text for c in chunks) == "one\ntwo\nthree\nfour\n"
    assert all(c.text.endswith("\n") for c in chunks)
    starts = [c.first_lineno for c in chunks]
    assert starts == [1, 2, 3, 4]
    assert chunks[-1].end == 18


def test_line_longer_than_chunk_is_kept_whole(tmp_path: Path) -> None:
    log = tmp_path / "log"
    log.write_bytes(b"a" * 100 + b"\nb\n")
    chunks = list(read_chunks(str(log), "utf-8", size=8))
    assert chunks[0].text.startswith("a" * 100 + "\n")
    assert "".join(c.text for c in chunks) == "a" * 100 + "\nb\n"
    assert [c.first_lineno for c in chunks] == [1]


def test_undecodable_bytes_are_replaced(tmp_path: Path) -> None:
    log = tmp_path / "log"
    log.write_bytes(b"caf\xe9 \xff\n")
    assert [c.text for c in read_chunks(str(log), "utf-8")] == ["caf\ufffd \ufffd\n"]
    assert [c.text for c in read_chunks(str(log), "latin-1")] == ["caf\xe9 \xff\n"]


def test_missing_file_raises(tmp_path: Path) -> None:
    with pytest.raises(FileNotFoundError):
        list(read_chunks(str(tmp_path / "nope"), "utf-8"))


@pytest.mark.parametrize(
    ("text", "first", "expected"),
    [
        ("a\nb\n", 1, [("a\nb\n", 1)]),
        ("a\n\nb\n", 10, [("a\n", 10), ("b\n", 12)]),
        ("# head\na\n#x\n\n\nb\nc\n", 1, [("a\n", 2), ("b\nc\n", 6)]),
        ("#only\n", 1, []),
        ("a\r\nb\r\r\n\r\nc\n", 1, [("a\nb\n", 1), ("c\n", 4)]),
        ("a # not a comment\n", 3, [("a # not a comment\n", 3)]),
    ],
)
def test_segments_skip_empty_and_comment_lines(
    text: str, first: int, expected: list[tuple[str, int]]
) -> None:
    assert list(segments(Chunk(text, first, 0))) == expected


def test_literal_chunk() -> None:
    assert literal_chunk("x y") == Chunk("x y\n", 1, 3)
