"""FileSource with real temp files: appends, partial lines, rotation (rename+create, copytruncate) during a flood,
resume from a Position, late files and globs; every case under both backends."""

from __future__ import annotations

import asyncio
import hashlib
import os
import threading
import time
from collections.abc import Callable
from pathlib import Path

import pytest

from banjail.errors import SourceError
from banjail.model import LogBatch, LogLine, Position
from banjail.sources.file import FileSource
from banjail.sources.tail import DEFAULT_MAX_LINE as MAX_LINE

BACKENDS = ["pyinotify", "polling"]


def make(path: Path | str, backend: str, **kwargs: object) -> FileSource:
    return FileSource(str(path), backend=backend, poll_interval=0.01, rotate_grace=0.2, **kwargs)  # type: ignore[arg-type]


async def read(
    source: FileSource, count: int, timeout: float = 10.0, seen: list[int] | None = None
) -> list[LogLine]:
    """Lines until `count` have come, then a short quiet period that must bring no more (no duplicates).
    `seen[0]` follows the number of lines read so far."""
    lines: list[LogLine] = []
    seen = [0] if seen is None else seen
    batches = source.batches()
    try:
        try:
            async with asyncio.timeout(timeout):
                while len(lines) < count:
                    lines.extend(flat(await anext(batches)))
                    seen[0] = len(lines)
        except TimeoutError:
            raise AssertionError(
                f"{len(lines)} lines of {count} read, the last {texts(lines[-1:])}"
            ) from None
        try:
            async with asyncio.timeout(0.3):
                while True:
                    lines.extend(flat(await anext(batches)))
        except TimeoutError:
            pass
    finally:
        await batches.aclose()  # type: ignore[attr-defined]
    return lines


def run_with(
    source: FileSource, count: int, action: Callable[[], None], seen: list[int] | None = None
) -> list[LogLine]:
    """Read `count` lines while `action` runs in a thread (a writer independent of the loop)."""

    async def main() -> list[LogLine]:
        thread = threading.Thread(target=action)
        task = asyncio.create_task(read(source, count, seen=seen))
        await asyncio.sleep(0.05)
        thread.start()
        try:
            return await task
        finally:
            await asyncio.to_thread(thread.join)

    return asyncio.run(main())


def flat(batch: LogBatch) -> list[LogLine]:
    """The batch's lines, each with the batch's source and end position."""
    return [LogLine(batch.source, text, batch.position) for text in batch.lines]


def texts(lines: list[LogLine] | LogBatch) -> list[str]:
    if isinstance(lines, LogBatch):
        return list(lines.lines)
    return [line.text for line in lines]


def md5(data: bytes) -> str:
    return hashlib.md5(data, usedforsecurity=False).hexdigest()


@pytest.mark.parametrize("backend", BACKENDS)
def test_existing_lines_then_appends_only_complete_lines(tmp_path: Path, backend: str) -> None:
    log = tmp_path / "auth.log"
    log.write_bytes(b"one\ntwo\r\nthr")

    def write() -> None:
        with log.open("ab") as f:
            f.write(b"ee\n")
            f.flush()
            f.write(b"four\npartial")

    lines = run_with(make(log, backend), 4, write)
    assert texts(lines) == ["one", "two", "three", "four"]
    # A batch ends after a complete line; the first one at the size the file had when reading started.
    assert lines[1].position.offset == 9
    assert {line.position.offset for line in lines} <= {9, 15, 20}
    assert lines[-1].position.offset == 20
    assert {line.position.first_line_hash for line in lines} == {md5(b"one\n")}
    assert {line.source for line in lines} == {str(log)}


@pytest.mark.parametrize(
    ("data", "expected"),
    [
        (b"caf\xc3\xa9 \xff ok\n", ["café \ufffd ok"]),
        (b"a" * (MAX_LINE + 10) + b"\nnext\n", ["a" * MAX_LINE, "next"]),
        (b"\n\nx\n", ["", "", "x"]),
    ],
    ids=["invalid-utf8", "long-line-cut", "empty-lines"],
)
def test_decoding_and_cutting(tmp_path: Path, data: bytes, expected: list[str]) -> None:
    log = tmp_path / "x.log"
    log.write_bytes(data)
    source = make(log, "polling")
    assert texts(asyncio.run(read(source, len(expected)))) == expected
    assert source.lines_cut == (1 if len(data) > MAX_LINE else 0)


