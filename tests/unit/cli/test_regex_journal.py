"""`fail2ban-regex systemd-journal[...] FILTER` offline, through the installed command, on a fixed journal file
made by systemd-journal-remote from an export stream (no journald needed), compared with upstream's 1.0.2 (which
reads the journal through python3-systemd)."""

from __future__ import annotations

import ast
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

UPSTREAM = "/usr/bin/fail2ban-regex"
BANJAIL = str(Path(sys.executable).with_name("fail2ban-regex"))
JOURNAL_REMOTE = "/lib/systemd/systemd-journal-remote"
T0 = 1765000000  # entry times: T0, T0 + 1, ...

ENTRIES = [
    ("sshd", 101, "ssh.service", "Failed password for root from 192.0.2.11 port 2201 ssh2"),
    ("sshd", 101, "ssh.service", "Failed password for invalid user admin from 192.0.2.12 port 2202 ssh2"),
    ("cron", 55, "cron.service", "pam_unix(cron:session): session opened for user root"),
    ("sshd", 102, "ssh.service", "Accepted password for bob from 192.0.2.13 port 2203 ssh2"),
    ("sshd", 103, "ssh.service", "Invalid user guest from 192.0.2.14 port 2204"),
]

# upstream is run on the same files: banjail reads fail2ban's packaged filters as files here (tests/dpkg_status.py)
pytestmark = [pytest.mark.usefixtures("upstream_reading"), pytest.mark.skipif(
    not Path(JOURNAL_REMOTE).exists() or shutil.which("journalctl") is None,
    reason="needs journalctl and systemd-journal-remote (Debian systemd-journal-remote)",
)]


def _export() -> str:
    out = []
    for i, (comm, pid, unit, message) in enumerate(ENTRIES):
        out += [
            f"__CURSOR=s={'0' * 32};i={i + 1}",
            f"__REALTIME_TIMESTAMP={(T0 + i) * 1_000_000}",
            f"__MONOTONIC_TIMESTAMP={(i + 1) * 1_000_000}",
            f"_BOOT_ID={'0' * 31}1",
            "_HOSTNAME=srv",
            f"_COMM={comm}",
            f"SYSLOG_IDENTIFIER={comm}",
            f"_PID={pid}",
            f"_SYSTEMD_UNIT={unit}",
            f"MESSAGE={message}",
            "",
        ]
    return "\n".join(out) + "\n"


@pytest.fixture(scope="module")
def journal_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    directory = tmp_path_factory.mktemp("journal")
    subprocess.run(
        [JOURNAL_REMOTE, f"--output={directory / 'fixed.journal'}", "-"],
        input=_export(),
        text=True,
        capture_output=True,
        timeout=60,
        check=True,
    )
    return directory


def _run(command: str, *args: str, ok: bool = True) -> subprocess.CompletedProcess[str]:
    proc = subprocess.run([command, *args], capture_output=True, text=True, timeout=60, check=False)
    if ok:
        assert proc.returncode == 0, proc.stdout + proc.stderr
    return proc


def _upstream_reads_journal() -> bool:
    probe = subprocess.run(
        ["/usr/bin/python3", "-c", "import systemd.journal"], capture_output=True, check=False
    )
    return Path(UPSTREAM).exists() and probe.returncode == 0


def _rows(text: str) -> list[tuple[str, float, object]]:
    rows = [ast.literal_eval(line.rstrip(",")) for line in text.splitlines()]
    return [(r[0], r[1], r[2].get("users")) for r in rows]


def _masked(report: str) -> str:
    report = re.sub(r"\[processed in \d+\.\d\d sec\]", "[processed]", report)
    # upstream writes the entry's time with its UTC offset in front of a listed line; banjail's journal lines don't
    return re.sub(r"^(\|  \d{4}-\d\d-\d\dT\d\d:\d\d:\d\d)\+00:00 ", r"\1 ", report, flags=re.MULTILINE)


def _log(journal_dir: Path, how: str) -> str:
    if how == "files":
        return f'systemd-journal[journalfiles="{journal_dir}/*.journal"]'
    return f'systemd-journal[journalpath="{journal_dir}"]'


EXPECTED_SSHD = [
    ("192.0.2.11", float(T0), {"root"}),
    ("192.0.2.12", float(T0 + 1), {"root", "admin"}),
    ("192.0.2.14", float(T0 + 4), {"guest"}),
]


@pytest.mark.parametrize("how", ["files", "path"])
def test_journal_failures_with_the_filters_journalmatch(journal_dir: Path, how: str) -> None:
    """sshd's journalmatch (_SYSTEMD_UNIT=sshd.service + _COMM=sshd) selects the sshd entries; each failure has
    its entry's time."""
    printed = _run(BANJAIL, "-o", "row", _log(journal_dir, how), "sshd").stdout
    assert _rows(printed) == EXPECTED_SSHD
    if _upstream_reads_journal():
        assert _rows(_run(UPSTREAM, "-o", "row", _log(journal_dir, how), "sshd").stdout) == EXPECTED_SSHD


def test_journal_report_is_upstreams(journal_dir: Path) -> None:
    ours = _run(BANJAIL, _log(journal_dir, "files"), "sshd").stdout
    assert "Use    journal match : _SYSTEMD_UNIT=sshd.service + _COMM=sshd\n" in ours
    assert "Lines: 4 lines, 1 ignored, 3 matched, 0 missed\n" in ours
    if _upstream_reads_journal():
        assert _masked(ours) == _masked(_run(UPSTREAM, _log(journal_dir, "files"), "sshd").stdout)


def test_journalmatch_option_overrides_the_filters(journal_dir: Path) -> None:
    args = (
        "-m",
        "_COMM=cron",
        "-o",
        "row",
        _log(journal_dir, "path"),
        r"session opened for user <F-ID>\S+</F-ID>",
    )
    assert _rows(_run(BANJAIL, *args).stdout) == [("root", float(T0 + 2), None)]
    if _upstream_reads_journal():
        assert _rows(_run(UPSTREAM, *args).stdout) == [("root", float(T0 + 2), None)]


@pytest.mark.parametrize(
    ("log", "message"),
    [
        (
            "systemd-journal[bogus=1]",
            "ERROR: 'systemd-journal[bogus=1]': unknown journal option 'bogus'; the options are journalpath, "
            "journalfiles, journalflags, namespace",
        ),
        (
            "systemd-journal[journalflags=x]",
            "ERROR: 'systemd-journal[journalflags=x]': journalflags must be a number (4: system journal only), "
            "not 'x'",
        ),
        (
            "systemd-journal[journalpath=/nonexistent-banjail]",
            "ERROR: journalctl failed (exit 1): Failed to open /nonexistent-banjail: No such file or directory",
        ),
    ],
)
def test_journal_errors(log: str, message: str) -> None:
    proc = _run(BANJAIL, log, "sshd", ok=False)
    assert proc.returncode == 1  # upstream stops with a traceback there
    assert proc.stdout.splitlines()[-1] == message
