"""The `data` column of upstream's bans/bips tables: the ticket data as JSON (matches, failures, groups).

Upstream writes it as UTF-8 JSON bytes (a BLOB), banjail as TEXT; both read each other's. A broken value reads as
empty, never as an error: a restore must not fail on one bad row.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from typing import Any

from banjail.model import Ban
from banjail.store import jsontext

# A stored data value's (lines, failures, ip, groups); keys that are not match groups are left out of groups.
Details = tuple[tuple[str, ...], int, str | None, tuple[tuple[str, str], ...]]
_NOT_GROUPS = frozenset(("matches", "failures"))


def encode(ban: Ban, max_matches: int) -> str:
    """The data text for `ban`: its groups, its last `max_matches` lines (none when 0) and its failures."""
    data: dict[str, Any] = dict(ban.groups)
    lines = list(ban.lines)
    if max_matches > 0:
        if lines:
            data["matches"] = lines[-max_matches:]
    else:
        data.pop("matches", None)
    data["failures"] = ban.failures
    return jsontext.mapping(data)


class Texts:
    """`encode` with the text of each fid's last encoded ban kept, for the `size` fids encoded last: a prolonged
    ban (a banned fid that reached maxretry again: only its end moved) has the same groups, lines and failures
    as the row stored before it, and a flood's commits store thousands of them (the daemon bench: 2,169 of its
    3,694 ban rows). The text is a function of those three and max_matches alone, which a hit compares."""

    def __init__(self, size: int = 128) -> None:
        self.size = size  # about 0.7 kB each (the text), and the lines a ban no longer in force would free
        self._last: dict[str, tuple[tuple[tuple[str, str], ...], tuple[str, ...], int, int, str]] = {}

    def encode(self, ban: Ban, max_matches: int) -> str:
        last = self._last
        fid = ban.fid
        kept = last.pop(fid, None)
        if (
            kept is not None
            and kept[1] == ban.lines
            and kept[0] == ban.groups
            and kept[2] == ban.failures
            and kept[3] == max_matches
        ):
            last[fid] = kept  # the newest again
            return kept[4]
        text = encode(ban, max_matches)
        last[fid] = (ban.groups, ban.lines, ban.failures, max_matches, text)
        if len(last) > self.size:
            del last[next(iter(last))]  # the least recently encoded
        return text


def decode_all(raws: Iterable[object], max_matches: int) -> dict[object, Details]:
    """Details per distinct data value. A restore reads 100k rows: each distinct text is parsed once (manual and
    match-less bans share theirs)."""
    distinct = list(dict.fromkeys(raws))
    return {raw: _details(data, max_matches) for raw, data in zip(distinct, _load_all(distinct), strict=True)}


def _details(data: dict[str, Any], max_matches: int) -> Details:
    """What a stored data value gives every ban that has it: (lines, failures, ip or None, groups)."""
    matches = data.get("matches")
    lines: tuple[str, ...] = ()
    if matches and max_matches > 0:
        lines = tuple([m if type(m) is str else _line(m) for m in matches[-max_matches:]])
    failures = data.get("failures", 1)
    ip = data.get("ip")
    groups: tuple[tuple[str, str], ...] = ()
    if not data.keys() <= _NOT_GROUPS:
        groups = tuple(
            (str(k), str(v)) for k, v in data.items() if k not in _NOT_GROUPS and isinstance(v, str | int | float)
        )
    return (
        lines,
        int(failures) if isinstance(failures, int | float) else 1,
        ip if isinstance(ip, str) else None,
        groups,
    )


def _load_all(raws: list[object]) -> list[dict[str, Any]]:
    """Every data value at once: one JSON parse of their concatenation, unless a value is not JSON text, then
    value by value."""
    texts = []
    for raw in raws:
        if isinstance(raw, bytes):
            raw = raw.decode("utf-8", "replace")
        if not isinstance(raw, str) or not raw.strip():
            return [_load(r) for r in raws]
        texts.append(raw)
    try:
        values = json.loads("[" + ",".join(texts) + "]")
    except ValueError:
        return [_load(r) for r in raws]
    if len(values) != len(raws):  # a value like `1, 2` would split in two
        return [_load(r) for r in raws]
    return [v if isinstance(v, dict) else {} for v in values]


def _load(raw: object) -> dict[str, Any]:
    if isinstance(raw, bytes):
        raw = raw.decode("utf-8", "replace")
    if not isinstance(raw, str):
        return {}
    try:
        data = json.loads(raw)
    except ValueError:
        return {}
    return data if isinstance(data, dict) else {}


def _line(match: object) -> str:
    # Upstream may store a match as its [prefix, date, rest] parts.
    if isinstance(match, list | tuple):
        return "".join(str(part) for part in match)
    return str(match)
