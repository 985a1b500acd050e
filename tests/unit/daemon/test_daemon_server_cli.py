"""fail2ban-server's options, its runtime files, sd_notify, the log format module and the packaging files."""

from __future__ import annotations

import logging
import os
import re
import socket
from pathlib import Path

import pytest

from banjail.cli import server as cli
from banjail.daemon import runtime
from banjail.daemon.logging import NOTICE, LogTarget, level_value, logger
from banjail.daemon.notify import notify

REPO = Path(__file__).resolve().parents[3]


@pytest.mark.parametrize(
    ("argv", "out", "status"),
    [
        (["--str2sec", "1d12h"], "129600\n", 0),
        (["--str2sec", "10m"], "600\n", 0),
        (["-V"], "1.0.2\n", 0),
        # the refusal is on stdout, as upstream's fail2ban-server prints it
        (
            ["--str2sec", "nonsense"],
            "ERROR: invalid time value 'nonsense': unexpected 'nonsense' (use a number of seconds or terms like 30s, "
            "10m, 1h, 1d, 1w, 1mo, 1y, e.g. 1d12h; -1 means permanent)\n",
            255,
        ),
        (["--str2sec", "1.5d"], "129600.0\n", 0),
        (["--bogus"], "", 255),
    ],
)
def test_answers_without_starting(
    argv: list[str], out: str, status: int, capsys: pytest.CaptureFixture[str]
) -> None:
    assert cli.main(argv) == status
    assert capsys.readouterr().out == out


@pytest.mark.parametrize(
    ("argv", "expected"),
    [
        (["-xf", "start"], {"force": True, "background": False, "commands": ["start"]}),
        ([], {"force": False, "background": True, "commands": []}),
        (["-c", "/x", "-s", "/s", "-p", "/p"], {"conf": "/x", "socket": "/s", "pidfile": "/p"}),
        (["--loglevel", "DEBUG", "--logtarget", "STDOUT"], {"loglevel": "DEBUG", "logtarget": "STDOUT"}),
        (["-b", "--async", "-t"], {"background": True, "asynchronous": True, "test": True}),
    ],
)
def test_options(argv: list[str], expected: dict[str, object]) -> None:
    options = cli.parse(argv)
    assert isinstance(options, cli.Options)
    assert {key: getattr(options, key) for key in expected} == expected


