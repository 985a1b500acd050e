"""config_stream on hand-built configurations: upstream's value types and ordering rules, exact commands (the
comparison with upstream's own client is tests/unit/cli/test_dump_compat.py)."""

from __future__ import annotations

from typing import Any

import pytest

from banjail.config.schema import ActionSpec, Config, JailConfig, ServerConfig
from banjail.control.stream import config_stream

SERVER = [
    ["set", "syslogsocket", "auto"],
    ["set", "loglevel", "INFO"],
    ["set", "logtarget", "/var/log/fail2ban.log"],
    ["set", "allowipv6", "auto"],
    ["set", "dbfile", "/var/lib/fail2ban/fail2ban.sqlite3"],
    ["set", "dbpurgeage", "1d"],
]


def _no_files(pattern: str) -> list[str]:
    return []


@pytest.mark.parametrize(
    ("server", "overrides", "want"),
    [
        (ServerConfig(), {}, SERVER),
        (
            ServerConfig(
                texts=(("dbpurgeage", "2d"), ("dbmaxmatches", "7"), ("loglevel", "DEBUG")), stacksize="64"
            ),
            {"loglevel": "NOTICE"},
            [
                ["set", "thread", {"stacksize": 64}],
                SERVER[0],
                ["set", "loglevel", "NOTICE"],
                *SERVER[2:5],
                ["set", "dbmaxmatches", 7],
                ["set", "dbpurgeage", "2d"],
            ],
        ),
        (
            ServerConfig(texts=(("dbmaxmatches", "many"),)),
            {},
            [*SERVER[:5], ["set", "dbmaxmatches", None], SERVER[5]],
        ),
    ],
    ids=["defaults", "as written, command line wins, thread first", "bad number goes as None"],
)
def test_server_options(server: ServerConfig, overrides: dict[str, str], want: list[list[Any]]) -> None:
    assert config_stream(Config(server), overrides, _no_files) == want


J = "j"
CASES: list[tuple[str, JailConfig, list[list[Any]]]] = [
    (
        "filter options: usedns first, prefregex/maxlines next, the rest in order; jail's after the filter's",
        JailConfig(
            J,
            filter_options=(
                ("failregex", "^a\n^b"),
                ("prefregex", "^p"),
                ("datepattern", "x\ny"),
                ("maxlines", "2"),
            ),
            options={
                "backend": "polling",
                "usedns": "no",
                "failregex": "^c",
                "journalmatch": '_A=1 + "B=x y"\n\nC=2',
            },
        ),
        [
            ["add", J, "polling"],
            ["set", J, "usedns", "no"],
            ["set", J, "prefregex", "^p"],
            ["set", J, "maxlines", 2],
            ["multi-set", J, "addfailregex", ["^a", "^b"]],
            ["set", J, "datepattern", "x\ny"],
            ["set", J, "addfailregex", "^c"],
            ["set", J, "addjournalmatch", "_A=1", "+", "B=x y"],
            ["set", J, "addjournalmatch", "C=2"],
        ],
    ),
    (
        "jail options typed as upstream's reader, ignoreip split into words, logpath last",
        JailConfig(
            J,
            options={
                "enabled": "true",
                "maxretry": "3",
                "bantime": "1h",
                "bantime.increment": "maybe",
                "ignoreself": "On",
                "ignoreip": "1.2.3.4, ::1\n 10.0.0.0/8",
                "filter": "x",
                "logpath": "/a\n/b tail",
                "action": "y",
            },
        ),
        [
            ["add", J, "auto"],
            ["set", J, "maxretry", 3],
            ["set", J, "bantime", "1h"],
            ["set", J, "bantime.increment", False],
            ["set", J, "ignoreself", True],
            ["set", J, "addignoreip", "1.2.3.4", "::1", "10.0.0.0/8"],
            ["set", J, "addlogpath", "/a", "head"],
            ["set", J, "addlogpath", "/b", "tail"],
        ],
    ),
    (
        "no log paths for a systemd backend",
        JailConfig(J, options={"backend": "systemd-journal", "logpath": "/a"}),
        [["add", J, "systemd-journal"]],
    ),
    (
        "actions: one option as `set`, several as `multi-set`, booleans typed, a .py action as JSON",
        JailConfig(
            J,
            action_specs=(
                ActionSpec("a", "", sent=(("norestored", "yes"),)),
                ActionSpec("b", "", sent=(("actionban", "x <ip>"), ("port", "<known/port>"))),
                ActionSpec("c", "/e/action.d/c.py", python=True, sent=(("k", "v"),)),
                ActionSpec("d", ""),
            ),
        ),
        [
            ["add", J, "auto"],
            ["set", J, "addaction", "a"],
            ["set", J, "action", "a", "norestored", True],
            ["set", J, "addaction", "b"],
            ["multi-set", J, "action", "b", [["actionban", "x <ip>"], ["port", "<known/port>"]]],
            ["set", J, "addaction", "c", "/e/action.d/c.py", '{"k": "v"}'],
            ["set", J, "addaction", "d"],
        ],
    ),
]


@pytest.mark.parametrize(("jail", "want"), [pytest.param(j, w, id=n) for n, j, w in CASES])
def test_jail_commands(jail: JailConfig, want: list[list[Any]]) -> None:
    stream = config_stream(Config(jails=(jail,)), expand=lambda pattern: [pattern])
    assert stream[len(SERVER) :] == [*want, ["start", J]]


def test_broken_jail_is_a_config_error_and_not_started() -> None:
    jails = (JailConfig("bad", error="Unable to read the filter 'nope'"), JailConfig("good"))
    assert config_stream(Config(jails=jails), expand=_no_files)[len(SERVER) :] == [
        [
            "config-error",
            "Jail 'bad' skipped, because of wrong configuration: Unable to read the filter 'nope'",
        ],
        ["add", "good", "auto"],
        ["start", "good"],
    ]
