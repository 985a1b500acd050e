"""The `banjail` dispatcher."""

from __future__ import annotations

import pytest

from banjail.cli import main


@pytest.mark.parametrize(
    ("argv", "code", "out", "err"),
    [
        (["--version"], 0, "banjail 0.1.0 (fail2ban 1.0.2 compatible)\n", ""),
        (["nope"], 255, "", "banjail: unknown command 'nope'; known: regex, client, server, python, audit\n"),
        (["--help"], 0, main.usage(), ""),
        ([], 255, main.usage(), ""),
    ],
)
def test_dispatch(argv: list[str], code: int, out: str, err: str, capsys: pytest.CaptureFixture[str]) -> None:
    assert main.main(argv) == code
    captured = capsys.readouterr()
    assert (captured.out, captured.err) == (out, err)


def test_regex_subcommand_reaches_fail2ban_regex(capsys: pytest.CaptureFixture[str]) -> None:
    pytest.importorskip("banjail.filter.datedetect", reason="the date detector has not landed yet")
    assert main.main(["regex", "only-log"]) == 255
    assert capsys.readouterr().err.splitlines()[-1] == "ERROR: provide both <LOG> and <REGEX>."
