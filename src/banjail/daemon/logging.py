"""The daemon's log, in upstream fail2ban's format and words.

Log watchers and the recidive filter parse these lines, so the layout is upstream's exactly:

    2026-11-25 08:44:15,123 fail2ban.actions        [1234]: NOTICE  [sshd] Ban 192.0.2.7

(time with milliseconds, the logger name padded to 24 columns, the pid, the level padded to 7). Loggers are named
as upstream's modules (`fail2ban.actions`, `fail2ban.filter`, `fail2ban.jail`, `fail2ban.server`, ...), so
`fail2ban.conf`'s loglevel and any `logging` configuration written for upstream apply unchanged.

Targets: a file path (append; reopened only by `reopen`, which SIGUSR1 and `flushlogs` call after logrotate moved
the file: no stat per record, unlike logging's WatchedFileHandler), STDOUT, STDERR, SYSLOG (to `syslogsocket`, `auto` = /dev/log; no time and no padding, as upstream) and
SYSTEMD-JOURNAL (native journal datagrams, identifier `fail2ban`).
"""

from __future__ import annotations

import logging
import logging.handlers
import os
import socket
import sys
import time
from collections.abc import Sequence
from typing import Any

# Upstream's extra levels (values and names), so `loglevel = NOTICE` and numeric levels mean the same here.
NOTICE = logging.INFO + 5
MSG = logging.INFO - 2
TRACEDEBUG = 7
HEAVYDEBUG = 5
logging.addLevelName(NOTICE, "NOTICE")
logging.addLevelName(MSG, "MSG")
logging.addLevelName(TRACEDEBUG, "TRACE")
logging.addLevelName(HEAVYDEBUG, "HEAVY")

ROOT = "fail2ban"
SPECIAL_TARGETS = ("STDOUT", "STDERR", "SYSLOG", "SYSOUT", "SYSTEMD-JOURNAL")
_LEVELS = {
    "CRITICAL": logging.CRITICAL,
    "ERROR": logging.ERROR,
    "WARNING": logging.WARNING,
    "WARN": logging.WARNING,
    "NOTICE": NOTICE,
    "INFO": logging.INFO,
    "MSG": MSG,
    "DEBUG": logging.DEBUG,
    "TRACEDEBUG": TRACEDEBUG,
    "HEAVYDEBUG": HEAVYDEBUG,
}
FORMAT = "%(asctime)s %(name)-24s[%(process)d]: %(levelname)-7s %(message)s"
SYSLOG_FORMAT = "%(name)s[%(process)d]: %(levelname)s %(message)s"


def logger(name: str) -> logging.Logger:
    """The logger upstream's module `name` would log to (`actions` -> `fail2ban.actions`)."""
    return logging.getLogger(f"{ROOT}.{name}")


def level_value(text: str) -> int:
    """A loglevel as fail2ban.conf or `set loglevel` gives it (a name or a number) -> logging level.

    Raises ValueError naming the accepted values."""
    word = text.strip().upper()
    if word in _LEVELS:
        return _LEVELS[word]
    try:
        return int(word)
    except ValueError:
        raise ValueError(
            f"Invalid log level {text!r} (use CRITICAL, ERROR, WARNING, NOTICE, INFO, DEBUG or a number)"
        ) from None


class _JournalHandler(logging.Handler):
    """Sends records to systemd-journald's native socket (one datagram per record; no library needed)."""

    _PRIORITY = ((logging.ERROR, 3), (logging.WARNING, 4), (NOTICE, 5), (logging.INFO, 6))

    def __init__(self, path: str = "/run/systemd/journal/socket") -> None:
        super().__init__()
        self._path = path
        self._sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)

    def emit(self, record: logging.LogRecord) -> None:
        try:
            priority = next((p for level, p in self._PRIORITY if record.levelno >= level), 7)
            message = self.format(record)
            fields = [
                ("MESSAGE", message),
                ("PRIORITY", str(priority)),
                ("SYSLOG_IDENTIFIER", "fail2ban"),
                ("LOGGER", record.name),
            ]
            data = b"".join(_journal_field(k, v) for k, v in fields)
            self._sock.sendto(data, self._path)
        except OSError:
            self.handleError(record)

    def close(self) -> None:
        self._sock.close()
        super().close()


def _journal_field(key: str, value: str) -> bytes:
    raw = value.encode("utf-8", "replace")
    if b"\n" not in raw:
        return key.encode() + b"=" + raw + b"\n"
    # Multi-line values use the length-prefixed form of the native protocol.
    return key.encode() + b"\n" + len(raw).to_bytes(8, "little") + raw + b"\n"


