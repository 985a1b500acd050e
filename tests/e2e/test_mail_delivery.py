"""Ban mail that arrives: banjail's mail actions deliver to a real SMTP server (aiosmtpd on 127.0.0.1)
through a real sendmail-compatible MTA (msmtp, configured by a temporary ~/.msmtprc) and directly over SMTP
with STARTTLS and AUTH. whois is a fake on PATH that hangs: the ban must not wait for it.
"""

from __future__ import annotations

import asyncio
import email
import email.policy
import os
import shutil
import socket
import ssl
import subprocess
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from email.message import EmailMessage
from pathlib import Path
from typing import Any

import pytest

from banjail.actions import completion
from banjail.actions.command import CommandAction
from banjail.actions.mail import MailAction
from banjail.actions.registry import build_action, build_actions
from banjail.actions.runner import Runner
from banjail.config.load import load_action, load_config
from banjail.model import Ban

pytestmark = pytest.mark.e2e
aiosmtpd_controller = pytest.importorskip("aiosmtpd.controller")
aiosmtpd_smtp = pytest.importorskip("aiosmtpd.smtp")

ATTACKER = "10.77.0.2"
LOG_LINES = [
    f"Nov 25 08:44:1{i} srv sshd[49]: Failed password for {user} from {ATTACKER} port 471{i} ssh2"
    for i, user in enumerate(["root", "$(touch /tmp/bj-pwned)", "`id`;|'\"x"])
]


@dataclass
class Received:
    mail_from: str
    rcpt_tos: list[str]
    message: EmailMessage


@dataclass
class Sink:
    """An aiosmtpd handler keeping every message."""

    messages: list[Received] = field(default_factory=list)

    async def handle_DATA(
        self, server: Any, session: Any, envelope: Any
    ) -> str:  # aiosmtpd calls it by this name
        message = email.message_from_bytes(envelope.content, policy=email.policy.default)
        assert isinstance(message, EmailMessage)
        self.messages.append(Received(envelope.mail_from, list(envelope.rcpt_tos), message))
        return "250 OK"

    def wait(self, count: int, timeout: float = 20.0) -> list[Received]:
        deadline = time.monotonic() + timeout
        while len(self.messages) < count and time.monotonic() < deadline:
            time.sleep(0.05)
        return self.messages


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


@pytest.fixture
def smtp_server() -> Iterator[tuple[Sink, int]]:
    sink, port = Sink(), free_port()
    controller = aiosmtpd_controller.Controller(sink, hostname="127.0.0.1", port=port)
    controller.start()
    try:
        yield sink, port
    finally:
        controller.stop()


@pytest.fixture
def home(tmp_path: Path, smtp_server: tuple[Sink, int]) -> Path:
    """A HOME with an .msmtprc pointing at the test's SMTP server, and a bin/ with a whois that hangs."""
    if shutil.which("msmtp") is None or not Path("/usr/sbin/sendmail").exists():
        pytest.skip("msmtp-mta is not installed")
    home = tmp_path / "home"
    (home / "bin").mkdir(parents=True)
    rc = home / ".msmtprc"
    rc.write_text(f"account default\nhost 127.0.0.1\nport {smtp_server[1]}\nauth off\ntls off\n")
    rc.chmod(0o600)
    whois = home / "bin" / "whois"
    whois.write_text("#!/bin/sh\nexec sleep 60\n")  # like a whois whose resolver never answers
    whois.chmod(0o755)
    return home


def runner(home: Path) -> Runner:
    return Runner(env={"HOME": str(home), "PATH": f"{home / 'bin'}:{os.environ['PATH']}"})


def check_report(received: Received, *, sender: str, dests: list[str], hang: str) -> None:
    mail = received.message
    assert received.mail_from == sender
    assert received.rcpt_tos == dests
    assert mail["Subject"].startswith(f"[Fail2Ban] sshd: banned {ATTACKER} from ")
    assert sender in mail["From"]
    text = mail.get_content().replace("\r\n", "\n")  # SMTP carries CRLF line ends
    assert f"The IP {ATTACKER} has just been banned by Fail2Ban after\n3 attempts against sshd." in text
    assert hang in text
    assert f"Lines containing failures of {ATTACKER} (max 1000)\n" + "\n".join(LOG_LINES) + "\n" in text


