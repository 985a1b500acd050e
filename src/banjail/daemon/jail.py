"""A running jail: the pure JailState plus the effects the daemon attaches to it (sources, actions, the per-jail
action queue). Built from a JailConfig by `build_state`; owned and driven by banjail.daemon.app.Daemon.

Invariant: `applied` holds exactly the bans the jail's actions were asked to apply and not yet to remove, so an
unban always reaches the actions with the Ban they banned, and a ban is never handed to the actions twice.
"""

from __future__ import annotations

import asyncio
import socket
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path

from banjail.actions.base import Action
from banjail.config.schema import JailConfig
from banjail.core.banpolicy import BanPolicy
from banjail.core.counter import FailureCounter
from banjail.core.ignore import IgnoreCache, IgnoreSet
from banjail.core.jail import HistoryLookup, JailState
from banjail.core.prefix import BanPrefix
from banjail.daemon import selfaddrs
from banjail.filter.datedetect import DateDetector
from banjail.filter.matcher import Matcher
from banjail.model import Ban
from banjail.sources.base import LogSource
from banjail.timespec import str2seconds


@dataclass(frozen=True, slots=True)
class ActionJob:
    """One entry of a jail's action queue: apply (`ban`) or remove (`unban`) these bans, in order; `stop` runs
    every action's stop (jail stop); `shutdown` the stop of every action whose bans do not outlive the daemon
    (daemon shutdown); `flush` every action's flush. With `action`, the job concerns that action alone (an
    action added or removed at run time), whether or not the jail still lists it."""

    kind: str  # "ban" | "unban" | "stop" | "shutdown" (bans: those to hold over a restart) | "flush" | "start"
    # | "release" (the restart's hold is removed)
    bans: tuple[Ban, ...] = ()
    action: Action | None = None
    read_at: float = 0.0  # monotonic time the batch whose line fired these bans was read (0: none; latency)


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
    batch_read_at: float = 0.0  # monotonic time the batch in hand was read (0: none), for the ban latency

    @property
    def name(self) -> str:
        return self.config.name


def resolve(name: str) -> tuple[str, ...]:
    """The addresses a host name resolves to (for ignoreip names and usedns); () when it does not resolve."""
    try:
        infos = socket.getaddrinfo(name, None, proto=socket.IPPROTO_TCP)
    except (OSError, UnicodeError):
        return ()
    return tuple(dict.fromkeys(str(info[4][0]) for info in infos))


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


def build_state(
    config: JailConfig, *, history: HistoryLookup, self_ips: Callable[[], Iterable[str]] = self_addresses
) -> JailState:
    """A fresh JailState for `config` (raises ConfigError when a regex, formula or ignoreip entry is bad)."""
    words = [w for entry in config.ignoreip for w in entry.split()]
    ignore = IgnoreSet(
        words,
        ignoreself=config.ignoreself,
        self_ips=self_ips(),  # also when off: `set <jail> ignoreself true` may turn it on
        resolver=resolve,
        files=ignore_files(words),
    )
    return JailState(
        config.name,
        matcher=build_matcher(config),
        counter=FailureCounter(
            config.name, maxretry=config.maxretry, findtime=config.findtime, maxmatches=config.maxmatches
        ),
        policy=build_policy(config),
        ignore=ignore,
        history=history,
        ignorecommand=bool(config.ignorecommand.strip()),
        prefix=BanPrefix(config.banprefix4, config.banprefix6),
    )


def ignore_cache(config: JailConfig) -> IgnoreCache | None:
    """upstream's `ignorecache = key="<ip>", max-count=100, max-time=5m` (only max-count/max-time are used)."""
    text = config.ignorecache.strip()
    if not text:
        return None
    options = {}
    for part in text.split(","):
        key, _, value = part.partition("=")
        options[key.strip().lower()] = value.strip().strip("\"'")
    count = int(options.get("max-count", "100") or 100)
    age = str2seconds(options.get("max-time", "300") or "300")
    return IgnoreCache(max_count=count, max_time=age)
