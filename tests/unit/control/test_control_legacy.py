"""Upstream's pickle framing: what the restricted unpickler admits and refuses, and the reply encoding."""

from __future__ import annotations

import io
import os
import pickle
from typing import Any

import pytest

from banjail.control import legacy


class _Exploit:
    def __reduce__(self) -> tuple[Any, ...]:
        return (os.system, ("true",))


def _bomb() -> bytes:
    # A list holding the same list 20 levels deep: tiny on the wire, 2**20 nodes when walked.
    inner: list[Any] = ["x"]
    for _ in range(20):
        inner = [inner, inner]
    return pickle.dumps(inner, 5)


@pytest.mark.parametrize(
    ("argv", "protocol"),
    [
        (["ping"], 5),
        (["ping", 0.1], 2),
        (["set", "sshd", "banip", "192.0.2.1"], 4),
        (["reload", "--all", ["--unban"], [["set", "sshd", "maxretry", 3], ["start", "sshd"]]], 5),
        (["multi-set", "sshd", "action", "a", [["actionban", "x"], ["timeout", 60]]], 5),
        (["x", True, None, {"k": [1, 2.5]}], 5),
    ],
)
def test_admits_plain_requests(argv: list[Any], protocol: int) -> None:
    assert legacy.load_request(pickle.dumps(argv, protocol)) == argv


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (
            pickle.dumps([_Exploit()]),
            "refused to load posix.system: only lists of strings and numbers are accepted",
        ),
        (pickle.dumps([{1, 2}]), "refused a value of type set"),
        (pickle.dumps([b"bytes"]), "refused a value of type bytes"),
        (pickle.dumps([bytearray(b"x")], 5), "refused a value of type bytearray"),
        (pickle.dumps("ping"), "a request must be a non-empty list"),
        (pickle.dumps([]), "a request must be a non-empty list"),
        (b"\xff", "malformed request: invalid load key, '\\xff'."),
        (b"\x80\x05", "malformed request: Ran out of input"),
        (_bomb(), "request too large (more than 100000 values)"),
    ],
)
def test_refuses(data: bytes, message: str) -> None:
    with pytest.raises(legacy.LegacyError) as info:
        legacy.load_request(data)
    assert str(info.value) == message


class _Upstream(pickle.Unpickler):
    """Loads replies as upstream's client would, with stand-ins for fail2ban's exception classes."""

    class UnknownJailException(KeyError):
        pass

    class DuplicateJailException(Exception):
        pass

    def find_class(self, module: str, name: str) -> Any:
        if module == "fail2ban.exceptions":
            return getattr(self, name)
        return super().find_class(module, name)


def _load(data: bytes) -> Any:
    assert data.endswith(legacy.END)
    return _Upstream(io.BytesIO(data[: -len(legacy.END)])).load()


@pytest.mark.parametrize(
    ("message", "cls", "args"),
    [
        ("Sorry but the jail 'sshd' does not exist", _Upstream.UnknownJailException, ("sshd",)),
        ("The jail 'sshd' already exists", _Upstream.DuplicateJailException, ("sshd",)),
        ("Sorry but the command is invalid", IndexError, ("list index out of range",)),
        ("Invalid command", Exception, ("Invalid command",)),
        ("non-ASCII é ✓", Exception, ("non-ASCII é ✓",)),
    ],
)
def test_error_reply_names_upstreams_class(
    message: str, cls: type[BaseException], args: tuple[str, ...]
) -> None:
    code, exc = _load(legacy.dump_error(message))
    assert code == 1
    assert type(exc) is cls
    assert exc.args == args


def test_ok_reply() -> None:
    assert _load(legacy.dump_reply([("Number of jail", 1)])) == (0, [("Number of jail", 1)])
