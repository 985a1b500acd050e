"""Printing failures with -o TOKEN and --json."""

from __future__ import annotations

import json

import pytest

from banjail.cli.failures import formatter, json_line
from banjail.model import Failure

ONE = Failure(
    fid="192.0.2.7",
    ip="192.0.2.7",
    time=1124013599.0,
    lines=("Aug 14 11:59:59 h sshd[1]: Failed password for root from 192.0.2.7",),
    groups=(("user", "root"), ("ip4", "192.0.2.7")),
    lineno=12,
    regex_index=0,
)
SESSION = Failure(
    fid="192.0.2.8", ip="192.0.2.8", time=7.0, lines=("l",), groups=(("users", "alice"), ("users", "bob"))
)
BY_ID = Failure(fid="alice", ip=None, time=5.0, lines=("l1", "l2"), groups=(("fid", "alice"),), lineno=3)


@pytest.mark.parametrize(
    ("token", "failure", "expected"),
    [
        ("id", ONE, ["192.0.2.7"]),
        ("fid", BY_ID, ["alice"]),
        ("ip", ONE, ["192.0.2.7"]),
        ("ip", BY_ID, ["alice"]),
        ("msg", BY_ID, ["l1", "l2"]),
        ("user", ONE, ["root"]),
        ("user", BY_ID, ["None"]),
        ("USER", ONE, ["None"]),  # a name as written, as upstream looks it up
        ("users", ONE, ["None"]),
        ("users", SESSION, ["{'alice', 'bob'}"]),
        ("<ip> <F-USER> <nope>", ONE, ["192.0.2.7 root <nope>"]),
        ("<fid>: <msg>", BY_ID, ["alice: l1", "alice: l2"]),
        ("<ip> <time>", ONE, ["192.0.2.7 1124013599.0"]),
    ],
)
def test_out_tokens(token: str, failure: Failure, expected: list[str]) -> None:
    assert formatter(token)(failure) == expected


def test_json_line() -> None:
    assert json.loads(json_line(ONE)) == {
        "line": 12,
        "id": "192.0.2.7",
        "ip": "192.0.2.7",
        "time": 1124013599.0,
        "groups": {"user": "root", "ip4": "192.0.2.7"},
        "matches": ["Aug 14 11:59:59 h sshd[1]: Failed password for root from 192.0.2.7"],
    }
    assert "\n" not in json_line(BY_ID)
    assert json.loads(json_line(BY_ID))["ip"] is None
