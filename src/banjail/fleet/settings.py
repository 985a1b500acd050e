"""The fleet's configuration: the [fleet] section of fail2ban.conf/fail2ban.local, and the per-jail `fleet` option.

    [fleet]
    redis   = redis://10.0.0.1:6379/0     (rediss://user:password@host:6380/0 for TLS with a password)
    stream  = banjail:bans                 (the Redis stream every host of the fleet shares)
    key     = <shared secret>              or  keyfile = /etc/fail2ban/fleet.key
    host    = <this host's name>           (default: the hostname)
    replica = redis://127.0.0.1:6379/0     (optional: read the stream from this replica of `redis`, e.g. one per
                                            site; notices are still written to `redis`)

    [sshd]
    fleet   = publish | subscribe | both | no     (default no)

Pure: reads a config tree and the key file, returns frozen values; every bad value is a Problem naming the file,
section, option, value and the fix. No [fleet] section means no fleet (None), whatever the jails say.
"""

from __future__ import annotations

import re
import socket
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

from banjail.config.ini import InterpolationError, Tree
from banjail.errors import Problem

SECTION = "fleet"
MODES = ("publish", "subscribe", "both", "no")
PUBLISHES = ("publish", "both")
SUBSCRIBES = ("subscribe", "both")
DEFAULT_STREAM = "banjail:bans"
MIN_KEY_BYTES = 16
Report = Callable[[str, str, str, str], None]  # (option, value, message, fix)
_HOST = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$")


@dataclass(frozen=True, slots=True)
class FleetConfig:
    """A host's fleet settings. `key` is the shared HMAC secret (bytes, never logged); `redis` the URL as given."""

    redis: str
    stream: str
    key: bytes
    host: str
    replica: str = ""  # where the subscriber reads; "" reads from `redis`

    def __repr__(self) -> str:  # the key must not reach a log line or a dump
        return (
            f"FleetConfig(redis={safe_url(self.redis)!r}, stream={self.stream!r}, host={self.host!r}, "
            f"replica={safe_url(self.replica)!r})"
        )


def read_fleet(tree: Tree, problems: list[Problem]) -> FleetConfig | None:
    """The [fleet] section of `tree` (fail2ban.conf and its overlays), None when there is none. Problems are
    appended (errors: the daemon refuses to start), and None is returned when any was found."""
    if not tree.has_section(SECTION):
        return None
    found = len(problems)

    def value(option: str) -> str:
        try:
            text = tree.get(SECTION, option)
        except InterpolationError as exc:
            problems.append(exc.problem)
            return ""
        return "" if text is None else text.strip()

    def bad(option: str, text: str, message: str, fix: str) -> None:
        entry = tree.entry(SECTION, option)
        # a missing option is reported in the file of the section
        where = entry or next(iter(tree.sections[SECTION].values()), None)
        line = entry.line if entry else 0
        problems.append(Problem(message, where.file if where else "", line, SECTION, option, text, fix))

    url = value("redis")
    if not url:
        bad("redis", url, "is missing: the fleet needs its Redis server", "set redis = redis://HOST:6379/0")
    else:
        message = _url_problem(url)
        if message:
            bad(
                "redis",
                safe_url(url),
                message,
                "write redis://HOST:PORT/DB, or rediss://[USER:]PASSWORD@HOST:PORT/DB for TLS",
            )
    replica = value("replica")
    if replica and _url_problem(replica):
        bad("replica", safe_url(replica), _url_problem(replica), "write redis://HOST:PORT/DB (a replica of redis)")
    stream = value("stream") or DEFAULT_STREAM
    if any(c.isspace() for c in stream):
        bad("stream", stream, "is not a stream name (it holds white space)", "use a name like banjail:bans")
    host = value("host") or socket.gethostname()
    if not _HOST.match(host):
        bad(
            "host",
            host,
            "is not a host name for the fleet",
            "use letters, digits, '.', '-' and '_', at most 64",
        )
    key = _key(value("key"), value("keyfile"), bad)
    if len(problems) > found:
        return None
    return FleetConfig(redis=url, stream=stream, key=key, host=host, replica=replica)


def jail_mode(text: str | None) -> str | None:
    """The jail's `fleet` mode (lower-cased), or None when it is not one of MODES. Unset is `no`."""
    mode = (text or "no").strip().lower() or "no"
    return mode if mode in MODES else None


def mode_problem(text: str, file: str, line: int, jail: str) -> Problem:
    """The error for a `fleet` option that is not a mode."""
    return Problem(
        "is not a fleet mode", file, line, jail, "fleet", text, "use publish, subscribe, both or no"
    )


def _key(key: str, keyfile: str, report: Report) -> bytes:
    if key and keyfile:
        report("keyfile", keyfile, "is set together with key", "keep one of key and keyfile")
        return b""
    if keyfile:
        try:
            secret = Path(keyfile).read_bytes().strip()
        except OSError as exc:
            report(
                "keyfile",
                keyfile,
                f"cannot be read: {exc.strerror or exc}",
                "create it: head -c 32 /dev/urandom | base64 > FILE; chmod 600 FILE",
            )
            return b""
        if len(secret) < MIN_KEY_BYTES:
            report(
                "keyfile",
                keyfile,
                f"holds a key of {len(secret)} bytes, fewer than {MIN_KEY_BYTES}",
                "write a longer random key into it",
            )
            return b""
        return secret
    if not key:
        report(
            "key",
            "",
            "is missing: fleet messages are signed with a shared secret",
            "set key = <secret> or keyfile = /etc/fail2ban/fleet.key",
        )
        return b""
    if len(key.encode()) < MIN_KEY_BYTES:
        report(
            "key",
            "<hidden>",
            f"is shorter than {MIN_KEY_BYTES} bytes",
            "use a longer random secret, the same on every host",
        )
        return b""
    return key.encode()


def _url_problem(url: str) -> str:
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError as exc:
        return f"is not a Redis URL ({exc})"
    if parts.scheme not in ("redis", "rediss"):
        return f"has the scheme {parts.scheme!r}, not redis or rediss"
    if not parts.hostname:
        return "names no host"
    if port is not None and not 0 < port < 65536:
        return f"has the port {port}, not 1-65535"
    db = parts.path.strip("/")
    if db and not db.isdigit():
        return f"names the database {db!r}, not a number"
    return ""


def safe_url(url: str) -> str:
    """The URL without its password, for messages."""
    try:
        parts = urlsplit(url)
    except ValueError:
        return "<unparsable>"
    if parts.password is None:
        return url
    netloc = parts.netloc.replace(f":{parts.password}@", ":***@")
    return parts._replace(netloc=netloc).geturl()
