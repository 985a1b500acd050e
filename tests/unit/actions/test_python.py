"""Python actions: upstream's smtp.py, unchanged, run without fail2ban against a small SMTP server."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from banjail.actions.python import CallingMap, PythonAction, load_action_class
from banjail.actions.registry import build_actions
from banjail.config.schema import ActionSpec, JailConfig
from banjail.errors import ActionError, ConfigError
from banjail.model import Ban

SMTP_PY = Path("/etc/fail2ban/action.d/smtp.py")
BAN = Ban("sshd", "192.0.2.1", "192.0.2.1", 1000.0, 1600.0, 1, 3, ("line one", "line 'two'; $(x)"))


class Mailbox:
    """A minimal SMTP server: accepts everything, keeps (sender, recipients, message)."""

    def __init__(self) -> None:
        self.messages: list[tuple[str, list[str], str]] = []

    async def session(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        sender, recipients = "", []
        writer.write(b"220 test ESMTP\r\n")
        while line := (await reader.readline()).decode():
            verb = line[:4].upper()
            if verb == "MAIL":
                sender = line.split(":", 1)[1].strip().strip("<>")
            elif verb == "RCPT":
                recipients.append(line.split(":", 1)[1].strip().strip("<>"))
            if verb == "DATA":
                writer.write(b"354 go on\r\n")
                body = []
                while (data := (await reader.readline()).decode()) != ".\r\n":
                    body.append(data)
                self.messages.append((sender, recipients, "".join(body).replace("\r\n", "\n")))
                sender, recipients = "", []
            elif verb == "QUIT":
                writer.write(b"221 bye\r\n")
                break
            writer.write(b"250 ok\r\n")
            await writer.drain()
        writer.close()


@pytest.mark.skipif(not SMTP_PY.exists(), reason="upstream's smtp.py not installed")
def test_upstream_smtp_py_sends_start_ban_and_stop_mails() -> None:
    box = Mailbox()

    async def scenario() -> None:
        server = await asyncio.start_server(box.session, "127.0.0.1", 0)
        port = server.sockets[0].getsockname()[1]
        args = {"host": f"127.0.0.1:{port}", "dest": "a@example.org, b@example.org", "matches": "matches"}
        spec = ActionSpec("smtp", str(SMTP_PY), args, args, {}, True)
        action = PythonAction(spec, jail="sshd", bantime=600)
        async with server:
            await action.start()
            await action.ban([BAN, Ban("sshd", "192.0.2.9", "192.0.2.9", 1.0, 2.0, 1, 1, restored=True)])
            await action.unban([BAN])
            await action.stop()

    asyncio.run(scenario())
    assert [m[:2] for m in box.messages] == [("fail2ban", ["a@example.org", "b@example.org"])] * 3
    start, ban, stop = (m[2] for m in box.messages)
    assert "Subject: [Fail2Ban] sshd: started on " in start
    assert "Subject: [Fail2Ban] sshd: stopped on " in stop
    assert "Subject: [Fail2Ban] sshd: banned 192.0.2.1 from " in ban
    assert "From: Fail2Ban <fail2ban>\nTo: a@example.org, b@example.org\n" in ban
    assert (
        "The IP 192.0.2.1 has just been banned for 600 seconds\nby Fail2Ban after 3 attempts against sshd.\n"
        "\nMatches for this ban:\nline one\nline 'two'; $(x)\n" in ban
    )


def test_a_python_action_imports_only_the_shim(tmp_path: Path) -> None:
    path = tmp_path / "bad.py"
    path.write_text("from fail2ban.server.jail import Jail\n")
    with pytest.raises(
        ConfigError, match=r"banjail provides only .* to Python actions, not fail2ban\.server\.jail"
    ):
        load_action_class(path)
    path.write_text("import os\n")
    with pytest.raises(ConfigError, match="defines no class named Action"):
        load_action_class(path)


def test_errors_and_properties(tmp_path: Path) -> None:
    path = tmp_path / "mine.py"
    path.write_text(
        "from fail2ban.server.actions import ActionBase\n"
        "class Mine(ActionBase):\n"
        "    def __init__(self, jail, name, level='1'):\n"
        "        super().__init__(jail, name)\n"
        "        self.level = level\n"
        "        self.seen = []\n"
        "    def ban(self, aInfo):\n"
        "        if aInfo['ip'] == '192.0.2.66': raise RuntimeError('refused')\n"
        "        self.seen.append((aInfo['ip'], aInfo['failures'], aInfo['F-*'], self._jail.name))\n"
        "Action = Mine\n"
    )
    jail = JailConfig("web", action_specs=(ActionSpec("mine", str(path), {"level": "2"}, {}, {}, True),))
    (action,) = build_actions(jail)
    assert action.properties() == {"level": "2", "seen": "[]"}
    action.set_property("level", "3")
    assert action.properties()["level"] == "3"
    bad = Ban("web", "192.0.2.66", "192.0.2.66", 1.0, 2.0, 1, 1)
    good = Ban("web", "192.0.2.5", "192.0.2.5", 1.0, 2.0, 1, 4, groups=(("user", "u"),))
    asyncio.run(action.ban([good]))
    with pytest.raises(ActionError, match="action mine: ban failed: refused"):
        asyncio.run(action.ban([bad]))
    assert action.properties()["seen"] == "[('192.0.2.5', 4, {'user': 'u'}, 'web')]"


def test_calling_map_calls_once_and_copies() -> None:
    calls: list[int] = []

    def a() -> str:
        calls.append(1)
        return "A"

    m = CallingMap(a=a, b=lambda self: self["a"] + "B", c=3)
    assert (m["b"], m["a"], m["c"]) == ("AB", "A", 3)
    assert calls == [1]
    m.update({"d": 4})
    assert dict(m.copy()) == {"a": "A", "b": "AB", "c": 3, "d": 4}
