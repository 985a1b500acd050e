"""Through the installed `fail2ban-client` against a real `fail2ban-server`: `set <jail> banip`, `unbanip` and
`unban` answer once the jail's actions have carried them out, as upstream's do (its client thread runs the
actions itself). The action here takes a while (sleep before it records), so a reply sent when the job was only
queued would find the record missing; a hanging action delays the reply by the bound only."""

from __future__ import annotations

import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from daemon_run import Server, lines, write_config

pytestmark = pytest.mark.e2e

CLIENT = str(Path(sys.executable).parent / "fail2ban-client")
ADDRS = ("192.0.2.71", "192.0.2.72", "2001:db8::73")


@pytest.fixture(scope="module")
def running(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Server, Path]]:
    tmp = tmp_path_factory.mktemp("settle")
    conf = write_config(tmp)
    (conf / "action.d" / "rec.conf").write_text(
        "[Definition]\n"
        f"actionban = sleep 0.4; echo ban <ip> >> {tmp}/rec\n"
        f"actionunban = sleep 0.4; echo unban <ip> >> {tmp}/rec\n"
    )
    local = conf / "jail.local"
    local.write_text(
        local.read_text()
        + f"[hang]\nenabled = true\nfilter = test\nlogpath = {tmp}/hang.log\naction = hang\n"
    )
    (conf / "action.d" / "hang.conf").write_text("[Definition]\nactionban = sleep 8\ntimeout = 10\n")
    (tmp / "hang.log").touch()
    server = Server(tmp)
    try:
        server.start()
        yield server, tmp
    finally:
        server.stop()


def client(server: Server, *args: str) -> tuple[str, int]:
    done = subprocess.run(
        [CLIENT, "-s", server.sock, *args], capture_output=True, text=True, timeout=60, check=False
    )
    return done.stdout, done.returncode


def test_banip_and_unbanip_answer_after_the_actions_ran(running: tuple[Server, Path]) -> None:
    server, tmp = running
    rec = tmp / "rec"
    for addr in ADDRS:
        assert client(server, "set", "test", "banip", addr) == ("1\n", 0)
        assert lines(rec)[-1] == f"ban {addr}"
    assert client(server, "set", "test", "unbanip", ADDRS[0]) == ("1\n", 0)
    assert lines(rec)[-1] == f"unban {ADDRS[0]}"
    assert client(server, "unban", ADDRS[1]) == ("1\n", 0)
    assert lines(rec)[-1] == f"unban {ADDRS[1]}"
    assert client(server, "unban", "--all")[1] == 0
    assert lines(rec)[-1] == f"unban {ADDRS[2]}"
    assert [line.split()[0] for line in lines(rec)] == ["ban"] * 3 + ["unban"] * 3


def test_a_hanging_action_delays_the_reply_by_the_bound_only(running: tuple[Server, Path]) -> None:
    server, tmp = running
    started = time.monotonic()
    assert client(server, "set", "hang", "banip", "192.0.2.79") == ("1\n", 0)
    waited = time.monotonic() - started
    assert client(server, "ping") == ("Server replied: pong\n", 0)
    assert (
        "[hang] actions still busy after 5 s; answering without waiting for them"
        in (tmp / "f2b.log").read_text()
    )
    assert waited < 8  # the reply came before the action ended (it sleeps 8 s); not a timing measurement
