"""The client side of banjail's control socket (JSON lines). Blocking: the command-line client needs nothing more.

`ControlClient(path).request(argv)` returns the server's value for argv or raises ControlError with the message
the client prints; socket problems raise OSError (the caller tells "not running" from "permission denied").
"""

from __future__ import annotations

import json
import socket
from typing import Any

from banjail.control.protocol import MAX_REQUEST, VERSION
from banjail.errors import ControlError


class ControlClient:
    """One connection to the server; several requests may be sent on it in turn. Use as a context manager."""

    def __init__(self, path: str, timeout: float | None = None) -> None:
        self.path = path
        self._sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self._sock.settimeout(timeout)
        try:
            self._sock.connect(path)
        except OSError:
            self._sock.close()
            raise
        self._buffer = b""

    def __enter__(self) -> ControlClient:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        self._sock.close()

    def settimeout(self, timeout: float | None) -> None:
        self._sock.settimeout(timeout)

    def request(self, argv: list[Any]) -> object:
        """Send one command and return its value; ControlError carries the server's error message."""
        line = json.dumps({"v": VERSION, "cmd": argv}, ensure_ascii=False).encode() + b"\n"
        self._sock.sendall(line)
        reply = self._read_line()
        try:
            decoded = json.loads(reply)
        except ValueError as exc:
            raise ControlError(f"malformed reply from the server: {exc}") from None
        if not isinstance(decoded, dict) or "ok" not in decoded:
            raise ControlError(f"malformed reply from the server: {reply[:200]!r}")
        if decoded["ok"]:
            return decoded.get("value")
        raise ControlError(str(decoded.get("error", "unknown error")))

    def _read_line(self) -> bytes:
        while b"\n" not in self._buffer:
            chunk = self._sock.recv(65536)
            if not chunk:
                raise ConnectionResetError(104, "Connection reset by peer")
            self._buffer += chunk
            if len(self._buffer) > 64 * MAX_REQUEST:
                raise ControlError("reply from the server too long")
        line, _, self._buffer = self._buffer.partition(b"\n")
        return line


def request(path: str, argv: list[Any], timeout: float | None = None) -> object:
    """One command on a fresh connection."""
    with ControlClient(path, timeout) as client:
        return client.request(argv)
