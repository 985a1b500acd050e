"""Socket activation: which passed descriptor is taken, and what is logged (banjail.daemon.activation)."""

from __future__ import annotations

import os
import socket
from pathlib import Path

import pytest

from banjail.daemon import activation


@pytest.fixture
def listening(tmp_path: Path) -> tuple[socket.socket, Path]:
    path = tmp_path / "f2b.sock"
    server = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    server.bind(str(path))
    server.listen()
    return server, path


def env(pid: int, count: int = 1) -> dict[str, str]:
    return {"LISTEN_PID": str(pid), "LISTEN_FDS": str(count), "LISTEN_FDNAMES": "fail2ban.socket", "HOME": "/root"}


def test_taken_when_meant_for_us_and_bound_to_the_path(listening: tuple[socket.socket, Path]) -> None:
    server, path = listening
    environ = env(os.getpid())
    taken, note = activation.inherited_listener(str(path), environ, first_fd=server.fileno())
    assert taken is not None and taken.fileno() == server.fileno()
    assert note == f"Control socket {path} taken over from systemd (socket activation)"
    assert environ == {"HOME": "/root"}  # never inherited by action commands
    taken.detach()


def test_a_symlinked_directory_names_the_same_socket(listening: tuple[socket.socket, Path], tmp_path: Path) -> None:
    server, path = listening
    (tmp_path / "var-run").symlink_to(tmp_path)
    taken, _ = activation.inherited_listener(str(tmp_path / "var-run" / path.name), env(os.getpid()),
                                             first_fd=server.fileno())
    assert taken is not None
    taken.detach()


@pytest.mark.parametrize(
    ("variables", "expected"),
    [
        ({}, ""),
        ({"LISTEN_PID": "1", "LISTEN_FDS": "1"}, ""),  # meant for another process
        ({"LISTEN_PID": "x", "LISTEN_FDS": "1"}, ""),
    ],
)
def test_not_activated(listening: tuple[socket.socket, Path], variables: dict[str, str], expected: str) -> None:
    server, path = listening
    assert activation.inherited_listener(str(path), dict(variables), first_fd=server.fileno()) == (None, expected)


def test_a_socket_for_another_path_is_left_alone(listening: tuple[socket.socket, Path], tmp_path: Path) -> None:
    server, _ = listening
    other = str(tmp_path / "other.sock")
    taken, note = activation.inherited_listener(other, env(os.getpid()), first_fd=server.fileno())
    assert taken is None
    assert note == (f"Socket activation: no listening Unix socket for {other} among 1 passed descriptor(s); "
                    "set ListenStream= in fail2ban.socket to the `socket` of fail2ban.conf")
    assert server.fileno() >= 0  # still open: not ours to close