def test_action_mwl_through_msmtp_never_delays_the_ban(
    tmp_path: Path, home: Path, smtp_server: tuple[Sink, int]
) -> None:
    sink, _ = smtp_server
    config = tmp_path / "etc"
    config.mkdir()
    log = tmp_path / "auth.log"
    log.write_text(
        "\n".join(["Nov 25 08:40:00 srv sshd[40]: Accepted password for ok from 10.77.0.3", *LOG_LINES])
        + "\n"
    )
    (config / "jail.local").write_text(
        f"[sshd]\nenabled = true\nlogpath = {log}\nbackend = polling\naction = %(action_mwl)s\n"
        f"banaction = dummy[target={tmp_path}/bans.txt]\nmta = sendmail\n"
        "destemail = admin@example.org\nsender = banjail@example.org\n"
    )
    (jail,) = load_config(config).jails
    firewall, mail = build_actions(jail, config_dir=config, runner=runner(home))
    assert isinstance(mail, MailAction)
    ban = Ban("sshd", ATTACKER, ATTACKER, time.time(), time.time() + 600, 1, 3, tuple(LOG_LINES))

    async def scenario() -> float:
        started = time.monotonic()
        for action in (firewall, mail):  # the daemon's per-jail order: firewall first, then mail
            await action.ban([ban])
        elapsed = time.monotonic() - started
        assert (tmp_path / "bans.txt").read_text() == f"+{ATTACKER}\n"
        await mail.stop()  # waits for the pending report (whois gives up after whois_timeout)
        return elapsed

    mail.set_property("whois_timeout", "2")
    assert asyncio.run(scenario()) < 0.5
    (received,) = sink.wait(1)
    check_report(
        received,
        sender="banjail@example.org",
        dests=["admin@example.org"],
        hang="(whois gave no answer within 2 s)",
    )
    assert not Path("/tmp/bj-pwned").exists()


def test_the_command_form_of_sendmail_whois_lines_through_msmtp(
    tmp_path: Path, home: Path, smtp_server: tuple[Sink, int]
) -> None:
    sink, _ = smtp_server
    log = tmp_path / "auth.log"
    log.write_text("\n".join(LOG_LINES) + "\n")
    (tmp_path / "etc").mkdir()
    spec = load_action(
        "sendmail-whois-lines",
        config_dir=tmp_path / "etc",
        jail="sshd",
        args={
            "native": "",
            "dest": "a@example.org",
            "sender": "f2b@example.org",
            "logpath": str(log),
            "whois_timeout": "1",
        },
    )
    action = build_action(spec, jail="sshd", runner=runner(home))
    assert isinstance(action, CommandAction)
    asyncio.run(action.ban([Ban("sshd", ATTACKER, ATTACKER, 1.0, 601.0, 1, 3, tuple(LOG_LINES))]))
    (received,) = sink.wait(1)
    check_report(received, sender="f2b@example.org", dests=["a@example.org"], hang="(no whois answer)")
    assert not Path("/tmp/bj-pwned").exists()


@pytest.fixture
def tls_server(tmp_path: Path) -> Iterator[tuple[Sink, int, Path]]:
    if shutil.which("openssl") is None:
        pytest.skip("openssl is not installed")
    cert, key = tmp_path / "cert.pem", tmp_path / "key.pem"
    subprocess.run(
        [
            "openssl",
            "req",
            "-x509",
            "-newkey",
            "rsa:2048",
            "-nodes",
            "-days",
            "1",
            "-subj",
            "/CN=localhost",
            "-addext",
            "subjectAltName=DNS:localhost,IP:127.0.0.1",
            "-keyout",
            str(key),
            "-out",
            str(cert),
        ],
        check=True,
        capture_output=True,
    )
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(cert, key)

    def authenticate(server: Any, session: Any, envelope: Any, mechanism: str, data: Any) -> Any:
        ok = data.login == b"mailer" and data.password == b"s3cret"
        return aiosmtpd_smtp.AuthResult(success=ok, handled=False)  # handled=False: aiosmtpd answers 535

    sink, port = Sink(), free_port()
    controller = aiosmtpd_controller.Controller(
        sink,
        hostname="127.0.0.1",
        port=port,
        tls_context=context,
        require_starttls=True,
        authenticator=authenticate,
        auth_required=True,
    )
    controller.start()
    try:
        yield sink, port, cert
    finally:
        controller.stop()


