"""fail2ban-client (banjail.cli.client.main) against a ControlServer replaying upstream's server: stdout and exit
status as upstream's client gave them; options handled without a server."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest
from control_fakes import ServerThread

from banjail.cli import client
from banjail.control import format as fmt

ROWS: list[dict[str, Any]] = json.loads(
    (Path(__file__).parent / "data" / "upstream_replies.json").read_text()
)
TEXT_ROWS = [r for r in ROWS if all(isinstance(a, str) for a in r["argv"]) and r["argv"][0] != "ping"]


@pytest.mark.parametrize("row", TEXT_ROWS, ids=[" ".join(r["argv"]) for r in TEXT_ROWS])
def test_output_and_status_as_upstream(
    server: ServerThread, row: dict[str, Any], capsys: pytest.CaptureFixture[str]
) -> None:
    status = client.main(["-s", server.path, *row["argv"]])
    assert (capsys.readouterr().out, status) == (row["stdout"], 0 if row["ok"] else 255)


@pytest.mark.parametrize(
    ("args", "out", "status"),
    [
        (["ping"], "Server replied: pong\n", 0),
        (["ping", "0.5"], "Server replied: pong\n", 0),
        (["stop"], "Shutdown successful\n", 0),
        (["--json", "status"], '{"jails": ["test"]}\n', 0),
        (["get", "test", "maxretry", "--json"], '{"maxretry": 3}\n', 0),
        (["--json", "banned"], '{"banned": {"test": ["10.77.0.2"]}}\n', 0),
        (["--json", "ping"], '{"reply": "pong"}\n', 0),
        (["--json", "set", "test", "maxretry", "4"], "4\n", 0),  # not a read command: printed as upstream
        (["status", "--all", "short"], None, 0),
    ],
)
def test_commands(
    server: ServerThread, args: list[str], out: str | None, status: int, capsys: pytest.CaptureFixture[str]
) -> None:
    assert client.main(["-s", server.path, *args]) == status
    if out is not None:
        assert capsys.readouterr().out == out


def test_status_all_prints_each_jail(server: ServerThread, capsys: pytest.CaptureFixture[str]) -> None:
    """Upstream 1.0.2's server has no `status --all`: the client asks jail by jail and prints 1.1's layout."""
    assert client.main(["-s", server.path, "status", "--all"]) == 0
    summary = next(r["value"] for r in ROWS if r["argv"] == ["status"])
    jail = next(r["value"] for r in ROWS if r["argv"] == ["status", "test"])
    assert capsys.readouterr().out == fmt.all_status([*summary, {"test": jail}]) + "\n"


def test_stats_from_a_server_without_stats(server: ServerThread, capsys: pytest.CaptureFixture[str]) -> None:
    assert client.main(["-s", server.path, "stats"]) == 0
    lines = capsys.readouterr().out.splitlines()
    # the replayed server says neither stats nor the backend: the table is built from its `status test`
    assert re.findall(r"\w+", lines[4]) == ["test", "1", "5", "1", "1"]


def test_no_server(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    sock = tmp_path / "none.sock"
    assert client.main(["-s", str(sock), "status"]) == 255
    captured = capsys.readouterr()
    assert captured.out == ""
    assert captured.err.endswith(f"ERROR   Failed to access socket path: {sock}. Is fail2ban running?\n")


@pytest.mark.parametrize(
    ("args", "out", "status"),
    [
        (["--str2sec", "1d12h"], "129600\n", 0),
        (["--str2sec", "1.5m"], "90.0\n", 0),  # upstream: a float when a number has a point
        (["-V"], "1.0.2\n", 0),
        (["--version"], "Fail2Ban v1.0.2\n", 0),
    ],
)
def test_options_without_server(
    args: list[str], out: str, status: int, capsys: pytest.CaptureFixture[str]
) -> None:
    assert client.main(args) == status
    assert capsys.readouterr().out == out


def test_help_and_bad_options(capsys: pytest.CaptureFixture[str]) -> None:
    assert client.main(["-h"]) == 0
    text = capsys.readouterr().out
    assert text.startswith("Usage: fail2ban-client [OPTIONS] <COMMAND>\n")
    assert "    set <JAIL> banip <IP> ... <IP>" in text
    assert client.main(["-Z"]) == 255
    assert client.main(["-s", "/nonexistent/x.sock"]) == 255  # no command: usage, failure


def _conf(tmp_path: Path, jail: str) -> Path:
    conf = tmp_path / "conf"
    (conf / "filter.d").mkdir(parents=True)
    (conf / "action.d").mkdir()
    (conf / "action.d" / "rec.conf").write_text(
        "[Definition]\nactionban = echo ban <ip>\nactionunban = echo unban <ip>\n"
    )
    (conf / "fail2ban.conf").write_text(f"[Definition]\nsocket = {tmp_path}/s.sock\nlogtarget = STDERR\n")
    (conf / "filter.d" / "t.conf").write_text("[Definition]\nfailregex = ^fail <HOST>$\n")
    log = tmp_path / "t.log"
    log.write_text("")
    (conf / "jail.conf").write_text(
        f"[t]\nenabled = true\nfilter = t\naction = rec\nlogpath = {log}\nbackend = polling\n{jail}"
    )
    return conf


def test_config_test_ok(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert client.main(["-c", str(_conf(tmp_path, "")), "-t"]) == 0
    assert capsys.readouterr().out == "OK: configuration test is successful\n"


def test_config_test_reports_problems(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert client.main(["-c", str(_conf(tmp_path, "maxretry = lots\n")), "-t"]) == 255
    err = capsys.readouterr().err
    assert "maxretry" in err
    assert err.rstrip().endswith("ERROR   ERROR: test configuration failed")


def test_dump_lists_commands(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert client.main(["-c", str(_conf(tmp_path, "")), "-d"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines[0] == "['set', 'syslogsocket', 'auto']"
    assert "['add', 't', 'polling']" in lines
    assert "['set', 't', 'addfailregex', '^fail <HOST>$']" in lines
    assert lines[-1] == "['start', 't']"


def test_stale_socket(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    import socket

    path = tmp_path / "stale.sock"
    with socket.socket(socket.AF_UNIX) as sock:
        sock.bind(str(path))  # the file stays, nobody listens: what a crashed server leaves
    assert client.main(["-s", str(path), "status"]) == 255
    assert capsys.readouterr().err.endswith(
        "ERROR   [[Errno 111] Connection refused] Unable to contact server. Is it running?\n"
    )
    assert client.main(["-s", str(path), "ping"]) == 255
    assert capsys.readouterr().err.endswith("ERROR   [Errno 111] Connection refused\n")
