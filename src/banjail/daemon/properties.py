"""Per-jail `get <jail> <prop>` and `set <jail> <prop> <value>`: values as upstream's server returns them.

A `set` that changes what the filter matches (regexes, datepattern, maxlines, usedns, logtimezone) builds a new
Matcher from the changed JailConfig; counting and ban options change the live counter and policy, so failures
and bans in hand are kept.
"""

from __future__ import annotations

import dataclasses
import re
import time
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from banjail.config.schema import JailConfig
from banjail.daemon import actionset, bantime, manual, regexview
from banjail.daemon.jail import Jail, build_matcher, build_policy, ignore_cache, ignorecache_options
from banjail.daemon.logging import logger
from banjail.errors import ConfigError, ControlError
from banjail.filter import engine as engines
from banjail.timespec import str2seconds_typed

if TYPE_CHECKING:
    from banjail.daemon.app import Daemon

ACTION_METHODS = ["ban", "flush", "start", "stop", "unban"]
PERMANENT_END = "9999-12-31 23:59:59"
_BANTIME_EXTRA = {
    "increment": "bantime_increment",
    "factor": "bantime_factor",
    "formula": "bantime_formula",
    "multipliers": "bantime_multipliers",
    "maxtime": "bantime_maxtime",
    "rndtime": "bantime_rndtime",
    "overalljails": "bantime_overalljails",
}


def is_journal(jail: Jail) -> bool:
    """Whether the jail reads the journal: configured so, or `backend = auto` that found no log file."""
    from banjail.sources.journal import JournalSource

    return jail.config.backend.startswith("systemd") or any(isinstance(s, JournalSource) for s in jail.sources)


def backend_in_use(jail: Jail) -> str:
    """The backend the jail reads with: `systemd` for the journal, else its first file source's (`pyinotify`,
    `polling`), else the configured name without arguments."""
    from banjail.sources.backend import backend_name
    from banjail.sources.file import FileSource

    if is_journal(jail):
        return "systemd"
    for source in jail.sources:
        if isinstance(source, FileSource):
            return source.backend
    return backend_name(jail.config.backend)


def engine_in_use(jail: Jail) -> str:
    """The matching engine of the jail's running filter, as the daemon logs it at the jail's start:
    `native (PCRE2 10.42 JIT)` or `python (why the native engine does not run it)`."""
    matcher = jail.state.matcher
    if matcher is None:
        return "none (the jail has no filter)"
    return engines.describe(matcher.engine, matcher.engine_note)


def logpaths(jail: Jail) -> list[str]:
    """The files the jail reads: its sources' names once started, else its configured paths."""
    if jail.sources:
        files: list[str] = []
        for source in jail.sources:
            followed = getattr(source, "files", None)
            files.extend(followed if isinstance(followed, list) and followed else [source.name])
        return files
    return [p.rsplit(" ", 1)[0] if p.endswith((" head", " tail")) else p for p in jail.logpaths]


def _number(value: float) -> int | float:
    return int(value) if float(value).is_integer() else value


def _bool(text: str) -> bool:
    return text.strip().lower() in ("1", "on", "true", "yes", "enabled")