@dataclass
class Marks:
    """A Completion (banjail.actions.completion) over a directory that records how each run ended: with it, the
    SMTP transport is the child program behind the mark's trap (banjail.actions.smtp), as in the daemon."""

    directory: Path
    ended_runs: list[tuple[completion.Mark, int | None, str]] = field(default_factory=list)

    def begin(self, jail: str, action: str, op: str, ban: Ban, started: float) -> completion.Mark:
        return completion.write(self.directory, jail, action, op, ban, started)

    def ended(self, mark: completion.Mark, status: int | None, error: str) -> None:
        self.ended_runs.append((mark, status, error))


@pytest.mark.parametrize("marked", [False, True], ids=["in-process", "child"])
def test_the_smtp_action_with_starttls_and_auth(
    tmp_path: Path, tls_server: tuple[Sink, int, Path], marked: bool
) -> None:
    sink, port, cert = tls_server
    log = tmp_path / "auth.log"
    log.write_text("\n".join(LOG_LINES) + "\n")
    fake_whois = tmp_path / "whois"
    fake_whois.write_text("#!/bin/sh\necho 'netname: TEST-NET-77'\n")
    fake_whois.chmod(0o755)
    (tmp_path / "etc").mkdir()
    spec = load_action(
        "smtp",
        config_dir=tmp_path / "etc",
        jail="sshd",
        args={
            "host": f"127.0.0.1:{port}",
            "starttls": "yes",
            "user": "mailer",
            "password": "s3cret",
            "cafile": str(cert),
            "dest": "x@example.org, y@example.org",
            "sender": "jail@example.org",
            "logpath": str(log),
            "whois": str(fake_whois),
        },
    )
    action = build_action(spec, jail="sshd")
    assert isinstance(action, MailAction)
    marks = mark_dir(tmp_path, action, marked)

    async def scenario() -> None:
        await action.ban([Ban("sshd", ATTACKER, ATTACKER, 1.0, 601.0, 1, 3)])
        assert await action.drain(20)

    asyncio.run(scenario())
    assert action.sent == 1
    if marks is not None:
        ((mark, status, error),) = marks.ended_runs
        assert (status, error) == (0, "")
        assert Path(mark.input).read_bytes().startswith(b"Subject: ")  # the child's input
        # the child's own shell wrote its status
        assert Path(mark.path).read_text().splitlines()[-1] == f"{mark.token} 0"
    (received,) = sink.wait(1)
    check_report(
        received,
        sender="jail@example.org",
        dests=["x@example.org", "y@example.org"],
        hang="netname: TEST-NET-77",
    )


@pytest.mark.parametrize("marked", [False, True], ids=["in-process", "child"])
def test_a_wrong_password_is_reported_in_the_log(
    tmp_path: Path, tls_server: tuple[Sink, int, Path], caplog: pytest.LogCaptureFixture, marked: bool
) -> None:
    sink, port, cert = tls_server
    (tmp_path / "etc").mkdir()
    spec = load_action(
        "smtp",
        config_dir=tmp_path / "etc",
        jail="sshd",
        args={
            "host": f"127.0.0.1:{port}",
            "starttls": "yes",
            "user": "mailer",
            "password": "not-it-9q",
            "cafile": str(cert),
            "content": "ban",
        },
    )
    action = build_action(spec, jail="sshd")
    assert isinstance(action, MailAction)
    marks = mark_dir(tmp_path, action, marked)

    async def scenario() -> None:
        await action.ban([Ban("sshd", ATTACKER, ATTACKER, 1.0, 601.0, 1, 3)])
        assert await action.drain(20)

    asyncio.run(scenario())
    assert action.sent == 0
    assert sink.messages == []
    if marks is None:
        assert "[sshd] action smtp: mail not sent: (535" in caplog.text
    else:
        ((_, status, error),) = marks.ended_runs
        assert status == 1
        assert error.startswith(
            f"mail not sent: SMTP to 127.0.0.1:{port}: exit status 1; stderr: smtp: (535"
        ), error
        assert "not-it-9q" not in error  # the password is neither in argv nor in the message


def mark_dir(tmp_path: Path, action: MailAction, marked: bool) -> Marks | None:
    if not marked:
        return None
    marks = Marks(tmp_path / "marks")
    marks.directory.mkdir()
    action.completion = marks
    return marks
