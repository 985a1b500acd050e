"""The default implementations the composition root plugs in: log sources from a jail's logpath/backend, and
actions from its action specs.

`backend = auto` reads the files when any of them exists and the journal otherwise (Debian 12 has no auth.log by
default); `systemd` always reads the journal; `polling`, `pyinotify`, `inotify` read files.
"""

from __future__ import annotations

import glob
import shutil
import time
from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING

from banjail.actions.base import Action
from banjail.actions.tags import Counters, History, HistoryLookup
from banjail.config.origins import placed
from banjail.config.schema import ActionSpec, JailConfig
from banjail.errors import ConfigError
from banjail.model import Ban, Position
from banjail.sources.backend import backend_name, choose_backend
from banjail.sources.base import LogSource

if TYPE_CHECKING:
    from banjail.daemon.app import Daemon

PositionLookup = Callable[[str], Position | None]


def split_logpath(entry: str) -> tuple[str, bool]:
    """`/var/log/auth.log tail` -> (path, tail?)."""
    path, _, option = entry.strip().rpartition(" ")
    if path and option.lower() in ("head", "tail"):
        return path.strip(), option.lower() == "tail"
    return entry.strip(), False


def no_logs_to_skip(config: JailConfig) -> str:
    """Why the jail is not to be started (upstream 1.1's `skip_if_nologs = true` and no log path matching a
    file, for a jail that does not read the journal), or "" to start it."""
    if not config.skip_if_nologs or backend_name(config.backend) == "systemd":
        return ""
    paths = [split_logpath(p)[0] for p in config.logpath]
    if any(glob.glob(p) for p in paths):
        return ""
    return f"no file matches its logpath {' '.join(paths) or '(none)'} (skip_if_nologs = true)"


def make_sources(config: JailConfig, saved: PositionLookup, *, now: float | None = None) -> list[LogSource]:
    """The jail's sources, each resuming from the position the store holds for it. A journal read for the first
    time starts `findtime` before now, as upstream."""
    paths = [split_logpath(p)[0] for p in config.logpath]
    backend = choose_backend(
        config.backend,
        paths,
        lambda p: bool(glob.glob(p)),
        journal_available=shutil.which("journalctl") is not None,
    )
    if backend == "systemd":
        from banjail.sources.journal import JournalSource

        name = f"journal:{config.name}"
        since = (time.time() if now is None else now) - config.findtime
        return [
            JournalSource(
                config.journalmatch or config.filter.journalmatch,
                position=saved(name),
                since=since,
                name=name,
            )
        ]
    from banjail.sources.file import FileSource

    sources: list[LogSource] = []
    for entry in config.logpath:
        path, tail = split_logpath(entry)
        positions = {}
        for found in glob.glob(path) or [path]:
            position = saved(found)
            if position is not None:
                positions[found] = position
        sources.append(
            FileSource(
                path,
                positions=positions,
                tail=tail,
                encoding=config.logencoding,
                backend="polling" if backend == "polling" else "auto",
                max_line=config.maxlinelength,
            )
        )
    return sources


class ActionBuilder:
    """Builds a jail's actions (action.d files read under `config_dir`), in the order its `action` lists them
    (calling it), or one action from a resolved spec (`one`, for `addaction` at run time).

    history and counters are bound once the daemon exists (they read its store and its jails): history feeds
    <ipmatches> <ipjailmatches> <ipfailures> <ipjailfailures>, counters the <jail.*> tags."""

    def __init__(self, config_dir: str) -> None:
        self.config_dir = config_dir
        self.history: HistoryLookup | None = None
        self.counters: Callable[[str], Mapping[str, int | str]] | None = None

    def bind(self, daemon: Daemon) -> None:
        """Feed the history tags from `daemon`'s store (whichever database it uses at the time) and the
        <jail.*> tags from its jails."""
        self.history = lambda ban, all_jails: merged_history(daemon, ban, all_jails)
        self.counters = lambda name: jail_counters(daemon, name)

    def __call__(self, config: JailConfig) -> list[Action]:
        from banjail.actions.registry import build_actions

        if not config.action_specs and not config.actions:
            return []
        try:
            return build_actions(
                config, config_dir=self.config_dir, history=self.history, counters=self._counters(config.name)
            )
        except ConfigError as exc:  # at the file:line that sets the value, as -t reports it too
            raise ConfigError([placed(p, config) for p in exc.problems]) from None

    def one(self, config: JailConfig, spec: ActionSpec) -> Action:
        from banjail.actions.registry import build_action

        return build_action(
            spec,
            jail=config.name,
            history=self.history,
            counters=self._counters(config.name),
            bantime=config.bantime,
        )

    def _counters(self, jail: str) -> Counters | None:
        counters = self.counters
        if counters is None:
            return None
        return lambda: counters(jail)


def merged_history(daemon: Daemon, ban: Ban, all_jails: bool) -> History | None:
    """The store's merged bans of `ban`'s fid, in its jail or in all; None without a database. Blocking: actions
    call it off the event loop."""
    found = daemon.store.merged_bans(ban.fid, None if all_jails else ban.jail)
    return None if found is None else History(found.matches, found.failures)


def jail_counters(daemon: Daemon, name: str) -> dict[str, int | str]:
    """The <jail.name> <jail.banned> <jail.banned_total> <jail.found> <jail.found_total> values of jail `name`
    ({} when it is gone)."""
    jail = daemon.jails.get(name)
    if jail is None:
        return {}
    state = jail.state
    return {
        "name": name,
        "banned": len(state.book),
        "banned_total": state.book.total,
        "found": len(state.counter),
        "found_total": state.counter.total,
    }


def action_factory(config_dir: str) -> ActionBuilder:
    """The ActionBuilder for `config_dir` (history and counters unbound)."""
    return ActionBuilder(config_dir)
