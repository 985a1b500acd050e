"""The real fail2ban-server on temp logs: N failures -> ban -> listed -> unbanned after bantime; reload keeps bans;
a restart restores them; SIGUSR1 reopens the log; a second SIGTERM is not needed for a clean stop."""

from __future__ import annotations

import os
import signal
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from daemon_run import Server, append, lines, wait_for, write_config

pytestmark = pytest.mark.e2e

IP = "192.0.2.7"


@pytest.fixture
def server(tmp_path: Path) -> Iterator[Server]:
    write_config(tmp_path, bantime="2")
    running = Server(tmp_path)
    try:
        yield running
    finally:
        running.stop()


def test_failures_ban_list_and_unban_after_bantime(server: Server, tmp_path: Path) -> None:
    server.start()
    append(tmp_path / "test.log", [f"fail from {IP} port {p}" for p in range(3)])
    wait_for(lambda: f"ban {IP} 0" in lines(tmp_path / "rec"), 10, "the ban action")
    assert server.ask("status", "test") == [
        [
            "Filter",
            [["Currently failed", 0], ["Total failed", 3], ["File list", [str(tmp_path / "test.log")]]],
        ],
        ["Actions", [["Currently banned", 1], ["Total banned", 1], ["Banned IP list", [IP]]]],
    ]
    assert server.ask("banned", IP) == [["test"]]
    wait_for(lambda: f"unban {IP}" in lines(tmp_path / "rec"), 10, "the unban after bantime")
    assert server.ask("get", "test", "banip") == []
    assert server.ask("stop") is None
    assert server.wait() == 0
    assert not os.path.exists(server.sock)
    assert not (tmp_path / "f2b.pid").exists()
    log = [line.split("]: ", 1)[1] for line in lines(tmp_path / "f2b.log")]
    assert [m for m in log if "Ban" in m or "Unban" in m] == [
        f"NOTICE  [test] Ban {IP}",
        f"NOTICE  [test] Unban {IP}",
    ]
    assert oct(os.stat(tmp_path / "f2b.sqlite3").st_mode & 0o777) == "0o600"


def test_reload_keeps_bans_and_restart_restores_them(tmp_path: Path) -> None:
    write_config(tmp_path, bantime="1h")
    server = Server(tmp_path)
    try:
        server.start()
        assert oct(os.stat(server.sock).st_mode & 0o777) == "0o600"
        assert server.ask("set", "test", "banip", IP) == 1
        assert server.ask("reload") == "OK"
        server.kill(signal.SIGHUP)  # reload by signal as well
        wait_for(
            lambda: (tmp_path / "f2b.log").read_text().count("Reload finished.") == 2, 10, "the SIGHUP reload"
        )
        assert server.ask("get", "test", "banip") == [IP]
        assert lines(tmp_path / "rec") == [f"ban {IP} 0"]
        server.kill(signal.SIGTERM)
        assert server.wait() == 0
        server.start()
        wait_for(lambda: len(lines(tmp_path / "rec")) == 2, 10, "the restored ban")
        assert lines(tmp_path / "rec") == [f"ban {IP} 0", f"ban {IP} 1"]
        assert server.ask("get", "test", "banip") == [IP]
        assert any(line.endswith(f"NOTICE  [test] Restore Ban {IP}") for line in lines(tmp_path / "f2b.log"))
    finally:
        server.stop()


def test_sigusr1_reopens_the_log_file(server: Server, tmp_path: Path) -> None:
    server.start()
    log = tmp_path / "f2b.log"
    log.rename(tmp_path / "f2b.log.1")
    server.kill(signal.SIGUSR1)
    wait_for(log.exists, 10, "the reopened log file")
    assert server.ask("set", "test", "banip", IP) == 1
    wait_for(lambda: any("Ban " + IP in line for line in lines(log)), 10, "the ban in the new log")


def test_restart_resumes_where_it_stopped(server: Server, tmp_path: Path) -> None:
    server.start()
    append(tmp_path / "test.log", [f"fail from {IP} port {p}" for p in range(2)])
    wait_for(
        lambda: server.ask("status", "test", "short")[0][1][1] == ["Total failed", 2], 10, "two failures"
    )  # type: ignore[index]
    server.stop()
    server.start()
    append(tmp_path / "test.log", [f"fail from 192.0.2.8 port {p}" for p in range(2)])
    wait_for(
        lambda: server.ask("status", "test", "short")[0][1][1] == ["Total failed", 2], 10, "two new failures"
    )  # type: ignore[index]
    # Found lines are written once their batch is committed, just after the counter moved.
    wait_for(lambda: len(_found(tmp_path)) >= 4, 10, "the Found lines of the second run")
    time.sleep(0.2)
    assert [line.split("Found ")[1].split()[0] for line in _found(tmp_path)] == [
        IP,
        IP,
        "192.0.2.8",
        "192.0.2.8",
    ]
    # The counters survived the restart: 192.0.2.7's two failures still count.
    assert server.ask("status", "test", "short")[0][1][0] == ["Currently failed", 2]  # type: ignore[index]


def _found(tmp: Path) -> list[str]:
    return [line for line in lines(tmp / "f2b.log") if "] Found " in line]


def test_background_start_returns_once_the_server_answers(tmp_path: Path) -> None:
    import subprocess

    from daemon_run import SERVER

    write_config(tmp_path)
    sock = str(tmp_path / "f2b.sock")
    env = dict(os.environ, PYTHONPATH=str(Path(__file__).resolve().parents[2] / "src"))
    done = subprocess.run([*SERVER, "-c", str(tmp_path / "conf"), "start"], env=env, timeout=30, check=False)
    pid = int((tmp_path / "f2b.pid").read_text())
    try:
        assert done.returncode == 0
        from banjail.control.client import request

        assert request(sock, ["ping"], timeout=5) == "pong"
        assert pid != os.getpid()
    finally:
        os.kill(pid, signal.SIGTERM)
        wait_for(lambda: not os.path.exists(sock), 15, "the background server to stop")
