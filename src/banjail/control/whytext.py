"""The text `fail2ban-client why <ip>` prints for the server's why object (banjail.daemon.why builds it; `--json`
prints the object itself). One block per jail: the verdict first, then each ban with its evidence."""

from __future__ import annotations

from typing import Any


def _seconds(value: Any) -> str:
    if value is None:
        return "-"
    number = float(value)
    return "permanent" if number < 0 else f"{number:g} s"


def _failure_lines(failure: dict[str, Any], indent: str) -> list[str]:
    regex = failure.get("failregex") or {}
    index = regex.get("index")
    where = failure.get("source") or "(source not recorded)"
    window = failure.get("in_window")
    flag = "" if window is None else ("" if window else "  [before the window]")
    weight = failure.get("retries", 1)
    counted = f"  (counted {weight} times: a known bad address, bantime.increment)" if weight > 1 else ""
    rows = [f"{indent}{failure.get('time_text')}  {where}{flag}{counted}"]
    if index is not None:
        rows.append(f"{indent}  failregex [{index}]: {regex.get('text') or '(no longer in the filter)'}")
    rows += [f"{indent}  | {line}" for line in failure.get("lines", [])]
    return rows


def _ban_lines(ban: dict[str, Any]) -> list[str]:
    state = "in force" if ban.get("current") else "ended"
    rows = [f"  ban of {ban['fid']} at {ban['time_text']}, until {ban['until_text']} ({state})"]
    if ban.get("origin"):
        reason = f" ({ban['fleet_reason']})" if ban.get("fleet_reason") else ""
        rows.append(f"    origin: fleet host {ban['origin']}{reason}")
    window = ban.get("window")
    if window:
        rows.append(
            f"    fired: {ban.get('failures_counted')} failure(s) reached maxretry {window['maxretry']} "
            f"within findtime {_seconds(window['findtime'])}"
        )
    bantime = ban.get("bantime", {})
    rows.append(
        f"    bantime: {_seconds(bantime.get('seconds'))} (ban #{bantime.get('count')}): {bantime.get('how', '')}"
    )
    follows = bantime.get("follows_bantime")
    if follows is not None:
        rows.append(
            "    its end moves with `set <jail> bantime`"
            if follows
            else "    its length is its own (incremented, prolonged or restored): `set <jail> bantime` leaves it"
        )
    failures = ban.get("failures", [])
    rows.append(
        f"    lines that counted ({len(failures)}):" if failures else "    lines that counted: none stored"
    )
    for failure in failures:
        rows += _failure_lines(failure, "      ")
    if not failures and ban.get("matches"):
        rows += [f"      | {line}" for line in ban["matches"]]
    actions = ban.get("actions", [])
    rows.append("    actions:" if actions else "    actions: no run recorded")
    for run in actions:
        status = "running" if run.get("ended") is None else f"exit {run.get('status')}"
        tail = f": {run['stderr']}" if run.get("stderr") else ""
        rows.append(f"      {run['op']} {run['action']} at {run['started_text']}: {status}{tail}")
    return rows


def _ignore_text(ignore: dict[str, Any]) -> str:
    rules = [
        f"ignoreself {'on' if ignore['ignoreself'] else 'off'}",
        f"ignoreip {' '.join(ignore['ignoreip']) or '(none)'}",
        f"ignorecommand {ignore['ignorecommand'] or '(none)'}",
    ]
    found = ignore.get("matched")
    return ", ".join(rules) + ": " + (f"matched {found}" if found else "none matched")


def render_why(value: dict[str, Any]) -> str:
    """The report for one why object."""
    rows = [f"Why {value.get('address')}"]
    fids = value.get("fids", [])
    if len(fids) > 1:
        rows.append("  counted as: " + ", ".join(fids))
    for jail in value.get("jails", []):
        rows.append("")
        rows.append(f"[{jail['jail']}] {jail.get('verdict', '')}")
        filt = jail.get("filter")
        if filt:
            rows.append(f"  filter: {filt.get('name')} ({filt.get('file') or 'inline'})")
        ignore = jail.get("ignore")
        if ignore:
            rows.append("  ignore rules checked: " + _ignore_text(ignore))
        for ban in jail.get("bans", []):
            rows += _ban_lines(ban)
        current = jail.get("current_failures") or {}
        pending = current.get("failures", [])
        if pending:
            rows.append(f"  current failures ({len(pending)}):")
            for failure in pending:
                rows += _failure_lines(failure, "    ")
    return "\n".join(rows)
