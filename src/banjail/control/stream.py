"""A loaded configuration as upstream's list of commands (what `fail2ban-client -d` prints), value for value.

Upstream's client sends most values as written in the config ('10m', not 600), converts a few to int or bool,
and orders them by its own rules, which this module follows:

- server: thread, syslogsocket, loglevel, logtarget, allowipv6, dbfile, dbmaxmatches (only when set),
  dbpurgeage; loglevel, logtarget and syslogsocket given on the command line replace the config's.
- per jail: `add` with the backend; the filter's own options, then the jail's filter options (usedns first,
  prefregex and maxlines next, then regexes, datepattern and journal matches in the order they come); the jail's
  other options in upstream's JailReader order; the log files (globs expanded, missing ones left out; none
  for systemd backends); each action (`addaction`, then its options as one `multi-set`).
- a jail whose filter or action cannot be read is one `config-error` command and is not started.
- `start` for every jail, after all of them.
"""

from __future__ import annotations

import glob
import json
import logging
import os
import re
import shlex
from collections.abc import Callable, Iterable, Mapping
from typing import Any

from banjail.config.definition import ACTION_OPTIONS, FILTER_OPTIONS
from banjail.config.schema import ActionSpec, Config, JailConfig, ServerConfig

log = logging.getLogger("fail2ban")

# Options the client sends as numbers or booleans; every other value goes as the config text.
INTEGERS = frozenset({"maxretry", "maxmatches", "maxlines", "dbmaxmatches"})
BOOLEANS = frozenset(
    {"enabled", "bantime.increment", "bantime.overalljails", "ignoreself"}
    | {"actionstart_on_demand", "actionrepair_on_unban", "norestored"}
)
# Jail options that are not sent as `set <jail> <option> <value>` (they are sent another way, or not at all).
# maxlinelength: banjail's own, read by its server from the files; upstream's reader does not know it
NOT_SET = frozenset({"action", "filter", "enabled", "backend", "logpath", "ignoreip", "maxlinelength", *FILTER_OPTIONS})
SERVER_ORDER = ("syslogsocket", "loglevel", "logtarget", "allowipv6", "dbfile", "dbmaxmatches", "dbpurgeage")
# Upstream's defaults; the first three are the client's own (it reads them before the others).
SERVER_DEFAULTS = {
    "syslogsocket": "auto",
    "loglevel": "INFO",
    "logtarget": "/var/log/fail2ban.log",
    "allowipv6": "auto",
    "dbfile": "/var/lib/fail2ban/fail2ban.sqlite3",
    "dbpurgeage": "1d",
}
TRUE = ("1", "on", "true", "yes")

Glob = Callable[[str], list[str]]


def _typed(option: str, value: str) -> Any:
    # A bad number goes as None, as upstream's client (after warning) sends it.
    if option in INTEGERS:
        try:
            return int(value)
        except ValueError:
            return None
    if option in BOOLEANS:
        return value.lower() in TRUE
    return value


def _server(server: ServerConfig, overrides: Mapping[str, str]) -> list[list[Any]]:
    values: dict[str, Any] = {**SERVER_DEFAULTS, **dict(server.texts), **overrides}
    out: list[list[Any]] = []
    if server.stacksize is not None:
        out.append(["set", "thread", {"stacksize": _typed("maxlines", server.stacksize)}])
    for option in SERVER_ORDER:
        if option in values:
            out.append(["set", option, _typed(option, values[option])])
    return out


def _fill_filter(out: list[list[Any]], options: Iterable[tuple[str, str]], jail: str) -> None:
    """Append (or, for usedns, prefregex and maxlines, insert near the front) the commands for filter options."""
    front = 0  # where the next prefregex/maxlines goes: after the ones already put first
    for option, text in options:
        if option in ("failregex", "ignoreregex"):
            regexes = [r for r in text.split("\n") if r]
            if len(regexes) > 1:
                out.append(["multi-set", jail, "add" + option, regexes])
            elif regexes:
                out.append(["set", jail, "add" + option, regexes[0]])
        elif option in ("usedns", "prefregex", "maxlines"):
            value = _typed(option, text)
            if value is None:
                continue
            out.insert(0 if option == "usedns" else front, ["set", jail, option, value])
            front += 1
        elif option == "datepattern":
            out.append(["set", jail, option, text])
        elif option == "journalmatch":
            out += [["set", jail, "addjournalmatch", *shlex.split(m)] for m in text.split("\n") if m]


def _logpaths(jail: str, text: str, expand: Glob) -> list[list[Any]]:
    out: list[list[Any]] = []
    for line in text.split("\n"):
        # The last space-separated word is the read mode (head/tail) when there are several.
        pattern, _, mode = line.rpartition(" ") if " " in line else (line, "", "head")
        found = expand(pattern)
        if not found:
            log.info("No file(s) found for glob %s", pattern)
        out += [["set", jail, "addlogpath", path, mode] for path in found]
    if not out:
        log.warning("Have not found any log file for %s jail", jail)
    return out


def existing_files(pattern: str) -> list[str]:
    """The files glob `pattern` names, in the glob's order; dangling links are warned about and left out."""
    found = []
    for path in glob.glob(pattern):
        if os.path.exists(path):
            found.append(path)
        else:
            log.warning("File %s is a dangling link, thus cannot be monitored", path)
    return found


def _action(jail: str, action: ActionSpec) -> list[list[Any]]:
    if action.python:
        return [["set", jail, "addaction", action.name, action.file, json.dumps(dict(action.sent))]]
    out: list[list[Any]] = [["set", jail, "addaction", action.name]]
    options = [[key, _typed(key, value) if key in ACTION_OPTIONS else value] for key, value in action.sent]
    if len(options) > 1:
        out.append(["multi-set", jail, "action", action.name, options])
    elif options:
        out.append(["set", jail, "action", action.name, *options[0]])
    return out


def _jail(jail: JailConfig, expand: Glob) -> list[list[Any]]:
    name = jail.name
    if jail.error:
        return [["config-error", f"Jail '{name}' skipped, because of wrong configuration: {jail.error}"]]
    out: list[list[Any]] = []
    _fill_filter(out, jail.filter_options, name)
    _fill_filter(out, ((k, v) for k, v in jail.options.items() if k in FILTER_OPTIONS), name)
    backend = jail.options.get("backend", "auto")
    for option, text in jail.options.items():
        if option == "ignoreip":
            out.append(
                ["set", name, "addignoreip", *(w.strip() for w in re.split(r"[ ,\n]+", text) if w.strip())]
            )
        elif option not in NOT_SET:
            out.append(["set", name, option, _typed(option, text)])
    if "logpath" in jail.options and not backend.startswith("systemd"):
        out += _logpaths(name, jail.options["logpath"], expand)
    for action in jail.action_specs:
        out += _action(name, action)
    return [["add", name, backend], *out]


def config_stream(
    config: Config, overrides: Mapping[str, str] | None = None, expand: Glob = existing_files
) -> list[list[Any]]:
    """Every command upstream's client would send to configure a server as `config` says, in its order.

    overrides: loglevel, logtarget or syslogsocket given on the command line. expand: a log path pattern to
    the files it names (existing_files by default).
    """
    out = _server(config.server, overrides or {})
    for jail in config.jails:
        out += _jail(jail, expand)
    out += [["start", jail.name] for jail in config.jails if not jail.error]
    return out
