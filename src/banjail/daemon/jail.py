"""A running jail: the pure JailState plus the effects the daemon attaches to it (sources, actions, the per-jail
action queue, which banjail.daemon.lanes dispatches to one queue per action). Built from a JailConfig by `build_state`; owned and driven by banjail.daemon.app.Daemon.

Invariant: `applied` holds exactly the bans the jail's actions were asked to apply and not yet to remove, so an
unban always reaches the actions with the Ban they banned, and a ban is never handed to the actions twice.
"""

from __future__ import annotations

import asyncio
import glob
import shutil
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TypeVar

from banjail.actions.base import Action
from banjail.config.origins import placed
from banjail.config.schema import Config, JailConfig
from banjail.core.banpolicy import BanPolicy
from banjail.core.counter import FailureCounter
from banjail.core.ignore import IgnoreCache, IgnoreSet
from banjail.core.jail import HistoryLookup, JailState
from banjail.core.prefix import BanPrefix
from banjail.daemon import dns, selfaddrs
from banjail.daemon.collector import BatchHold
from banjail.daemon.reading import ReadingReport
from banjail.daemon.scanning import Scanner
from banjail.daemon.wiring import no_logs_to_skip, split_logpath
from banjail.errors import ConfigError, Problem, SourceError
from banjail.filter.datedetect import DateDetector
from banjail.filter.matcher import Matcher
from banjail.model import Ban
from banjail.sources.backend import choose_backend
from banjail.sources.base import LogSource
from banjail.timespec import str2seconds_typed


@dataclass(frozen=True, slots=True)
class ActionJob:
    """One entry of a jail's action queue: apply (`ban`) or remove (`unban`) these bans, in order; `stop` runs
    every action's stop (jail stop); `shutdown` the stop of every action whose bans do not outlive the daemon
    (daemon shutdown); `flush` every action's flush. With `action`, the job concerns that action alone (an
    action added or removed at run time), whether or not the jail still lists it."""

    kind: (
        str  # "ban" | "unban" | "stop" | "shutdown" (bans: those to hold over a restart) | "flush" | "start"
    )
    # | "release" (the restart's hold is removed) | "settle" (runs nothing: see `done`)
    # | "prolong" (the bans' ends moved: an action with `prolong` replaces their kernel timeouts)
    bans: tuple[Ban, ...] = ()
    action: Action | None = None
    read_at: float = 0.0  # monotonic time the batch whose line fired these bans was read (0: none; latency)
    # kind "settle": resolved once every lane has reached this job, i.e. finished every job queued before it
    done: asyncio.Future[None] | None = field(default=None, compare=False)


@dataclass
class Jail:
    """One jail's runtime state (mutable; touched only from the event loop)."""

    config: JailConfig
    state: JailState
    sources: list[LogSource] = field(default_factory=list)
    actions: dict[str, Action] = field(default_factory=dict)
    applied: dict[str, Ban] = field(default_factory=dict)
    queue: asyncio.Queue[ActionJob] = field(default_factory=asyncio.Queue)
    tasks: list[asyncio.Task[None]] = field(default_factory=list)
    ignorecommand: str = ""
    ignore_cache: IgnoreCache | None = None
    logpaths: list[str] = field(default_factory=list)
    reading: int = 0  # readers in the middle of a batch (a graceful stop lets them finish it)
    awake: asyncio.Event = field(default_factory=asyncio.Event)  # cleared by `set <jail> idle on`
    batch_read_at: float = 0.0  # monotonic time the batch in hand was read (0: none), for the ban latency
    scanner: Scanner = field(default_factory=Scanner)  # the jail's scan thread (banjail.daemon.scanning)
    cut: ReadingReport = field(default_factory=ReadingReport)  # cut lines logged so far
    collector: BatchHold = field(default_factory=BatchHold)  # the cyclic collector during its batches

    def __post_init__(self) -> None:
        self.awake.set()

    @property
    def name(self) -> str:
        return self.config.name