def get(daemon: Daemon, jail: Jail, prop: str, args: Sequence[str]) -> object:
    """The value of `get <jail> <prop> [args]`."""
    config = jail.config
    state = jail.state
    spec = config.filter
    simple: dict[str, Any] = {
        "logpath": lambda: logpaths(jail),
        "logencoding": lambda: "UTF-8" if config.logencoding.lower() == "auto" else config.logencoding,
        "journalmatch": lambda: _journalmatch(jail),
        "ignoreself": lambda: state.ignore.ignoreself,
        "ignoreip": lambda: list(state.ignore.entries),
        "ignorecommand": lambda: jail.ignorecommand,
        "ignorecache": lambda: _ignorecache(config.ignorecache),
        "prefregex": lambda: regexview.reported_prefregex(spec.prefregex, spec.usedns),
        "failregex": lambda: regexview.reported_list(spec.failregex, spec.usedns),
        "ignoreregex": lambda: regexview.reported_list(spec.ignoreregex, spec.usedns),
        "usedns": lambda: spec.usedns,
        "findtime": lambda: state.counter.findtime,  # typed as upstream's (see str2seconds_typed)
        "datepattern": lambda: regexview.reported_datepattern(spec.datepattern, spec.logtimezone),
        "logtimezone": lambda: spec.logtimezone or None,
        "maxmatches": lambda: state.counter.maxmatches,
        "maxretry": lambda: state.counter.maxretry,
        "maxlines": lambda: spec.maxlines,
        "bantime": lambda: _number(state.policy.bantime),
        "actions": lambda: list(jail.actions),
        "idle": lambda: not jail.awake.is_set(),
        "banprefix4": lambda: config.banprefix4,
        "banprefix6": lambda: config.banprefix6,
        "engine": lambda: engine_in_use(jail),
    }
    if prop in simple:
        return simple[prop]()
    if prop == "banip":
        return _ban_list(jail, with_time=bool(args) and args[0] == "--with-time")
    if prop.startswith("bantime."):
        return _bantime_extra(jail, prop[len("bantime.") :])
    if prop in ("action", "actionproperties", "actionmethods"):
        action = actionset.action(jail, args[0])
        if prop == "actionmethods":
            return ACTION_METHODS
        props = action.properties()
        if prop == "actionproperties":
            return sorted(props)
        if args[1] not in props:
            raise ControlError(f"'{action.name}' action has no attribute {args[1]!r}")
        return props[args[1]]
    raise ControlError("Invalid command (no get action or not yet implemented)")


def _bantime_extra(jail: Jail, option: str) -> object:
    """`get <jail> bantime.<option>`: None for an option neither the configuration nor a `set` gave, as upstream."""
    policy = jail.state.policy
    config = jail.config
    values: dict[str, object] = {
        "increment": policy.increment,
        "factor": _number(policy.factor),
        "formula": jail.config.bantime_formula or None,
        "multipliers": " ".join(str(_number(m)) for m in policy.multipliers) or None,
        "maxtime": config.bantime_maxtime,  # typed as upstream's: 1y is 31557600.0
        "rndtime": config.bantime_rndtime,
        "overalljails": policy.overalljails,
    }
    if option not in values:
        raise ControlError(f"Invalid command {'bantime.' + option!r} (no get action or not yet implemented)")
    if f"bantime.{option}" not in config.options:
        return None
    return values[option]


def _ban_list(jail: Jail, *, with_time: bool) -> list[str]:
    bans = jail.state.book.banned()
    if not with_time:
        return [b.fid for b in bans]
    rows = []
    for ban in bans:
        start = time.strftime("%Y-%m-%d %H:%M:%S", time.localtime(ban.at))
        # a permanent ban ends, as upstream prints it, at the last second of year 9999
        end = PERMANENT_END if ban.until is None else time.strftime("%Y-%m-%d %H:%M:%S", time.localtime(ban.until))
        rows.append(f"{ban.fid} \t{start} + {int(ban.bantime)} = {end}")  # upstream's %d: a prolonged 7.05 s is 7
    return rows