# The handler LogTarget installed when it writes formatted text to a stream (file, STDOUT, STDERR): `log_many`
# then writes many records as one string. None while the target is another kind, or not set.
_STREAM: list[logging.StreamHandler[Any] | None] = [None]


def log_many(log: logging.Logger, level: int, messages: Sequence[str]) -> None:
    """Log `messages` (already formatted) at one level, as records of `log` would read, but in one write when
    the daemon's target is a file or a stream: the hot path for `Found`, `Ban` and `Restore Ban` lines, which
    come by the thousand in a flood or a restore. All get the time of the call."""
    if not messages or not log.isEnabledFor(level):
        return
    handler = _STREAM[0]
    root = logging.getLogger(ROOT)
    if handler is None or root.handlers != [handler] or root.propagate or level < handler.level:
        for message in messages:
            log.log(level, "%s", message)
        return
    now = time.time()
    stamp = time.strftime("%Y-%m-%d %H:%M:%S", time.localtime(now))
    prefix = f"{stamp},{int(now * 1000) % 1000:03d} {log.name:<24}[{os.getpid()}]: {logging.getLevelName(level):<7} "
    text = prefix + ("\n" + prefix).join(messages) + "\n"
    handler.acquire()
    try:
        stream = handler.stream
        if stream is not None:
            stream.write(text)
            handler.flush()
    except (OSError, ValueError):
        pass  # as logging does: a log that cannot be written never stops the daemon
    finally:
        handler.release()


class LogTarget:
    """The one place the daemon's log goes. `configure` switches target and level at any time (`set logtarget`)."""

    def __init__(self) -> None:
        self.target = ""
        self.level = "INFO"
        self.syslogsocket = "auto"
        self._handler: logging.Handler | None = None

    def set_level(self, text: str) -> None:
        """Set the level by name or number (raises ValueError for anything else)."""
        value = level_value(text)
        logging.getLogger(ROOT).setLevel(value)
        self.level = text.strip().upper()

    def set_target(self, target: str) -> None:
        """Log to `target` from now on. Raises OSError when a file cannot be opened or a socket is missing
        (the previous target is kept)."""
        if target == self.target and self._handler is not None:
            return
        handler = self._open(target)
        root = logging.getLogger(ROOT)
        root.propagate = False
        old = self._handler
        root.addHandler(handler)
        if old is not None:
            root.removeHandler(old)
            old.close()
        self._handler = handler
        plain = type(handler) in (logging.FileHandler, logging.StreamHandler)
        _STREAM[0] = handler if plain and isinstance(handler, logging.StreamHandler) else None
        previous, self.target = self.target, target
        if previous:
            logger("server").info("Changed logging target to %s", target)

    def _open(self, target: str) -> logging.Handler:
        upper = target.upper()
        handler: logging.Handler
        fmt = FORMAT
        if upper in ("STDOUT", "SYSOUT"):
            handler = logging.StreamHandler(sys.stdout)
        elif upper == "STDERR":
            handler = logging.StreamHandler(sys.stderr)
        elif upper == "SYSLOG":
            path = "/dev/log" if self.syslogsocket == "auto" else self.syslogsocket
            if not os.path.exists(path):
                raise OSError(f"Syslog socket file: {path} does not exists or is not a socket")
            handler = logging.handlers.SysLogHandler(path, facility=logging.handlers.SysLogHandler.LOG_DAEMON)
            fmt = SYSLOG_FORMAT
        elif upper == "SYSTEMD-JOURNAL":
            handler = _JournalHandler()
            fmt = "%(message)s"
        else:
            # delay=False: a file that cannot be opened fails here, not at the first record.
            handler = logging.FileHandler(target, encoding="utf-8")
        handler.setFormatter(logging.Formatter(fmt))
        return handler

    def reopen(self) -> str:
        """Reopen a file target (after logrotate moved it): "rolled over"; flush a stream: "flushed"."""
        handler = self._handler
        if handler is None:
            return "flushed"
        if isinstance(handler, logging.FileHandler):
            handler.acquire()
            try:
                handler.flush()
                handler.close()
                handler.stream = handler._open()
            finally:
                handler.release()
            logger("server").info("rollover performed on %s", self.target)
            return "rolled over"
        handler.flush()
        logger("server").info("flush performed on %s", self.target)
        return "flushed"

    def close(self) -> None:
        _STREAM[0] = None
        if self._handler is not None:
            logging.getLogger(ROOT).removeHandler(self._handler)
            self._handler.close()
            self._handler = None
