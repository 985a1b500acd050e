"""ControlServer with a fake controller: both framings, errors, limits, concurrency, socket mode, stop."""

from __future__ import annotations

import json
import os
import pickle
import socket
import stat
import time
from typing import Any

import pytest
from control_fakes import ServerThread

from banjail.control import legacy
from banjail.control.client import ControlClient
from banjail.control.protocol import MAX_REQUEST
from banjail.errors import ControlError


def _raw(path: str, data: bytes, until: bytes) -> bytes:
    with socket.socket(socket.AF_UNIX) as sock:
        sock.settimeout(5)
        sock.connect(path)
        sock.sendall(data)
        got = b""
        while not got.endswith(until):
            chunk = sock.recv(65536)
            if not chunk:
                break
            got += chunk
        return got


def test_socket_is_private(server: ServerThread) -> None:
    assert stat.S_IMODE(os.stat(server.path).st_mode) == 0o600


def test_json_ok_and_error(server: ServerThread) -> None:
    with ControlClient(server.path, 5) as client:
        assert client.request(["ping"]) == "pong"
        assert client.request(["status"]) == [["Number of jail", 1], ["Jail list", "test"]]
        with pytest.raises(ControlError) as info:
            client.request(["status", "nojail"])
        assert str(info.value) == "Sorry but the jail 'nojail' does not exist"


@pytest.mark.parametrize(
    ("line", "error"),
    [
        (
            b"{nope\n",
            "malformed request: Expecting property name enclosed in double quotes: line 1 column 2 (char 1)",
        ),
        (b'{"v": 1}\n', 'a request must have "cmd": a non-empty list'),
        (b'{"v": 9, "cmd": ["ping"]}\n', "unsupported protocol version 9; this server speaks 1"),
        (b'{"v": 1, "cmd": ["crash"]}\n', "RuntimeError: handler bug"),
    ],
)
def test_json_bad_requests_get_error_replies(server: ServerThread, line: bytes, error: str) -> None:
    assert json.loads(_raw(server.path, line, b"\n")) == {"v": 1, "ok": False, "error": error}
    with ControlClient(server.path, 5) as client:  # and the server still serves
        assert client.request(["ping"]) == "pong"


def test_oversized_requests_are_refused(server: ServerThread) -> None:
    big = b'{"v": 1, "cmd": ["echo", "' + b"x" * (MAX_REQUEST + 10) + b'"]}\n'
    reply = json.loads(_raw(server.path, big, b"\n"))
    assert reply == {"v": 1, "ok": False, "error": f"request longer than {MAX_REQUEST} bytes"}
    reply_bytes = _raw(server.path, b"\x80" + b"y" * (MAX_REQUEST + 100), legacy.END)
    assert pickle.loads(reply_bytes[: -len(legacy.END)])[1].args == (
        f"request longer than {MAX_REQUEST} bytes",
    )


def test_legacy_framing(server: ServerThread) -> None:
    frames = legacy.dump_request(["ping"]) + legacy.dump_request(["get", "test", "maxretry"])
    with socket.socket(socket.AF_UNIX) as sock:
        sock.settimeout(5)
        sock.connect(server.path)
        sock.sendall(frames)
        got = b""
        while got.count(legacy.END) < 2:
            got += sock.recv(65536)
        sock.sendall(legacy.CLOSE + legacy.END)
        assert sock.recv(10) == b""  # CLOSE ends the conversation
    first, second, _ = got.split(legacy.END)
    assert pickle.loads(first) == (0, "pong")
    assert pickle.loads(second) == (0, 3)


def test_legacy_refused_pickle_gets_error_and_server_lives(server: ServerThread) -> None:
    evil = b"cos\nsystem\n(S'touch /tmp/banjail-pwned'\ntR."
    reply = _raw(server.path, evil + legacy.END, legacy.END)
    code, exc = pickle.loads(reply[: -len(legacy.END)])
    assert (code, exc.args) == (
        1,
        ("refused to load os.system: only lists of strings and numbers are accepted",),
    )
    assert not os.path.exists("/tmp/banjail-pwned")
    with ControlClient(server.path, 5) as client:
        assert client.request(["ping"]) == "pong"


def test_slow_command_does_not_block_others(server: ServerThread) -> None:
    slow = socket.socket(socket.AF_UNIX)
    slow.settimeout(5)
    slow.connect(server.path)
    slow.sendall(b'{"v": 1, "cmd": ["sleep", "10"]}\n')
    started = time.monotonic()
    with ControlClient(server.path, 5) as client:
        assert client.request(["ping"]) == "pong"
    assert time.monotonic() - started < 1
    server.release()
    assert json.loads(slow.recv(1000)) == {"v": 1, "ok": True, "value": None}
    slow.close()


def test_stop_replies_then_calls_on_stop(server: ServerThread) -> None:
    with ControlClient(server.path, 5) as client:
        assert client.request(["stop"]) is None
    assert server.stopped.wait(2)


def test_close_removes_socket(tmp_path: Any) -> None:
    from control_fakes import ReplayController

    srv = ServerThread(str(tmp_path / "s.sock"), ReplayController())
    srv.close()
    assert not os.path.exists(tmp_path / "s.sock")
