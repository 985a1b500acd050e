"""Controller.dispatch: every command's reply value in upstream's shape, and its error messages."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

import pytest
import test_daemon_regexview
from daemon_harness import START, Harness, fresh_replies, jail_config, run

A, B, C = "192.0.2.1", "192.0.2.2", "198.51.100.3"
HOST = test_daemon_regexview.HOST  # <HOST> as upstream's server reports it


def dispatch_all(tmp: Path, commands: list[list[Any]], jails: Any = None) -> list[object]:
    """Run commands in order on a fresh daemon (jails `test` and `web`); the last command's reply is the one
    tested, earlier ones set the scene."""

    return fresh_replies(tmp, commands, jails or [jail_config(), jail_config("web")])


CASES: list[tuple[str, list[list[Any]], object]] = [
    ("ping", [["ping"]], "pong"),
    ("version", [["version"]], "1.0.2"),
    ("echo", [["echo", "a", "b"]], ["a", "b"]),
    ("server-status", [["server-status"]], "Server ready"),
    ("status", [["status"]], [("Number of jail", 2), ("Jail list", "test, web")]),
    (
        "status jail",
        [["set", "test", "banip", A], ["status", "test"]],
        [
            ("Filter", [("Currently failed", 0), ("Total failed", 0), ("File list", ["/log/test"])]),
            ("Actions", [("Currently banned", 1), ("Total banned", 1), ("Banned IP list", [A])]),
        ],
    ),
    (
        "status jail short",
        [["set", "test", "banip", A], ["status", "test", "short"]],
        [
            ("Filter", [("Currently failed", 0), ("Total failed", 0), ("File list", ["/log/test"])]),
            ("Actions", [("Currently banned", 1), ("Total banned", 1)]),
        ],
    ),
    (
        "status --all",
        [["status", "--all"]],
        [
            ("Number of jail", 2),
            ("Jail list", "test, web"),
            {
                "test": [
                    ("Filter", [("Currently failed", 0), ("Total failed", 0), ("File list", ["/log/test"])]),
                    ("Actions", [("Currently banned", 0), ("Total banned", 0), ("Banned IP list", [])]),
                ],
                "web": [
                    ("Filter", [("Currently failed", 0), ("Total failed", 0), ("File list", ["/log/web"])]),
                    ("Actions", [("Currently banned", 0), ("Total banned", 0), ("Banned IP list", [])]),
                ],
            },
        ],
    ),
    (
        "stats",
        [["set", "web", "attempt", C], ["stats"]],
        {"test": ["auto", [0, 0], [0, 0]], "web": ["auto", [1, 1], [0, 0]]},
    ),
    ("banip count", [["set", "test", "banip", A, B]], 2),
    ("banip again", [["set", "test", "banip", A], ["set", "test", "banip", A]], 0),
    ("banned all", [["set", "test", "banip", A], ["banned"]], [{"test": [A]}, {"web": []}]),
    ("banned ips", [["set", "test", "banip", A], ["banned", A, C]], [["test"], []]),
    ("get banned one", [["set", "test", "banip", A], ["get", "test", "banned", A]], 1),
    ("get banned many", [["set", "test", "banip", A], ["get", "test", "banned", A, B]], [1, 0]),
    ("unbanip", [["set", "test", "banip", A, B], ["set", "test", "unbanip", A]], 1),
    ("unbanip cidr", [["set", "test", "banip", A, B, C], ["set", "test", "unbanip", "192.0.2.0/24"]], 2),
    ("unbanip absent", [["set", "test", "unbanip", C]], 0),
    (
        "unbanip --report-absent",
        [["set", "test", "unbanip", "--report-absent", C]],
        ("error", "not banned: ['198.51.100.3']"),
    ),
    (
        "unbanip --fleet without a fleet",
        [["set", "test", "banip", A], ["set", "test", "unbanip", "--fleet", A]],
        ("error", "unbanip --fleet: this server is in no fleet (no [fleet] section in fail2ban.local)"),
    ),
    (
        "unbanip ip --report-absent",
        [["set", "test", "banip", A], ["set", "test", "unbanip", A, "--report-absent"]],
        1,
    ),
    ("unban --all", [["set", "test", "banip", A], ["set", "web", "banip", B, C], ["unban", "--all"]], 3),
    ("unban ips", [["set", "test", "banip", A], ["set", "web", "banip", A], ["unban", A, C]], 2),
    ("attempt", [["set", "test", "attempt", C, "line one", "line two"]], 1),
    ("attempt bans", [["set", "test", "attempt", C, "l1", "l2", "l3"], ["get", "test", "banip"]], [C]),
    ("get maxretry", [["get", "test", "maxretry"]], 3),
    ("set maxretry", [["set", "test", "maxretry", "9"]], 9),
    ("set findtime", [["set", "test", "findtime", "1h"]], 3600),
    ("set bantime", [["set", "test", "bantime", "1d"]], 86400),
    ("get bantime", [["get", "test", "bantime"]], 600),
    ("set maxmatches", [["set", "test", "maxmatches", "2"]], 2),
    ("bantime.increment", [["set", "test", "bantime.increment", "true"]], True),
    ("bantime.factor", [["set", "test", "bantime.factor", "2"]], 2),
    (
        "bantime.maxtime",
        [["set", "test", "bantime.maxtime", "5w"], ["get", "test", "bantime.maxtime"]],
        3024000,
    ),
    ("addignoreip", [["set", "test", "addignoreip", "10.0.0.0/8", A]], ["10.0.0.0/8", A]),
    ("delignoreip", [["set", "test", "addignoreip", A, B], ["set", "test", "delignoreip", A]], [B]),
    ("ignoreself", [["set", "test", "ignoreself", "true"]], True),
    ("get ignoreself", [["get", "test", "ignoreself"]], False),
    ("ignorecommand", [["set", "test", "ignorecommand", "/bin/false"]], "/bin/false"),
    ("get failregex", [["get", "test", "failregex"]], [f"^fail from {HOST}$"]),
    (
        "addfailregex",
        [["set", "test", "addfailregex", "^bad <HOST>$"]],
        [f"^fail from {HOST}$", f"^bad {HOST}$"],
    ),
    ("get prefregex", [["get", "test", "prefregex"]], ""),
    ("prefregex", [["set", "test", "prefregex", "^<F-CONTENT>.+</F-CONTENT>$"]], "^(?P<content>.+)$"),
    ("delfailregex", [["set", "test", "delfailregex", "0"]], []),
    ("addignoreregex", [["set", "test", "addignoreregex", "^x$"]], ["^x$"]),
    ("get ignoreregex", [["get", "test", "ignoreregex"]], []),
    ("usedns", [["set", "test", "usedns", "no"]], "no"),
    ("maxlines", [["set", "test", "maxlines", "3"]], 3),
    ("datepattern default", [["get", "test", "datepattern"]], (None, "Default Detectors")),
    ("logpath", [["get", "test", "logpath"]], ["/log/test"]),
    ("addlogpath", [["set", "test", "addlogpath", "/log/more", "tail"]], ["/log/test", "/log/more"]),
    ("dellogpath", [["set", "test", "dellogpath", "/log/test"]], []),
    ("logencoding", [["get", "test", "logencoding"]], "UTF-8"),
    ("actions", [["get", "test", "actions"]], ["rec"]),
    ("action property", [["get", "test", "action", "rec", "actionban"]], "echo <ip>"),
    ("set action property", [["set", "test", "action", "rec", "actionban", "true"]], "true"),
    ("actionproperties", [["get", "test", "actionproperties", "rec"]], ["actionban"]),
    ("get banip --with-time", [["set", "test", "banip", A], ["get", "test", "banip", "--with-time"]], None),
    ("loglevel", [["set", "loglevel", "notice"], ["get", "loglevel"]], "NOTICE"),
    ("dbpurgeage", [["set", "dbpurgeage", "2d"]], 172800),
    ("dbmaxmatches", [["set", "dbmaxmatches", "3"], ["get", "dbmaxmatches"]], 3),
    ("stop jail", [["stop", "web"], ["status"]], [("Number of jail", 1), ("Jail list", "test")]),
    ("add jail", [["add", "new"], ["status"]], [("Number of jail", 3), ("Jail list", "new, test, web")]),
    ("stop --all", [["stop", "--all"], ["status"]], [("Number of jail", 0), ("Jail list", "")]),
    # Errors carry what upstream's client prints.
    ("unknown jail", [["status", "nope"]], ("error", "Sorry but the jail 'nope' does not exist")),
    (
        "unknown jail set",
        [["set", "nope", "banip", A]],
        ("error", "Sorry but the jail 'nope' does not exist"),
    ),
    ("invalid command", [["frobnicate"]], ("error", "Invalid command")),
    ("missing argument", [["set", "test"]], ("error", "Sorry but the command is invalid")),
    ("duplicate jail", [["add", "test"]], ("error", "The jail 'test' already exists")),
    ("bad loglevel", [["set", "loglevel", "LOUD"]], None),
    (
        "bad get",
        [["get", "test", "nonsense"]],
        ("error", "Invalid command (no get action or not yet implemented)"),
    ),
    (
        "bad regex index",
        [["set", "test", "delfailregex", "5"]],
        ("error", "Cannot remove regular expression. Index 5 is not valid"),
    ),
]


@pytest.mark.parametrize(("label", "commands", "expected"), CASES, ids=[c[0] for c in CASES])
def test_reply(tmp_path: Path, label: str, commands: list[list[Any]], expected: object) -> None:
    reply = dispatch_all(tmp_path, commands)[-1]
    if label == "get banip --with-time":
        import time

        start = time.strftime("%Y-%m-%d %H:%M:%S", time.localtime(START))
        end = time.strftime("%Y-%m-%d %H:%M:%S", time.localtime(START + 600))
        assert reply == [f"{A} \t{start} + 600 = {end}"]
    elif label == "bad loglevel":
        assert (
            isinstance(reply, tuple) and reply[0] == "error" and "Invalid log level 'LOUD'" in str(reply[1])
        )
    else:
        assert reply == expected


def test_manual_unban_deletes_from_store_expiry_does_not(tmp_path: Path) -> None:
    async def scenario() -> tuple[int, int]:
        h = Harness(tmp_path, [jail_config()])
        await h.daemon.start()
        await h.controller.dispatch(["set", "test", "banip", A, B])
        await h.controller.dispatch(["set", "test", "unbanip", A])
        await h.settle()
        store = h.daemon.store
        counts = (store.ban_count(A, "test"), store.ban_count(B, "test"))
        await h.daemon.stop()
        return counts

    assert run(scenario()) == (0, 1)


def test_stop_schedules_the_daemon_stop_after_reply(tmp_path: Path) -> None:
    async def scenario() -> bool:
        h = Harness(tmp_path, [jail_config()])
        h.controller.stop_after_reply = True
        await h.daemon.start()
        assert await h.controller.dispatch(["stop"]) is None
        assert not h.daemon.stopping
        import asyncio

        await asyncio.wait_for(h.daemon.wait_stopped(), 5)
        return h.daemon.stopping

    assert run(scenario()) is True


def test_stop_unban_lifts_every_ban_before_the_stop(tmp_path: Path) -> None:
    async def scenario() -> tuple[list[tuple[str, ...]], list[object]]:
        h = Harness(tmp_path, [jail_config()])
        h.controller.stop_after_reply = True
        await h.daemon.start()
        await h.controller.dispatch(["set", "test", "banip", A])
        await h.settle()
        assert await h.controller.dispatch(["stop", "--unban"]) is None
        await asyncio.wait_for(h.daemon.wait_stopped(), 5)
        again = Harness(tmp_path, [jail_config()])
        await again.daemon.start()
        await again.settle()
        restored = list(again.daemon.jails["test"].state.book.banned())
        await again.daemon.stop()
        return h.recorder.of("unban"), restored

    unbans, restored = run(scenario())
    assert (unbans, restored) == ([(A,)], [])


def test_bantime_increment_uses_the_stores_history(tmp_path: Path) -> None:
    async def scenario() -> list[float | None]:
        h = Harness(tmp_path, [jail_config(bantime_increment=True)])
        await h.daemon.start()
        ends = []
        for _ in range(3):
            await h.controller.dispatch(["set", "test", "banip", A])
            await h.settle()
            ban = h.daemon.jails["test"].state.book.get(A)
            assert ban is not None
            ends.append(ban.bantime)
            h.clock.advance(ban.bantime + 1)
            await h.daemon.tick(h.clock.now())
            await h.settle()
        await h.daemon.stop()
        return ends

    # Upstream's default formula: bantime * 2**(count-1) (factor 1).
    assert run(scenario()) == [600, 1200, 2400]