async def set_(daemon: Daemon, jail: Jail, prop: str, args: Sequence[str]) -> object:
    """Carry out `set <jail> <prop> <args>` and return upstream's reply value."""
    state = jail.state
    if prop == "banip":
        return await manual.ban(daemon, jail.name, manual.ban_targets(jail, args))
    if prop == "unbanip":
        if not args:  # the dispatcher answers upstream's "Sorry but the command is invalid"
            raise IndexError("unbanip without an address")
        flags = {a for a in args if a in ("--report-absent", "--fleet")}
        targets = [a for a in args if a not in flags]
        if "--fleet" in flags and daemon.fleet is None:
            raise ControlError("unbanip --fleet: this server is in no fleet (no [fleet] section in fail2ban.local)")
        if "--fleet" in flags and daemon.fleet is not None:
            await daemon.fleet.publish_unbans(jail, targets)  # lifted on every host, banned here or not
        return await manual.unban(daemon, jail.name, targets, report_absent="--report-absent" in flags)
    if prop == "attempt":
        await manual.attempt(daemon, jail.name, args[0], list(args[1:]))
        return 1
    if prop == "idle":
        if args[0] not in ("on", "off"):
            raise ControlError("Invalid idle option, must be 'on' or 'off'")
        # idle on: the jail's readers hold what they read until `idle off` (it counts then, as upstream)
        (jail.awake.clear if args[0] == "on" else jail.awake.set)()
        return args[0] == "on"
    if prop == "ignoreself":
        state.ignore.ignoreself = _bool(args[0])
        if state.ignore.ignoreself:
            state.ignore.set_self_ips(daemon.self_ips())
        return state.ignore.ignoreself
    if prop == "addignoreip":
        for value in args:
            state.ignore.add(value)
        return list(state.ignore.entries)
    if prop == "delignoreip":
        if args[0].strip() not in state.ignore.entries:  # upstream fails too (exit 255)
            raise ControlError(
                f"delignoreip: {args[0]!r} is not in the ignore list of jail {jail.name!r} "
                f"(`fail2ban-client get {jail.name} ignoreip` lists it)"
            )
        state.ignore.remove(args[0])
        return list(state.ignore.entries)
    if prop == "ignorecommand":
        jail.ignorecommand = args[0]
        state.ignorecommand = bool(args[0].strip())
        return jail.ignorecommand
    if prop == "ignorecache":
        reply = _ignorecache(args[0])
        jail.ignore_cache = ignore_cache(_update(jail, ignorecache=args[0]))
        return reply
    if prop == "findtime":
        state.counter.findtime = str2seconds_typed(args[0])
        return state.counter.findtime
    if prop == "maxretry":
        state.counter.maxretry = int(args[0])
        return state.counter.maxretry
    if prop == "maxmatches":
        state.counter.maxmatches = int(args[0])
        return state.counter.maxmatches
    if prop == "bantime":  # moves the end of every ban that follows the jail's bantime (daemon.bantime)
        return _number(await bantime.set_bantime(daemon, jail, args[0]))
    if prop.startswith("bantime."):
        return _set_bantime_extra(jail, prop[len("bantime.") :], args[0])
    if prop in ("addlogpath", "dellogpath"):
        return await _logpath(daemon, jail, prop, args)
    if prop == "addaction":
        return await actionset.add(daemon, jail, args)
    if prop == "delaction":
        await actionset.delete(daemon, jail, args)
        return None
    if prop == "action":
        action = actionset.action(jail, args[0])
        action.set_property(args[1], args[2])
        return action.properties().get(args[1], args[2])
    return _set_filter(jail, prop, args)


def _update(jail: Jail, **changes: Any) -> JailConfig:
    jail.config = dataclasses.replace(jail.config, **changes)
    return jail.config


def _set_bantime_extra(jail: Jail, option: str, value: str) -> object:
    field = _BANTIME_EXTRA.get(option)
    if field is None:
        raise ControlError(f"Invalid command {'bantime.' + option!r} (no set action or not yet implemented)")
    converted: object
    if option in ("increment", "overalljails"):
        converted = _bool(value)
    elif option == "factor":
        converted = float(value)
    elif option == "multipliers":
        converted = tuple(int(float(w)) for w in value.split())
    elif option in ("maxtime", "rndtime"):
        converted = str2seconds_typed(value)
    else:
        converted = value
    previous = jail.config
    config = _update(jail, **{field: converted}, options={**previous.options, f"bantime.{option}": value})
    try:
        jail.state.policy = build_policy(config)
    except ConfigError as exc:
        jail.config = previous
        raise ControlError(str(exc)) from None
    return _bantime_extra(jail, option)


