"""banjail.sources.rotation.find_copy on real files: which file beside the log is copytruncate's copy, and that
looking at the others keeps no descriptor open."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from banjail.sources.rotation import find_copy
from banjail.sources.tail import FileReader

HEAD = "Dec  6 10:00:00 web1 sshd[1]: first\n"


def _open_fds() -> int:
    return len(os.listdir("/proc/self/fd"))


@pytest.mark.parametrize(
    ("others", "found"),
    [
        ({}, None),
        ({"app.log.1": "another first line\n" + "x" * 100}, None),  # a different first line
        ({"app.log.1": HEAD}, None),  # the right first line, shorter than the offset read
        ({"app.log.1": HEAD + "y" * 100}, "app.log.1"),
        ({"app.log.1": "other\n" * 30, "app.log.2": "more\n" * 30, "app.log.3": HEAD + "z" * 100}, "app.log.3"),
        ({"other.log": HEAD + "z" * 100}, None),  # its name does not start with the log's
    ],
)
def test_the_copy_is_the_file_with_the_log_s_first_line(
    tmp_path: Path, others: dict[str, str], found: str | None
) -> None:
    log = tmp_path / "app.log"
    log.write_text(HEAD + "second line\n")
    fd = os.open(log, os.O_RDONLY)
    reader = FileReader(str(log), fd, len(HEAD) + 12, "utf-8")
    for name, text in others.items():
        (tmp_path / name).write_text(text)
    before = _open_fds()
    try:
        copy = find_copy(str(log), reader)
        try:
            assert (None if copy is None else Path(copy.path).name) == found
            assert _open_fds() == before + (copy is not None)  # the copy's own descriptor only
        finally:
            if copy is not None:
                os.close(copy.fd)
    finally:
        os.close(fd)
