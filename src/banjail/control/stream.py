"""A loaded configuration as upstream's list of commands (what `fail2ban-client -d` prints).

The order is upstream's: server options, then per jail `add`, its filter and jail options, log paths, actions
(`addaction` then one `multi-set ... action` with the action's options), and `start`.
"""

from __future__ import annotations

from typing import Any

from banjail.config.schema import Config, JailConfig


def _seconds(value: float) -> str:
    return str(int(value)) if value == int(value) else str(value)


def _jail(jail: JailConfig) -> list[list[Any]]:
    name = jail.name
    out: list[list[Any]] = [["add", name, jail.backend]]
    flt = jail.filter
    if flt.usedns != "warn":
        out.append(["set", name, "usedns", flt.usedns])
    if flt.prefregex:
        out.append(["set", name, "prefregex", flt.prefregex])
    out += [["set", name, "addfailregex", r] for r in flt.failregex]
    out += [["set", name, "addignoreregex", r] for r in flt.ignoreregex]
    if flt.maxlines != 1:
        out.append(["set", name, "maxlines", flt.maxlines])
    if flt.datepattern:
        out.append(["set", name, "datepattern", "\n".join(flt.datepattern)])
    if flt.logtimezone:
        out.append(["set", name, "logtimezone", flt.logtimezone])
    if flt.journalmatch:
        out.append(["set", name, "addjournalmatch", *flt.journalmatch])
    if jail.ignoreip:
        out.append(["set", name, "addignoreip", *jail.ignoreip])
    if not jail.ignoreself:
        out.append(["set", name, "ignoreself", "false"])
    if jail.ignorecommand:
        out.append(["set", name, "ignorecommand", jail.ignorecommand])
    out.append(["set", name, "maxretry", jail.maxretry])
    out.append(["set", name, "maxmatches", jail.maxmatches])
    out.append(["set", name, "findtime", _seconds(jail.findtime)])
    out.append(["set", name, "bantime", _seconds(jail.bantime)])
    if jail.bantime_increment:
        out.append(["set", name, "bantime.increment", "true"])
    for path in jail.logpath:
        parts = path.rsplit(None, 1)
        if len(parts) == 2 and parts[1].lower() in ("head", "tail"):
            out.append(["set", name, "addlogpath", parts[0], parts[1].lower()])
        else:
            out.append(["set", name, "addlogpath", path, "head"])
    for action in jail.action_specs:
        out.append(["set", name, "addaction", action.name])
        options = [[key, value] for key, value in action.options.items()]
        out.append(["multi-set", name, "action", action.name, options])
    out.append(["start", name])
    return out


def config_stream(config: Config) -> list[list[Any]]:
    """Every command that would configure a server as `config` says, in upstream's order."""
    server = config.server
    out: list[list[Any]] = [
        ["set", "syslogsocket", server.syslogsocket],
        ["set", "loglevel", server.loglevel],
        ["set", "logtarget", server.logtarget],
        ["set", "allowipv6", server.allowipv6],
        ["set", "dbfile", server.dbfile],
        ["set", "dbmaxmatches", server.dbmaxmatches],
        ["set", "dbpurgeage", _seconds(server.dbpurgeage)],
    ]
    for jail in config.jails:
        out += _jail(jail)
    return out
