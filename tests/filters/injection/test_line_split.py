"""Lines end at "\\n" only, everywhere log text is read: a raw "\\r", "\\x0b", "\\x0c", "\\x1c"-"\\x1e", U+0085,
U+2028 or U+2029 inside a field (str.splitlines() and universal newlines break on each) never starts a forged
line. Proven through the installed fail2ban-regex (file and literal input), the file source, the journal
source and the mail action's matching lines."""

from __future__ import annotations

import asyncio
import json
import sys
from pathlib import Path

from banjail.actions.mail import matching_lines
from banjail.sources.file import FileSource
from banjail.sources.journal import JournalSource
from banjail.sources.tail import FileReader

from .run import NOW

FAIL2BAN_REGEX = str(Path(sys.executable).parent / "fail2ban-regex")
SEPARATORS = ["\r", "\x0b", "\x0c", "\x1c", "\x1d", "\x1e", "\x85", "\u2028", "\u2029"]
VICTIM = "198.51.100.7"
# A line of another service whose field carries a separator and then a whole sshd line for the victim: split
# there, the second half would be a genuine sshd failure of the victim.
FORGED = f"Nov 25 08:44:15 web1 sshd[999]: Failed password for root from {VICTIM} port 22 ssh2"
CARRIER = "Nov 25 08:44:15 web1 proftpd[4242]: ftp1 (203.0.113.66[203.0.113.66]) - USER x{sep}" + FORGED


def _log(tmp_path: Path, separators: list[str]) -> Path:
    log = tmp_path / "carrier.log"
    log.write_bytes("".join(CARRIER.format(sep=s) + "\n" for s in separators).encode("utf-8"))
    return log


def _regex(args: list[str], config: Path) -> tuple[list[dict[str, object]], str]:
    import subprocess

    proc = subprocess.run(
        [FAIL2BAN_REGEX, "-c", str(config), "--json", "-r", "--now", str(int(NOW)), *args],
        capture_output=True, timeout=120, check=False,
    )
    out = proc.stdout.decode("utf-8")
    rows = [json.loads(r) for r in out.split("\n") if r.startswith("{")]
    summary = subprocess.run(
        [FAIL2BAN_REGEX, "-c", str(config), "-r", "--now", str(int(NOW)), *args],
        capture_output=True, timeout=120, check=False,
    ).stdout.decode("utf-8")
    return rows, next(line for line in summary.split("\n") if line.startswith("Lines:"))


def test_fail2ban_regex_file_splits_on_newline_only(tmp_path: Path, empty_config_dir: Path) -> None:
    rows, lines = _regex([str(_log(tmp_path, SEPARATORS)), "sshd"], empty_config_dir)
    assert rows == []
    assert lines == f"Lines: {len(SEPARATORS)} lines, 0 ignored, 0 matched, {len(SEPARATORS)} missed"
    # the control: split at a real newline, the forged half is a failure of the victim
    rows, lines = _regex([str(_log(tmp_path, ["\n"])), "sshd"], empty_config_dir)
    assert [r["ip"] for r in rows] == [VICTIM]
    assert lines == "Lines: 2 lines, 0 ignored, 1 matched, 1 missed"


def test_fail2ban_regex_literal_lines_split_on_newline_only(empty_config_dir: Path) -> None:
    text = "\n".join(CARRIER.format(sep=s) for s in SEPARATORS)
    rows, lines = _regex([text, "sshd"], empty_config_dir)
    assert rows == []
    assert lines == f"Lines: {len(SEPARATORS)} lines, 0 ignored, 0 matched, {len(SEPARATORS)} missed"


async def _collect(source: FileSource | JournalSource, count: int) -> list[str]:
    """The first `count` lines the source yields (10 s at most), then the source closed."""
    got: list[str] = []
    batches = source.batches()
    try:
        async with asyncio.timeout(10):
            while len(got) < count:
                got.extend((await anext(batches)).lines)
    finally:
        await batches.aclose()  # type: ignore[attr-defined]
        await source.close()
    return got


def test_file_reader_and_file_source_split_on_newline_only(tmp_path: Path) -> None:
    log = _log(tmp_path, SEPARATORS)
    want = [CARRIER.format(sep=s) for s in SEPARATORS]
    reader = FileReader.open(str(log), "utf-8")
    try:
        assert reader.read(1000, 1 << 20) == want
    finally:
        reader.close()

    source = FileSource(str(log), backend="polling", poll_interval=0.01)
    assert asyncio.run(_collect(source, len(want))) == want


def test_journal_source_splits_on_newline_only(tmp_path: Path) -> None:
    # journalctl -o json: one entry per "\n"; the message keeps its separators raw (JSON escapes only controls)
    entries = tmp_path / "entries.json"
    with open(entries, "w", encoding="utf-8", newline="") as out:
        for i, sep in enumerate(SEPARATORS):
            entry = {"__CURSOR": f"c{i}", "__REALTIME_TIMESTAMP": "1795596255000000", "_HOSTNAME": "web1",
                     "SYSLOG_IDENTIFIER": "proftpd", "_PID": "4242", "MESSAGE": f"USER x{sep}{FORGED}"}
            out.write(json.dumps(entry, ensure_ascii=False) + "\n")
    fake = tmp_path / "journalctl"
    fake.write_text(f"#!/bin/sh\ncat {entries}\nexec sleep 30\n")
    fake.chmod(0o755)

    source = JournalSource([], journalctl=str(fake), since=0)
    got = [line.split(" ", 1)[1] for line in asyncio.run(_collect(source, len(SEPARATORS)))]  # without the date
    assert got == [f"web1 proftpd[4242]: USER x{sep}{FORGED}" for sep in SEPARATORS]


def test_mail_matching_lines_split_on_newline_only() -> None:
    text = "".join(CARRIER.format(sep=s) + "\n" for s in SEPARATORS) + "other line\r\n"
    assert matching_lines(text, VICTIM, 100) == tuple(CARRIER.format(sep=s) for s in SEPARATORS)


def test_skipped_lines_split_on_newline_only() -> None:
    from banjail.filter.failregex import compile_regex

    regex = compile_regex(r"^start<SKIPLINES>^end <HOST>$", multiline=True)
    text = "start\n" + "".join(f"a{s}b\n" for s in SEPARATORS) + "end 192.0.2.1\n"
    found = regex.pattern.search(text)
    assert found is not None
    assert regex.skipped(found) == [f"a{s}b" for s in SEPARATORS]
