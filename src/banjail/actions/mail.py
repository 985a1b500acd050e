"""banjail's native mail action: ban reports sent through sendmail or directly over SMTP, never holding a ban.

What it guarantees:
- `ban(bans)` returns at once: it only schedules one report per ban. The firewall action before it in the jail
  has already applied the ban, and the next ban of the jail does not wait for whois or the mail server. Reports
  are written and sent in the background, at most `concurrency` at a time; a failure is logged (there is no
  caller left to raise to). At most `queue_limit` reports wait at once; beyond that a flood's reports are
  dropped with a warning that counts them. `stop` waits up to `timeout` seconds for the reports still pending.
- whois runs by argv with its own timeout (`whois_timeout`); when it fails or hangs the report says so.
- Nothing goes through a shell. The message is built with the email package (headers cannot be split by a
  value with a line break); log lines only ever reach the message body.

Options ([Init] of the action file or arguments): content = ban | whois | whois-lines; transport = sendmail |
smtp; dest (comma separated), sender, sendername; sendmail (the program, called as `sendmail -i -f SENDER
DEST...`); host (host[:port]), user, password, ssl, starttls, cafile (the CA file to trust instead of the system's) for
smtp; whois, whois_timeout; logpath, grepmax;
norestored (default true: no report for bans restored at start); startstop (mail when the jail starts/stops).
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import TYPE_CHECKING

from banjail.actions import completion, smtp
from banjail.actions.completion import Completion, Mark
from banjail.actions.program import run_program
from banjail.actions.runner import Runner
from banjail.actions.tags import fq_hostname, sh_hostname
from banjail.config.schema import ActionSpec
from banjail.model import Ban
from banjail.timespec import str2seconds

if TYPE_CHECKING:
    from email.message import EmailMessage

# email, smtplib and ssl are imported when a mail is built or sent: together about 10 MB resident (OpenSSL's
# libraries among them) that a daemon which never mails would carry (issue 3's RSS target)

log = logging.getLogger("banjail.actions")

DEFAULTS: Mapping[str, str] = {
    "content": "ban",
    "transport": "sendmail",
    "dest": "root",
    "sender": "fail2ban",
    "sendername": "Fail2Ban",
    "sendmail": "/usr/sbin/sendmail",
    "host": "localhost:25",
    "user": "",
    "password": "",
    "ssl": "no",
    "starttls": "no",
    "cafile": "",
    "whois": "whois",
    "whois_timeout": "10",
    "logpath": "/dev/null",
    "grepmax": "1000",
    "norestored": "true",
    "startstop": "false",
    "timeout": "60",
    "concurrency": "4",
    "queue_limit": "1000",
}
_TAIL_BYTES = 8 * 1024 * 1024  # how much of the end of a log file is searched for the address's lines


def _truthy(value: str) -> bool:
    return value.strip().lower() in ("1", "true", "yes", "on")


@dataclass(frozen=True, slots=True)
class Report:
    """What a ban report says (pure data; `message` renders it)."""

    jail: str
    ip: str
    hostname: str
    failures: int
    whois: str | None = None  # None: no whois section
    lines: tuple[str, ...] | None = None  # None: no log lines section
    grepmax: int = 1000


def subject(report: Report) -> str:
    return f"[Fail2Ban] {report.jail}: banned {report.ip} from {report.hostname}"


def body(report: Report) -> str:
    """The text of a ban report: attempts, then the whois and log lines sections when present."""
    parts = [
        "Hi,",
        "",
        f"The IP {report.ip} has just been banned by Fail2Ban after",
        f"{report.failures} attempts against {report.jail}.",
        "",
    ]
    if report.whois is not None:
        parts += [f"Here is more information about {report.ip} :", "", report.whois.rstrip("\n"), ""]
    if report.lines is not None:
        parts.append(f"Lines containing failures of {report.ip} (max {report.grepmax})")
        parts += list(report.lines)
        parts.append("")
    parts += ["Regards,", "", "Fail2Ban", ""]
    return "\n".join(parts)


def message(
    subject_text: str, text: str, *, sender: str, sendername: str, dests: Sequence[str], now: float
) -> EmailMessage:
    """An RFC 5322 message; raises ValueError when a header value is unusable (a line break in it)."""
    import email.utils
    from email.message import EmailMessage

    mail = EmailMessage()
    mail["Subject"] = subject_text
    mail["Date"] = email.utils.formatdate(now, localtime=True)
    mail["From"] = email.utils.formataddr((sendername, sender))
    mail["To"] = ", ".join(dests)
    mail.set_content(text)
    return mail


def matching_lines(text: str, ip: str, limit: int) -> tuple[str, ...]:
    """The last `limit` lines of `text` containing `ip` as a whole word (not 10.0.0.1 inside 10.0.0.12)."""
    found: list[str] = []
    # log lines end at "\n" only: str.splitlines() would also end one at "\r", "\x1c", U+2028 ... in a field
    for line in (part.removesuffix("\r") for part in text.split("\n")):
        start = line.find(ip)
        while start >= 0:
            before = line[start - 1] if start else " "
            end = start + len(ip)
            after = line[end : end + 2] + "  "
            # Not part of a longer address: no address character before, none after (a final dot is fine).
            longer = after[0].isalnum() or after[0] in "_:" or (after[0] == "." and after[1].isalnum())
            if not (before.isalnum() or before in "._:") and not longer:
                found.append(line)
                break
            start = line.find(ip, start + 1)
    return tuple(found[-limit:]) if limit > 0 else ()


def _read_tail(path: str) -> str:
    with open(path, "rb") as handle:
        handle.seek(0, 2)
        size = handle.tell()
        handle.seek(max(0, size - _TAIL_BYTES))
        return handle.read().decode("utf-8", "replace")


class MailAction:
    """One mail action of one jail (see the module doc for its guarantees)."""

    def __init__(
        self,
        spec: ActionSpec,
        *,
        jail: str,
        runner: Runner | None = None,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.spec = spec
        self.jail = jail
        self.runner = runner or Runner()
        self._clock = clock
        self._options = dict(spec.options)
        self._pending: set[asyncio.Task[None]] = set()
        self._gate: asyncio.Semaphore | None = None
        self.sent = 0  # reports handed to the transport successfully (for tests and status)
        # set by the daemon: each report leaves a completion mark, ended when the transport took it (exactly once)
        self.completion: Completion | None = None

    @property
    def name(self) -> str:
        return self.spec.name

    def _opt(self, key: str) -> str:
        return (self._options.get(key) or DEFAULTS.get(key, "")).strip()

    @property
    def label(self) -> str:
        return self._options.get("name", "").strip() or self.jail

    async def start(self) -> None:
        if _truthy(self._opt("startstop")):
            self._schedule(self._notice("started on", "The jail {} has been started successfully."))

    async def stop(self) -> None:
        """Send the stop notice (if configured) and wait up to `timeout` seconds for pending reports."""
        if _truthy(self._opt("startstop")):
            self._schedule(self._notice("stopped on", "The jail {} has been stopped."))
        await self.drain(str2seconds(self._opt("timeout")))

    async def ban(self, bans: Sequence[Ban]) -> None:
        """Schedule one report per ban and return at once (see the module doc)."""
        skip_restored = _truthy(self._opt("norestored"))
        limit = int(self._opt("queue_limit") or DEFAULTS["queue_limit"])
        dropped = 0
        for ban in bans:
            if ban.restored and skip_restored:
                continue
            if len(self._pending) >= limit:
                dropped += 1
                continue
            self._schedule(self._report(ban), ban)
        if dropped:
            # A flood must not turn into a mail bomb (nor into unbounded memory for pending reports).
            log.warning(
                "[%s] action %s: %d report(s) not sent: %d already waiting (queue_limit)",
                self.jail,
                self.name,
                dropped,
                len(self._pending),
            )

    async def unban(self, bans: Sequence[Ban]) -> None:
        return None

    async def flush(self) -> None:
        return None

    def properties(self) -> Mapping[str, str]:
        shown = {**DEFAULTS, **self._options}
        if shown.get("password"):
            shown["password"] = "********"
        return shown

    def set_property(self, key: str, value: str) -> None:
        self._options[key] = value

    async def drain(self, timeout: float) -> bool:
        """Wait for the pending reports; True when all finished within `timeout` seconds."""
        if not self._pending:
            return True
        _, late = await asyncio.wait(set(self._pending), timeout=timeout)
        return not late

    # -- the work in the background -----------------------------------------------------------------------

    def _schedule(self, build: Callable[[], Awaitable[EmailMessage]], ban: Ban | None = None) -> None:
        task = asyncio.get_running_loop().create_task(self._deliver(build, ban))
        self._pending.add(task)
        task.add_done_callback(self._pending.discard)

    async def _deliver(self, build: Callable[[], Awaitable[EmailMessage]], ban: Ban | None) -> None:
        """Build and send one report. A ban's report is marked (banjail.actions.completion) from just before the
        transport gets it: a kill before leaves no mark and no record, so the next start hands the ban again."""
        if self._gate is None:
            self._gate = asyncio.Semaphore(max(1, int(self._opt("concurrency") or "4")))
        async with self._gate:
            mark = None
            try:
                mail = await build()
                if ban is not None and self.completion is not None:
                    mark = self.completion.begin(self.jail, self.name, "ban", ban, time.time())
                await self._send(mail, mark)
                self.sent += 1
                if mark is not None and self.completion is not None:
                    self.completion.ended(mark, 0, "")
            except Exception as exc:  # a report must never take the daemon down; say what failed
                log.error("[%s] action %s: mail not sent: %s", self.jail, self.name, exc)
                if mark is not None and self.completion is not None:
                    self.completion.ended(mark, 1, f"mail not sent: {exc}")

    def _notice(self, what: str, text: str) -> Callable[[], Awaitable[EmailMessage]]:
        async def build() -> EmailMessage:
            host = await asyncio.to_thread(fq_hostname)
            body_text = f"Hi,\n\n{text.format(self.label)}\n\nRegards,\n\nFail2Ban\n"
            return self._message(f"[Fail2Ban] {self.label}: {what} {host}", body_text, host)

        return build

    def _report(self, ban: Ban) -> Callable[[], Awaitable[EmailMessage]]:
        async def build() -> EmailMessage:
            ip = ban.ip or ban.fid
            content = self._opt("content")
            host = await asyncio.to_thread(fq_hostname)
            whois = await self._whois(ip) if content in ("whois", "whois-lines") else None
            lines = await self._lines(ban, ip) if content == "whois-lines" else None
            report = Report(
                self.label, ip, host, ban.failures, whois, lines, int(self._opt("grepmax") or "1000")
            )
            return self._message(subject(report), body(report), host)

        return build

    def _message(self, subject_text: str, text: str, host: str) -> EmailMessage:
        return message(
            subject_text,
            text,
            sender=self._host_tags(self._opt("sender"), host),
            sendername=self._host_tags(self._opt("sendername"), host),
            dests=self._dests(host),
            now=self._clock(),
        )

    @staticmethod
    def _host_tags(value: str, host: str) -> str:
        # jail.conf's `sender = root@<fq-hostname>` leaves these run-time tags for the action to fill.
        return value.replace("<fq-hostname>", host).replace("<sh-hostname>", sh_hostname())

    def _dests(self, host: str) -> list[str]:
        dests = [d.strip() for d in self._host_tags(self._opt("dest"), host).replace(" ", ",").split(",")]
        return [d for d in dests if d]

    async def _whois(self, ip: str) -> str:
        limit = str2seconds(self._opt("whois_timeout"))
        outcome = await run_program(self.runner, (self._opt("whois"), ip), timeout=limit)
        if outcome.returncode is None:
            return f"(whois gave no answer within {limit:g} s)"
        if outcome.returncode == 127:
            return f"(whois could not run: {outcome.stderr.strip()})"
        text = outcome.stdout.strip()
        return text or f"(whois found nothing: {outcome.describe()})"

    async def _lines(self, ban: Ban, ip: str) -> tuple[str, ...]:
        limit = int(self._opt("grepmax") or "1000")
        paths = [p for p in self._opt("logpath").split() if p and p != "/dev/null"]
        found: list[str] = []
        for path in paths:
            if Path(path).is_file():
                try:
                    text = await asyncio.to_thread(_read_tail, path)
                except OSError as exc:
                    log.warning("[%s] action %s: cannot read %s: %s", self.jail, self.name, path, exc)
                    continue
                found += matching_lines(text, ip, limit)
        if limit <= 0:
            return ()
        # Without a readable log (or no line there), the lines of the ban itself stand in.
        return tuple(found[-limit:]) if found else ban.lines[-limit:]

    async def _send(self, mail: EmailMessage, mark: Mark | None = None) -> None:
        """Hand `mail` to the transport. With a mark, its end is written where the effect is made: by the shell of
        sendmail or of the SMTP child (banjail.actions.smtp), which outlive a killed server."""
        import email.utils

        timeout = str2seconds(self._opt("timeout"))
        dests = [a for _, a in email.utils.getaddresses([str(mail["To"])])]
        sender = email.utils.parseaddr(str(mail["From"]))[1]
        data = mail.as_bytes()
        runner = self.runner
        if self._opt("transport") == "smtp":
            settings = self._smtp_settings(timeout)
            password = self._options.get("password", "")
            if mark is None:
                await asyncio.to_thread(smtp.send, settings, data, sender, dests, password)
                return
            # marked: a child that outlives a killed server delivers it (banjail.actions.smtp says why)
            argv = settings.argv(sender, dests)
            runner = replace(runner, env={**runner.env, smtp.PASSWORD_ENV: password})
            shown = f"SMTP to {settings.host}:{settings.port}"
        else:
            if any(d.startswith("-") for d in [sender, *dests]):
                raise ValueError(f"refusing an address that looks like an option: {[sender, *dests]}")
            argv = (self._opt("sendmail"), "-i", "-f", sender, *dests)
            shown = " ".join(argv)
        if mark is not None:
            argv, env = await asyncio.to_thread(completion.argv, mark, argv, data)
            runner, data = replace(runner, env={**runner.env, **env}), b""
        outcome = await run_program(runner, argv, data, timeout)
        if not outcome.ok:
            raise RuntimeError(f"{shown}: {outcome.describe()}")

    def _smtp_settings(self, timeout: float) -> smtp.Settings:
        host, _, port_text = self._opt("host").partition(":")
        use_ssl = _truthy(self._opt("ssl"))
        return smtp.Settings(
            host=host,
            port=int(port_text) if port_text else (465 if use_ssl else 25),
            ssl=use_ssl,
            starttls=_truthy(self._opt("starttls")),
            cafile=self._opt("cafile"),
            user=self._opt("user"),
            timeout=timeout,
        )
