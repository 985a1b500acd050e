"""JournalSource against a fake `journalctl` on PATH, and the line format of journal entries."""

from __future__ import annotations

import asyncio
import json
import logging
import os
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from banjail.errors import SourceError
from banjail.model import LogBatch, LogLine, Position
from banjail.sources.journal import JournalSource, match_args
from banjail.sources.journalentry import format_entry

FAKE = Path(__file__).parent / "data" / "fake_journalctl.py"
ORACLE = Path(__file__).with_name("oracle_journal.py")
UPSTREAM_PYTHON = "/usr/bin/python3"
HAS_UPSTREAM = Path("/usr/lib/python3/dist-packages/fail2ban/server/filtersystemd.py").exists()
T0 = 1_700_000_000_000_000  # 2023-11-14T22:13:20 UTC, in microseconds


@pytest.fixture
def utc() -> Iterator[None]:
    old = os.environ.get("TZ")
    os.environ["TZ"] = "UTC"
    time.tzset()
    yield
    if old is None:
        del os.environ["TZ"]
    else:
        os.environ["TZ"] = old
    time.tzset()


SSHD: dict[str, object] = {
    "_HOSTNAME": "srv",
    "SYSLOG_IDENTIFIER": "sshd",
    "_PID": "49",
    "MESSAGE": "Failed password",
}


FORMAT_CASES: list[tuple[dict[str, object], str]] = [
    (SSHD, "2023-11-14T22:13:20.123456 srv sshd[49]: Failed password"),
    ({**SSHD, "SYSLOG_PID": "50"}, "2023-11-14T22:13:20.123456 srv sshd[50]: Failed password"),
    ({**SSHD, "SYSLOG_IDENTIFIER": None, "_COMM": "sshd-session"}, "2023-11-14T22:13:20.123456 srv sshd-session[49]: Failed password"),
    ({"SYSLOG_IDENTIFIER": "cron", "MESSAGE": "job"}, "2023-11-14T22:13:20.123456 cron: job"),
    ({"_HOSTNAME": "srv", "MESSAGE": "bare"}, "2023-11-14T22:13:20.123456 srv bare"),
    ({**SSHD, "_PID": "0x1f"}, "2023-11-14T22:13:20.123456 srv sshd[31]: Failed password"),
    ({**SSHD, "_PID": "n/a"}, "2023-11-14T22:13:20.123456 srv sshd[n/a]: Failed password"),
    ({**SSHD, "MESSAGE": "two\nlines"}, "2023-11-14T22:13:20.123456 srv sshd[49]: two\\nlines"),
    ({**SSHD, "MESSAGE": [70, 97, 105, 108, 255]}, "2023-11-14T22:13:20.123456 srv sshd[49]: Fail\ufffd"),
    ({**SSHD, "MESSAGE": ["a", [98]]}, "2023-11-14T22:13:20.123456 srv sshd[49]: a b"),
    ({**SSHD, "MESSAGE": None}, "2023-11-14T22:13:20.123456 srv sshd[49]: "),
    (
        {"_HOSTNAME": "srv", "SYSLOG_IDENTIFIER": "kernel", "MESSAGE": "IN=eth0", "_SOURCE_MONOTONIC_TIMESTAMP": "12345678"},
        "2023-11-14T22:13:20.123456 srv kernel: [   12.345678] IN=eth0",
    ),
    ({**SSHD, "__REALTIME_TIMESTAMP": str(T0)}, "2023-11-14T22:13:20 srv sshd[49]: Failed password"),
    ({**SSHD, "_SOURCE_REALTIME_TIMESTAMP": str(T0 + 5)}, "2023-11-14T22:13:20.000005 srv sshd[49]: Failed password"),
]  # fmt: skip
FORMAT_IDS = [
    "sshd", "syslog-pid-first", "comm", "no-host-no-pid", "no-ident", "pid-hex", "pid-text", "newline",
    "binary", "multi-value", "null-message", "kernel", "whole-second", "source-time-first",
]  # fmt: skip


@pytest.mark.parametrize(("fields", "text"), FORMAT_CASES, ids=FORMAT_IDS)
def test_format_entry(utc: None, fields: dict[str, object], text: str) -> None:
    entry = {"__CURSOR": "c1", "__REALTIME_TIMESTAMP": str(T0 + 123456), **fields}
    line = format_entry(entry)
    assert line is not None
    assert line.text == text
    assert line.cursor == "c1"


# Where banjail deliberately differs from upstream's formatter.
UPSTREAM_DIFFERS = {"pid-text": "upstream prints the pid's bytes repr, [b'n/a']"}


