"""Through the installed `fail2ban-client` against a real `fail2ban-server`: which matching engine each jail's
filter runs on is shown by `get <jail> engine` (text and --json) and in `status <jail> --json`, is the one the
server logs at the jail's start, and the plain `status <jail>` stays upstream's tree, without it."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from daemon_run import Server, append, lines, wait_for, write_config

from banjail.filter import native

pytestmark = pytest.mark.e2e

CLIENT = str(Path(sys.executable).parent / "fail2ban-client")
ATTACKER = "192.0.2.61"
# test: the plain filter (the native engine runs it when built); slow: an ignoreregex, which the native engine
# refuses, so it runs on the python engine and says why.
JAILS = {"test": "test", "slow": "slow"}


@pytest.fixture(scope="module")
def running(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Server, Path]]:
    tmp = tmp_path_factory.mktemp("engine")
    conf = write_config(tmp, maxretry=2)
    (conf / "filter.d" / "slow.conf").write_text(
        "[Definition]\nfailregex = fail from <HOST> port \\d+$\nignoreregex = port 7$\n"
    )
    local = conf / "jail.local"
    local.write_text(
        local.read_text() + f"[slow]\nenabled = true\nfilter = slow\nlogpath = {tmp}/slow.log\naction = rec\n"
    )
    (tmp / "slow.log").touch()
    server = Server(tmp)
    try:
        server.start()
        append(tmp / "test.log", [f"fail from {ATTACKER} port {n}" for n in (1, 2)])
        wait_for(lambda: any(f"ban {ATTACKER}" in line for line in lines(tmp / "rec")), 15, "the ban")
        yield server, tmp
    finally:
        server.stop()


def client(server: Server, *args: str) -> str:
    done = subprocess.run([CLIENT, "-s", server.sock, *args], capture_output=True, text=True, timeout=30, check=False)
    assert done.returncode == 0, done.stderr
    return done.stdout


def logged_engines(tmp: Path) -> dict[str, str]:
    found = re.findall(r"Jail '([^']+)' uses matching engine (.*)", (tmp / "f2b.log").read_text())
    return dict(found)


def test_get_engine_names_the_engine_the_server_logged(running: tuple[Server, Path]) -> None:
    server, tmp = running
    logged = logged_engines(tmp)
    expected_test = f"native ({native.version()})" if native.built() else "python (the native engine is not built)"
    assert logged["test"] == expected_test
    assert logged["slow"].startswith("python (")
    for jail in JAILS:
        assert client(server, "get", jail, "engine") == logged[jail] + "\n"
        assert json.loads(client(server, "get", jail, "engine", "--json")) == {"engine": logged[jail]}


def test_status_json_carries_the_engine_and_the_plain_tree_stays_upstreams(running: tuple[Server, Path]) -> None:
    server, tmp = running
    logged = logged_engines(tmp)
    assert json.loads(client(server, "status", "test", "--json")) == {
        "filter": {"currently_failed": 0, "total_failed": 2, "file_list": [str(tmp / "test.log")]},
        "actions": {"currently_banned": 1, "total_banned": 1, "banned": [ATTACKER]},
        "engine": logged["test"],
    }
    assert json.loads(client(server, "--json", "status", "slow"))["engine"] == logged["slow"]
    assert client(server, "status", "test") == (
        "Status for the jail: test\n"
        "|- Filter\n"
        "|  |- Currently failed:\t0\n"
        "|  |- Total failed:\t2\n"
        f"|  `- File list:\t{tmp / 'test.log'}\n"
        "`- Actions\n"
        "   |- Currently banned:\t1\n"
        "   |- Total banned:\t1\n"
        f"   `- Banned IP list:\t{ATTACKER}\n"
    )


def test_the_clients_help_lists_get_engine(running: tuple[Server, Path]) -> None:
    server, _ = running
    text = client(server, "help")
    start = text.index("    get <JAIL> engine ")
    assert text[start:].splitlines()[:3] == [
        "    get <JAIL> engine                        the matching engine the jail's",
        "                                             filter runs on (native PCRE2, or",
        "                                             python and why)",
    ]
