"""Failure lines without a date, through the installed fail2ban-server (and upstream's 1.0.2 on the same tree
when Debian's fail2ban is installed), each in `unshare -n`: the lines present at start are a backlog, dropped
with upstream's three WARNING lines (once a day per jail); lines appended after start, and the lines of a freshly
rotated log, take the current time and ban."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from daemon_run import INSTALLED_SERVER, Server, append, server_tree, wait_for

pytestmark = pytest.mark.e2e

UPSTREAM = ("/usr/bin/fail2ban-server", "/usr/bin/fail2ban-client")
OURS = (INSTALLED_SERVER[0], str(Path(sys.executable).parent / "fail2ban-client"))
SRC = str(Path(__file__).resolve().parents[2] / "src")
WARNINGS = [
    "WARNING [test] Found a match but no valid date/time found for ''.",
    "WARNING [test] Match without a timestamp: fail from 192.0.2.1 port 1",
    "WARNING [test] Please try setting a custom date pattern (see man page jail.conf(5)).",
]


def _tree(root: Path) -> None:
    conf = server_tree(root)
    (conf / "jail.conf").write_text(
        f"[test]\nenabled = true\nbackend = polling\nfilter = test\naction = rec\nlogpath = {root}/test.log\n"
        "maxretry = 3\nfindtime = 1h\nbantime = 1h\n"
    )
    (conf / "filter.d" / "test.conf").write_text("[Definition]\nfailregex = fail from <HOST> port \\d+$\n")
    (conf / "action.d" / "rec.conf").write_text(f"[Definition]\nactionban = echo ban <ip> >> {root}/rec\n")


def _banned(root: Path) -> list[str]:
    try:
        return (root / "rec").read_text().split()[1::2]
    except FileNotFoundError:
        return []


def _status(client: str, sock: str) -> str:
    env = dict(os.environ, PYTHONPATH=SRC)
    done = subprocess.run([client, "-s", sock, "status", "test"], capture_output=True, text=True, env=env, timeout=60)
    assert done.returncode == 0, done.stdout + done.stderr
    return done.stdout


def _run(root: Path, server_cmd: str, client: str) -> tuple[list[str], list[str], str]:
    """Start on a log of four undated failures of 192.0.2.1, append three of 192.0.2.2, rotate to a new log
    with three of 192.0.2.3: the bans, the WARNING lines and the status after the first append."""
    _tree(root)
    append(root / "test.log", [f"fail from 192.0.2.1 port {n}" for n in range(1, 5)])
    server = Server(root, prefix=("unshare", "-n"), command=[server_cmd])
    try:
        server.start(30)
        wait_for(lambda: "WARNING [test] Please" in (root / "f2b.log").read_text(), 30, "the undated warning")
        append(root / "test.log", [f"fail from 192.0.2.2 port {n}" for n in range(1, 4)])
        wait_for(lambda: _banned(root) == ["192.0.2.2"], 30, "the ban of 192.0.2.2")
        status = _status(client, server.sock)
        (root / "test.log").rename(root / "test.log.1")
        append(root / "test.log", [f"fail from 192.0.2.3 port {n}" for n in range(1, 4)])
        wait_for(lambda: len(_banned(root)) == 2, 30, "the ban of 192.0.2.3 from the rotated log")
    finally:
        server.stop()
    logged = re.findall(r"fail2ban\.filter\s+\[\d+\]: (WARNING .*)", (root / "f2b.log").read_text())
    return _banned(root), logged, status


def _can_unshare() -> bool:
    return os.geteuid() == 0 and shutil.which("unshare") is not None


@pytest.mark.skipif(not _can_unshare(), reason="needs root and unshare (the server runs without a network)")
def test_undated_backlog_is_dropped_with_upstreams_warning(tmp_path: Path) -> None:
    banned, logged, status = _run(tmp_path, *OURS)
    assert banned == ["192.0.2.2", "192.0.2.3"]
    assert logged == WARNINGS  # once: the later undated lines, counted, are not warned about again that day
    assert "|  |- Total failed:\t3\n" in status


@pytest.mark.skipif(
    not _can_unshare() or not all(os.path.exists(p) for p in UPSTREAM), reason="needs root, unshare and Debian's fail2ban"
)
def test_undated_backlog_is_upstreams(tmp_path: Path) -> None:
    banned, logged, status = _run(tmp_path, *UPSTREAM)
    assert banned == ["192.0.2.2", "192.0.2.3"]
    assert logged == WARNINGS
    assert "|  |- Total failed:\t3\n" in status