@pytest.mark.skipif(
    not Path(UPSTREAM_PYTHON).exists() or not HAS_UPSTREAM, reason="upstream fail2ban not installed"
)
def test_format_entry_agrees_with_upstream() -> None:
    """Every case of the table, formatted by upstream's own formatJournalEntry (oracle_journal.py)."""
    entries = [
        {"__CURSOR": "c1", "__REALTIME_TIMESTAMP": str(T0 + 123456), **fields} for fields, _ in FORMAT_CASES
    ]
    run = subprocess.run(
        [UPSTREAM_PYTHON, "-W", "ignore", str(ORACLE)],
        input="".join(json.dumps(entry) + "\n" for entry in entries),
        capture_output=True,
        text=True,
        env={**os.environ, "TZ": "UTC"},
        check=True,
    )
    upstream = [json.loads(line) for line in run.stdout.splitlines()]
    ours = [line.text if (line := format_entry(entry)) else None for entry in entries]
    assert len(upstream) == len(ours) == len(FORMAT_IDS)
    differ = {case for case, a, b in zip(FORMAT_IDS, ours, upstream, strict=True) if a != b}
    assert differ == set(UPSTREAM_DIFFERS)


def test_entry_without_time_is_refused() -> None:
    assert format_entry({"MESSAGE": "x"}) is None


@pytest.mark.parametrize(
    ("journalmatch", "args"),
    [
        ([], []),
        (["_SYSTEMD_UNIT=sshd.service + _COMM=sshd"], ["_SYSTEMD_UNIT=sshd.service", "+", "_COMM=sshd"]),
        (["_COMM=sshd", "", "_COMM=dropbear"], ["_COMM=sshd", "+", "_COMM=dropbear"]),
        (['MESSAGE="a b"'], ["MESSAGE=a b"]),
    ],
)
def test_match_args(journalmatch: list[str], args: list[str]) -> None:
    assert match_args(journalmatch) == args


@pytest.mark.parametrize(
    ("kwargs", "tail"),
    [
        ({"cursor": "s=1;i=2"}, ["--after-cursor=s=1;i=2", "_COMM=sshd"]),
        ({"since": 1700000000.5}, ["--since=@1700000000.500000", "_COMM=sshd"]),
        ({}, ["--lines=0", "_COMM=sshd"]),
        ({"system_only": False, "args": ["--directory=/j"]}, ["--directory=/j", "--lines=0", "_COMM=sshd"]),
    ],
)
def test_argv(kwargs: dict[str, object], tail: list[str]) -> None:
    source = JournalSource(["_COMM=sshd"], journalctl="/bin/jc", **kwargs)  # type: ignore[arg-type]
    head = ["/bin/jc", "--output=json", "--follow", "--no-pager", "--all", "--quiet"]
    fields = "--output-fields=_HOSTNAME,SYSLOG_IDENTIFIER,_COMM,SYSLOG_PID,_PID,MESSAGE,"
    fields += "_SOURCE_REALTIME_TIMESTAMP,_SOURCE_MONOTONIC_TIMESTAMP"
    system = [] if kwargs.get("system_only") is False else ["--system"]
    assert source.argv() == [*head, fields, *system, *tail]


