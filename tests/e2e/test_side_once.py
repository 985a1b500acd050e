"""A side action's command caught in flight by kill -9 of the server (banjail.actions.completion), through the
real fail2ban-server: the command runs on in its own session; the next server waits for it and does not run it
again (exactly once). When the command itself is killed too (no exit status in its mark, no process left: the one
ambiguous case), the next server runs it again and says so (at least once: never lost)."""

from __future__ import annotations

import contextlib
import os
import signal
import time
from pathlib import Path

import pytest
from daemon_run import Server, append, lines, wait_for, write_config

pytestmark = pytest.mark.e2e

ADDRESS = "10.77.0.1"
SLOW = 3  # seconds the command sleeps between its two lines: the kill and the restart come meanwhile


def _setup(tmp: Path) -> None:
    conf = write_config(tmp, maxretry=1, norestored=True)
    (conf / "action.d" / "rec.conf").write_text(
        "[Definition]\n"
        f"actionban = echo start <ip> $$ >> {tmp}/rec; sleep {SLOW}; echo ban <ip> >> {tmp}/rec\n"
        "actionunban =\nnorestored = 1\n"
    )


def _started(tmp: Path) -> list[str]:
    return [line for line in lines(tmp / "rec") if line.startswith("start ")]


@pytest.mark.parametrize(
    ("kill_command", "starts", "said"),
    [
        (False, 1, "was run by the last (killed) server: exit status 0"),
        (True, 2, f"the last (killed) server's ban of {ADDRESS} did not end: run again"),
    ],
)
def test_a_command_in_flight_at_kill9(tmp_path: Path, kill_command: bool, starts: int, said: str) -> None:
    _setup(tmp_path)
    server = Server(tmp_path)
    orphan = 0
    try:
        server.start()
        append(tmp_path / "test.log", [f"{time.strftime('%Y-%m-%d %H:%M:%S')} fail from {ADDRESS} port 1"])
        wait_for(lambda: _started(tmp_path), 15, "the ban's command to start")
        orphan = int(_started(tmp_path)[0].split()[2])  # the command's shell: its own session and group
        server.kill(signal.SIGKILL)
        server.wait()
        if kill_command:
            os.killpg(orphan, signal.SIGKILL)
        server.start()
        wait_for(lambda: said in (tmp_path / "f2b.log").read_text(), SLOW + 15, said)
        wait_for(
            lambda: len(_started(tmp_path)) == starts and "ban" in _words(tmp_path), SLOW + 15, "the ban"
        )
        time.sleep(0.5)  # a second run would show by now (it starts at once)
        assert _words(tmp_path) == ["start"] * starts + ["ban"]
        server.stop()
    finally:
        server.stop()
        if orphan:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(orphan, signal.SIGKILL)


def _words(tmp: Path) -> list[str]:
    return [line.split()[0] for line in lines(tmp / "rec")]
