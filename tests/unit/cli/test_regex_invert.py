"""fail2ban-regex -i/--invert (upstream 1.1) through the installed command: the lines no failure came from, and
only those. Upstream 1.0.2 has no -i, so the proof is the partition: over a sample log, the inverted lines and the
lines of the failures (--json's `matches`) are disjoint and together every tested line."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

BANJAIL = str(Path(sys.executable).with_name("fail2ban-regex"))
LOGS = Path("/usr/lib/python3/dist-packages/fail2ban/tests/files/logs")
NOW = 1124013600.0

pytestmark = pytest.mark.skipif(not LOGS.is_dir(), reason="upstream's sample logs are not installed")


def _run(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [BANJAIL, "--now", str(NOW), *args],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
        env={"TZ": "UTC", "PATH": "/usr/bin:/bin"},
    )


def _tested_numbers(path: Path) -> list[int]:
    """1-based numbers of the lines fail2ban-regex tests: complete, not empty, not a comment."""
    text = path.read_text(encoding="utf-8", errors="replace")
    complete = text[: text.rfind("\n") + 1]  # a last line without a newline is not read
    lines = complete.split("\n")[:-1]
    return [n for n, line in enumerate(lines, 1) if line.rstrip("\r") and not line.startswith("#")]


def _numbers(*args: str) -> set[int]:
    proc = _run("--json", *args)
    assert proc.returncode == 0, proc.stderr
    return {json.loads(row)["line"] for row in proc.stdout.splitlines()}


@pytest.mark.parametrize(
    ("sample", "filt", "maxlines"),
    [
        ("sshd", "sshd", 1),  # MLFID sessions, ignored and NOFAIL lines
        ("sshd", "sshd[mode=aggressive]", 1),
        ("dovecot", "dovecot", 1),
        # earlier lines of a multi-line failure are not printed (upstream's file by its path: banjail's own
        # mongodb-auth, which the name gives on a host with fail2ban's packaged files, reads one line at a time)
        ("mongodb-auth", "/etc/fail2ban/filter.d/mongodb-auth.conf", 10),
        ("guacamole", "guacamole", 2),
    ],
)
def test_inverted_lines_are_exactly_the_lines_without_a_failure(
    sample: str, filt: str, maxlines: int
) -> None:
    tested = _tested_numbers(LOGS / sample)
    failed = _numbers(str(LOGS / sample), filt)
    inverted = _numbers("-i", str(LOGS / sample), filt)
    assert failed, "the sample produced no failure"
    assert not inverted & failed
    assert inverted <= set(tested)
    # what is neither printed nor failed was taken by a multi-line failure within maxlines tested lines after it
    order = {n: i for i, n in enumerate(tested)}
    taken = set(tested) - inverted - failed
    assert all(any(0 < order[f] - order[t] < maxlines for f in failed) for t in taken)
    if maxlines == 1:
        assert not taken
    else:
        assert taken
    msg = _run("-i", "-o", "msg", str(LOGS / sample), filt).stdout.splitlines()
    assert len(msg) == len(inverted)


def test_inverted_json_has_the_lines_time() -> None:
    rows = [
        json.loads(row)
        for row in _run(
            "-i",
            "--json",
            "Aug 14 11:59:59 host sshd[1]: Connection closed by 192.0.2.1 port 22\n"
            "sshd[1]: Server listening on 0.0.0.0 port 22.",
            "sshd",
        ).stdout.splitlines()
    ]
    assert rows == [
        {
            "line": 1,
            "time": 1124020799.0,
            "matches": ["Aug 14 11:59:59 host sshd[1]: Connection closed by 192.0.2.1 port 22"],
        },
        {"line": 2, "time": NOW, "matches": ["sshd[1]: Server listening on 0.0.0.0 port 22."]},
    ]
    template = _run("-i", "-o", "<time> <msg>", "sshd[1]: Server listening on 0.0.0.0 port 22.", "sshd")
    assert template.stdout == f"{NOW!r} sshd[1]: Server listening on 0.0.0.0 port 22.\n"


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (
            ["-i"],
            "ERROR: -i/--invert prints the lines no failure came from: use it with -o msg, -o TEMPLATE or --json.",
        ),
        (
            ["-i", "-o", "ip"],
            "ERROR: -i/--invert prints lines, not failures: -o ip cannot be used; use -o msg or <msg> and <time>.",
        ),
        (
            ["-i", "-o", "<ip> <msg>"],
            "ERROR: -i/--invert prints lines, not failures: -o <ip> <msg> cannot be used; use -o msg or <msg> and "
            "<time>.",
        ),
    ],
)
def test_invert_usage_errors(args: list[str], message: str) -> None:
    proc = _run(*args, "a line", "sshd")
    assert proc.returncode == 255
    assert proc.stderr.splitlines()[-1] == message
