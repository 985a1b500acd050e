"""Issue 14 item 8: deeply nested requests on a real fail2ban-server's socket get an error reply, and the server
keeps serving. Before the fix a JSON request 100k levels deep raised RecursionError in the server and the
connection closed without a reply.

Requests are generated: nestings of arrays, objects and both mixed, around the command or beside it, with
brackets inside strings (which do not count), at depths around the limit and far beyond it; the pickle framing
(upstream's client) gets the same treatment with a pickle built opcode by opcode (pickle.dumps itself recurses)."""

from __future__ import annotations

import json
import pickle
import random
import socket
from collections.abc import Iterator

import pytest
from daemon_run import Server, write_config

from banjail.control import legacy
from banjail.control.nesting import MAX_DEPTH

SHAPES = ("array", "object", "mixed")
ERROR = f"request nested more than {MAX_DEPTH} levels deep (arrays and objects inside one another)"
DEPTHS = (1, MAX_DEPTH - 1, MAX_DEPTH, MAX_DEPTH + 1, 1000, 100_000)


def _nest(value: str, levels: int, shape: str, rng: random.Random) -> str:
    """`value` inside `levels` containers of `shape`, with decoy brackets in the strings."""
    opened: list[str] = []
    for _ in range(levels):
        kind = shape if shape != "mixed" else rng.choice(("array", "object"))
        opened.append("]" if kind == "array" else "}")
    head = "".join("[" if close == "]" else '{"[{k":' for close in opened)
    return head + value + "".join(reversed(opened))


def _requests(seed: int) -> Iterator[tuple[str, int, bytes]]:
    """(description, JSON depth of the whole request, request line)."""
    rng = random.Random(seed)
    for shape in SHAPES:
        for depth in DEPTHS:
            # around the command: {"v": 1, "cmd": NEST} is depth + 1 levels (the outer object)
            inner = _nest('"x[[{"', depth - 1, shape, rng)
            yield f"cmd {shape} {depth}", depth + 1, f'{{"v": 1, "cmd": [{inner}]}}\n'.encode()
            # beside the command
            side = _nest('"]]"', depth, shape, rng)
            yield f"beside {shape} {depth}", depth + 1, f'{{"v": 1, "cmd": ["ping"], "x": {side}}}\n'.encode()


def _ask(sock_path: str, data: bytes, until: bytes) -> bytes:
    with socket.socket(socket.AF_UNIX) as sock:
        sock.settimeout(20)
        sock.connect(sock_path)
        sock.sendall(data)
        got = b""
        while not got.endswith(until):
            chunk = sock.recv(65536)
            if not chunk:
                break
            got += chunk
        return got


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    tmp = tmp_path_factory.mktemp("nesting")
    write_config(tmp)
    running = Server(tmp)
    try:
        yield running.start()
    finally:
        running.stop()


@pytest.mark.parametrize("seed", [1, 2])
def test_json_nesting_is_bounded_with_an_error_reply(server: Server, seed: int) -> None:
    for what, depth, line in _requests(seed):
        reply = _ask(server.sock, line, b"\n")
        assert reply, f"{what}: the connection closed without a reply"
        value = json.loads(reply)
        if depth > MAX_DEPTH:
            assert value == {"v": 1, "ok": False, "error": ERROR}, what
        elif what.startswith("beside"):
            assert value == {"v": 1, "ok": True, "value": "pong"}, what
        else:
            assert value == {"v": 1, "ok": False, "error": "Invalid command"}, what
    assert server.ask("ping") == "pong"


def _pickled_nest(levels: int) -> bytes:
    """A protocol-2 pickle of ["ping"] inside `levels - 1` more lists, written opcode by opcode."""
    text = b"X\x04\x00\x00\x00ping"  # BINUNICODE "ping"
    return b"\x80\x02" + b"]" * levels + text + b"a" * levels + b"."


@pytest.mark.parametrize("levels", DEPTHS)
def test_pickle_nesting_is_bounded_with_an_error_reply(server: Server, levels: int) -> None:
    reply = _ask(server.sock, _pickled_nest(levels) + legacy.END, legacy.END)
    assert reply, "the connection closed without a reply"
    code, value = pickle.loads(reply[: -len(legacy.END)])
    if levels > MAX_DEPTH:
        assert (code, value.args) == (1, (ERROR,))
    elif levels == 1:
        assert (code, value) == (0, "pong")
    else:
        assert (code, str(value)) == (1, "Invalid command")
    assert server.ask("ping") == "pong"