def test_long_line_arriving_in_pieces_is_cut_once(tmp_path: Path) -> None:
    log = tmp_path / "x.log"
    log.write_bytes(b"")

    def write() -> None:
        with log.open("ab") as f:
            for _ in range(5):
                f.write(b"b" * MAX_LINE)
                f.flush()
            f.write(b"\nafter\n")

    lines = run_with(make(log, "pyinotify"), 2, write)
    assert texts(lines) == ["b" * MAX_LINE, "after"]


@pytest.mark.parametrize(
    ("saved", "tail", "expected"),
    [
        (None, False, ["l1", "l2", "l3"]),
        (None, True, []),
        ("match", False, ["l3"]),
        ("match", True, ["l3"]),
        ("other-hash", False, ["l1", "l2", "l3"]),
        ("beyond-size", False, ["l1", "l2", "l3"]),
    ],
)
def test_resume_from_position(tmp_path: Path, saved: str | None, tail: bool, expected: list[str]) -> None:
    log = tmp_path / "auth.log"
    log.write_bytes(b"l1\nl2\nl3\n")
    position = {
        None: None,
        "match": Position(6, md5(b"l1\n")),
        "other-hash": Position(6, md5(b"rotated\n")),
        "beyond-size": Position(600, md5(b"l1\n")),
    }[saved]
    source = make(log, "polling", position=position, tail=tail)

    lines = asyncio.run(read(source, len(expected)) if expected else read_nothing(source))
    assert texts(lines) == expected


async def read_nothing(source: FileSource) -> list[LogLine]:
    """What comes within 0.3 s (expected: nothing)."""
    lines: list[LogLine] = []
    batches = source.batches()
    try:
        async with asyncio.timeout(0.3):
            while True:
                lines.extend(flat(await anext(batches)))
    except TimeoutError:
        return lines
    finally:
        await batches.aclose()  # type: ignore[attr-defined]


def test_tail_starts_after_the_last_complete_line(tmp_path: Path) -> None:
    log = tmp_path / "auth.log"
    log.write_bytes(b"old\nhalf")

    def write() -> None:
        with log.open("ab") as f:
            f.write(b"-done\nnew\n")

    assert texts(run_with(make(log, "pyinotify", tail=True), 2, write)) == ["half-done", "new"]


@pytest.mark.parametrize("backend", BACKENDS)
def test_file_appearing_later_and_glob(tmp_path: Path, backend: str) -> None:
    (tmp_path / "a.log").write_text("a1\n")
    (tmp_path / "skip.txt").write_text("no\n")

    def write() -> None:
        (tmp_path / "later").mkdir()
        (tmp_path / "b.log").write_text("b1\nb2\n")

    source = make(tmp_path / "*.log", backend)
    lines = run_with(source, 3, write)
    assert sorted(texts(lines)) == ["a1", "b1", "b2"]
    assert {line.source for line in lines if line.text.startswith("b")} == {str(tmp_path / "b.log")}
    assert source.positions() == {
        str(tmp_path / "a.log"): Position(3, md5(b"a1\n")),
        str(tmp_path / "b.log"): Position(6, md5(b"b1\n")),
    }


@pytest.mark.parametrize("backend", BACKENDS)
def test_missing_file_and_directory_appear_later(tmp_path: Path, backend: str) -> None:
    log = tmp_path / "var" / "auth.log"

    def write() -> None:
        log.parent.mkdir()
        log.write_text("x\n")

    assert texts(run_with(make(log, backend, rescan_interval=0.05), 1, write)) == ["x"]


def flood(
    path: Path, total: int, rotate: Callable[[], None], every: int, seen: list[int]
) -> Callable[[], None]:
    """A writer of `total` numbered lines that calls `rotate` every `every` lines; rotation and writes never
    interleave (as when logrotate and the logger agree), so every written line must be read exactly once.

    Before rotating, the writer waits until the reader has reached the current file (`seen[0]`, lines read): a
    whole generation renamed away before the reader ever opened it has no name the reader could know (upstream
    has the same limit). The reader may still be far behind in the current file when it is rotated."""

    def write() -> None:
        handle = path.open("ab", buffering=0)
        for number in range(total):
            if number and number % every == 0:
                deadline = time.monotonic() + 10
                while seen[0] <= number - every and time.monotonic() < deadline:
                    time.sleep(0.001)
                handle.close()
                rotate()
                handle = path.open("ab", buffering=0)
            # Two writes per line now and then: the reader must never see half a line.
            text = f"line {number:06d} from 192.0.2.{number % 250}\n".encode()
            if number % 7 == 0:
                handle.write(text[:5])
                handle.write(text[5:])
            else:
                handle.write(text)
        handle.close()

    return write


