"""How fail2ban-client prints a reply: the same text upstream's client prints for the same command and value.

`render(argv, value)` is the text for a successful reply (without the final newline); anything without a
dedicated layout prints as Python prints the value (`str`), because that is what scripts written against
upstream parse. Status trees put a TAB after `name:` and draw branches with `|-`, `` `- `` and `|  `.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

_LEVEL_NAMES = {
    50: "CRITICAL",
    40: "ERROR",
    30: "WARNING",
    25: "NOTICE",
    20: "INFO",
    10: "DEBUG",
    0: "NOTSET",
}


def _text(value: object) -> str:
    return value if isinstance(value, str) else str(value)


def _joined(value: object) -> str:
    # A list field of a status tree prints as its items separated by spaces.
    return " ".join(map(str, value)) if isinstance(value, list | tuple) else _text(value)


def _branch(last: bool) -> str:
    return "`-" if last else "|-"


def status_tree(title: str, fields: Sequence[Any]) -> str:
    """A one-level tree: `Status` then `|- name:<TAB>value` rows."""
    rows = [title]
    for n, (name, value) in enumerate(fields):
        rows.append(f"{_branch(n == len(fields) - 1)} {name}:\t{_joined(value)}")
    return "\n".join(rows)


def jail_status(jail: str, groups: Sequence[Any]) -> str:
    """A jail's two-level status tree: groups (Filter, Actions) each with their name/value rows."""
    rows = [f"Status for the jail: {jail}"]
    for n, (group, fields) in enumerate(groups):
        last = n == len(groups) - 1
        rows.append(f"{_branch(last)} {group}")
        indent = "   " if last else "|  "
        for m, (name, value) in enumerate(fields):
            rows.append(f"{indent}{_branch(m == len(fields) - 1)} {name}:\t{_joined(value)}")
    return "\n".join(rows)


def _listing(items: Sequence[Any], empty: str, heading: str, label: Callable[[int, Any], str]) -> str:
    if not items:
        return empty
    rows = [heading]
    rows += [f"{_branch(i == len(items) - 1)} {label(i, item)}" for i, item in enumerate(items)]
    return "\n".join(rows)


def _paths(value: Any) -> str:
    return _listing(
        value, "No file is currently monitored", "Current monitored log file(s):", lambda _, p: _text(p)
    )


def _ignoreip(value: Any) -> str:
    return _listing(
        value,
        "No IP address/network is ignored",
        "These IP addresses/networks are ignored:",
        lambda _, p: _text(p),
    )


def _regexes(value: Any) -> str:
    return _listing(
        value,
        "No regular expression is defined",
        "The following regular expression are defined:",
        lambda i, r: f"[{i}]: {r}",
    )


def _journalmatch(value: Any) -> str:
    if not value:
        return "No journal match filter set"
    return "Current match filter:\n" + " + ".join(" ".join(group) for group in value)


def _datepattern(value: Any) -> str:
    if value is None:
        return "Current date pattern set to: Not set/required"
    pattern, name = value
    return (
        f"Current date pattern set to: {name}"
        if pattern is None
        else f"Current date pattern set to: {pattern} ({name})"
    )


def _names(empty: str, heading: str, value: Any) -> str:
    return empty if not value else heading + "\n" + ", ".join(value)


def _jail_info(argv: Sequence[Any], value: Any) -> str | None:
    """Layouts chosen by the third word (`get|set <JAIL> <what> ...`); None when there is none."""
    what = argv[2]
    jail = argv[1]
    if what in ("logpath", "addlogpath", "dellogpath"):
        return _paths(value)
    if what == "logencoding":
        return "Current log encoding is set to:\n" + _text(value)
    if what in ("journalmatch", "addjournalmatch", "deljournalmatch"):
        return _journalmatch(value)
    if what == "datepattern":
        return _datepattern(value)
    if what in ("ignoreip", "addignoreip", "delignoreip"):
        return _ignoreip(value)
    if what in (
        "failregex",
        "addfailregex",
        "delfailregex",
        "ignoreregex",
        "addignoreregex",
        "delignoreregex",
    ):
        return _regexes(value)
    if what == "actions":
        return _names(f"No actions for jail {jail}", f"The jail {jail} has the following actions:", value)
    if what in ("actionproperties", "actionmethods") and len(argv) > 3:
        kind = "properties" if what == "actionproperties" else "methods"
        return _names(
            f"No {kind} for jail {jail} action {argv[3]}",
            f"The jail {jail} action {argv[3]} has the following {kind}:",
            value,
        )
    if what == "banip" and argv[0] == "get" and isinstance(value, list):
        sep = " " if len(argv) <= 3 else _text(argv[3])
        return ("\n" if sep == "--with-time" else sep).join(map(_text, value))
    return None


