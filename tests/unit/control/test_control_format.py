"""format.render against upstream's client: every recorded reply prints exactly as upstream printed it."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from banjail.control import format as fmt

UPSTREAM_ROWS: list[dict[str, Any]] = json.loads(
    (Path(__file__).parent / "data" / "upstream_replies.json").read_text()
)
OK_ROWS = [row for row in UPSTREAM_ROWS if row["ok"]]


@pytest.mark.parametrize("row", OK_ROWS, ids=[" ".join(r["argv"]) for r in OK_ROWS])
def test_render_matches_upstream(row: dict[str, Any]) -> None:
    # Values arrive as JSON: upstream's tuples are lists here, which is what banjail's client gets.
    assert fmt.render(row["argv"], row["value"]) + "\n" == row["stdout"]


# Cases the recorded scenario does not reach; expected texts were printed by upstream's Beautifier.
@pytest.mark.parametrize(
    ("argv", "value", "expected"),
    [
        (["stop"], None, "Shutdown successful"),
        (["stop", "sshd"], None, "Jail stopped"),
        (["stop", "--unban"], None, "Shutdown successful"),
        (["start", "sshd"], None, "Jail started"),
        (["add", "sshd", "auto"], "sshd", "Added jail sshd"),
        (["get", "dbfile"], None, "Database currently disabled"),
        (["get", "dbpurgeage"], None, "Database currently disabled"),
        (["set", "dbpurgeage", "1d"], 86400.0, "Current database purge age is:\n`- 86400seconds"),
        (["get", "loglevel"], 20, "Current logging level is 'INFO'"),
        (["get", "sshd", "logpath"], [], "No file is currently monitored"),
        (["get", "sshd", "logpath"], ["/a", "/b"], "Current monitored log file(s):\n|- /a\n`- /b"),
        (
            ["get", "sshd", "journalmatch"],
            [["_COMM=sshd"], ["_SYSTEMD_UNIT=ssh.service", "+", "x"]],
            "Current match filter:\n_COMM=sshd + _SYSTEMD_UNIT=ssh.service + x",
        ),
        (["get", "sshd", "datepattern"], None, "Current date pattern set to: Not set/required"),
        (
            ["get", "sshd", "datepattern"],
            [None, "Default Detectors"],
            "Current date pattern set to: Default Detectors",
        ),
        (["get", "sshd", "actions"], [], "No actions for jail sshd"),
        (["get", "sshd", "actions"], ["a", "b"], "The jail sshd has the following actions:\na, b"),
        (["get", "sshd", "actionmethods", "a"], [], "No methods for jail sshd action a"),
        (["get", "sshd", "banip", "--with-time"], ["1.2.3.4 \tx", "5.6.7.8 \ty"], "1.2.3.4 \tx\n5.6.7.8 \ty"),
        (["get", "sshd", "banip"], [], ""),
        (["set", "sshd", "banip", "1.2.3.4"], 1, "1"),
        (["reload", "--all", [], []], "OK", "OK"),
        (
            ["get", "sshd", "failregex"],
            ["a", "b", "c"],
            "The following regular expression are defined:\n|- [0]: a\n|- [1]: b\n`- [2]: c",
        ),
        (
            ["status", "sshd"],
            [["Filter", []], ["Actions", [["Banned IP list", []]]]],
            "Status for the jail: sshd\n|- Filter\n`- Actions\n   `- Banned IP list:\t",
        ),
        (
            ["status"],
            [["Number of jail", 0], ["Jail list", ""]],
            "Status\n|- Number of jail:\t0\n`- Jail list:\t",
        ),
        (["echo"], [], ""),
    ],
)
def test_render_cases(argv: list[Any], value: Any, expected: str) -> None:
    assert fmt.render(argv, value) == expected


def test_render_unexpected_shape_never_raises() -> None:
    assert fmt.render(["status", "sshd"], 5) == "5"


def test_status_all_and_stats() -> None:
    groups = [
        ["Filter", [["Currently failed", 1], ["Total failed", 5], ["File list", ["/var/log/auth.log"]]]],
        ["Actions", [["Currently banned", 1], ["Total banned", 2], ["Banned IP list", ["10.0.0.1"]]]],
    ]
    # upstream 1.1's layout: the summary, then every jail's tree under "Status for the jails:".
    assert fmt.render(["status", "--all"], [["Number of jail", 2], ["Jail list", "a, b"], {"a": groups, "b": groups}]) == (
        "Status\n|- Number of jail:\t2\n|- Jail list:\ta, b\n`- Status for the jails:\n"
        "   |- Jail: a\n   |  |- Filter\n   |  |  |- Currently failed:\t1\n   |  |  |- Total failed:\t5\n"
        "   |  |  `- File list:\t/var/log/auth.log\n   |  `- Actions\n   |     |- Currently banned:\t1\n"
        "   |     |- Total banned:\t2\n   |     `- Banned IP list:\t10.0.0.1\n"
        "   `- Jail: b\n      |- Filter\n      |  |- Currently failed:\t1\n      |  |- Total failed:\t5\n"
        "      |  `- File list:\t/var/log/auth.log\n      `- Actions\n         |- Currently banned:\t1\n"
        "         |- Total banned:\t2\n         `- Banned IP list:\t10.0.0.1"
    )
    assert fmt.render(["status", "--all"], [["Number of jail", 0], ["Jail list", ""], {}]) == (
        "Status\n|- Number of jail:\t0\n`- Jail list:\t"
    )
    stats = {"sshd": ["polling", [1, 25], [0, 3]], "nginx-http-auth": ["systemd", [0, 0], [12, 1234]]}
    assert fmt.render(["stats"], stats) == "\n".join([
        "                 |          | Filter    | Actions   ",
        " Jail            | Backend  |-----------x------------",
        "                 |          | cur | tot | cur |  tot",
        "-----------------x----------x-----------x------------",
        " sshd            | polling  |   1 |  25 |   0 |    3",
        " nginx-http-auth | systemd  |   0 |   0 |  12 | 1234",
        "-----------------------------------------------------",
    ])
    assert fmt.stats_table({"a": ["polling", [0, 0], [0, 0]]}, utf8=True).splitlines()[1] == (
        " Jail     \u2551 Backend  \u255f" + "\u2500" * 11 + "\u256b" + "\u2500" * 11
    )
    assert fmt.render(["stats"], {}) == "No jails found."