def test_test_mode_reports_config_errors(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (tmp_path / "jail.local").write_text(
        "[test]\nenabled = true\nfilter = nonexistent-filter\nlogpath = /x\n"
    )
    assert cli.main(["-c", str(tmp_path), "-t"]) == 255
    assert "nonexistent-filter" in capsys.readouterr().err


def test_claim_socket(tmp_path: Path) -> None:
    path = str(tmp_path / "run" / "f2b.sock")
    runtime.claim_socket(path, force=False)  # free: creates the directory
    assert (tmp_path / "run").is_dir()
    live = socket.socket(socket.AF_UNIX)
    live.bind(path)
    live.listen()
    try:
        with pytest.raises(runtime.RuntimeFileError, match="Server already running"):
            runtime.claim_socket(path, force=False)
    finally:
        live.close()
    with pytest.raises(runtime.RuntimeFileError, match="start with -x to remove it"):
        runtime.claim_socket(path, force=False)  # stale
    runtime.claim_socket(path, force=True)
    assert not os.path.exists(path)


def test_pidfile(tmp_path: Path) -> None:
    path = str(tmp_path / "f2b.pid")
    runtime.write_pidfile(path)
    assert Path(path).read_text() == f"{os.getpid()}\n"
    runtime.remove_pidfile(path)
    assert not os.path.exists(path)
    Path(path).write_text("1\n")  # not ours: kept
    runtime.remove_pidfile(path)
    assert os.path.exists(path)


def test_notify_sends_one_datagram(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = str(tmp_path / "notify")
    receiver = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    receiver.bind(path)
    try:
        monkeypatch.setenv("NOTIFY_SOCKET", path)
        assert notify("READY=1") is True
        assert receiver.recv(100) == b"READY=1"
    finally:
        receiver.close()
    monkeypatch.delenv("NOTIFY_SOCKET")
    assert notify("READY=1") is False


@pytest.mark.parametrize(
    ("text", "value"),
    [("NOTICE", NOTICE), ("notice", NOTICE), ("INFO", logging.INFO), ("DEBUG", logging.DEBUG), ("17", 17)],
)
def test_levels(text: str, value: int) -> None:
    assert level_value(text) == value


def test_file_target_reopens_after_rotation(tmp_path: Path) -> None:
    target = LogTarget()
    path = tmp_path / "f2b.log"
    try:
        target.set_level("INFO")
        target.set_target(str(path))
        logger("actions").log(NOTICE, "[sshd] Ban %s", "192.0.2.7")
        path.rename(tmp_path / "f2b.log.1")
        assert target.reopen() == "rolled over"
        logger("actions").log(NOTICE, "[sshd] Unban %s", "192.0.2.7")
    finally:
        target.close()
    old = (tmp_path / "f2b.log.1").read_text().splitlines()
    new = path.read_text().splitlines()
    assert old[0].split(" ", 2)[2] == f"fail2ban.actions        [{os.getpid()}]: NOTICE  [sshd] Ban 192.0.2.7"
    assert new[0].endswith(f"{'fail2ban.server':<24}[{os.getpid()}]: INFO    rollover performed on {path}")
    assert new[1].endswith("NOTICE  [sshd] Unban 192.0.2.7")


def test_packaging_files() -> None:
    unit = (REPO / "packaging" / "fail2ban.service").read_text()
    assert "ExecStart=/usr/local/bin/fail2ban-server -xf start\n" in unit
    assert "Type=notify\n" in unit
    assert "ExecReload=" in unit and "ExecStop=" in unit
    assert "flushlogs" in (REPO / "packaging" / "fail2ban.logrotate").read_text()


def test_recidive_filter_reads_our_ban_lines(tmp_path: Path) -> None:
    """The stock recidive filter (banjail's and upstream's) parses the daemon's own `Ban` lines, and not
    `Restore Ban` ones."""
    import time

    from banjail.config.load import load_filter
    from banjail.daemon.jail import build_matcher

    target = LogTarget()
    path = tmp_path / "f2b.log"
    try:
        target.set_level("INFO")
        target.set_target(str(path))
        logger("actions").log(NOTICE, "[sshd] Ban %s", "192.0.2.7")
        logger("actions").log(NOTICE, "[sshd] Restore Ban %s", "192.0.2.8")
        logger("actions").log(NOTICE, "[recidive] Ban %s", "192.0.2.9")
    finally:
        target.close()
    from banjail.config.schema import JailConfig

    for config_dir in ("/nonexistent", "/etc/fail2ban"):
        spec = load_filter("recidive", config_dir=config_dir)
        matcher = build_matcher(JailConfig(name="recidive", filter=spec))
        found = [
            f.fid
            for line in path.read_text().splitlines()
            for f in matcher.process(line, time.time()).failures
        ]
        assert found == ["192.0.2.7"], config_dir


@pytest.mark.parametrize("fast", [True, False])
def test_many_lines_in_one_write_read_as_records_would(tmp_path: Path, fast: bool) -> None:
    """log_many writes upstream's layout in one go to the daemon's file; with another handler in the way it
    falls back to one record per line, with the same text."""
    from banjail.daemon.logging import log_many

    target = LogTarget()
    path = tmp_path / "f2b.log"
    extra = logging.NullHandler()
    try:
        target.set_level("NOTICE")
        target.set_target(str(path))
        if not fast:
            logging.getLogger("fail2ban").addHandler(extra)
        log_many(logger("actions"), NOTICE, ["[sshd] Restore Ban 192.0.2.7", "[sshd] Restore Ban 192.0.2.8"])
        log_many(
            logger("filter"), logging.INFO, ["[sshd] Found 192.0.2.9 - 2026-11-25 10:00:00"]
        )  # below NOTICE
    finally:
        logging.getLogger("fail2ban").removeHandler(extra)
        target.close()
    lines = path.read_text().splitlines()
    assert [line.split(" ", 2)[2] for line in lines] == [
        f"fail2ban.actions        [{os.getpid()}]: NOTICE  [sshd] Restore Ban 192.0.2.7",
        f"fail2ban.actions        [{os.getpid()}]: NOTICE  [sshd] Restore Ban 192.0.2.8",
    ]
    assert all(
        re.fullmatch(r"\d{4}-\d\d-\d\d \d\d:\d\d:\d\d,\d{3}", " ".join(line.split(" ", 2)[:2]))
        for line in lines
    )
