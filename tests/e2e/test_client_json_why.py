"""Through the installed `fail2ban-client` against a running `fail2ban-server`: `--json` gives objects for every
read command (the README's table), and `why <ip>` shows the evidence of a real ban, the failures of an address
below maxretry and the rule that ignores another."""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from daemon_run import Server, append, lines, wait_for, write_config

pytestmark = pytest.mark.e2e

CLIENT = str(Path(sys.executable).parent / "fail2ban-client")
BANJAIL = str(Path(sys.executable).parent / "banjail")
ATTACKER, SLOW, TRUSTED = "192.0.2.54", "192.0.2.99", "10.1.2.3"


@pytest.fixture(scope="module")
def running(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Server, Path]]:
    tmp = tmp_path_factory.mktemp("jsonwhy")
    conf = write_config(tmp, maxretry=3)
    local = conf / "jail.local"
    local.write_text(local.read_text() + "ignoreip = 10.1.0.0/16\n")
    server = Server(tmp)
    try:
        server.start()
        log = tmp / "test.log"
        append(log, [f"fail from {ATTACKER} port {n}" for n in (1, 2, 3)])
        append(log, [f"fail from {SLOW} port 7", f"fail from {TRUSTED} port 8"])
        wait_for(
            lambda: any(line.startswith(f"ban {ATTACKER}") for line in lines(tmp / "rec")), 15, "the ban"
        )
        wait_for(lambda: server.ask("status", "test")[0][1][1][1] == 4, 15, "four counted failures")  # type: ignore[index]
        yield server, tmp
    finally:
        server.stop()


def client(server: Server, *args: str, program: str = CLIENT) -> Any:
    # `banjail why -s SOCKET IP` takes the client's options after its subcommand
    argv = (
        [program, "-s", server.sock, *args]
        if program == CLIENT
        else [program, args[0], "-s", server.sock, *args[1:]]
    )
    done = subprocess.run(argv, capture_output=True, text=True, timeout=30, check=False)
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout) if "--json" in args else done.stdout


def test_json_shapes_of_the_read_commands(running: tuple[Server, Path]) -> None:
    server, tmp = running
    log = str(tmp / "test.log")
    jail = {
        "filter": {"currently_failed": 1, "total_failed": 4, "file_list": [log]},
        "actions": {"currently_banned": 1, "total_banned": 1, "banned": [ATTACKER]},
    }
    cases: list[tuple[list[str], object]] = [
        (["status"], {"jails": ["test"]}),
        (["status", "test"], {**jail, "engine": server.ask("get", "test", "engine")}),
        (["status", "--all"], {"jails": {"test": jail}}),
        (
            ["stats"],
            {
                "jails": {
                    "test": {
                        "backend": server.ask("stats")["test"][0],  # type: ignore[index]
                        "filter": {"currently_failed": 1, "total_failed": 4},
                        "actions": {"currently_banned": 1, "total_banned": 1},
                    }
                }
            },
        ),
        (["ping"], {"reply": "pong"}),
        (["echo", "a", "b c"], {"echo": ["a", "b c"]}),
        (["version"], {"version": "1.0.2"}),
        (["banned"], {"banned": {"test": [ATTACKER]}}),
        (["banned", ATTACKER, SLOW], {"banned": {ATTACKER: ["test"], SLOW: []}}),
        (["get", "test", "banned"], {"banned": [ATTACKER]}),
        (["get", "test", "banned", ATTACKER, SLOW], {"banned": {ATTACKER: True, SLOW: False}}),
        (["get", "test", "maxretry"], {"maxretry": 3}),
        (["get", "test", "findtime"], {"findtime": 3600}),
        (["get", "test", "failregex"], {"failregex": server.ask("get", "test", "failregex")}),
        (["get", "test", "logpath"], {"logpath": [log]}),
        (["get", "test", "actions"], {"actions": ["rec"]}),
        (["get", "test", "banprefix6"], {"banprefix6": 128}),
        (["get", "loglevel"], {"loglevel": "INFO"}),
        (["get", "dbfile"], {"dbfile": str(tmp / "f2b.sqlite3")}),
    ]
    for argv, expected in cases:
        assert (argv, client(server, "--json", *argv)) == (argv, expected)
        assert (argv, client(server, *argv, "--json")) == (argv, expected)  # trailing --json too


def test_why_a_banned_address_shows_the_lines_the_regex_the_limits_and_the_ban(
    running: tuple[Server, Path],
) -> None:
    server, tmp = running
    why = client(server, "why", ATTACKER, "--json")
    assert (why["address"], why["banned_in"]) == (ATTACKER, ["test"])
    (jail,) = why["jails"]
    assert (jail["jail"], jail["filter"]["name"], jail["findtime"], jail["maxretry"]) == (
        "test",
        "test",
        3600.0,
        3,
    )
    assert jail["verdict"].startswith(f"banned as {ATTACKER} until ")
    (ban,) = jail["bans"]
    assert [(f["source"], f["failregex"], f["lines"], f["in_window"]) for f in ban["failures"]] == [
        (
            str(tmp / "test.log"),
            {"index": 0, "text": "fail from <HOST> port \\d+$"},
            [f"fail from {ATTACKER} port {n}"],
            True,
        )
        for n in (1, 2, 3)
    ]
    assert ban["window"]["maxretry"] == 3 and ban["failures_counted"] == 3
    assert ban["bantime"] == {
        "seconds": 3600.0,
        "count": 1,
        "follows_bantime": True,
        "base": 3600.0,
        "increment": False,
        "how": "bantime (bantime.increment is off)",
    }
    assert jail["ignore"] == {
        "ignoreself": False,
        "ignoreip": ["10.1.0.0/16"],
        "ignorecommand": None,
        "matched": None,
    }
    assert ban["origin"] is None
    text = client(server, "why", ATTACKER, program=BANJAIL)
    print(text)  # for -s: the report a user reads
    assert f"[test] banned as {ATTACKER} until" in text
    assert "failregex [0]: fail from <HOST> port \\d+$" in text
    assert f"| fail from {ATTACKER} port 2" in text


@pytest.mark.parametrize(
    ("address", "verdict"),
    [
        (SLOW, f"not banned: {SLOW} has 1 of maxretry 3 failures within findtime 3600 s"),
        (TRUSTED, "not banned: ignored by ip 10.1.0.0/16"),
        ("198.51.100.1", "not banned: no failure counted within findtime 3600 s"),
    ],
)
def test_why_an_address_that_is_not_banned(running: tuple[Server, Path], address: str, verdict: str) -> None:
    server, _ = running
    (jail,) = client(server, "why", address, "--json")["jails"]
    assert (jail["verdict"], jail["banned_now"], jail["bans"]) == (verdict, False, [])
