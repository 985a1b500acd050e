"""The control protocol: ONE table of every command the server understands.

The table drives three things: what the server accepts (`lookup`), which handler the daemon's controller runs
(`Command.handler`), and the client's help (`help_text`). A command is a sequence of words: literal words
("set", "banip") and placeholders ("<JAIL>", "<IP>") that match any single argument. `args` describes what may
follow the words (free text for the help; `...` marks a variable number of arguments).

Wire forms (both carry the same argv, e.g. ["set", "sshd", "banip", "192.0.2.7"]):
- banjail's own: JSON lines, `{"v": 1, "cmd": [...]}` -> `{"v": 1, "ok": true, "value": ...}` or
  `{"v": 1, "ok": false, "error": "message"}`;
- upstream's: a pickled list terminated by `<F2B_END_COMMAND>`, answered by a pickled `(code, value)`
  (see legacy.py).
"""

from __future__ import annotations

import textwrap
from collections.abc import Sequence
from dataclasses import dataclass

VERSION = 1  # the "v" field of banjail's JSON lines protocol
MAX_REQUEST = 1 << 20  # bytes: a longer request is refused with an error reply, never buffered without bound


@dataclass(frozen=True, slots=True)
class Command:
    """One command: its words, what follows them, its help, the controller handler that carries it out, the
    help section it belongs to, and whether it only reads state (so `--json` applies)."""

    words: tuple[str, ...]
    args: str
    help: str
    handler: str
    section: str
    read: bool = False

    @property
    def usage(self) -> str:
        return " ".join([*self.words, self.args] if self.args else self.words)

    @property
    def literals(self) -> int:
        return sum(1 for w in self.words if not w.startswith("<"))


def _c(usage: str, args: str, help: str, handler: str, section: str, *, read: bool = False) -> Command:
    return Command(tuple(usage.split()), args, help, handler, section, read)


_B, _L, _D, _J, _C, _A, _I = (
    "BASIC",
    "LOGGING",
    "DATABASE",
    "JAIL CONTROL",
    "JAIL CONFIGURATION",
    "ACTIONS",
    "JAIL INFORMATION",
)
_JSET = "set <JAIL>"
_JGET = "get <JAIL>"