def _server_info(argv: Sequence[Any], value: Any) -> str | None:
    """Layouts chosen by the second word (`get|set <what>`); None when there is none."""
    what = argv[1]
    if what == "syslogsocket":
        return "Current syslog socket is:\n`- " + _text(value)
    if what == "logtarget":
        return "Current logging target is:\n`- " + _text(value)
    if what == "loglevel":
        level = _LEVEL_NAMES.get(value, f"Level {value}") if isinstance(value, int) else value
        return f"Current logging level is {level!r}"
    if what == "dbfile":
        return (
            "Database currently disabled"
            if value is None
            else "Current database file is:\n`- " + _text(value)
        )
    if what == "dbpurgeage":
        if value is None:
            return "Database currently disabled"
        return f"Current database purge age is:\n`- {int(value)}seconds"
    return None


def _render(argv: Sequence[Any], value: Any) -> str:
    head = argv[0]
    if head == "ping":
        return "Server replied: " + _text(value)
    if head == "start":
        return "Jail started"
    if head == "stop":
        if value is None:
            return "Shutdown successful" if len(argv) == 1 else "Jail stopped"
        return _text(value)
    if head == "add":
        return "Added jail " + _text(value)
    if head == "flushlogs":
        return "logs: " + _text(value)
    if head == "echo":
        return " ".join(map(_text, value))
    if head == "why" and isinstance(value, dict):
        from banjail.control.whytext import render_why

        return render_why(value)
    if head == "status":
        return jail_status(_text(argv[1]), value) if len(argv) > 1 else status_tree("Status", value)
    if len(argv) >= 2:
        text = _server_info(argv, value)
        if text is not None:
            return text
    if len(argv) >= 3:
        text = _jail_info(argv, value)
        if text is not None:
            return text
    return _text(value)


def render(argv: Sequence[Any], value: Any) -> str:
    """The text upstream's client prints for `value`, the successful reply to `argv`.

    A value of an unexpected shape prints as its representation (upstream prints a garbled variant of it), never a
    crash.
    """
    if not argv:
        return _text(value)
    try:
        return _render(argv, value)
    except (TypeError, ValueError, IndexError, KeyError):
        return repr(value)


def render_all_status(statuses: Sequence[tuple[str, Any]]) -> str:
    """`status --all`: every jail's status tree, one after the other."""
    return "\n".join(jail_status(jail, groups) for jail, groups in statuses)


def stats_table(rows: Sequence[tuple[str, Any]]) -> str:
    """`stats`: one row per jail with its current and total failures and bans, from each jail's status."""
    header = ("Jail", "Backend", "Failed cur", "Failed total", "Banned cur", "Banned total")
    table = [header]
    for jail, groups in rows:
        fields = {name: value for _, group in groups for name, value in group}
        table.append(
            (
                jail,
                _text(fields.get("Backend", "")),
                _text(fields.get("Currently failed", "")),
                _text(fields.get("Total failed", "")),
                _text(fields.get("Currently banned", "")),
                _text(fields.get("Total banned", "")),
            )
        )
    widths = [max(len(row[i]) for row in table) for i in range(len(header))]
    lines = [" | ".join(cell.ljust(w) for cell, w in zip(row, widths, strict=True)).rstrip() for row in table]
    lines.insert(1, "-+-".join("-" * w for w in widths))
    return "\n".join(lines)