@pytest.mark.parametrize("backend", BACKENDS)
@pytest.mark.parametrize("style", ["rename+create", "copytruncate", "rename-into-glob"])
def test_rotation_during_a_flood_loses_and_repeats_nothing(tmp_path: Path, backend: str, style: str) -> None:
    log = tmp_path / "auth.log"
    log.write_bytes(b"")
    generation = [0]

    def rotate() -> None:
        generation[0] += 1
        old = tmp_path / f"auth.log.{generation[0]}"
        if style == "copytruncate":
            old.write_bytes(log.read_bytes())
            os.truncate(log, 0)
        else:
            log.rename(old)
            log.write_bytes(b"")

    total = 20_000
    pattern = tmp_path / "auth.log*" if style == "rename-into-glob" else log
    seen = [0]
    lines = run_with(make(pattern, backend), total, flood(log, total, rotate, 3_000, seen), seen)
    numbers = [int(line.text.split()[1]) for line in lines]
    if style == "rename-into-glob":
        numbers.sort()  # files are read side by side; each one in order
    assert numbers == list(range(total))


@pytest.mark.parametrize("backend", BACKENDS)
def test_position_survives_a_restart_without_loss_or_repeat(tmp_path: Path, backend: str) -> None:
    log = tmp_path / "auth.log"
    log.write_bytes(b"".join(f"n{i}\n".encode() for i in range(100)))
    first = make(log, backend, max_lines=30)
    got = asyncio.run(read(first, 100))
    # The daemon saves the position after each batch it handled.
    handled = got[:60]
    saved = handled[-1].position
    with log.open("ab") as f:
        f.write(b"n100\n")
    second = make(log, backend, position=saved)
    rest = asyncio.run(read(second, 101 - len(handled)))
    assert texts(handled + rest) == [f"n{i}" for i in range(101)]


def test_batches_are_bounded(tmp_path: Path) -> None:
    log = tmp_path / "big.log"
    log.write_bytes(b"x\n" * 10_000)

    async def main() -> list[int]:
        source = make(log, "pyinotify", max_lines=1000)
        sizes: list[int] = []
        batches = source.batches()
        while sum(sizes) < 10_000:
            sizes.append(len((await anext(batches)).lines))
        await batches.aclose()  # type: ignore[attr-defined]
        return sizes

    assert asyncio.run(main()) == [1000] * 10


def test_unknown_backend_is_refused(tmp_path: Path) -> None:
    with pytest.raises(SourceError) as error:
        FileSource(str(tmp_path / "x"), backend="gamin")
    assert str(error.value) == (
        f"{tmp_path / 'x'}: backend 'gamin' is not a file backend (use one of auto, pyinotify, inotify, polling)"
    )


def test_close_ends_the_iteration(tmp_path: Path) -> None:
    log = tmp_path / "x.log"
    log.write_text("a\n")

    async def main() -> list[str]:
        source = make(log, "pyinotify")
        seen = []
        async for batch in source.batches():
            seen.extend(texts(batch))
            await source.close()
        return seen

    assert asyncio.run(main()) == ["a"]


@pytest.mark.parametrize("backend", BACKENDS)
@pytest.mark.parametrize("style", ["copytruncate", "rename+create"])
def test_rotation_while_the_reader_is_behind(tmp_path: Path, backend: str, style: str) -> None:
    """The reader has taken 3 of 10 lines when the file is rotated; a writer still holding the renamed file adds
    one more. Everything is read once: the rest of the old file (or of the copy) first, then the new file."""
    log = tmp_path / "auth.log"
    log.write_bytes(b"".join(f"old{i}\n".encode() for i in range(10)))

    async def main() -> list[str]:
        source = make(log, backend, max_lines=3)
        batches = source.batches()
        got = texts(await anext(batches))
        if style == "copytruncate":
            (tmp_path / "auth.log.1").write_bytes(log.read_bytes())
            os.truncate(log, 0)
            log.write_bytes(b"new0\n")
        else:
            with log.open("ab") as old:
                log.rename(tmp_path / "auth.log.1")
                log.write_bytes(b"new0\n")
                old.write(b"late\n")
        async with asyncio.timeout(5):
            while "new0" not in got or (style != "copytruncate" and "late" not in got):
                got.extend(texts(await anext(batches)))
        await batches.aclose()  # type: ignore[attr-defined]
        return got

    old = [f"old{i}" for i in range(10)]
    expected = [*old, "new0"] if style == "copytruncate" else [*old, "late", "new0"]
    assert asyncio.run(main()) == expected


