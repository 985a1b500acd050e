"""What `fail2ban-client --json` prints: every read command's value as a JSON object with named fields, never
upstream's lists of (name, value) pairs, so scripts read `.filter.currently_failed` instead of walking pairs.

`shape(argv, value)` is the object for the successful reply `value` to `argv`. The shapes (also in the README):

    status                      {"jails": [NAME, ...]}
    status <JAIL> [flavor]      {"filter": {"currently_failed": N, "total_failed": N, "file_list": [...]
                                            | "journal_matches": [...]},
                                 "actions": {"currently_banned": N, "total_banned": N, "banned": [...]},
                                 "engine": "native (PCRE2 ...)" | "python (why)"}   (the client adds
                                 "engine" from `get <JAIL> engine`; the status reply itself is upstream's)
    status --all                {"jails": {NAME: <the jail's status object>, ...}}
    stats                       {"jails": {NAME: {"backend": B, "filter": {"currently_failed": N,
                                 "total_failed": N}, "actions": {"currently_banned": N, "total_banned": N}}}}
    banned                      {"banned": {JAIL: [IP, ...], ...}}
    banned IP ...               {"banned": {IP: [JAIL, ...], ...}}
    get <JAIL> banned [IP ...]  {"banned": [IP, ...]}   or with addresses {"banned": {IP: true|false}}
    get ... WHAT [ARG]          {"WHAT": value}   (e.g. {"maxretry": 5}, {"failregex": [...]},
                                 {"datepattern": {"pattern": P, "name": N}}, {"journalmatch": [[...], ...]})
    ping                        {"reply": "pong"}
    echo ARGS                   {"echo": [ARG, ...]}
    version                     {"version": "1.0.2"}
    why IP                      the evidence object of banjail.control.why (already an object)

A field name is upstream's row title in lower case with `_` for spaces ("Currently failed" -> currently_failed),
except "Banned IP list", which is `banned`.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

# Commands that are not read commands in the protocol table but print JSON with --json too.
ALSO_JSON = frozenset({"ping", "echo", "why"})


def wants_json(argv: Sequence[Any], read: bool) -> bool:
    """Whether `--json` applies to argv (a read command, or ping, echo, why)."""
    return read or (bool(argv) and argv[0] in ALSO_JSON)


def field_name(title: str) -> str:
    """`Currently failed` -> `currently_failed`; `Banned IP list` -> `banned`."""
    if title == "Banned IP list":
        return "banned"
    return title.strip().lower().replace(" ", "_")


def _fields(pairs: Any) -> dict[str, Any]:
    return {field_name(str(name)): value for name, value in pairs}


def jail_object(groups: Any) -> dict[str, Any]:
    """A jail's status tree [("Filter", [...]), ("Actions", [...])] as {"filter": {...}, "actions": {...}}."""
    return {field_name(str(group)): _fields(rows) for group, rows in groups}


def jails_object(statuses: Any) -> dict[str, Any]:
    """`status --all` and `stats`: {"jails": {name: jail object}} from (name, status tree) pairs or a dict."""
    items = statuses.items() if isinstance(statuses, dict) else statuses
    return {"jails": {str(name): jail_object(groups) for name, groups in items}}


def _status(argv: Sequence[Any], value: Any) -> dict[str, Any]:
    if len(argv) == 1:
        summary = _fields(row for row in value if isinstance(row, list | tuple))
        names = str(summary.get("jail_list", ""))
        return {"jails": [n.strip() for n in names.split(",") if n.strip()]}
    if argv[1] == "--all":
        if isinstance(value, dict):
            return jails_object(value)
        tail = value[-1] if value and isinstance(value[-1], dict) else {}
        return jails_object(tail)
    return jail_object(value)


def _stats(value: Any) -> dict[str, Any]:
    """`stats` (upstream 1.1's value: jail -> [backend, [failed cur, total], [banned cur, total]])."""
    jails = {}
    for name, (backend, failed, banned) in value.items():
        jails[str(name)] = {
            "backend": backend,
            "filter": {"currently_failed": failed[0], "total_failed": failed[1]},
            "actions": {"currently_banned": banned[0], "total_banned": banned[1]},
        }
    return {"jails": jails}


def _banned(argv: Sequence[Any], value: Any) -> dict[str, Any]:
    ids = [str(a) for a in argv[1:]]
    if ids:
        return {"banned": {ip: list(jails) for ip, jails in zip(ids, value, strict=False)}}
    merged: dict[str, Any] = {}
    for item in value:
        merged.update(item)
    return {"banned": merged}


def _get(argv: Sequence[Any], value: Any) -> dict[str, Any]:
    if len(argv) == 2:  # get loglevel / dbfile / ...
        return {str(argv[1]): value}
    what = str(argv[2])
    if what == "banned":
        ids = [str(a) for a in argv[3:]]
        if not ids:
            return {"banned": list(value)}
        answers = [value] if len(ids) == 1 else list(value)
        return {"banned": {ip: bool(a) for ip, a in zip(ids, answers, strict=False)}}
    if what == "datepattern":
        if value is None:
            return {"datepattern": None}
        pattern, name = value
        return {"datepattern": {"pattern": pattern, "name": name}}
    if what in ("action",) and len(argv) > 4:
        return {str(argv[4]): value}
    return {what: value}


def shape(argv: Sequence[Any], value: Any) -> Any:
    """The JSON object for `value`, the successful reply to `argv` (see the module doc). A value of an
    unexpected shape is returned under {"value": ...} rather than raising."""
    if not argv:
        return {"value": value}
    head = str(argv[0])
    try:
        if head == "status":
            return _status(argv, value)
        if head == "stats":
            return _stats(value)
        if head == "banned":
            return _banned(argv, value)
        if head == "get" and len(argv) >= 2:
            return _get(argv, value)
        if head == "ping":
            return {"reply": value}
        if head == "echo":
            return {"echo": list(value)}
        if head == "version":
            return {"version": value}
        if isinstance(value, dict):
            return value
    except (TypeError, ValueError, IndexError, KeyError, AttributeError):
        pass
    return {"value": value}