def resolve(name: str) -> tuple[str, ...]:
    """The addresses a host name resolves to (for ignoreip names and usedns); () when it does not resolve, or
    gives no answer within banjail.daemon.dns.LOOKUP_TIMEOUT. Cached; never call it on the event loop."""
    return dns.RESOLVER(name)


def self_addresses() -> tuple[str, ...]:
    """The host's own addresses for `ignoreself`: loopback plus every interface address (cached, see
    banjail.daemon.selfaddrs)."""
    return selfaddrs.current()


def ignore_files(entries: Iterable[str]) -> dict[str, str]:
    """The text of every `file:PATH` ignoreip entry (missing files read as empty, as an empty list)."""
    files: dict[str, str] = {}
    for entry in entries:
        for word in entry.split():
            if word.startswith("file:"):
                path = word[5:]
                try:
                    files[path] = Path(path).read_text(encoding="utf-8", errors="replace")
                except OSError:
                    files[path] = ""
    return files


def build_policy(config: JailConfig) -> BanPolicy:
    """The jail's BanPolicy from its config (raises ConfigError on a bad formula or multiplier)."""
    return BanPolicy.from_options(
        bantime=config.bantime,
        increment=config.bantime_increment,
        factor=repr(config.bantime_factor),
        formula=config.bantime_formula,
        multipliers=" ".join(str(m) for m in config.bantime_multipliers),
        maxtime=config.bantime_maxtime,
        rndtime=config.bantime_rndtime,
        overalljails=config.bantime_overalljails,
    )


def build_matcher(config: JailConfig) -> Matcher:
    spec = config.filter
    detector = DateDetector(spec.datepattern, logtimezone=spec.logtimezone)
    return Matcher(spec, detector=detector, resolver=resolve, check_all=False, live=True)


@dataclass(frozen=True, slots=True)
class JailCheck:
    """What checking a jail's configuration found: the parts the server builds from it (None where a part could
    not be built) and every problem, placed at the file and line the value is written at."""

    matcher: Matcher | None
    policy: BanPolicy | None
    ignore: IgnoreSet | None
    backend: str  # the source the server reads: "systemd", "auto", "pyinotify" or "polling" ("" when unknown)
    problems: tuple[Problem, ...]

    @property
    def errors(self) -> list[Problem]:
        return [p for p in self.problems if p.severity == "error"]

    @property
    def warnings(self) -> list[Problem]:
        return [p for p in self.problems if p.severity != "error"]


def check_jail(
    config: JailConfig,
    *,
    self_ips: Callable[[], Iterable[str]] = self_addresses,
    journal_available: bool | None = None,
    actions: Callable[[JailConfig], object] | None = None,
) -> JailCheck:
    """Build every part the server builds when it starts jail `config` (matcher, ban policy, ignore rules, the
    choice of log source) and check its log paths, collecting every problem instead of stopping at the first.
    The server's jail start (build_state) and `fail2ban-client -t` both run this, so -t refuses exactly what the
    server would refuse. A log path that matches no file is a warning: the server waits for the file.
    `actions`: the server's action builder (banjail.daemon.wiring.ActionBuilder), to build the jail's actions
    too, as its start does (a command or native action runs none of its commands when built; a Python action's
    module is imported and its Action created, exactly as at the server's start)."""
    problems: list[Problem] = []
    matcher = _built(lambda: build_matcher(config), config, problems)
    policy = _built(lambda: build_policy(config), config, problems)
    words = [w for entry in config.ignoreip for w in entry.split()]
    ignore = _built(
        lambda: IgnoreSet(
            words,
            ignoreself=config.ignoreself,
            self_ips=self_ips(),  # also when off: `set <jail> ignoreself true` may turn it on
            resolver=resolve,
            files=ignore_files(words),
        ),
        config,
        problems,
    )
    paths = [split_logpath(p)[0] for p in config.logpath]
    if journal_available is None:
        journal_available = shutil.which("journalctl") is not None
    backend = ""
    try:
        backend = choose_backend(config.backend, paths, _matches_file, journal_available)
    except SourceError as exc:
        problems.append(
            placed(
                Problem(str(exc), option="backend", value=config.backend),
                config,
            )
        )
    skipped = no_logs_to_skip(config)
    if skipped:
        problems.append(
            placed(
                Problem(
                    f"the server does not start this jail: {skipped}",
                    option="logpath",
                    value=" ".join(paths),
                    fix="check the path, or set skip_if_nologs = false to start it and wait for the file",
                    severity="warning",
                ),
                config,
            )
        )
    elif backend and backend != "systemd":
        for path in paths:
            if not _matches_file(path):
                problems.append(
                    placed(
                        Problem(
                            "no such log file yet: banjail starts the jail and reads the file as soon as it appears "
                            "(upstream refuses to start the jail)",
                            option="logpath",
                            value=path,
                            fix="check the path, or ignore this if the service creates the file later",
                            severity="warning",
                        ),
                        config,
                    )
                )
    if actions is not None:
        _built(lambda: actions(config), config, problems)
    return JailCheck(matcher, policy, ignore, backend, tuple(problems))


