"""The native mail action: the report's text, and that ban() never waits for whois or the mail transport.

The transport here is a fake sendmail program (a script that stores its argv and the message); the real
delivery through msmtp and SMTP is in tests/e2e/test_mail_delivery.py.
"""

from __future__ import annotations

import asyncio
import email
import email.policy
import time
from pathlib import Path

import pytest

from banjail.actions.mail import MailAction, Report, body, matching_lines, subject
from banjail.actions.runner import Runner
from banjail.config.load import load_action
from banjail.model import Ban

LINES = (
    "Nov 25 08:44:15 srv sshd[49]: Failed password for root from 10.77.0.2 port 4711 ssh2",
    "Nov 25 08:44:17 srv sshd[49]: Failed password for $(reboot) from 10.77.0.2 port 4712 ssh2",
)


def test_subject_and_body_with_every_section() -> None:
    report = Report("sshd", "10.77.0.2", "srv.example.org", 5, "netname: TEST-NET", LINES, 1000)
    assert subject(report) == "[Fail2Ban] sshd: banned 10.77.0.2 from srv.example.org"
    assert body(report) == (
        "Hi,\n\nThe IP 10.77.0.2 has just been banned by Fail2Ban after\n5 attempts against sshd.\n\n"
        "Here is more information about 10.77.0.2 :\n\nnetname: TEST-NET\n\n"
        "Lines containing failures of 10.77.0.2 (max 1000)\n" + "\n".join(LINES) + "\n\n"
        "Regards,\n\nFail2Ban\n"
    )


def test_body_without_whois_and_lines() -> None:
    report = Report("web", "2001:db8::1", "h", 3)
    assert body(report) == (
        "Hi,\n\nThe IP 2001:db8::1 has just been banned by Fail2Ban after\n3 attempts against web.\n\n"
        "Regards,\n\nFail2Ban\n"
    )


@pytest.mark.parametrize(
    ("ip", "limit", "expected"),
    [
        ("10.0.0.1", 10, ("a 10.0.0.1 x", "from 10.0.0.1", "[10.0.0.1]:22")),
        ("10.0.0.1", 2, ("from 10.0.0.1", "[10.0.0.1]:22")),
        ("10.0.0.12", 10, ("b 10.0.0.12",)),
        ("10.0.0.1", 0, ()),
    ],
)
def test_matching_lines_take_whole_addresses_only(ip: str, limit: int, expected: tuple[str, ...]) -> None:
    text = "a 10.0.0.1 x\nb 10.0.0.12\nc 110.0.0.1\nd 10.0.0.1.5\nfrom 10.0.0.1\n[10.0.0.1]:22\n"
    assert matching_lines(text, ip, limit) == expected


FAKE_SENDMAIL = """#!/bin/sh
printf '%s\\n' "$@" > "{out}.argv"
cat > "{out}.$$" && mv "{out}.$$" "{out}"
"""


def mail_action(tmp_path: Path, spec: str, **args: str) -> tuple[MailAction, Path]:
    out = tmp_path / "mail.eml"
    fake = tmp_path / "sendmail"
    fake.write_text(FAKE_SENDMAIL.format(out=out))
    fake.chmod(0o755)
    whois = tmp_path / "whois"
    whois.write_text("#!/bin/sh\nsleep 30\n")  # a whois whose resolver never answers
    whois.chmod(0o755)
    (tmp_path / "etc").mkdir(exist_ok=True)
    loaded = load_action(
        spec,
        config_dir=tmp_path / "etc",
        jail="sshd",
        args={"sendmail": str(fake), "whois": str(whois), "whois_timeout": "1", **args},
    )
    return MailAction(loaded, jail="sshd", runner=Runner(), clock=lambda: 1_700_000_000.0), out


