"""Issue 14 item 1: a host name lookup that never gets an answer holds up only the jail whose line named the host.

A real fail2ban-server runs inside a network namespace the test creates, where 10.79.0.0/24 is a veth pair whose far
end has no address (every query leaves and nothing answers), and inside a private mount namespace whose /etc/resolv.conf names
10.79.0.53 as the nameserver: every DNS query goes unanswered until the resolver's timeout. Jail `dns` (usedns =
yes) reads host names and then an address; jail `other` reads one address. Before the fix the lookups ran on the
event loop and froze every jail and the socket until the last name timed out; now `other` bans and the socket
answers while `dns` is still waiting, and `dns` still counts its lines in order (its address only after the
names)."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

from daemon_run import Server, append, lines, wait_for, write_jails
from lab.resolver import silent_resolver

NAMES = ("host-1.banjail.test", "host-2.banjail.test", "host-3.banjail.test")
RESOLVER_TIMEOUT = 3  # seconds per query (resolv.conf options), so every name takes about that long to fail
CLIENT = [sys.executable, "-m", "banjail.cli.client"]


def _client(tmp: Path, *argv: str) -> str:
    env = dict(os.environ, PYTHONPATH=str(Path(__file__).resolve().parents[2] / "src"))
    run = subprocess.run(
        [*CLIENT, "-s", str(tmp / "f2b.sock"), *argv], capture_output=True, text=True, timeout=30, env=env
    )
    assert run.returncode == 0, run.stderr
    return run.stdout


def test_unanswered_lookup_stalls_only_its_jail(tmp_path: Path) -> None:
    write_jails(tmp_path, {"dns": "usedns = yes\n", "other": ""})
    with silent_resolver(tmp_path, f"timeout:{RESOLVER_TIMEOUT} attempts:1") as prefix:
        _run(tmp_path, Server(tmp_path, prefix))


def _run(tmp_path: Path, server: Server) -> None:
    try:
        server.start()
        append(tmp_path / "dns.log", [f"fail from {name} port 1" for name in NAMES])
        append(tmp_path / "dns.log", ["fail from 10.0.0.9 port 2"])
        time.sleep(0.5)  # the dns jail has its lines in hand (a pause, not a measurement)
        append(tmp_path / "other.log", ["fail from 10.0.0.7 port 3"])
        rec = tmp_path / "rec"
        wait_for(lambda: "ban 10.0.0.7 0" in lines(rec), 60, "the other jail's ban")
        # The socket answers through the installed client while `dns` still waits for its names, and `dns` has
        # not counted its address yet: it comes after the names in its log.
        status = _client(tmp_path, "status")
        assert "Jail list:\tdns, other" in status
        assert "ban 10.0.0.9 0" not in lines(rec)
        wait_for(
            lambda: "ban 10.0.0.9 0" in lines(rec), 10 * RESOLVER_TIMEOUT * len(NAMES), "the dns jail's ban"
        )
        assert lines(rec) == ["ban 10.0.0.7 0", "ban 10.0.0.9 0"]
        assert "Total failed:\t1" in _client(tmp_path, "status", "dns")
    finally:
        server.stop()
