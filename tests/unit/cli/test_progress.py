"""The progress bar: drawn only on a terminal, only for big files, erased at the end."""

from __future__ import annotations

import io

from banjail.cli.progress import BIG_FILE, Bar, NoProgress, progress_for


class _Tty(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_no_bar_when_not_a_terminal_or_small() -> None:
    assert isinstance(progress_for(BIG_FILE, io.StringIO()), NoProgress)
    assert isinstance(progress_for(BIG_FILE - 1, _Tty()), NoProgress)
    assert isinstance(progress_for(BIG_FILE, _Tty()), Bar)


def test_bar_draws_then_erases() -> None:
    stream = _Tty()
    bar = Bar(1000, stream)
    bar.update(500, 12)
    bar.update(600, 13)  # within 0.2 s of the last draw: skipped
    bar.close()
    text = stream.getvalue()
    assert text.startswith("\r[###############               ]  50% 12 lines ")
    assert text.count("\r[") == 1
    assert text.endswith("\r\033[K")


def test_closing_an_undrawn_bar_writes_nothing() -> None:
    stream = _Tty()
    bar = Bar(10, stream)
    bar.close()
    assert stream.getvalue() == ""
