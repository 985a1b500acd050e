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
    assert fmt.render_all_status([("a", groups), ("b", groups)]) == "\n".join(
        [fmt.jail_status("a", groups), fmt.jail_status("b", groups)]
    )
    assert fmt.stats_table([("sshd", groups)]) == (
        "Jail | Backend | Failed cur | Failed total | Banned cur | Banned total\n"
        "-----+---------+------------+--------------+------------+-------------\n"
        "sshd |         | 1          | 5            | 1          | 2"
    )
