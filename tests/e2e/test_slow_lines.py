"""Issue 14 item 4: regex-heavy lines in one jail do not hold up another jail. A real fail2ban-server; jail `slow`
uses upstream's pam-generic filter (read from /etc/fail2ban at run time), whose failregex backtracks on a run of
"(" (0.17 s per line of 8 KiB; about 1.5 s at 20 KiB). Before the fix the lines were matched on the event loop, so
`other`'s ban waited for all of them. Now each jail matches on its own thread and a line is cut at maxlinelength
(8 KiB by default, which bounds the cost of one regex call), so `other` bans first while `slow` is still busy, and
`slow` still counts its own failure after its heavy lines, in order. (bench/stall/slowline.py gives the delays.)"""

from __future__ import annotations

import shutil
import time
from pathlib import Path

import pytest
from daemon_run import Server, append, lines, wait_for, write_jails

UPSTREAM = Path("/etc/fail2ban/filter.d")
SLOW_LINES = 20
FAILURE = (
    "Nov 25 08:44:15 host sshd[49]: pam_unix(sshd:auth): authentication failure; logname= uid=0 euid=0 "
    "tty=ssh ruser= rhost={ip}"
)


@pytest.mark.skipif(not (UPSTREAM / "pam-generic.conf").exists(), reason="upstream fail2ban is not installed")
def test_slow_lines_hold_up_only_their_jail(tmp_path: Path) -> None:
    conf = write_jails(tmp_path, {"slow": "filter = pam-generic\npackagedfilter = file\n", "other": ""})
    # upstream's own slow pam-generic, unmodified: `packagedfilter = file` keeps it (banjail's would replace it)
    for name in ("pam-generic.conf", "common.conf"):
        shutil.copy(UPSTREAM / name, conf / "filter.d" / name)
    server = Server(tmp_path)
    try:
        server.start()
        heavy = "(" * 8000 + FAILURE.format(ip="192.0.2.1")  # just under maxlinelength: the worst it lets in
        append(tmp_path / "slow.log", [heavy] * SLOW_LINES + [FAILURE.format(ip="10.0.0.9")])
        time.sleep(0.2)  # `slow` has its lines in hand (a pause, not a measurement)
        append(tmp_path / "other.log", ["fail from 10.0.0.7 port 3"])
        rec = tmp_path / "rec"
        wait_for(lambda: "ban 10.0.0.9 0" in lines(rec), 120, "the slow jail's own ban")
        wait_for(lambda: "ban 10.0.0.7 0" in lines(rec), 30, "the other jail's ban")
        assert lines(rec) == ["ban 10.0.0.7 0", "ban 10.0.0.9 0"]
    finally:
        server.stop()
