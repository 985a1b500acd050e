"""A fleet notice: one ban or unban as it travels through the stream, its canonical encoding and its signature.

Stream entry fields (all strings):

    v       "1"
    kind    "ban" | "unban"
    jail    the jail's name on the origin host (a subscriber applies it to its jail of the same name)
    target  the banned address or network (fid), e.g. 192.0.2.7 or 2001:db8::/64
    start   ban start, POSIX seconds with 3 decimals, the origin's clock ("" for an unban: its time is `sent`)
    end     ban end, same format; "-1" permanent ("" for an unban)
    count   the origin's ban count of the target (bantime.increment), "1" for a first ban ("0" for an unban)
    origin  the origin host's fleet name
    reason  "<filter>, <n> failures" (or "manual"), printable text without newlines, at most 200 characters
    sent    when the origin wrote the notice, same format as start
    sig     HMAC-SHA256 (hex) of the canonical encoding, keyed with the fleet's shared secret

Canonical encoding (what `sig` signs): the bytes b"banjail-fleet\\x00" followed, for each field of SIGNED in that
order, by `name=value\\n`, UTF-8. No value may hold "\\n" or "\\x00" (`encode` refuses them; `reason` is cleaned
first), so the encoding is unambiguous: two different notices never encode alike. Unknown extra fields of a
stream entry are not signed and are ignored.

Pure: no I/O, no clock (callers pass times).
"""

from __future__ import annotations

import hashlib
import hmac
import re
from collections.abc import Mapping
from dataclasses import dataclass

from banjail.core.ignore import parse_address, parse_network

VERSION = "1"
SIGNED = ("v", "kind", "jail", "target", "start", "end", "count", "origin", "reason", "sent")
PREFIX = b"banjail-fleet\x00"
REASON_MAX = 200
_JAIL = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._@-]{0,63}$")
_HOST = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$")
_PRINTABLE = re.compile(r"[^\x20-\x7e]")


class NoticeError(ValueError):
    """A stream entry is not a valid notice; the message says why (the subscriber logs and counts it)."""


@dataclass(frozen=True, slots=True)
class Notice:
    """One ban (`until` None: permanent) or unban of `target` in `jail`, decided on host `origin`."""

    kind: str
    jail: str
    target: str
    start: float
    until: float | None
    count: int
    origin: str
    reason: str
    sent: float


def ban_notice(
    jail: str,
    target: str,
    start: float,
    until: float | None,
    count: int,
    origin: str,
    reason: str,
    sent: float,
) -> Notice:
    return Notice("ban", jail, target, start, until, count, origin, clean_reason(reason), sent)


def unban_notice(jail: str, target: str, origin: str, sent: float) -> Notice:
    return Notice("unban", jail, target, sent, None, 0, origin, "unbanip --fleet", sent)


def clean_reason(text: str) -> str:
    """`text` as a reason field: printable ASCII only (others become '?'), at most REASON_MAX characters."""
    return _PRINTABLE.sub("?", text)[:REASON_MAX]


def _seconds(value: float) -> str:
    return f"{value:.3f}"


def fields(notice: Notice) -> dict[str, str]:
    """The notice's unsigned fields, in SIGNED order."""
    ban = notice.kind == "ban"
    return {
        "v": VERSION,
        "kind": notice.kind,
        "jail": notice.jail,
        "target": notice.target,
        "start": _seconds(notice.start) if ban else "",
        "end": ("-1" if notice.until is None else _seconds(notice.until)) if ban else "",
        "count": str(notice.count),
        "origin": notice.origin,
        "reason": notice.reason,
        "sent": _seconds(notice.sent),
    }


def canonical(values: Mapping[str, str]) -> bytes:
    """The bytes the signature covers (see the module doc). Raises NoticeError for a value with \\n or \\x00."""
    parts = [PREFIX]
    for name in SIGNED:
        value = values.get(name, "")
        if "\n" in value or "\x00" in value:
            raise NoticeError(f"field {name} holds a newline or NUL")
        parts.append(f"{name}={value}\n".encode())
    return b"".join(parts)


def sign(values: Mapping[str, str], key: bytes) -> str:
    return hmac.new(key, canonical(values), hashlib.sha256).hexdigest()


def encode(notice: Notice, key: bytes) -> dict[str, str]:
    """The stream entry for `notice`: its fields and `sig`."""
    values = fields(notice)
    values["sig"] = sign(values, key)
    return values


def decode(entry: Mapping[str, str], key: bytes) -> Notice:
    """The notice of a stream entry whose signature verifies with `key`; NoticeError otherwise (the first word
    of its message, `signature` or `malformed`, is the reason it is counted under)."""
    signature = entry.get("sig", "")
    try:
        expected = sign(entry, key)
    except NoticeError as exc:
        raise NoticeError(f"malformed: {exc}") from None
    if not hmac.compare_digest(signature.encode(), expected.encode()):
        raise NoticeError("signature: does not verify with this host's key")
    return _parse(entry)


def _parse(entry: Mapping[str, str]) -> Notice:
    def fail(why: str) -> NoticeError:
        return NoticeError(f"malformed: {why}")

    if entry.get("v") != VERSION:
        raise fail(f"version {entry.get('v')!r}, this host reads {VERSION}")
    kind = entry.get("kind", "")
    if kind not in ("ban", "unban"):
        raise fail(f"kind {kind!r}")
    jail, target, origin = entry.get("jail", ""), entry.get("target", ""), entry.get("origin", "")
    if not _JAIL.match(jail):
        raise fail(f"jail {jail!r}")
    if not _HOST.match(origin):
        raise fail(f"origin {origin!r}")
    if parse_address(target) is None and ("/" not in target or parse_network(target) is None):
        raise fail(f"target {target!r} is not an address or a network")
    try:
        sent = float(entry.get("sent", ""))
        count = int(entry.get("count", ""))
        if kind == "ban":
            start = float(entry.get("start", ""))
            end = entry.get("end", "")
            until = None if end == "-1" else float(end)
        else:
            start, until = sent, None
    except ValueError as exc:
        raise fail(str(exc)) from None
    return Notice(
        kind,
        jail,
        str(parse_address(target) or target),
        start,
        until,
        count,
        origin,
        entry.get("reason", ""),
        sent,
    )
