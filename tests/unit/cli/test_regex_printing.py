"""fail2ban-regex's printing modes (-o, --json) through the installed command, compared with upstream's 1.0.2:
failures of lines without a date (journal-format lines) are printed, with the --now time; an <F-MLFID> session's
`users` is a set (a list in JSON)."""

from __future__ import annotations

import ast
import json
import subprocess
import sys
from pathlib import Path

import pytest

UPSTREAM = "/usr/bin/fail2ban-regex"
BANJAIL = str(Path(sys.executable).with_name("fail2ban-regex"))
LOGS = Path("/usr/lib/python3/dist-packages/fail2ban/tests/files/logs")
NOW = 1124013600.0

# upstream is run on the same files: banjail reads fail2ban's packaged filters as files here (tests/dpkg_status.py)
pytestmark = [pytest.mark.usefixtures("upstream_reading"), pytest.mark.skipif(
    not Path(UPSTREAM).exists(), reason="upstream fail2ban-regex is not installed"
)]

JOURNAL_LINE = (
    "Test murmurd[2064]: <W>2019-09-08 13:00:05.615 1 => <10:Test(-1)> Rejected connection from "
    "192.0.2.1:31752: Invalid server password"
)
SSHD_JOURNAL_LINE = "srv sshd[1]: Failed password for root from 192.0.2.7 port 22 ssh2"


def _run(command: str, *args: str) -> list[str]:
    proc = subprocess.run([command, *args], capture_output=True, text=True, timeout=60, check=True)
    return proc.stdout.splitlines()


def _rows(lines: list[str]) -> list[list[object]]:
    return [ast.literal_eval(line.rstrip(",")) for line in lines]


@pytest.mark.parametrize(
    ("log", "filt"),
    [
        (JOURNAL_LINE, "murmur[logtype=journal]"),
        (SSHD_JOURNAL_LINE, "sshd[logtype=journal]"),
        (str(LOGS / "sshd-journal"), "sshd[logtype=journal]"),
    ],
)
def test_dateless_failures_are_printed_as_upstream_prints_them(log: str, filt: str) -> None:
    ours = _rows(_run(BANJAIL, "--now", str(NOW), "-o", "row", log, filt))
    theirs = _rows(_run(UPSTREAM, "-o", "row", log, filt))
    assert ours, "no failure printed"
    # a dateless failure's row says None for its time, as upstream's; --json and <time> give the --now value
    assert ours == theirs
    assert {r[1] for r in ours} == {None}
    assert set(_run(BANJAIL, "--now", str(NOW), "-o", "<time>", log, filt)) == {repr(float(NOW))}
    assert [r[0] for r in ours] == [
        f["id"] for f in map(json.loads, _run(BANJAIL, "--now", str(NOW), "--json", log, filt))
    ]
    assert {json.loads(x)["time"] for x in _run(BANJAIL, "--now", str(NOW), "--json", log, filt)} == {NOW}
    assert _run(BANJAIL, "-o", "ip", log, filt) == _run(UPSTREAM, "-o", "ip", log, filt)


def test_dateless_failure_without_now_takes_the_current_time() -> None:
    before = __import__("time").time()
    (found,) = map(json.loads, _run(BANJAIL, "--json", JOURNAL_LINE, "murmur[logtype=journal]"))
    assert before - 1 <= found["time"] <= __import__("time").time() + 1


def test_users_of_a_session_are_a_set_as_upstream() -> None:
    sample = str(LOGS / "sshd")
    ours = _rows(_run(BANJAIL, "-o", "row", sample, "sshd"))
    theirs = _rows(_run(UPSTREAM, "-o", "row", sample, "sshd"))
    ours_users = [r[2].get("users") for r in ours]  # type: ignore[union-attr]
    theirs_users = [r[2].get("users") for r in theirs]  # type: ignore[union-attr]
    assert ours_users == theirs_users
    assert {"stefanor", "test-ipv6"} in ours_users
    found = [json.loads(x) for x in _run(BANJAIL, "--json", sample, "sshd")]
    assert [set(f["groups"]["users"]) for f in found if "users" in f["groups"]] == [
        u for u in theirs_users if u
    ]
    assert ["stefanor", "test-ipv6"] in [f["groups"].get("users") for f in found]