def check_jails(config: Config, config_dir: str) -> list[Problem]:
    """check_jail on every jail of `config` (with the server's action builder for `config_dir`), each problem
    once (a filter several jails use is reported once), in order: what `-t` reports."""
    from banjail.daemon.wiring import ActionBuilder

    builder = ActionBuilder(config_dir)
    return list(dict.fromkeys(p for jail in config.jails for p in check_jail(jail, actions=builder).problems))


T = TypeVar("T")


def _built(build: Callable[[], T], config: JailConfig, problems: list[Problem]) -> T | None:
    try:
        return build()
    except ConfigError as exc:
        problems.extend(placed(p, config) for p in exc.problems)
        return None


def _matches_file(path: str) -> bool:
    return bool(glob.glob(path))  # as the server's source choice (banjail.daemon.wiring) tests a path


def build_state(
    config: JailConfig,
    *,
    history: HistoryLookup,
    self_ips: Callable[[], Iterable[str]] = self_addresses,
    warn: Callable[[Problem], None] | None = None,
) -> JailState:
    """A fresh JailState for `config` (check_jail's parts). Raises ConfigError with every error check_jail
    found; hands its warnings to `warn`."""
    check = check_jail(config, self_ips=self_ips)
    if check.errors:
        raise ConfigError(check.errors)
    for warning in check.warnings:
        if warn is not None:
            warn(warning)
    assert check.matcher is not None and check.policy is not None and check.ignore is not None
    return JailState(
        config.name,
        matcher=check.matcher,
        counter=FailureCounter(
            config.name, maxretry=config.maxretry, findtime=config.findtime, maxmatches=config.maxmatches
        ),
        policy=check.policy,
        ignore=check.ignore,
        history=history,
        ignorecommand=bool(config.ignorecommand.strip()),
        prefix=BanPrefix(config.banprefix4, config.banprefix6),
    )


def ignore_cache(config: JailConfig) -> IgnoreCache | None:
    """upstream's `ignorecache = key="<ip>", max-count=100, max-time=5m` (only max-count/max-time are used)."""
    options = ignorecache_options(config.ignorecache)
    return None if options is None else IgnoreCache(max_count=options[1], max_time=options[2])


def ignorecache_options(text: str) -> tuple[str, int, float] | None:
    """An ignorecache value as upstream's server holds it (`get <jail> ignorecache`): key, max-count (default
    100), max-time in seconds (default 300, typed as upstream's); None when empty. ValueError on a bad number."""
    if not text.strip():
        return None
    options = {}
    for part in text.split(","):
        key, _, value = part.partition("=")
        options[key.strip().lower()] = value.strip().strip("\"'")
    count = int(options.get("max-count", "100") or 100)
    age = str2seconds_typed(options.get("max-time", "300") or "300")
    return options.get("key", ""), count, age
