"""One journal entry (as `journalctl -o json` prints it) -> one log line, built the way upstream builds it.

Upstream (filtersystemd's formatJournalEntry) joins `_HOSTNAME`, `SYSLOG_IDENTIFIER` (else `_COMM`) with
`[SYSLOG_PID]` (else `[_PID]`) and a colon, a `[monotonic seconds]` stamp for kernel entries, and `MESSAGE`, with
spaces; newlines in the result become a literal backslash-n. It hands the entry's time beside the text; banjail's
LogLine carries text only, so the time is written in front of it the way upstream's line reads (`isoformat()` of
the local time, microseconds only when not zero), and the filters' date detection finds it there.

Pure: no I/O; local time comes from the process's time zone, like upstream's.
"""

from __future__ import annotations

import datetime
from collections.abc import Mapping
from dataclasses import dataclass

from banjail.sources.tail import MAX_LINE

# What a journal line needs; journalctl adds __CURSOR, __REALTIME_TIMESTAMP and __MONOTONIC_TIMESTAMP anyway.
FIELDS = (
    "_HOSTNAME",
    "SYSLOG_IDENTIFIER",
    "_COMM",
    "SYSLOG_PID",
    "_PID",
    "MESSAGE",
    "_SOURCE_REALTIME_TIMESTAMP",
    "_SOURCE_MONOTONIC_TIMESTAMP",
)


@dataclass(frozen=True, slots=True)
class JournalLine:
    text: str  # the date, a space, then the syslog-style line
    time: float  # POSIX seconds of the entry (source time when the sender gave one)
    cursor: str


def _values(value: object, encoding: str) -> list[str]:
    """A JSON field as its text values: a string; an array of byte values (binary data); or an array of those
    (a field the entry has several times)."""
    if value is None:
        return []
    if isinstance(value, str):
        return [value]
    if isinstance(value, list):
        if all(isinstance(item, int) for item in value):
            return [bytes(value).decode(encoding, "replace")]
        return [text for item in value for text in _values(item, encoding)]
    return [str(value)]


def _first(entry: Mapping[str, object], name: str, encoding: str) -> str:
    value = entry.get(name)
    if type(value) is str:  # nearly always: straight through
        return value
    values = _values(value, encoding)
    return values[0] if values else ""


def _micros(entry: Mapping[str, object], *names: str) -> int | None:
    for name in names:
        text = _first(entry, name, "ascii")
        if text:
            try:
                return int(text)
            except ValueError:
                continue
    return None


def _pid(text: str) -> str:
    # Upstream's journal reader converts the pid field to int; failing that its formatter tries base prefixes,
    # then keeps the text as it is.
    for base in (10, 0):
        try:
            return f"[{int(text, base)}]"
        except ValueError:
            continue
    return f"[{text}]"


def format_entry(entry: Mapping[str, object], encoding: str = "utf-8") -> JournalLine | None:
    """The line for one decoded JSON entry; None when the entry has no usable realtime timestamp."""
    micros = _micros(entry, "_SOURCE_REALTIME_TIMESTAMP", "__REALTIME_TIMESTAMP")
    if micros is None:
        return None
    date = datetime.datetime.fromtimestamp(micros / 1_000_000)
    elements = []
    host = _first(entry, "_HOSTNAME", encoding)
    if host:
        elements.append(host)
    ident = _first(entry, "SYSLOG_IDENTIFIER", encoding) or _first(entry, "_COMM", encoding)
    if ident:
        pid = _first(entry, "SYSLOG_PID", encoding) or _first(entry, "_PID", encoding)
        ident = (ident + _pid(pid) if pid else ident) + ":"
        elements.append(ident)
        if ident == "kernel:":
            mono = _micros(entry, "_SOURCE_MONOTONIC_TIMESTAMP", "__MONOTONIC_TIMESTAMP")
            elements.append(f"[{(mono or 0) / 1_000_000:12.6f}]")
    message = entry.get("MESSAGE")
    elements.append(message if type(message) is str else " ".join(_values(message, encoding)))
    line = " ".join(elements).replace("\n", "\\n")
    text = date.isoformat() + " " + line
    if len(text) > MAX_LINE:
        text = text[:MAX_LINE]
    return JournalLine(text, micros / 1_000_000, _first(entry, "__CURSOR", encoding))
