"""fail2ban-regex -o row, -o matches, -o users and -o with <time>, through the installed command: upstream 1.0.2's
exact rows (its whole failure data: None groups, bookkeeping keys, date-split lines, an int time for a zoned date,
None for a line without a date). Each expectation is checked against upstream's command too when it is
installed; the expectations hold without it."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

UPSTREAM = "/usr/bin/fail2ban-regex"
BANJAIL = str(Path(sys.executable).with_name("fail2ban-regex"))
FAILED = r"Failed \S+ for (?:invalid user )?<F-USER>\S+</F-USER> from <HOST>( port <F-PORT>\d+</F-PORT>)?"
SESSION = r"^ \S+ sshd\[<F-MLFID>\d+</F-MLFID>\]: Failed password for <F-USER>\S+</F-USER> from <HOST>$"
NOW = "1124013600"

pytestmark = pytest.mark.usefixtures("upstream_reading")


def _run(command: str, args: list[str]) -> tuple[int, str]:
    env = {**os.environ, "TZ": "UTC", "LANG": "C.UTF-8"}
    done = subprocess.run([command, *args], capture_output=True, text=True, env=env, timeout=60)
    return done.returncode, done.stdout


def _rows(args: list[str], *, upstream: bool = True) -> list[str]:
    code, out = _run(BANJAIL, args)
    assert code == 0
    if upstream and Path(UPSTREAM).exists():
        assert (code, out) == _run(UPSTREAM, args)
    return out.splitlines()


# the line most cases print, dated and undated (upstream's sshd filter)
ROOT = "2005-08-14 11:59:59 host sshd[1]: Failed password for root from 192.0.2.1"
UNDATED = "host sshd[1]: Failed password for root from 192.0.2.1"

CASES = {
    "undated line: time None, None groups kept": (
        ["-o", "row", "host sshd[1]: Failed password for root from 192.0.2.1 port 22 ssh2", FAILED],
        ["['192.0.2.1',\tNone,\t{'user': 'root', 'ip4': '192.0.2.1', 'ip6': None, 'dns': None, 'fport': '22'}],"],
    ),
    "zoned date: an int": (
        ["-o", "row", "2005-08-14T11:59:59+0200 host sshd[1]: Failed password for root from 192.0.2.1 ssh2", FAILED],
        ["['192.0.2.1',\t1124013599,\t{'user': 'root', 'ip4': '192.0.2.1', 'ip6': None, 'dns': None, 'fport': None}],"],
    ),
    "local date: a float": (
        ["-o", "row", "2005-08-14 11:59:59 h sshd[1]: Failed password for invalid user bob from 2001:db8::1 port 9",
         FAILED],
        ["['2001:db8::1',\t1124020799.0,\t{'user': 'bob', 'ip4': None, 'ip6': '2001:db8::1', 'dns': None, "
         "'fport': '9'}],"],
    ),
    "logtimezone: an int": (
        ["--timezone", "UTC+0100", "-o", "<ip> <time>",
         "2005-08-14 11:59:59 host sshd[1]: Failed password for root from 192.0.2.1 ssh2", FAILED],
        ["192.0.2.1 1124017199"],
    ),
    "TAI64N label: an int": (
        ["-o", "<time>", "@4000000042ff3a2f00000000 host sshd[1]: Failed password for root from 192.0.2.1", FAILED],
        ["1124022831"],
    ),
    "matches: the date-split lines": (
        ["-o", "matches", ROOT, FAILED],
        ["[('', '2005-08-14 11:59:59', ' host sshd[1]: Failed password for root from 192.0.2.1')]"],
    ),
    "matches of an undated line": (
        ["-o", "matches", UNDATED, FAILED],
        ["[('', '', 'host sshd[1]: Failed password for root from 192.0.2.1')]"],
    ),
    "users without a session: None": (
        ["-o", "users", ROOT, FAILED],
        ["None"],
    ),
    "a name as written: USER is None": (
        ["-o", "USER", ROOT, FAILED],
        ["None"],
    ),
    "undated <time> with --now": (
        ["--now", NOW, "-o", "<ip> <time>", UNDATED, FAILED],
        ["192.0.2.1 1124013600.0"],
    ),
}


@pytest.mark.parametrize(("args", "expected"), list(CASES.values()), ids=list(CASES))
def test_rows_as_upstream_prints_them(args: list[str], expected: list[str]) -> None:
    assert _rows(args, upstream="--now" not in args) == expected


def test_a_session_row_keeps_its_data_as_it_was(tmp_path: Path) -> None:
    # the second failure's session has two users: a set, printed in text order (upstream's order follows string
    # hashes, which change from run to run); the first row was printed before the second user came
    log = tmp_path / "two.log"
    log.write_text(
        "2005-08-14 11:59:58 h sshd[7]: Failed password for bob from 192.0.2.5\n"
        "2005-08-14 11:59:59 h sshd[7]: Failed password for alice from 192.0.2.5\n"
    )
    data = "'mlfid': '7', 'user': '{}', 'ip4': '192.0.2.5', 'ip6': None, 'dns': None, 'users': {}"
    assert _rows(["-o", "row", str(log), SESSION], upstream=False) == [
        "['192.0.2.5',\t1124020798.0,\t{" + data.format("bob", "{'bob'}") + "}],",
        "['192.0.2.5',\t1124020799.0,\t{" + data.format("alice", "{'alice', 'bob'}") + "}],",
    ]