COMMANDS: tuple[Command, ...] = (
    _c("start", "", "start the server and its jails", "start", _B),
    _c("restart", "", "stop the server, then start it again", "restart", _B),
    _c(
        "restart",
        "[--unban] [--if-exists] <JAIL>",
        "restart one jail (reload --restart <JAIL>)",
        "restart",
        _B,
    ),
    _c(
        "reload",
        "[--restart] [--unban] [--all]",
        "read the configuration again; --restart restarts the jails, --unban also lifts their bans",
        "reload",
        _B,
    ),
    _c(
        "reload",
        "[--restart] [--unban] [--if-exists] <JAIL>",
        "read the configuration of one jail again",
        "reload",
        _B,
    ),
    _c("stop", "", "stop every jail and end the server", "quit", _B),
    _c(
        "stop --unban",
        "",
        "lift every ban (kernel sets too, and in the database), then stop as `stop`",
        "quit",
        _B,
    ),
    _c(
        "unban",
        "--all | <IP> ... <IP>",
        "lift bans of the given addresses (or all) in every jail and the database",
        "unban",
        _B,
    ),
    _c("banned", "[<IP> ... <IP>]", "which jails ban which addresses", "banned", _B, read=True),
    _c(
        "status",
        "[--all] [basic|short]",
        "the server's jails (or every jail's status with --all)",
        "status",
        _B,
        read=True,
    ),
    _c("stats", "", "one line per jail: failures and bans, current and total", "stats", _B, read=True),
    _c(
        "why",
        "<IP> [--json]",
        "why an address is (or is not) banned: the lines, regexes, limits, bantime and actions of each ban",
        "why",
        _B,
        read=True,
    ),
    _c("ping", "[<TIMEOUT>]", "check that the server answers", "ping", _B),
    _c("echo", "<TEXT> ...", "answer the arguments back", "echo", _B),
    _c("help", "", "print this text", "help", _B),
    _c("version", "", "the server's version", "version", _B, read=True),
    _c(
        "set loglevel",
        "<LEVEL>",
        "log level: CRITICAL, ERROR, WARNING, NOTICE, INFO, DEBUG, TRACEDEBUG, HEAVYDEBUG or 50..5",
        "set_loglevel",
        _L,
    ),
    _c("get loglevel", "", "the log level", "get_loglevel", _L, read=True),
    _c(
        "set logtarget",
        "<TARGET>",
        "log to STDOUT, STDERR, SYSLOG, SYSTEMD-JOURNAL or a file",
        "set_logtarget",
        _L,
    ),
    _c("get logtarget", "", "where the server logs", "get_logtarget", _L, read=True),
    _c(
        "set syslogsocket",
        "auto|<SOCKET>",
        "the syslog socket used with logtarget SYSLOG",
        "set_syslogsocket",
        _L,
    ),
    _c("get syslogsocket", "", "the syslog socket", "get_syslogsocket", _L, read=True),
    _c("flushlogs", "", "reopen the log file (after rotation)", "flushlogs", _L),
    _c("set dbfile", "<FILE>", "the database file; None disables persistence", "set_dbfile", _D),
    _c("get dbfile", "", "the database file", "get_dbfile", _D, read=True),
    _c(
        "set dbmaxmatches",
        "<INT>",
        "how many matched lines the database keeps per ban",
        "set_dbmaxmatches",
        _D,
    ),
    _c(
        "get dbmaxmatches",
        "",
        "how many matched lines the database keeps per ban",
        "get_dbmaxmatches",
        _D,
        read=True,
    ),
    _c("set dbpurgeage", "<SECONDS>", "how long ban history stays in the database", "set_dbpurgeage", _D),
    _c("get dbpurgeage", "", "how long ban history stays in the database", "get_dbpurgeage", _D, read=True),
    _c("add <JAIL>", "[<BACKEND>]", "create a jail reading with the given backend", "add_jail", _J),
    _c("start <JAIL>", "", "start a jail", "start_jail", _J),
    _c("stop <JAIL>", "", "stop a jail and remove it", "stop_jail", _J),
    _c("stop --all", "", "stop and remove every jail", "stop_all", _J),
    _c("status <JAIL>", "[basic|short|cymru]", "a jail's failures and bans", "status_jail", _J, read=True),
    _c(f"{_JSET} idle", "on|off", "pause or resume a jail", "set_idle", _C),
    _c(f"{_JSET} ignoreself", "true|false", "ignore the server's own addresses", "set_ignoreself", _C),
    _c(
        f"{_JSET} addignoreip", "<IP> ...", "never ban these addresses, networks or names", "add_ignoreip", _C
    ),
    _c(f"{_JSET} delignoreip", "<IP>", "remove an entry from the ignore list", "del_ignoreip", _C),
    _c(
        f"{_JSET} ignorecommand",
        "<VALUE>",
        "command deciding whether an address is ignored",
        "set_ignorecommand",
        _C,
    ),
    _c(f"{_JSET} ignorecache", "<VALUE>", "cache for ignorecommand answers", "set_ignorecache", _C),
    _c(
        f"{_JSET} addlogpath",
        "<FILE> [tail]",
        "watch a log file, from its start or its tail",
        "add_logpath",
        _C,
    ),
    _c(f"{_JSET} dellogpath", "<FILE>", "stop watching a log file", "del_logpath", _C),
    _c(f"{_JSET} logencoding", "<ENCODING>", "encoding of the jail's log files", "set_logencoding", _C),
    _c(f"{_JSET} addjournalmatch", "<MATCH>", "add a journal match", "add_journalmatch", _C),
    _c(f"{_JSET} deljournalmatch", "<MATCH>", "remove a journal match", "del_journalmatch", _C),
    _c(f"{_JSET} prefregex", "<REGEX>", "the prefix regex", "set_prefregex", _C),
    _c(f"{_JSET} addfailregex", "<REGEX>", "add a failure regex", "add_failregex", _C),
    _c(f"{_JSET} delfailregex", "<INDEX>", "remove the failure regex at INDEX", "del_failregex", _C),
    _c(f"{_JSET} addignoreregex", "<REGEX>", "add an ignore regex", "add_ignoreregex", _C),
    _c(f"{_JSET} delignoreregex", "<INDEX>", "remove the ignore regex at INDEX", "del_ignoreregex", _C),
    _c(f"{_JSET} findtime", "<TIME>", "how far back failures count", "set_findtime", _C),
    _c(f"{_JSET} bantime", "<TIME>", "how long a ban lasts (-1: forever)", "set_bantime", _C),
    _c(f"{_JSET} datepattern", "<PATTERN>", "how to find the time in a line", "set_datepattern", _C),
    _c(f"{_JSET} logtimezone", "<ZONE>", "zone of times written without one", "set_logtimezone", _C),
    _c(f"{_JSET} usedns", "<VALUE>", "yes, warn, no or raw", "set_usedns", _C),
    _c(f"{_JSET} attempt", "<IP> [<FAILURE> ...]", "count a failure of IP by hand", "attempt", _C),
    _c(f"{_JSET} banip", "<IP> ... <IP>", "ban addresses by hand", "ban_ip", _C),
    _c(f"{_JSET} unbanip", "[--report-absent] [--fleet] <IP> ... <IP>", "lift bans by hand", "unban_ip", _C),
    _c(f"{_JSET} maxretry", "<RETRY>", "failures within findtime that make a ban", "set_maxretry", _C),
    _c(f"{_JSET} maxmatches", "<INT>", "matched lines kept per address in memory", "set_maxmatches", _C),
    _c(f"{_JSET} maxlines", "<LINES>", "lines buffered for multi-line regexes", "set_maxlines", _C),
    _c(
        f"{_JSET} bantime.<OPT>",
        "<VALUE>",
        "a bantime.increment option (increment, factor, formula, ...)",
        "set_bantime_extra",
        _C,
    ),
    _c(
        f"{_JSET} addaction",
        "<ACT> [<PYTHONFILE> <JSONKWARGS>]",
        "add an action to the jail",
        "add_action",
        _A,
    ),
    _c(f"{_JSET} delaction", "<ACT>", "remove an action from the jail", "del_action", _A),
    _c(
        f"{_JSET} action <ACT>",
        "<PROPERTY> <VALUE>",
        "set an action's property (actionban, actionunban, timeout, ...)",
        "set_action",
        _A,
    ),
    _c(
        f"{_JGET} banned",
        "[<IP> ... <IP>]",
        "the jail's banned addresses, or 1/0 per given address",
        "get_banned",
        _I,
        read=True,
    ),
    _c(
        f"{_JGET} banip",
        "[<SEP>|--with-time]",
        "banned addresses in order of ban end, joined by SEP",
        "get_banip",
        _I,
        read=True,
    ),
    _c(f"{_JGET} logpath", "", "the watched files", "get_logpath", _I, read=True),
    _c(f"{_JGET} logencoding", "", "encoding of the log files", "get_logencoding", _I, read=True),
    _c(f"{_JGET} journalmatch", "", "the journal matches", "get_journalmatch", _I, read=True),
    _c(f"{_JGET} ignoreself", "", "whether own addresses are ignored", "get_ignoreself", _I, read=True),
    _c(f"{_JGET} ignoreip", "", "the ignore list", "get_ignoreip", _I, read=True),
    _c(f"{_JGET} ignorecommand", "", "the ignore command", "get_ignorecommand", _I, read=True),
    _c(f"{_JGET} ignorecache", "", "the ignore command's cache", "get_ignorecache", _I, read=True),
    _c(f"{_JGET} prefregex", "", "the prefix regex", "get_prefregex", _I, read=True),
    _c(f"{_JGET} failregex", "", "the failure regexes", "get_failregex", _I, read=True),
    _c(f"{_JGET} ignoreregex", "", "the ignore regexes", "get_ignoreregex", _I, read=True),
    _c(f"{_JGET} findtime", "", "how far back failures count", "get_findtime", _I, read=True),
    _c(f"{_JGET} bantime", "", "how long a ban lasts", "get_bantime", _I, read=True),
    _c(f"{_JGET} bantime.<OPT>", "", "a bantime.increment option", "get_bantime_extra", _I, read=True),
    _c(f"{_JGET} datepattern", "", "the date pattern", "get_datepattern", _I, read=True),
    _c(f"{_JGET} logtimezone", "", "the zone of zone-less times", "get_logtimezone", _I, read=True),
    _c(f"{_JGET} usedns", "", "the usedns setting", "get_usedns", _I, read=True),
    _c(f"{_JGET} maxretry", "", "failures that make a ban", "get_maxretry", _I, read=True),
    _c(f"{_JGET} maxmatches", "", "matched lines kept per address", "get_maxmatches", _I, read=True),
    _c(f"{_JGET} maxlines", "", "lines buffered for multi-line regexes", "get_maxlines", _I, read=True),
    _c(f"{_JGET} banprefix4", "", "IPv4 prefix failures count under (32: per address)", "get_banprefix4", _I, read=True),
    _c(f"{_JGET} banprefix6", "", "IPv6 prefix failures count under (128: per address)", "get_banprefix6", _I, read=True),
    _c(f"{_JGET} actions", "", "the jail's actions", "get_actions", _I, read=True),
    _c(f"{_JGET} action <ACT>", "<PROPERTY>", "an action's property", "get_action", _I, read=True),
    _c(f"{_JGET} actionproperties", "<ACT>", "an action's properties", "get_actionproperties", _I, read=True),
    _c(f"{_JGET} actionmethods", "<ACT>", "an action's methods", "get_actionmethods", _I, read=True),
)