def _set_filter(jail: Jail, prop: str, args: Sequence[str]) -> object:
    spec = jail.config.filter
    changes: dict[str, Any]
    if prop == "prefregex":
        changes = {"prefregex": args[0]}
    elif prop == "addfailregex":
        changes = {"failregex": (*spec.failregex, args[0])}
    elif prop == "delfailregex":
        changes = {"failregex": _without(spec.failregex, int(args[0]))}
    elif prop == "addignoreregex":
        changes = {"ignoreregex": (*spec.ignoreregex, args[0])}
    elif prop == "delignoreregex":
        changes = {"ignoreregex": _without(spec.ignoreregex, int(args[0]))}
    elif prop == "usedns":
        changes = {"usedns": _usedns(jail, args[0])}
    elif prop == "datepattern":
        # one template a line, as in a filter file
        lines = tuple(line for line in (part.strip() for part in args[0].split("\n")) if line)
        changes = {"datepattern": () if lines in ((), ("{DEFAULT}",)) else lines}
    elif prop == "logtimezone":
        changes = {"logtimezone": args[0]}
    elif prop == "maxlines":
        changes = {"maxlines": int(args[0])}
    elif prop in ("logencoding", "addjournalmatch", "deljournalmatch"):
        return _set_source_option(jail, prop, args)
    else:
        raise ControlError(f"Invalid command {prop!r} (no set action or not yet implemented)")
    new_spec = dataclasses.replace(spec, **changes)
    previous = jail.config
    config = _update(jail, filter=new_spec)
    try:
        jail.state.matcher = build_matcher(config)
    except ConfigError as exc:
        jail.config = previous
        raise ControlError(_refused(prop, args[0], exc)) from None
    dns = new_spec.usedns
    reply = {
        "prefregex": regexview.reported_prefregex(new_spec.prefregex, dns),
        "addfailregex": regexview.reported_list(new_spec.failregex, dns),
        "delfailregex": regexview.reported_list(new_spec.failregex, dns),
        "addignoreregex": regexview.reported_list(new_spec.ignoreregex, dns),
        "delignoreregex": regexview.reported_list(new_spec.ignoreregex, dns),
        "usedns": new_spec.usedns,
        "datepattern": regexview.reported_datepattern(new_spec.datepattern, new_spec.logtimezone),
        "logtimezone": new_spec.logtimezone or None,
        "maxlines": new_spec.maxlines,
    }
    return reply[prop]


def _ignorecache(text: str) -> list[object] | None:
    """[key, max-count, max-time] as upstream's server replies; None when not set. Refuses a value without key."""
    options = ignorecache_options(text)
    if options is not None and not options[0]:
        raise ControlError(f"ignorecache {text!r} has no key (for example: key=\"<ip>\", max-count=100, max-time=5m)")
    return None if options is None else list(options)


def _refused(prop: str, value: str, exc: ConfigError) -> str:
    """Why `set <jail> <prop> VALUE` was refused; VALUE's problems name the command, not a filter file's line."""
    texts = []
    for problem in exc.problems:
        if problem.value == value and problem.option in ("failregex", "ignoreregex", "prefregex"):
            message = re.sub(r"^line \d+: ", "", problem.message)
            problem = dataclasses.replace(problem, file="", line=0, section="", option=prop, message=message)
        texts.append(str(problem))
    return "; ".join(texts)


def _set_source_option(jail: Jail, prop: str, args: Sequence[str]) -> object:
    if prop == "logencoding":
        _update(jail, logencoding=args[0])
        return "UTF-8" if args[0].lower() == "auto" else args[0]
    match = " ".join(args)
    matches = list(jail.config.journalmatch)
    if prop == "addjournalmatch":
        matches.append(match)
    elif match in matches:
        matches.remove(match)
    _update(jail, journalmatch=tuple(matches))
    return _journalmatch(jail)


def _journalmatch(jail: Jail) -> list[list[str]]:
    """The journal matches, as upstream: none for a jail reading files."""
    return [m.split() for m in jail.config.journalmatch] if is_journal(jail) else []


def _without(items: tuple[str, ...], index: int) -> tuple[str, ...]:
    if not 0 <= index < len(items):
        raise ControlError(f"Cannot remove regular expression. Index {index} is not valid")
    return items[:index] + items[index + 1 :]


async def _logpath(daemon: Daemon, jail: Jail, prop: str, args: Sequence[str]) -> list[str]:
    if prop == "addlogpath":
        if len(args) > 2:
            raise ControlError("Only one file can be added at a time")
        if len(args) == 2 and args[1].lower() not in ("head", "tail"):
            raise ControlError("File option must be 'head' or 'tail'")
        entry = " ".join(args)
        if args[0] not in logpaths(jail):
            jail.logpaths.append(entry)
    else:
        jail.logpaths = [p for p in jail.logpaths if p.split(" ")[0] != args[0]]
    _update(jail, logpath=tuple(jail.logpaths))
    await daemon.restart_sources(jail)
    return logpaths(jail)


def _usedns(jail: Jail, value: str) -> str:
    mode = value.strip().lower()  # an unknown mode is `no` (and logged), as upstream
    if mode in ("yes", "warn", "no", "raw"):
        return mode
    logger("filter").error(
        "[%s] usedns %r is not one of yes, warn, no, raw: using 'no' (addresses only, host names never looked up)",
        jail.name,
        value,
    )
    return "no"
