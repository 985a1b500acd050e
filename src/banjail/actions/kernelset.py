"""What banjail's native set actions (nftables, ipset) share: the jail's options, a lock that serialises the
action's own commands, and the promise that their bans live in kernel sets with per-element timeouts."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable, Mapping
from typing import ClassVar

from banjail.actions.runner import Runner
from banjail.config.schema import ActionSpec
from banjail.timespec import str2seconds


class KernelSetAction:
    """Base of the native set actions; a subclass sets DEFAULTS (its options' defaults, with "timeout")."""

    DEFAULTS: ClassVar[Mapping[str, str]]

    def __init__(
        self,
        spec: ActionSpec,
        *,
        jail: str,
        runner: Runner | None = None,
        clock: Callable[[], float] = time.time,
        ipv6: bool = True,
    ) -> None:
        self.spec = spec
        self.jail = jail
        self.runner = runner or Runner()
        self._clock = clock
        self._ipv6 = ipv6
        self._options = dict(spec.options)
        self._started = False
        self._lock = asyncio.Lock()

    @property
    def name(self) -> str:
        return self.spec.name

    @property
    def persistent(self) -> bool:
        """True: the kernel holds every ban with its own timeout and `start` keeps the set's elements, so the
        daemon's shutdown leaves the bans in place (see banjail.actions.base)."""
        return True

    @property
    def timeout(self) -> float:
        return str2seconds(self._options.get("timeout", "").strip() or self.DEFAULTS["timeout"])
