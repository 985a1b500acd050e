"""fail2ban-regex's own behaviour: usage errors, error lines and exit codes, --json, --now, memory bounds."""

from __future__ import annotations

import json
import re
import time
from pathlib import Path

import pytest

pytest.importorskip("banjail.filter.datedetect", reason="the date detector has not landed yet")
from banjail.cli import regex
from banjail.filter.matcher import Matcher
from banjail.filter.outcome import LineOutcome, ScanStats

DATA = Path(__file__).parent / "data"
FAILED = r"Failed \S+ for (?:invalid user )?<F-USER>\S+</F-USER> from <HOST>"
# 2005-08-14 12:00:00 CEST: the sample logs' "now", so dates without a year fall in 2005.
NOW = "1124013600"


def _run(args: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[int, str, str]:
    code = regex.main(args)
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def test_json_one_object_per_failure_and_nothing_else(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("TZ", "UTC")
    time.tzset()
    try:
        code, out, _ = _run(["--json", "--now", NOW, str(DATA / "mixed.log"), FAILED], capsys)
    finally:
        monkeypatch.undo()
        time.tzset()
    assert code == 0
    rows = [json.loads(line) for line in out.splitlines()]
    assert [(r["line"], r["id"], r["ip"], r["groups"].get("user")) for r in rows] == [
        (2, "192.0.2.10", "192.0.2.10", "root"),
        (5, "2001:db8::7", "2001:db8::7", "admin"),
        (6, "192.0.2.11", "192.0.2.11", "root"),
        (7, "192.0.2.12", "192.0.2.12", "guest"),
    ]
    # --now puts "Aug 14" in 2005 (UTC here); the ISO line carries its own year and zone.
    assert [r["time"] for r in rows] == [1124020201.0, 1124020203.0, 1124020204.0, 1124020205.0 - 7200]
    assert rows[0]["matches"] == [
        "Aug 14 11:50:01 host sshd[100]: Failed password for root from 192.0.2.10 port 4711 ssh2"
    ]


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["a line", "foo(<HOST>"], "ERROR: failregex = 'foo(<HOST>': line 1: cannot compile: missing ), "),
        (
            ["a line", "nosuchfilter"],
            "ERROR: no filter 'nosuchfilter' in /etc/fail2ban/filter.d nor in banjail's ",
        ),
    ],
)
def test_errors_are_one_line_and_exit_255(
    args: list[str], message: str, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, _ = _run(args, capsys)
    assert code == 255
    assert out.splitlines()[-1].startswith(message)


@pytest.mark.parametrize(
    ("args", "error"),
    [
        (["only-log"], "ERROR: provide both <LOG> and <REGEX>."),
        (["a", "b", "c", "d"], "ERROR: provide both <LOG> and <REGEX>."),
        (["--print-no-missed", "--print-all-missed", "a", "b"],
         "ERROR: --print-no-missed and --print-all-missed are mutually exclusive."),
        (["--json", "-o", "id", "a", "b"], "ERROR: --json and -o/--out are mutually exclusive."),
    ],
)  # fmt: skip
def test_usage_errors(args: list[str], error: str, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = _run(args, capsys)
    assert code == 255
    assert out == ""
    assert err.splitlines()[-1] == error


def test_versions(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exit_short:
        regex.main(["-V"])
    assert exit_short.value.code == 0
    assert capsys.readouterr().out == "1.0.2\n"
    with pytest.raises(SystemExit):
        regex.main(["--version"])
    assert capsys.readouterr().out == "fail2ban-regex 1.0.2\n"


def test_missed_lines_kept_only_up_to_the_bound(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    log = tmp_path / "big.log"
    log.write_text("".join(f"Aug 14 11:00:00 host noise[{i}]: nothing here\n" for i in range(5000)))
    code, out, _ = _run([str(log), FAILED], capsys)
    assert code == 0
    assert "Lines: 5000 lines, 0 ignored, 0 matched, 5000 missed" in out
    assert out.endswith(
        "Missed line(s): too many to print.  Use --print-all-missed to print all 5000 lines\n"
    )


class _KeepEverything(Matcher):
    """The general step, returning every outcome with its failures (what fail2ban-regex got before it told the
    matcher what it prints)."""

    def __init__(self, *args: object, **kw: object) -> None:
        super().__init__(*args, **kw, single=False)  # type: ignore[arg-type]

    def scan(
        self, chunk: str, now: float, first_lineno: int, stats: ScanStats, **kw: bool
    ) -> list[LineOutcome]:
        found: list[LineOutcome] = super().scan(
            chunk, now, first_lineno, stats, keep_missed=kw.get("keep_missed", False)
        )
        return found


@pytest.mark.parametrize(
    "options",
    [
        [],
        ["-v"],
        ["--print-all-matched"],
        ["--print-all-ignored", "--print-no-missed"],
        ["-o", "id"],
        ["--json"],
        ["-L", "3"],
    ],
    ids=["report", "verbose", "all-matched", "all-ignored", "out-id", "json", "maxlines3"],
)
def test_asking_only_for_what_is_printed_prints_the_same(
    options: list[str], tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    log = tmp_path / "auth.log"
    rows = []
    for i in range(400):
        stamp = f"Aug 14 11:{i // 60 % 60:02d}:{i % 60:02d}"
        rows.append(
            (
                f"{stamp} host sshd[{i}]: Failed password for root from 192.0.2.{i % 7} port 22 ssh2",
                f"{stamp} host sshd[{i}]: Failed password for root from 10.0.0.{i % 5} port 22 ssh2",
                f"{stamp} host sshd[{i}]: Accepted password for bob from 192.0.2.9 port 22 ssh2",
                f"{stamp} host cron[{i}]: noise",
            )[i % 4]
        )
    log.write_text("\n".join(rows) + "\n")
    args = ["--now", NOW, *options, str(log), FAILED, r"from 10\.0\.0\.\d+"]
    _run(args, capsys)  # warm up: the first run compiles and caches
    fast = _run(args, capsys)
    monkeypatch.setattr(regex, "Matcher", _KeepEverything)
    slow = _run(args, capsys)
    mask = re.compile(r"processed in \d+\.\d+ sec")
    assert (fast[0], mask.sub("", fast[1])) == (slow[0], mask.sub("", slow[1]))
    assert "Lines: 400 lines, 100 ignored, 100 matched, 200 missed" in fast[1] or options[0] in (
        "-o",
        "--json",
    )