def test_ban_returns_at_once_and_the_report_follows(tmp_path: Path) -> None:
    log = tmp_path / "auth.log"
    log.write_text("noise 10.77.0.20\n" + "\n".join(LINES) + "\n")
    action, out = mail_action(
        tmp_path,
        "sendmail-whois-lines",
        dest="admin@example.org, ops@example.org",
        sender="banjail@<fq-hostname>",
        logpath=str(log),
    )
    ban = Ban("sshd", "10.77.0.2", "10.77.0.2", 1.0, 601.0, 1, 5, ("ignored: the log has lines",))

    async def scenario() -> float:
        started = time.monotonic()
        await action.ban([ban])
        returned = time.monotonic() - started
        assert await action.drain(10)
        return returned

    assert asyncio.run(scenario()) < 0.1  # whois hangs for 30 s; ban() does not wait for it
    assert action.sent == 1
    argv = (tmp_path / "mail.eml.argv").read_text().splitlines()
    assert argv[:2] == ["-i", "-f"]
    assert argv[2].startswith("banjail@")
    assert argv[3:] == ["admin@example.org", "ops@example.org"]
    mail = email.message_from_bytes(out.read_bytes(), policy=email.policy.default)
    assert mail["Subject"] == f"[Fail2Ban] sshd: banned 10.77.0.2 from {argv[2].split('@', 1)[1]}"
    assert mail["From"] == f"Fail2Ban <{argv[2]}>"
    assert mail["To"] == "admin@example.org, ops@example.org"
    text = mail.get_content()
    assert "after\n5 attempts against sshd." in text
    assert "(whois gave no answer within 1 s)" in text
    assert "Lines containing failures of 10.77.0.2 (max 1000)\n" + "\n".join(LINES) + "\n" in text


def test_restored_bans_are_not_reported_and_unban_sends_nothing(tmp_path: Path) -> None:
    action, out = mail_action(tmp_path, "sendmail")
    restored = Ban("sshd", "10.77.0.2", "10.77.0.2", 1.0, 601.0, 1, 5, restored=True)

    async def scenario() -> None:
        await action.ban([restored])
        await action.unban([restored])
        assert await action.drain(5)

    asyncio.run(scenario())
    assert action.sent == 0
    assert not out.exists()


def test_plain_sendmail_report_has_no_whois(tmp_path: Path) -> None:
    action, out = mail_action(tmp_path, "sendmail", dest="root")
    ban = Ban("sshd", "10.77.0.2", "10.77.0.2", 1.0, 601.0, 1, 7, LINES)

    async def scenario() -> None:
        await action.ban([ban])
        await action.stop()

    asyncio.run(scenario())
    mail = email.message_from_bytes(out.read_bytes(), policy=email.policy.default)
    assert mail.get_content() == (
        "Hi,\n\nThe IP 10.77.0.2 has just been banned by Fail2Ban after\n7 attempts against sshd.\n\n"
        "Regards,\n\nFail2Ban\n"
    )


def test_a_failing_transport_is_logged_not_raised(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    action, _ = mail_action(tmp_path, "sendmail", sendmail=str(tmp_path / "missing"))

    async def scenario() -> None:
        await action.ban([Ban("sshd", "10.77.0.2", "10.77.0.2", 1.0, 601.0, 1, 5)])
        assert await action.drain(5)

    asyncio.run(scenario())
    assert action.sent == 0
    assert "[sshd] action sendmail: mail not sent: " in caplog.text
    assert "cannot run" in caplog.text


def test_the_password_is_not_shown(tmp_path: Path) -> None:
    action, _ = mail_action(tmp_path, "smtp", user="u", password="secret")
    assert action.properties()["password"] == "********"
    assert action.properties()["transport"] == "smtp"


def test_a_flood_is_capped_at_queue_limit(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    action, _ = mail_action(tmp_path, "sendmail-whois", queue_limit="3", whois_timeout="0.2")
    flood = [Ban("sshd", f"10.0.0.{i}", f"10.0.0.{i}", 1.0, 601.0, 1, 5) for i in range(1, 6)]

    async def scenario() -> None:
        await action.ban(flood)
        assert await action.drain(10)

    asyncio.run(scenario())
    assert action.sent == 3
    assert (
        "[sshd] action sendmail-whois: 2 report(s) not sent: 3 already waiting (queue_limit)" in caplog.text
    )
