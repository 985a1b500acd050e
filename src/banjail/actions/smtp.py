"""One SMTP delivery of the mail action: in the server (no completion mark) or as a child program,
`python -m banjail.actions.smtp SETTINGS SENDER DEST...` with the message on stdin.

Why a child: a report with a completion mark (banjail.actions.completion) must be sent exactly once across a kill
-9 of the server. An SMTP session inside the server dies with it, possibly after the mail server took the message
but before the mark said so, and the next start sends it again. The child runs in its own session behind the
mark's trap, as sendmail does: it outlives a killed server, finishes the session, and its shell writes the exit
status into the mark. The password never appears in argv (other users can read that): it travels in
PASSWORD_ENV.
"""

from __future__ import annotations

import json
import os
import sys
from dataclasses import asdict, dataclass

PASSWORD_ENV = "BANJAIL_SMTP_PASSWORD"


@dataclass(frozen=True, slots=True)
class Settings:
    """Where and how to deliver (the mail action's host, ssl, starttls, cafile, user and timeout options)."""

    host: str
    port: int
    ssl: bool
    starttls: bool
    cafile: str
    user: str
    timeout: float

    def argv(self, sender: str, dests: list[str]) -> tuple[str, ...]:
        """The child program's argv for this delivery."""
        return (sys.executable, "-m", "banjail.actions.smtp", json.dumps(asdict(self)), sender, *dests)


def send(settings: Settings, data: bytes, sender: str, dests: list[str], password: str) -> None:
    """Deliver the RFC 5322 message `data` (raises on any refusal or transport error). As smtplib's
    send_message: Bcc headers are not sent, SMTPUTF8 is asked for when an address needs it."""
    import email
    import email.policy
    import smtplib
    import ssl

    mail = email.message_from_bytes(data, policy=email.policy.default)
    context = ssl.create_default_context(cafile=settings.cafile or None)
    client: smtplib.SMTP = (
        smtplib.SMTP_SSL(settings.host, settings.port, timeout=settings.timeout, context=context)
        if settings.ssl
        else smtplib.SMTP(settings.host, settings.port, timeout=settings.timeout)
    )
    with client:
        if settings.starttls:
            client.starttls(context=context)
        if settings.user:
            client.login(settings.user, password)
        client.send_message(mail, sender, dests)


def main(argv: list[str]) -> int:
    """The child: exit 0 once the server took the message, 1 with the reason on stderr otherwise."""
    try:
        settings = Settings(**json.loads(argv[0]))
        send(settings, sys.stdin.buffer.read(), argv[1], argv[2:], os.environ.get(PASSWORD_ENV, ""))
    except Exception as exc:
        print(f"smtp: {exc}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
