"""Mail on the server host: an SMTP sink on its loopback, msmtp-mta as /usr/sbin/sendmail, a resolver that hangs.

- `start_sink` runs smtpsink.py (aiosmtpd) on 127.0.0.1:SMTP_PORT inside the host; `Sink.messages()` parses what
  it received with the email package.
- `configure_msmtp` writes the host's private /etc/msmtprc so Debian's msmtp-mta `sendmail` relays to the sink.
- `hang_resolver` makes every DNS lookup on the host wait (a UDP socket on 127.0.0.1:53 that never answers, and
  resolv.conf pointing at it with a 10 s timeout and 2 attempts): `whois` then waits about 20 s before failing.
"""

from __future__ import annotations

import email
import email.policy
import json
import sys
import time
from dataclasses import dataclass
from email.message import EmailMessage
from pathlib import Path

from .serverhost import ServerHost

SMTP_PORT = 2525
SINK = str(Path(__file__).with_name("smtpsink.py"))
MSMTPRC = f"""\
defaults
auth off
tls off
account default
host 127.0.0.1
port {SMTP_PORT}
from root@srv.lab.test
"""
# Binds the DNS port so queries are neither answered nor refused (a refusal would fail the lookup at once).
SILENT_RESOLVER = """\
import socket, threading
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.bind(("127.0.0.1", 53))
t = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
t.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
t.bind(("127.0.0.1", 53))
t.listen(16)
print("listening", flush=True)
threading.Event().wait()
"""


@dataclass(frozen=True)
class Received:
    """One message as the SMTP server got it."""

    at: float  # when the server accepted it (epoch seconds)
    mail_from: str
    rcpt_tos: tuple[str, ...]
    message: EmailMessage

    @property
    def subject(self) -> str:
        return str(self.message["Subject"])

    @property
    def body(self) -> str:
        part = self.message.get_body(preferencelist=("plain",))
        return part.get_content() if part is not None else ""


class Sink:
    """The SMTP sink's record file."""

    def __init__(self, path: Path) -> None:
        self.path = path

    def messages(self) -> list[Received]:
        """Every message received so far, in order."""
        if not self.path.exists():
            return []
        found = []
        for line in self.path.read_text(encoding="utf-8").splitlines():
            record = json.loads(line)
            message = email.message_from_string(record["data"], policy=email.policy.default)
            assert isinstance(message, EmailMessage)
            found.append(Received(record["at"], record["mail_from"], tuple(record["rcpt_tos"]), message))
        return found

    def wait(self, count: int, timeout: float) -> list[Received]:
        """Wait (bounded) until at least `count` messages arrived; return them all."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            found = self.messages()
            if len(found) >= count:
                return found
            time.sleep(0.1)
        return self.messages()


def start_sink(host: ServerHost, workdir: Path) -> Sink:
    """Start the SMTP sink inside `host` and wait until it listens."""
    sink = Sink(workdir / "smtp-received.jsonl")
    out = workdir / "smtpsink.out"
    host.popen([sys.executable, SINK, str(SMTP_PORT), str(sink.path)], out)
    _wait_for(out, "listening")
    return sink


def configure_msmtp(host: ServerHost) -> None:
    """Point the host's /usr/sbin/sendmail (msmtp-mta) at the sink."""
    host.write("/etc/msmtprc", MSMTPRC, mode=0o644)


def hang_resolver(host: ServerHost, workdir: Path) -> None:
    """Make DNS lookups inside `host` hang for about 20 s (see the module docstring)."""
    out = workdir / "resolver.out"
    host.popen([sys.executable, "-c", SILENT_RESOLVER], out)
    _wait_for(out, "listening")
    host.write("/etc/resolv.conf", "nameserver 127.0.0.1\noptions timeout:10 attempts:2\n")


def _wait_for(out: Path, word: str, timeout: float = 10) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if out.exists() and word in out.read_text(errors="replace"):
            return
        time.sleep(0.05)
    raise RuntimeError(
        f"{out.name}: no '{word}' in time: {out.read_text(errors='replace') if out.exists() else ''}"
    )
