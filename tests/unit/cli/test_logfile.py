"""Reading logs in chunks of whole lines, and skipping what upstream skips."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from banjail.cli import logfile
from banjail.cli.logfile import Chunk, Segments, literal_chunk, read_chunks, segments, with_next


def test_chunks_split_at_line_ends_and_number_lines(tmp_path: Path) -> None:
    log = tmp_path / "log"
    log.write_bytes(b"one\ntwo\nthree\nfour\n")
    chunks = list(read_chunks(str(log), "utf-8", size=5))
    assert "".join(c.text for c in chunks) == "one\ntwo\nthree\nfour\n"
    assert all(c.text.endswith("\n") for c in chunks)
    assert [c.end for c in chunks] == [4, 8, 14, 19]


def test_a_last_line_without_newline_is_not_read(tmp_path: Path) -> None:
    # as upstream's fail2ban-regex: only complete lines count (the writer may be in the middle of the last one)
    log = tmp_path / "log"
    log.write_bytes(b"one\ntwo\nthree\nfour")
    chunks = list(read_chunks(str(log), "utf-8", size=5))
    assert "".join(c.text for c in chunks) == "one\ntwo\nthree\n"
    assert [c.end for c in chunks] == [4, 8, 14]


def test_line_longer_than_chunk_is_kept_whole(tmp_path: Path) -> None:
    log = tmp_path / "log"
    log.write_bytes(b"a" * 100 + b"\nb\n")
    chunks = list(read_chunks(str(log), "utf-8", size=8))
    assert chunks[0].text.startswith("a" * 100 + "\n")
    assert "".join(c.text for c in chunks) == "a" * 100 + "\nb\n"
    assert [c.end for c in chunks] == [103]


def test_undecodable_bytes_are_replaced(tmp_path: Path) -> None:
    log = tmp_path / "log"
    log.write_bytes(b"caf\xe9 \xff\n")
    assert [c.text for c in read_chunks(str(log), "utf-8")] == ["caf\ufffd \ufffd\n"]
    assert [c.text for c in read_chunks(str(log), "latin-1")] == ["caf\xe9 \xff\n"]


def _model_chunks(data: bytes, encoding: str, size: int) -> list[tuple[str, int]]:
    # the specification: read `size` bytes at a time; whenever what is held has a line end, the chunk is
    # everything up to the last one
    out, held, offset = [], b"", 0
    for start in range(0, len(data), size):
        block = data[start : start + size]
        offset += len(block)
        held += block
        cut = held.rfind(b"\n") + 1
        if cut:
            out.append((held[:cut].decode(encoding, "replace"), offset - (len(held) - cut)))
            held = held[cut:]
    return out


@settings(max_examples=200, deadline=None)
@given(
    st.lists(st.sampled_from([b"\n", b"a", b"\xff", b"\xc3\xa9", b"\xe2\x82", b"\r", b"#"]), max_size=80),
    st.integers(1, 12),
    st.sampled_from(["utf-8", "latin-1"]),
)
def test_chunks_are_the_specifications(tmp_path_factory: pytest.TempPathFactory, pieces: list[bytes], size: int,
                                         encoding: str) -> None:  # fmt: skip
    data = b"".join(pieces)
    log = tmp_path_factory.mktemp("chunks") / "log"
    log.write_bytes(data)
    assert [(c.text, c.end) for c in read_chunks(str(log), encoding, size=size)] == _model_chunks(
        data, encoding, size
    )


def test_missing_file_raises(tmp_path: Path) -> None:
    with pytest.raises(FileNotFoundError):
        list(read_chunks(str(tmp_path / "nope"), "utf-8"))


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("a\nb\n", Segments((("a\nb\n", 0),), None)),
        ("a # not a comment\n", Segments((("a # not a comment\n", 0),), None)),
        ("a\n\nb\n", Segments((("a\n", 0), ("b\n", 2)), 3)),
        ("# head\na\n#x\n\n\nb\nc\n", Segments((("a\n", 1), ("b\nc\n", 5)), 7)),
        ("#only\n", Segments((), 1)),
        ("a\n#tail\n\n", Segments((("a\n", 0),), 3)),
        ("a\r\nb\r\r\n\r\nc\n", Segments((("a\nb\n", 0), ("c\n", 3)), 4)),
    ],
)
def test_segments_skip_empty_and_comment_lines(text: str, expected: Segments) -> None:
    assert segments(text) == expected


def test_literal_chunk() -> None:
    assert literal_chunk("x y") == Chunk("x y\n", 3)


@settings(max_examples=300, deadline=None)
@given(
    st.text(st.sampled_from(["a", "#", "\n", "\r", " ", "\x85", "\xe9", "\u20ac", "\U0001f600"]), max_size=30)
)
def test_the_c_check_cuts_as_the_regexes_do(text: str) -> None:
    # segments with banjail.cli._logtext against segments deciding with its regexes alone
    pytest.importorskip("banjail.cli._logtext")
    fast = segments(text)
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(logfile, "_logtext", None)
        assert segments(text) == fast


def _chunks(n: int, fail_after: int | None = None) -> Iterator[Chunk]:
    for k in range(n):
        if k == fail_after:
            raise OSError("read failed")
        yield Chunk(f"{k}\n", k)


@pytest.mark.parametrize(
    ("n", "ahead", "expected"),
    [
        (0, True, []),
        (1, True, [("0\n", None)]),
        (3, True, [("0\n", "1\n"), ("1\n", "2\n"), ("2\n", None)]),
        (3, False, [("0\n", None), ("1\n", None), ("2\n", None)]),
    ],
)
def test_with_next_pairs_each_chunk_with_the_next(n: int, ahead: bool, expected: list[tuple[str, str | None]]) -> None:
    got = [(c.text, None if a is None else a.text) for c, a in with_next(_chunks(n), ahead)]
    assert got == expected


@pytest.mark.parametrize("ahead", [True, False])
def test_with_next_raises_a_read_error_after_the_chunk_before(ahead: bool) -> None:
    # as the plain loop: every chunk read before the failing one is given first
    given: list[str] = []
    with pytest.raises(OSError, match="read failed"):
        for chunk, _ in with_next(_chunks(5, fail_after=2), ahead):
            given.append(chunk.text)
    assert given == ["0\n", "1\n"]