def test_truncated_and_regrown_between_two_polls(tmp_path: Path) -> None:
    """Polling can miss the moment of truncation: the file is longer again when looked at. Its first line is no
    longer the one read, so it is read from 0."""
    log = tmp_path / "auth.log"
    log.write_bytes(b"Nov 1 a\n")

    async def main() -> list[str]:
        batches = FileSource(str(log), backend="polling", poll_interval=0.05).batches()
        got = texts(await anext(batches))
        log.write_bytes(b"Nov 2 first after truncation\nNov 2 second\n")
        async with asyncio.timeout(5):
            while len(got) < 3:
                got.extend(texts(await anext(batches)))
        await batches.aclose()  # type: ignore[attr-defined]
        return got

    assert asyncio.run(main()) == ["Nov 1 a", "Nov 2 first after truncation", "Nov 2 second"]


@pytest.mark.parametrize("backend", BACKENDS)
def test_copytruncate_copy_matched_by_the_glob_is_not_read_twice(tmp_path: Path, backend: str) -> None:
    log = tmp_path / "auth.log"
    log.write_bytes(b"".join(f"old{i}\n".encode() for i in range(5)))

    async def main() -> list[str]:
        batches = make(tmp_path / "auth.log*", backend, max_lines=2).batches()
        got = texts(await anext(batches))
        (tmp_path / "auth.log.1").write_bytes(log.read_bytes())
        os.truncate(log, 0)
        log.write_bytes(b"new0\n")
        try:
            async with asyncio.timeout(1.0):
                while True:
                    got.extend(texts(await anext(batches)))
        except TimeoutError:
            pass
        await batches.aclose()  # type: ignore[attr-defined]
        return got

    assert asyncio.run(main()) == ["old0", "old1", "old2", "old3", "old4", "new0"]


@pytest.mark.parametrize("backend", BACKENDS)
def test_deleted_then_recreated(tmp_path: Path, backend: str) -> None:
    log = tmp_path / "auth.log"
    log.write_bytes(b"a\n")

    async def main() -> list[str]:
        source = make(log, backend)
        batches = source.batches()
        got = texts(await anext(batches))
        log.unlink()
        waiting = asyncio.ensure_future(anext(batches))
        # The deleted file is let go after the rotation grace (0.2 s): waited for, as a loaded machine delays it.
        deadline = time.monotonic() + 30
        while source.files and time.monotonic() < deadline:
            await asyncio.sleep(0.05)
        assert source.files == []
        log.write_bytes(b"b\n")
        async with asyncio.timeout(5):
            got.extend(texts(await waiting))
        await batches.aclose()  # type: ignore[attr-defined]
        return got

    assert asyncio.run(main()) == ["a", "b"]


def test_glob_with_tail_starts_every_present_file_at_its_end(tmp_path: Path) -> None:
    (tmp_path / "a.log").write_text("old a\n")
    (tmp_path / "b.log").write_text("old b\n")

    def write() -> None:
        with (tmp_path / "b.log").open("a") as f:
            f.write("new b\n")

    assert texts(run_with(make(tmp_path / "*.log", "pyinotify", tail=True), 1, write)) == ["new b"]


