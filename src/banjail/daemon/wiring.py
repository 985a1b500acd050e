"""The default implementations the composition root plugs in: log sources from a jail's logpath/backend, and
actions from its action specs.

`backend = auto` reads the files when any of them exists and the journal otherwise (Debian 12 has no auth.log by
default); `systemd` always reads the journal; `polling`, `pyinotify`, `inotify` read files.
"""

from __future__ import annotations

import glob
import importlib
from collections.abc import Callable
from typing import Any

from banjail.actions.base import Action
from banjail.config.schema import JailConfig
from banjail.daemon.logging import logger
from banjail.errors import SourceError
from banjail.model import Position
from banjail.sources.base import LogSource

PositionLookup = Callable[[str], Position | None]

log_jail = logger("jail")


def split_logpath(entry: str) -> tuple[str, bool]:
    """`/var/log/auth.log tail` -> (path, tail?)."""
    path, _, option = entry.strip().rpartition(" ")
    if path and option.lower() in ("head", "tail"):
        return path.strip(), option.lower() == "tail"
    return entry.strip(), False


def wants_journal(config: JailConfig) -> bool:
    backend = config.backend.split("[", 1)[0].strip().lower()
    if backend.startswith("systemd"):
        return True
    if backend != "auto":
        return False
    paths = [split_logpath(p)[0] for p in config.logpath]
    return bool(paths) and not any(glob.glob(p) for p in paths)


def make_sources(config: JailConfig, saved: PositionLookup) -> list[LogSource]:
    """The jail's sources, each resuming from the position the store holds for it."""
    if wants_journal(config):
        return _journal(config, saved)
    from banjail.sources.file import FileSource

    backend = config.backend.split("[", 1)[0].strip().lower()
    if backend not in ("auto", "pyinotify", "inotify", "polling"):
        backend = "auto"
    sources: list[LogSource] = []
    for entry in config.logpath:
        path, tail = split_logpath(entry)
        positions = {}
        for found in glob.glob(path) or [path]:
            position = saved(found)
            if position is not None:
                positions[found] = position
        sources.append(
            FileSource(path, positions=positions, tail=tail, encoding=config.logencoding, backend=backend)
        )
    return sources


def _journal(config: JailConfig, saved: PositionLookup) -> list[LogSource]:
    try:
        module = importlib.import_module("banjail.sources.journal")
    except ImportError:
        raise SourceError(f"jail {config.name!r}: the journal backend is not available") from None
    name = f"journal:{config.name}"
    source: LogSource = module.JournalSource(
        config.journalmatch or config.filter.journalmatch, position=saved(name), name=name
    )
    return [source]


def make_actions(config: JailConfig, **kwargs: Any) -> list[Action]:
    """The jail's actions, in the order its `action` option lists them."""
    if not config.action_specs:
        return []
    registry = importlib.import_module("banjail.actions.registry")
    actions: list[Action] = registry.build_actions(config, **kwargs)
    return actions
