"""From a jail's `action` entries to Action objects: action.d files become CommandActions (or banjail's
native actions when the file says `native = KIND`), `.py` actions become PythonActions. The daemon stops
them in reverse order of this list.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path

from banjail.actions.base import Action
from banjail.actions.command import CommandAction
from banjail.actions.native import native_action
from banjail.actions.python import PythonAction
from banjail.actions.runner import Runner
from banjail.actions.tags import Counters, HistoryLookup
from banjail.config.load import STOCK_DIR, load_action
from banjail.config.schema import ActionSpec, JailConfig


def build_actions(
    jail: JailConfig,
    *,
    config_dir: Path | str = "/etc/fail2ban",
    stock_dir: Path = STOCK_DIR,
    runner: Runner | None = None,
    history: HistoryLookup | None = None,
    counters: Counters | None = None,
    clock: Callable[[], float] = time.time,
    ipv6: bool = True,
) -> list[Action]:
    """One Action per entry of the jail's `action` option, in order.

    Uses the jail's resolved action_specs when the config loader filled them, else resolves each entry with
    load_action (raising ConfigError naming every problem). runner: how commands run (an argv prefix such as
    `ip netns exec NS`, extra environment); history/counters feed <ipmatches>... and <jail.*> tags.
    """
    specs = list(jail.action_specs)
    if not specs:
        specs = [
            load_action(
                entry, config_dir=config_dir, stock_dir=stock_dir, jail_options=jail.options, jail=jail.name
            )
            for entry in jail.actions
        ]
    return [
        build_action(
            spec,
            jail=jail.name,
            runner=runner,
            history=history,
            counters=counters,
            clock=clock,
            ipv6=ipv6,
            bantime=jail.bantime,
        )
        for spec in specs
    ]


def build_action(
    spec: ActionSpec,
    *,
    jail: str,
    runner: Runner | None = None,
    history: HistoryLookup | None = None,
    counters: Counters | None = None,
    clock: Callable[[], float] = time.time,
    ipv6: bool = True,
    bantime: float = 600.0,
) -> Action:
    """The Action for one resolved spec (bantime: the jail's, which Python actions may ask for).

    A file declaring `native = KIND` runs as banjail's own implementation (see banjail.actions.native).
    """
    if spec.python:
        return PythonAction(spec, jail=jail, history=history, clock=clock, bantime=bantime)
    native = native_action(spec, jail=jail, runner=runner, clock=clock, ipv6=ipv6)
    if native is not None:
        return native
    return CommandAction(
        spec, jail=jail, runner=runner, history=history, counters=counters, clock=clock, ipv6=ipv6
    )
