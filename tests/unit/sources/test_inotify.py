"""The inotify event parser, and the real kernel interface on a temp directory."""

from __future__ import annotations

import struct
from pathlib import Path

import pytest

from banjail.sources.inotify import (
    DIR_EVENTS,
    FILE_EVENTS,
    IN_CREATE,
    IN_MODIFY,
    Event,
    Inotify,
    parse_events,
)


def packed(wd: int, mask: int, name: bytes, pad: int) -> bytes:
    return struct.pack("iIII", wd, mask, 0, len(name) + pad) + name + b"\0" * pad


@pytest.mark.parametrize(
    ("data", "events"),
    [
        (b"", []),
        (packed(1, IN_MODIFY, b"", 0), [Event(1, IN_MODIFY, "")]),
        (packed(2, IN_CREATE, b"auth.log", 8), [Event(2, IN_CREATE, "auth.log")]),
        (
            packed(2, IN_CREATE, b"a", 15) + packed(1, IN_MODIFY, b"", 0),
            [Event(2, IN_CREATE, "a"), Event(1, IN_MODIFY, "")],
        ),
        (packed(2, IN_CREATE, b"caf\xe9", 4), [Event(2, IN_CREATE, "caf\udce9")]),
        (packed(1, IN_MODIFY, b"", 0)[:10], []),  # a truncated header is not an event
    ],
)
def test_parse_events(data: bytes, events: list[Event]) -> None:
    assert parse_events(data) == events


def test_kernel_events(tmp_path: Path) -> None:
    inotify = Inotify()
    try:
        assert inotify.read() == []
        directory = inotify.add_watch(str(tmp_path), DIR_EVENTS)
        (tmp_path / "x.log").write_text("")
        file = inotify.add_watch(str(tmp_path / "x.log"), FILE_EVENTS)
        with (tmp_path / "x.log").open("a") as f:
            f.write("line\n")
        events = inotify.read()
        assert Event(directory, IN_CREATE, "x.log") in events
        assert Event(file, IN_MODIFY, "") in events
        with pytest.raises(OSError) as error:
            inotify.add_watch(str(tmp_path / "missing"), FILE_EVENTS)
        assert error.value.errno == 2
    finally:
        inotify.close()
