"""The command table: lookup picks the most specific command; the help lists every public command."""

from __future__ import annotations

from typing import Any

import pytest

from banjail.control.protocol import COMMANDS, help_text, is_read, lookup


@pytest.mark.parametrize(
    ("argv", "handler"),
    [
        (["status"], "status"),
        (["status", "sshd"], "status_jail"),
        (["status", "sshd", "short"], "status_jail"),
        (["stop"], "quit"),
        (["stop", "sshd"], "stop_jail"),
        (["stop", "--all"], "stop_all"),
        (["get", "loglevel"], "get_loglevel"),
        (["get", "sshd", "banip", "--with-time"], "get_banip"),
        (["get", "sshd", "bantime"], "get_bantime"),
        (["get", "sshd", "bantime.increment"], "get_bantime_extra"),
        (["set", "sshd", "banip", "1.2.3.4", "5.6.7.8"], "ban_ip"),
        (["set", "sshd", "action", "iptables", "actionban", "x"], "set_action"),
        (["ping", 0.1], "ping"),
        (["server-stream", []], "server_stream"),
        (["bogus"], None),
        (["get", "sshd"], None),
    ],
)
def test_lookup(argv: list[Any], handler: str | None) -> None:
    cmd = lookup(argv)
    assert (cmd.handler if cmd else None) == handler


@pytest.mark.parametrize(
    ("argv", "read"),
    [
        (["status"], True),
        (["banned"], True),
        (["get", "sshd", "maxretry"], True),
        (["set", "sshd", "maxretry", "3"], False),
        (["ping"], False),
        (["unban", "--all"], False),
    ],
)
def test_is_read(argv: list[str], read: bool) -> None:
    assert is_read(argv) is read


def test_help_lists_every_command_in_columns() -> None:
    text = help_text()
    for cmd in COMMANDS:
        assert f"    {cmd.usage}" in text
    for line in text.splitlines():
        assert len(line) <= 4 + 41 + 34 or not line.startswith(" " * 45)
    assert text.splitlines()[:2] == [
        " " * 45 + "BASIC",
        "    start" + " " * 36 + "start the server and its jails",
    ]