def test_inotify_unavailable(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import banjail.sources.file as file_module

    def refuse() -> None:
        raise OSError(24, "Too many open files")

    monkeypatch.setattr(file_module, "InotifyWatcher", refuse)
    log = tmp_path / "x.log"
    log.write_text("a\n")
    auto = make(log, "auto")
    assert texts(asyncio.run(read(auto, 1))) == ["a"]
    assert auto.backend == "auto"  # reported once started: see below

    async def started(source: FileSource) -> str:
        batches = source.batches()
        await anext(batches)
        name = source.backend
        await batches.aclose()  # type: ignore[attr-defined]
        return name

    assert asyncio.run(started(make(log, "auto"))) == "polling"
    with pytest.raises(SourceError) as error:
        asyncio.run(started(make(log, "pyinotify")))
    assert str(error.value) == f"{log}: inotify is unavailable ([Errno 24] Too many open files)"


@pytest.mark.parametrize("backend", BACKENDS)
def test_directory_removed_and_created_again(tmp_path: Path, backend: str) -> None:
    log = tmp_path / "nginx" / "error.log"
    log.parent.mkdir()
    log.write_text("one\n")

    async def main() -> list[str]:
        source = make(log, backend, rescan_interval=0.05)
        batches = source.batches()
        got = texts(await anext(batches))
        log.unlink()
        log.parent.rmdir()
        waiting = asyncio.ensure_future(anext(batches))
        await asyncio.sleep(0.3)
        log.parent.mkdir()
        log.write_text("two\n")
        async with asyncio.timeout(5):
            got.extend(texts(await waiting))
        await batches.aclose()  # type: ignore[attr-defined]
        return got

    assert asyncio.run(main()) == ["one", "two"]


def test_unknown_encoding_is_refused(tmp_path: Path) -> None:
    with pytest.raises(SourceError) as error:
        FileSource(str(tmp_path / "x"), encoding="klingon")
    assert str(error.value) == (
        f"{tmp_path / 'x'}: unknown logencoding 'klingon' (use auto, utf-8, latin-1 or another Python codec name)"
    )


def test_latin1(tmp_path: Path) -> None:
    log = tmp_path / "x.log"
    log.write_bytes(b"caf\xe9\n")
    assert texts(asyncio.run(read(make(log, "polling", encoding="latin-1"), 1))) == ["café"]


def test_sources_satisfy_the_contract(tmp_path: Path) -> None:
    from banjail.sources.base import LogSource
    from banjail.sources.journal import JournalSource

    sources: list[LogSource] = [FileSource(str(tmp_path / "x")), JournalSource([])]
    assert [source.name for source in sources] == [str(tmp_path / "x"), "systemd-journal"]
    assert [source.position() for source in sources] == [Position(), Position()]


@pytest.mark.parametrize("style", ["copytruncate", "rename+create"])
def test_big_rest_after_rotation_comes_in_bounded_batches(tmp_path: Path, style: str) -> None:
    log = tmp_path / "auth.log"
    log.write_bytes(b"".join(f"old{i}\n".encode() for i in range(10_000)))

    async def main() -> list[list[str]]:
        batches = make(log, "pyinotify", max_lines=1000).batches()
        got = [texts(await anext(batches))]
        if style == "copytruncate":
            (tmp_path / "auth.log.1").write_bytes(log.read_bytes())
            os.truncate(log, 0)
        else:
            log.rename(tmp_path / "auth.log.1")
        log.write_bytes(b"new0\n")
        async with asyncio.timeout(5):
            while "new0" not in got[-1]:
                got.append(texts(await anext(batches)))
        await batches.aclose()  # type: ignore[attr-defined]
        return got

    got = asyncio.run(main())
    assert max(len(batch) for batch in got) == 1000
    assert [line for batch in got for line in batch] == [*(f"old{i}" for i in range(10_000)), "new0"]


@pytest.mark.parametrize(
    ("resume", "expected_first"),
    [(None, ["a", "b", "c"]), (Position(2, md5(b"a\n")), ["b", "c"])],
)
def test_the_first_batch_ends_where_the_file_ended_at_start(
    tmp_path: Path, resume: Position | None, expected_first: list[str]
) -> None:
    """Catch-up reading and new lines never share a batch, and `backlog` says where catch-up ends."""
    log = tmp_path / "auth.log"
    log.write_bytes(b"a\nb\nc\n")

    async def main() -> tuple[dict[str, int], list[LogBatch]]:
        source = make(log, "pyinotify", position=resume)
        batches = source.batches()
        source._start()  # open the files before the log grows, as the first read would
        with log.open("ab") as f:
            f.write(b"d\ne\n")
        got = [await anext(batches), await anext(batches)]
        backlog = source.backlog()
        await batches.aclose()  # type: ignore[attr-defined]
        return backlog, got

    backlog, got = asyncio.run(main())
    assert backlog == {str(log): 6}
    assert [(list(b.lines), b.position.offset) for b in got] == [(expected_first, 6), (["d", "e"], 10)]
