"""`set <jail> addaction` / `delaction` at run time: upstream's replies and errors, the action queue (the new action
starts and takes later bans; a removed one stops and takes none), and real command and Python actions built by
the server's ActionBuilder."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from daemon_harness import Harness, fresh_replies, jail_config, run
from daemon_harness import replies as dispatch_replies

from banjail.daemon.wiring import ActionBuilder

A, B = "192.0.2.1", "192.0.2.2"
INVALID = "Sorry but the command is invalid"


def replies_of(tmp: Path, commands: list[list[Any]], *, builder: ActionBuilder | None = None) -> list[object]:
    def prepare(h: Harness) -> None:
        if builder is not None:
            builder.bind(h.daemon)
            h.daemon._build_action = builder.one

    return fresh_replies(tmp, commands, prepare=prepare)


CASES: list[tuple[str, list[list[Any]], object]] = [
    ("addaction", [["set", "test", "addaction", "rec2"]], "rec2"),
    ("listed", [["set", "test", "addaction", "rec2"], ["get", "test", "actions"]], ["rec", "rec2"]),
    ("twice", [["set", "test", "addaction", "rec2"]] * 2, ("error", "Action rec2 already exists")),
    ("configured one", [["set", "test", "addaction", "rec"]], ("error", "Action rec already exists")),
    ("no name", [["set", "test", "addaction"]], ("error", INVALID)),
    ("file without arguments", [["set", "test", "addaction", "py", "/x.py"]], ("error", INVALID)),
    (
        "arguments not JSON",
        [["set", "test", "addaction", "py", "/x.py", "notjson"]],
        ("error", "Expecting value: line 1 column 1 (char 0)"),
    ),
    (
        "arguments not an object",
        [["set", "test", "addaction", "py", "/x.py", "[1]"]],
        ("error", "the arguments of action 'py' must be a JSON object, not '[1]' (e.g. '{\"port\": \"22\"}')"),
    ),
    (
        "missing file",
        [["set", "test", "addaction", "py", "/nonexistent/x.py", "{}"]],
        ("error", "[Errno 2] No such file or directory: '/nonexistent/x.py'"),
    ),
    ("delaction", [["set", "test", "delaction", "rec"]], None),
    ("gone", [["set", "test", "delaction", "rec"], ["get", "test", "actions"]], []),
    ("delaction unknown", [["set", "test", "delaction", "x"]], ("error", "'Invalid Action name: x'")),
    ("delaction no name", [["set", "test", "delaction"]], ("error", INVALID)),
    ("get action unknown", [["get", "test", "action", "x", "actionban"]], ("error", "'Invalid Action name: x'")),
    ("set action unknown", [["set", "test", "action", "x", "actionban", "y"]], ("error", "'Invalid Action name: x'")),
    ("properties unknown", [["get", "test", "actionproperties", "x"]], ("error", "'Invalid Action name: x'")),
    (
        "property of an added action",
        [["set", "test", "addaction", "rec2"], ["get", "test", "action", "rec2", "actionban"]],
        "echo <ip>",
    ),
]


@pytest.mark.parametrize(("label", "commands", "expected"), CASES, ids=[c[0] for c in CASES])
def test_reply(tmp_path: Path, label: str, commands: list[list[Any]], expected: object) -> None:
    assert replies_of(tmp_path, commands)[-1] == expected


def test_added_action_starts_takes_later_bans_and_stops_when_deleted(tmp_path: Path) -> None:
    async def scenario() -> tuple[list[tuple[str, str, tuple[str, ...]]], object]:
        h = Harness(tmp_path, [jail_config()])
        await h.daemon.start()
        await dispatch_replies(
            h,
            [
                ["set", "test", "banip", A],
                ["set", "test", "addaction", "rec2"],
                ["set", "test", "banip", B],
                ["set", "test", "delaction", "rec2"],
                ["set", "test", "unbanip", A],
            ],
        )
        status = await h.controller.dispatch(["status", "test"])
        await h.daemon.stop()
        return [(c[0], c[1], c[2]) for c in h.recorder.calls], status

    calls, status = run(scenario())
    assert calls == [
        ("rec", "start", ()),
        ("rec", "ban", (A,)),
        ("rec2", "start", ()),  # not handed A: upstream's new actions only see later bans
        ("rec", "ban", (B,)),
        ("rec2", "ban", (B,)),
        ("rec2", "stop", ()),
        ("rec", "unban", (A,)),
        ("rec", "stop", ()),
    ]
    assert status == [
        ("Filter", [("Currently failed", 0), ("Total failed", 0), ("File list", ["/log/test"])]),
        ("Actions", [("Currently banned", 1), ("Total banned", 2), ("Banned IP list", [B])]),
    ]


def test_action_added_before_the_jail_starts_is_kept_and_started(tmp_path: Path) -> None:
    # Upstream's client stream: add <jail>, addaction, set action ..., start <jail>.
    async def scenario() -> tuple[list[object], list[tuple[str, str]]]:
        h = Harness(tmp_path, [jail_config()])
        await h.daemon.start()
        replies = await dispatch_replies(
            h,
            [
                ["add", "new", "polling"],
                ["set", "new", "addaction", "extra"],
                ["start", "new"],
                ["get", "new", "actions"],
                ["set", "new", "banip", A],
            ],
        )
        await h.daemon.stop()
        return replies, [(c[0], c[1]) for c in h.recorder.calls if c[1] in ("start", "ban")]

    replies, calls = run(scenario())
    assert replies == ["new", "extra", None, ["rec", "extra"], 1]
    assert calls == [("rec", "start"), ("rec", "start"), ("extra", "start"), ("rec", "ban"), ("extra", "ban")]


def test_added_command_action_runs_the_commands_set_on_it(tmp_path: Path) -> None:
    out = tmp_path / "out"
    replies = replies_of(
        tmp_path,
        [
            ["set", "test", "addaction", "cmd"],
            ["set", "test", "action", "cmd", "actionban", f"echo ban <ip> <ipjailfailures> >> {out}"],
            ["set", "test", "action", "cmd", "actionstop", f"echo stop >> {out}"],
            ["get", "test", "action", "cmd", "actionban"],
            ["set", "test", "banip", A],
            ["set", "test", "delaction", "cmd"],
            ["get", "test", "actions"],
        ],
        builder=ActionBuilder(str(tmp_path)),
    )
    assert replies == [
        "cmd",
        f"echo ban <ip> <ipjailfailures> >> {out}",
        f"echo stop >> {out}",
        f"echo ban <ip> <ipjailfailures> >> {out}",
        1,
        None,
        ["rec"],
    ]
    # <ipjailfailures> from the store's history: a manual ban counts no failure.
    assert out.read_text() == f"ban {A} 0\nstop\n"


def test_added_python_action_gets_its_json_arguments(tmp_path: Path) -> None:
    log = tmp_path / "py.log"
    file = tmp_path / "act.py"
    file.write_text(
        "from fail2ban.server.action import ActionBase\n"
        "class Act(ActionBase):\n"
        "    def __init__(self, jail, name, path='x', other='y'):\n"
        "        super().__init__(jail, name)\n"
        "        self.path, self.other = path, other\n"
        f"    def start(self): open({str(log)!r}, 'a').write('start\\n')\n"
        f"    def stop(self): open({str(log)!r}, 'a').write('stop\\n')\n"
        f"    def ban(self, aInfo): open({str(log)!r}, 'a').write('ban %s %s\\n' % (aInfo['ip'], self.path))\n"
        "Action = Act\n"
    )
    replies = replies_of(
        tmp_path,
        [
            ["set", "test", "addaction", "py", str(file), '{"path": "p1", "other": 3}'],
            ["get", "test", "action", "py", "path"],
            ["get", "test", "action", "py", "other"],
            ["set", "test", "banip", A],
            ["set", "test", "delaction", "py"],
        ],
        builder=ActionBuilder(str(tmp_path)),
    )
    assert replies == ["py", "p1", "3", 1, None]
    assert log.read_text() == f"start\nban {A} p1\nstop\n"
