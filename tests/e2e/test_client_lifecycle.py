"""fail2ban-client start / restart / reload / stop / -i against banjail's own daemon, as a sysadmin runs them.

The client runs inside `unshare -n` so the server it spawns lives in a private network namespace; the jail's only
action writes to a file.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from daemon_run import server_tree

pytestmark = pytest.mark.e2e

CLIENT = [sys.executable, "-m", "banjail.cli.client"]


@pytest.fixture
def conf(tmp_path: Path) -> Iterator[Path]:
    if os.geteuid() != 0 or shutil.which("unshare") is None:
        pytest.skip("needs root and unshare")
    conf = server_tree(tmp_path)
    (conf / "jail.conf").write_text(
        f"[test]\nenabled = true\nfilter = test\nbackend = polling\nlogpath = {tmp_path}/test.log\naction = rec\n"
    )
    (conf / "filter.d" / "test.conf").write_text(
        "[Definition]\nfailregex = ^fail <HOST>$\ndatepattern = {NONE}\n"
    )
    (conf / "action.d" / "rec.conf").write_text(
        f"[Definition]\nactionban = echo ban <ip> >> {tmp_path}/actions.log\nactionunban = true\n"
    )
    (tmp_path / "test.log").write_text("")
    yield conf
    # Whatever happened, no server stays behind.
    subprocess.run([*CLIENT, "-c", str(conf), "stop"], capture_output=True, timeout=30)


def _client(conf: Path, *args: str, netns: bool = False, stdin: str | None = None) -> tuple[str, int]:
    cmd = [*CLIENT, "-c", str(conf), *args]
    if netns:
        cmd = ["unshare", "-n", *cmd]
    done = subprocess.run(cmd, capture_output=True, text=True, timeout=60, input=stdin)
    return done.stdout, done.returncode


def test_start_restart_reload_stop(conf: Path) -> None:
    sock = conf.parent / "f2b.sock"
    assert _client(conf, "start", netns=True) == ("Server ready\n", 0)
    assert _client(conf, "start", netns=True) == ("", 255)  # "Server already running" on stderr
    assert _client(conf, "ping") == ("Server replied: pong\n", 0)
    assert _client(conf, "restart", netns=True) == ("Shutdown successful\nServer ready\n", 0)
    assert _client(conf, "reload") == ("OK\n", 0)
    assert _client(conf, "reload", "--restart", "test") == ("OK\n", 0)
    assert _client(conf, "reload", "test", "extra") == ("", 255)
    assert _client(conf, "status") == ("Status\n|- Number of jail:\t1\n`- Jail list:\ttest\n", 0)
    assert _client(conf, "stop") == ("Shutdown successful\n", 0)
    # The reply comes before the server closes its socket (as upstream's): the file goes within moments.
    deadline = time.monotonic() + 10
    while sock.exists() and time.monotonic() < deadline:
        time.sleep(0.05)
    assert not sock.exists()
    assert _client(conf, "ping") == ("", 255)


def test_interactive(conf: Path) -> None:
    assert _client(conf, "start", netns=True) == ("Server ready\n", 0)
    out, status = _client(conf, "-i", stdin="ping\n\nget test maxretry\nstatus nojail\nexit\n")
    assert status == 0
    assert out == (
        "Fail2Ban v1.0.2 reads log file that contains password failure report\n"
        "and bans the corresponding IP addresses using firewall rules.\n"
        "\n"
        "fail2ban> Server replied: pong\n"
        "fail2ban> fail2ban> 5\n"
        "fail2ban> Sorry but the jail 'nojail' does not exist\n"
        "fail2ban> "
    )