# Commands the client sends on its own behalf (starting, reloading); not in the help.
INTERNAL: tuple[Command, ...] = (
    _c("server-status", "", "", "server_status", _B),
    _c("server-stream", "<COMMANDS>", "", "server_stream", _B),
    _c("multi-set", "<JAIL> ...", "", "multi_set", _C),
    _c("config-error", "<TEXT>", "", "config_error", _B),
    _c("sleep", "<SECONDS>", "", "sleep", _B),
)


def _word_matches(word: str, arg: object) -> bool:
    if word.endswith(".<OPT>"):
        return isinstance(arg, str) and arg.startswith(word[: -len("<OPT>")])
    return word.startswith("<") or word == arg


def lookup(argv: Sequence[object]) -> Command | None:
    """The most specific command whose words start argv (most literal words wins; then longest), or None.

    `status` alone and `status <JAIL>` are told apart by length: a bare word never matches a placeholder when a
    command with fewer words matches exactly.
    """
    best: Command | None = None
    for cmd in (*COMMANDS, *INTERNAL):
        if len(argv) < len(cmd.words):
            continue
        if not all(_word_matches(w, a) for w, a in zip(cmd.words, argv, strict=False)):
            continue
        if best is None or (cmd.literals, len(cmd.words)) > (best.literals, len(best.words)):
            best = cmd
    return best


def is_read(argv: Sequence[object]) -> bool:
    """True when argv only reads server state (the commands `--json` applies to)."""
    cmd = lookup(argv)
    return cmd is not None and cmd.read


_INDENT, _MARGIN, _WIDTH = 4, 41, 34


def help_text() -> str:
    """The command list for `fail2ban-client -h`, grouped by section, usage left and wrapped help right."""
    out: list[str] = []
    section = ""
    for cmd in COMMANDS:
        if cmd.section != section:
            if section:
                out.append("")
            section = cmd.section
            out.append(" " * (_INDENT + _MARGIN) + section)
        usage = cmd.usage
        wrapped = textwrap.wrap(cmd.help, _WIDTH) or [""]
        if len(usage) >= _MARGIN:
            out.append(" " * _INDENT + usage)
            out += [" " * (_INDENT + _MARGIN) + w for w in wrapped]
            continue
        out.append(" " * _INDENT + usage.ljust(_MARGIN) + wrapped[0])
        out += [" " * (_INDENT + _MARGIN) + w for w in wrapped[1:]]
    return "\n".join(out) + "\n"
