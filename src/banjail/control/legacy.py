"""Upstream fail2ban's socket framing, so that Debian's own `fail2ban-client` can drive banjail's server.

A request is a pickled list followed by END; a lone CLOSE followed by END ends the conversation. The reply is a
pickled `(code, value)`: code 0 and the command's value, or code 1 and an exception whose text is the message.

Pickle runs code by design, so requests are loaded with `RestrictedUnpickler`: it refuses every global (no class,
no function can be named), and the result must be plain data (lists, tuples, dicts of str, int, float, bool,
None) with a bounded number of nodes, so shared references cannot blow up the work done on it.
"""

from __future__ import annotations

import io
import pickle
import re
import struct
from typing import Any, NoReturn

from banjail.control import nesting

END = b"<F2B_END_COMMAND>"
CLOSE = b"<F2B_CLOSE_COMMAND>"
MAX_NODES = 100_000  # values in one request; upstream's largest (a reload stream) has a few thousand


class LegacyError(ValueError):
    """A request is not an acceptable pickled command; the message says why."""


class RestrictedUnpickler(pickle.Unpickler):
    """An Unpickler that can only build plain containers and scalars: every global lookup is refused."""

    def find_class(self, module: str, name: str) -> NoReturn:
        raise LegacyError(f"refused to load {module}.{name}: only lists of strings and numbers are accepted")

    def persistent_load(self, pid: Any) -> NoReturn:
        raise LegacyError("refused a persistent id")


_SCALARS = (str, int, float, bool, type(None))


def _check(value: object) -> None:
    # Iterative walk with a node budget: a pickle memo can make one list appear many times over. The unpickler
    # builds any depth without recursion, but what handles the request afterwards may recurse: bound it here.
    budget = MAX_NODES
    stack: list[tuple[object, int]] = [(value, 0)]
    while stack:
        item, depth = stack.pop()
        budget -= 1
        if budget < 0:
            raise LegacyError(f"request too large (more than {MAX_NODES} values)")
        if isinstance(item, _SCALARS):
            continue
        if depth >= nesting.MAX_DEPTH:
            raise LegacyError(nesting.TOO_DEEP)
        if isinstance(item, list | tuple):
            stack.extend((child, depth + 1) for child in item)
        elif isinstance(item, dict):
            for key, val in item.items():
                stack.append((key, depth + 1))
                stack.append((val, depth + 1))
        else:
            raise LegacyError(f"refused a value of type {type(item).__name__}")


def load_request(data: bytes) -> list[Any]:
    """Decode one request frame (without END). Raises LegacyError unless it is a list of plain data."""
    try:
        value = RestrictedUnpickler(io.BytesIO(data)).load()
    except LegacyError:
        raise
    except Exception as exc:  # a malformed pickle raises many kinds; all mean "not a request"
        raise LegacyError(f"malformed request: {exc}") from None
    _check(value)
    if not isinstance(value, list | tuple) or not value:
        raise LegacyError("a request must be a non-empty list")
    return list(value)


def dump_reply(value: object) -> bytes:
    """Encode a successful reply `(0, value)`, followed by END."""
    return pickle.dumps((0, value), pickle.HIGHEST_PROTOCOL) + END


# Upstream's client prints three error kinds in its own words, chosen by the exception's class; any other
# exception is printed as its text. Error messages name them in the same words, so the class is recovered here.
_UNKNOWN_JAIL = re.compile(r"Sorry but the jail '(.*)' does not exist\Z", re.S)
_DUPLICATE_JAIL = re.compile(r"The jail '(.*)' already exists\Z", re.S)
_INVALID = "Sorry but the command is invalid"


def _error_class(message: str) -> tuple[str, str, str]:
    """(module, class, argument) of the exception upstream's client expects for `message`."""
    m = _UNKNOWN_JAIL.match(message)
    if m:
        return "fail2ban.exceptions", "UnknownJailException", m.group(1)
    m = _DUPLICATE_JAIL.match(message)
    if m:
        return "fail2ban.exceptions", "DuplicateJailException", m.group(1)
    if message == _INVALID:
        return "builtins", "IndexError", "list index out of range"
    return "builtins", "Exception", message


def dump_error(message: str) -> bytes:
    """Encode a failed reply `(1, exception)`, followed by END.

    The exception is written as pickle opcodes naming upstream's class (protocol 2: GLOBAL, the message as the
    only argument, REDUCE), so banjail itself never has to import fail2ban to produce it.
    """
    module, name, arg = _error_class(message)
    text = arg.encode("utf-8", "surrogatepass")
    body = (
        b"\x80\x02"  # PROTO 2
        + b"K\x01"  # BININT1 1: the error code
        + b"c"
        + module.encode()
        + b"\n"
        + name.encode()
        + b"\n"  # GLOBAL
        + b"X"
        + struct.pack("<I", len(text))
        + text  # BINUNICODE
        + b"\x85"  # TUPLE1: the exception's args
        + b"R"  # REDUCE: class(*args)
        + b"\x86"  # TUPLE2: (code, exception)
        + b"."  # STOP
    )
    return body + END


def dump_request(argv: list[Any]) -> bytes:
    """Encode a request as upstream's client does (used by tests and by banjail's client in legacy mode)."""
    return pickle.dumps(argv, pickle.HIGHEST_PROTOCOL) + END
