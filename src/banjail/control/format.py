"""How fail2ban-client prints a reply: the same text upstream's client prints for the same command and value.

`render(argv, value)` is the text for a successful reply (without the final newline); anything without a
dedicated layout prints as Python prints the value (`str`), because that is what scripts written against
upstream parse. Status trees put a TAB after `name:` and draw branches with `|-`, `` `- `` and `|  `.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
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


def _jail_rows(groups: Sequence[Any], prefix: str) -> list[str]:
    rows = []
    for n, (group, fields) in enumerate(groups):
        last = n == len(groups) - 1
        rows.append(f"{prefix}{_branch(last)} {group}")
        indent = prefix + ("   " if last else "|  ")
        for m, (name, value) in enumerate(fields):
            rows.append(f"{indent}{_branch(m == len(fields) - 1)} {name}:\t{_joined(value)}")
    return rows


def jail_status(jail: str, groups: Sequence[Any]) -> str:
    """A jail's two-level status tree: groups (Filter, Actions) each with their name/value rows."""
    return "\n".join([f"Status for the jail: {jail}", *_jail_rows(groups, "")])


def all_status(value: Sequence[Any]) -> str:
    """`status --all [flavor]` as upstream 1.1 prints it: the server's rows, then `Status for the jails:` with
    each jail's tree under a `Jail: NAME` branch. `value` is the server's rows with the {jail: groups} dict last."""
    summary, jails = list(value[:-1]), value[-1]
    rows = ["Status"]
    for n, (name, field) in enumerate(summary):
        rows.append(f"{_branch(not jails and n == len(summary) - 1)} {name}:\t{_joined(field)}")
    if jails:
        rows.append("`- Status for the jails:")
        for i, (name, groups) in enumerate(jails.items(), 1):
            last = i == len(jails)
            rows.append(f"   {_branch(last)} Jail: {name}")
            rows += _jail_rows(groups, "      " if last else "   |  ")
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
            return "Shutdown successful" if list(argv[1:]) in ([], ["--unban"]) else "Jail stopped"
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
    if head == "status" and len(argv) > 1 and argv[1] == "--all":
        return all_status(value)
    if head == "stats":
        return stats_table(value)
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


# The table's drawing characters as upstream 1.1 picks them: box drawing when stdout is UTF-8, else ASCII.
# Order: column bar, rule, header tee, header cross, rule cross, bottom cross, inner bar, header rule.
_ASCII_RULES = ("|", "-", "|", "x", "x", "-", "|", "-")
_UTF8_RULES = ("\u2551", "\u2550", "\u255f", "\u256b", "\u256c", "\u2569", "\u2502", "\u2500")
_MIN_WIDTHS = (8, 8, 3, 3, 3, 3)


def stats_from_status(jails: Mapping[str, Any]) -> dict[str, list[Any]]:
    """`stats`'s value put together from each jail's status (for a server without `stats`, upstream 1.0.2,
    which does not say its backend: left empty)."""
    rows: dict[str, list[Any]] = {}
    for jail, groups in jails.items():
        fields = {name: value for _, group in groups for name, value in group}
        rows[jail] = [
            "",
            [fields.get("Currently failed", 0), fields.get("Total failed", 0)],
            [fields.get("Currently banned", 0), fields.get("Total banned", 0)],
        ]
    return rows


def stats_table(value: Any, utf8: bool = False) -> str:
    """`stats` as upstream 1.1 prints it: Jail, Backend, then Filter and Actions each as `cur | tot`, names
    left-aligned and numbers right-aligned, every column at least as wide as upstream's minimum.
    `value` is the server's {jail: [backend, [failed cur, failed tot], [banned cur, banned tot]]}."""
    if not value:
        return "No jails found."
    bar, rule, tee, hcross, cross, bottom, inner, hrule = _UTF8_RULES if utf8 else _ASCII_RULES
    cells = [[_text(jail), _text(row[0]), *map(_text, row[1]), *map(_text, row[2])] for jail, row in value.items()]
    width = [max(least, *(len(c[i]) for c in cells)) for i, least in enumerate(_MIN_WIDTHS)]
    groups = [3 + width[2] + width[3], 3 + width[4] + width[5]]
    columns = [width[0], width[1], *groups]
    gap = f" {bar} "

    def line(jail: str, backend: str, filt: str, acts: str) -> str:
        return " " + gap.join([jail.ljust(width[0]), backend.ljust(width[1]), filt, acts])

    def pair(cur: str, tot: str, at: int) -> str:
        return f"{cur.rjust(width[at])} {inner} {tot.rjust(width[at + 1])}"

    lines = [
        line("", "", "Filter".ljust(groups[0]), "Actions".ljust(groups[1])),
        " " + gap.join(["Jail".ljust(width[0]), "Backend".ljust(width[1])])
        + f" {tee}{hrule}" + f"{hrule}{hcross}{hrule}".join(hrule * n for n in groups) + hrule,
        line("", "", pair("cur", "tot", 2), pair("cur", "tot", 4)),
        rule + f"{rule}{cross}{rule}".join(rule * n for n in columns) + rule,
    ]
    lines += [line(c[0], c[1], pair(c[2], c[3], 2), pair(c[4], c[5], 4)) for c in cells]
    lines.append(rule + f"{rule}{bottom}{rule}".join(rule * n for n in columns) + rule)
    return "\n".join(lines)