class Journal:
    """The fake journal: entries appended to a file that the fake journalctl follows."""

    def __init__(self, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
        self.path = tmp_path / "journal.jsonl"
        self.path.write_text("")
        self.argv_log = tmp_path / "argv.jsonl"
        self.argv_log.write_text("")
        bin_dir = tmp_path / "bin"
        bin_dir.mkdir()
        script = bin_dir / "journalctl"
        script.write_text(f'#!/bin/sh\nexec {sys.executable} {FAKE} "$@"\n')
        script.chmod(0o755)
        monkeypatch.setenv("PATH", f"{bin_dir}:{os.environ['PATH']}")
        monkeypatch.setenv("FAKE_JOURNAL", str(self.path))
        monkeypatch.setenv("FAKE_JOURNAL_ARGV", str(self.argv_log))
        self.count = 0

    def log(self, message: str, comm: str = "sshd") -> None:
        self.count += 1
        entry = {
            "__CURSOR": f"s=x;i={self.count}",
            "__REALTIME_TIMESTAMP": str(T0 + self.count * 1_000_000),
            "_HOSTNAME": "srv",
            "_COMM": comm,
            "_PID": "7",
            "MESSAGE": message,
        }
        with self.path.open("a") as f:
            f.write(json.dumps(entry) + "\n")

    def runs(self) -> list[list[str]]:
        return [json.loads(line) for line in self.argv_log.read_text().splitlines()]


async def take(
    source: JournalSource, count: int, journal: Journal | None = None, later: int = 0
) -> list[LogLine]:
    """`count` lines; when `later`, that many more entries are logged once the first batch came."""
    lines: list[LogLine] = []
    batches = source.batches()
    try:
        async with asyncio.timeout(10):
            while len(lines) < count:
                lines.extend(flat(await anext(batches)))
                if later and journal is not None:
                    for number in range(later):
                        journal.log(f"later {number}")
                    later = 0
    finally:
        await batches.aclose()  # type: ignore[attr-defined]
    return lines


def flat(batch: LogBatch) -> list[LogLine]:
    """The batch's lines, each with the batch's source and end position."""
    return [LogLine(batch.source, text, batch.position) for text in batch.lines]


def messages(lines: list[LogLine]) -> list[str]:
    return [line.text.split(": ", 1)[1] for line in lines]


def test_reads_follows_and_resumes_from_the_cursor(
    utc: None, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    journal = Journal(tmp_path, monkeypatch)
    journal.log("first")
    journal.log("cron noise", comm="cron")
    journal.log("second")
    source = JournalSource(["_COMM=sshd"], since=T0 / 1e6)
    lines = asyncio.run(take(source, 4, journal, later=2))
    assert [line.text for line in lines[:2]] == [
        "2023-11-14T22:13:21 srv sshd[7]: first",
        "2023-11-14T22:13:23 srv sshd[7]: second",
    ]
    assert messages(lines) == ["first", "second", "later 0", "later 1"]
    assert {line.source for line in lines} == {"systemd-journal"}
    assert source.position() == Position(cursor="s=x;i=5") == lines[-1].position

    journal.log("after restart")
    again = JournalSource(["_COMM=sshd"], position=source.position(), name="journal:sshd")
    resumed = asyncio.run(take(again, 1))
    assert messages(resumed) == ["after restart"]
    assert resumed[0].source == again.name == "journal:sshd"
    assert journal.runs()[-1][-2:] == ["--after-cursor=s=x;i=5", "_COMM=sshd"]


def test_journalctl_dying_is_restarted_from_the_cursor(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    journal = Journal(tmp_path, monkeypatch)
    for number in range(7):
        journal.log(f"m{number}")
    monkeypatch.setenv("FAKE_JOURNAL_DIE_AFTER", "3")
    source = JournalSource([], since=0, backoff=0.01)
    with caplog.at_level(logging.WARNING, logger="banjail.sources.journal"):
        lines = asyncio.run(take(source, 7))
    assert messages(lines) == [f"m{number}" for number in range(7)]
    assert source.restarts >= 2
    runs = journal.runs()
    assert runs[0][-1] == "--since=@0.000000"
    assert runs[1][-1] == "--after-cursor=s=x;i=3"
    assert runs[2][-1] == "--after-cursor=s=x;i=6"
    logged = [record.getMessage() for record in caplog.records]
    assert "journalctl: fake journalctl: dying on purpose" in logged
    assert "journal: journalctl exited with code 3; restarting in 0.01s" in logged


def test_backoff_doubles_and_is_bounded(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    argv_log = tmp_path / "argv"
    failing = tmp_path / "journalctl"
    failing.write_text(
        f'#!/bin/sh\necho "$@" >> {argv_log}\necho "No journal files were found." >&2\nexit 1\n'
    )
    failing.chmod(0o755)
    source = JournalSource([], cursor="unknown", journalctl=str(failing), backoff=0.01, max_backoff=0.04)

    def restarts() -> int:
        return sum("restarting" in r.getMessage() for r in caplog.records)

    async def main() -> None:
        task = asyncio.ensure_future(anext(source.batches()))
        # Until five restarts were logged (not a fixed second: on a loaded machine five took longer), bounded.
        deadline = time.monotonic() + 30
        while restarts() < 5 and time.monotonic() < deadline:
            await asyncio.sleep(0.01)
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task
        await source.close()

    with caplog.at_level(logging.ERROR, logger="banjail.sources.journal"):
        asyncio.run(main())
    delays = [r.getMessage().rsplit(" ", 1)[1] for r in caplog.records if "restarting" in r.getMessage()]
    assert delays[:5] == ["0.01s", "0.02s", "0.04s", "0.04s", "0.04s"]
    runs = argv_log.read_text().splitlines()
    assert len(runs) >= 5
    assert {run.split()[-1] for run in runs} == {"--after-cursor=unknown"}


def test_refused_cursor_falls_back_to_since(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    journal = Journal(tmp_path, monkeypatch)
    journal.log("kept")
    source = JournalSource([], cursor="s=gone;i=1", since=T0 / 1e6, backoff=0.01)
    with caplog.at_level(logging.WARNING, logger="banjail.sources.journal"):
        assert messages(asyncio.run(take(source, 1))) == ["kept"]
    assert [run[-1] for run in journal.runs()] == ["--after-cursor=s=gone;i=1", "--since=@1700000000.000000"]
    logged = [record.getMessage() for record in caplog.records]
    assert "journalctl: Failed to seek to cursor: Invalid argument" in logged
    assert any(m.startswith("journal: cursor 's=gone;i=1' refused; reading from 2023-11-1") for m in logged)


def test_missing_journalctl(tmp_path: Path) -> None:
    source = JournalSource([], journalctl=str(tmp_path / "nope"))

    async def main() -> None:
        async for _ in source.batches():
            pass

    with pytest.raises(SourceError) as error:
        asyncio.run(main())
    assert str(error.value) == (
        f"journal: cannot run {str(tmp_path / 'nope')!r} (No such file or directory); install systemd's "
        "journalctl or set backend to a file backend"
    )


def test_garbage_output_is_skipped(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    journal = Journal(tmp_path, monkeypatch)
    journal.log("good")
    with journal.path.open("a") as f:
        f.write('{"MESSAGE": "no time"}\n')
    journal.log("good too")
    source = JournalSource([], since=0)
    assert messages(asyncio.run(take(source, 2))) == ["good", "good too"]
    assert source.entries_skipped == 1
