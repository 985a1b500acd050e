"""Typed results of configuration loading. Frozen values; the option dicts inside are never mutated after loading.

FilterSpec lives in banjail.model (the filter engine consumes it); the rest is here.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from banjail.errors import Problem
from banjail.model import FilterSpec

if TYPE_CHECKING:
    from banjail.fleet.settings import FleetConfig


@dataclass(frozen=True)
class ActionSpec:
    """An action after config resolution.

    name: the action's unique name in its jail (upstream's actname: the file name, suffixed when `name=` differs
    from the jail's name). options: every [Definition] action* option and every [Init]/argument value, with
    config-time tags substituted and run-time tags (<ip>, <matches>, <bantime>, ...) left in place. Options that
    have a family variant are left unsubstituted here; family_options["inet6"] holds those variants (from
    `[Init?family=inet6]`), for the runner to prefer when the address is IPv6. init: [Init] values and arguments
    as given (after %(...)s interpolation). python: the action is a `.py` file (options are its arguments).
    sent: what upstream's client sends for the action (`-d` prints it): the [Definition] action* options
    substituted, then every argument and [Init] value as written (conditional `x?family=...` ones included),
    in upstream's order.
    """

    name: str
    file: str
    options: dict[str, str] = field(default_factory=dict)
    init: dict[str, str] = field(default_factory=dict)
    family_options: dict[str, dict[str, str]] = field(default_factory=dict)
    python: bool = False
    sent: tuple[tuple[str, str], ...] = field(default=(), compare=False)


@dataclass(frozen=True, slots=True)
class ServerConfig:
    """The [Definition] options of fail2ban.conf (with upstream's defaults).

    texts: the options fail2ban.conf sets, as written (interpolated, not converted), for `-d` (upstream prints
    `dbpurgeage = 1d` as '1d'); stacksize: [Thread] stacksize as written, None when not set.
    """

    loglevel: str = "INFO"
    logtarget: str = "/var/log/fail2ban.log"
    syslogsocket: str = "auto"
    socket: str = "/var/run/fail2ban/fail2ban.sock"
    pidfile: str = "/var/run/fail2ban/fail2ban.pid"
    dbfile: str = "/var/lib/fail2ban/fail2ban.sqlite3"
    dbpurgeage: float = 86400.0
    dbmaxmatches: int = 10
    dbmaxfailures: int = 100_000  # banjail: counted failures kept per jail in the database (store/counted.py)
    allowipv6: str = "auto"
    metrics: str = ""  # banjail: HOST:PORT serving GET /metrics (banjail.daemon.metrics); "" = off
    metrics_textfile: str = ""  # banjail: a file the same text is written to every metrics_interval s; "" = off
    metrics_interval: float = 15.0  # banjail: seconds between two writes of metrics_textfile
    # As-written views of the values above: equal configs may spell them differently.
    texts: tuple[tuple[str, str], ...] = field(default=(), compare=False)
    stacksize: str | None = field(default=None, compare=False)


@dataclass(frozen=True)
class JailConfig:
    """One enabled jail, resolved.

    actions: the raw action specs as the `action` option lists them (`name[args]`), action_specs: each resolved.
    logpath: one entry per configured line (globs unexpanded; an optional trailing ` head`/` tail` kept).
    Times are seconds (bantime -1 = permanent). options: every option the jail section resolves (interpolated),
    for callers that need one not typed here, in upstream's JailReader order. filter_options: the filter file's
    own failregex, prefregex, ... (those the jail does not override), substituted, in upstream's order (`-d`).
    error: set only by load_config(skip_broken=True) for a jail whose filter or action cannot be read (upstream's
    message); such a jail has nothing else set.
    """

    name: str
    enabled: bool = True
    filter: FilterSpec = field(default_factory=FilterSpec)
    filter_spec: str = ""
    actions: tuple[str, ...] = ()
    action_specs: tuple[ActionSpec, ...] = ()
    logpath: tuple[str, ...] = ()
    backend: str = "auto"
    maxretry: int = 5
    maxmatches: int = 5
    maxlinelength: int = 8192  # banjail: bytes kept of one log line (banjail.sources.tail)
    findtime: float = 600  # as upstream types it: an int unless written with a point, months or years
    bantime: float = 600.0
    bantime_increment: bool = False
    bantime_factor: float = 1.0
    bantime_formula: str = ""
    bantime_multipliers: tuple[int, ...] = ()
    bantime_maxtime: float | None = None
    bantime_rndtime: float | None = None
    bantime_overalljails: bool = False
    banprefix4: int = 32  # count and ban IPv4 failures by this prefix (banjail.core.prefix); 32: per address
    banprefix6: int = 128  # the same for IPv6; 64 bans an attacker's /64
    ignoreip: tuple[str, ...] = ()
    ignoreself: bool = True
    ignorecommand: str = ""
    ignorecache: str = ""
    usedns: str = "warn"
    logencoding: str = "auto"
    logtimezone: str = ""
    journalmatch: tuple[str, ...] = ()
    maxlines: int = 1
    datepattern: tuple[str, ...] = ()
    # upstream 1.1: do not start the jail when no log path matches a file (banjail otherwise waits for it)
    skip_if_nologs: bool = False
    fleet: str = "no"  # publish | subscribe | both | no (banjail.fleet.settings)
    options: dict[str, str] = field(default_factory=dict)
    filter_options: tuple[tuple[str, str], ...] = field(default=(), compare=False)
    error: str = ""
    # (option, file, line) where each option's effective value is written: the jail's section (or [DEFAULT]) for
    # jail options, the filter file for filter options the jail does not set; for problems found after loading
    origins: tuple[tuple[str, str, int], ...] = field(default=(), compare=False)
    # banjail.config.packaged: what was read instead of fail2ban's unmodified packaged filter file ("" if nothing)
    filter_note: str = field(default="", compare=False)


@dataclass(frozen=True)
class Config:
    """Everything `load_config` read: server options, the enabled jails in file order, notices (informational,
    e.g. jail.conf.local was read) and warnings (unknown options, doubtful values); errors raise instead."""

    server: ServerConfig = field(default_factory=ServerConfig)
    jails: tuple[JailConfig, ...] = ()
    notices: tuple[str, ...] = ()
    warnings: tuple[Problem, ...] = ()
    files: tuple[str, ...] = ()
    fleet: FleetConfig | None = None  # the [fleet] section of fail2ban.local, None without one
