"""Command actions: upstream's action.d files (actionstart, actionban, ...) run as /bin/sh scripts.

Lifecycle, as upstream's command actions behave:
- Families: an action with `[Init?family=inet6]` values is conditional; it starts per family ("inet4",
  "inet6") on the first ban of that family (`actionstart_on_demand`, on by default for conditional actions).
  Others start once at jail start (family ""). An operation whose command text is the same for two families
  runs once.
- A ban runs actionban; when it fails: actioncheck (if any); when the check fails, actionrepair or, without one,
  actionstop + actionstart; then the ban is tried once more. Unban does not repair (unless
  actionrepair_on_unban). actionunban runs only for a family that holds bans.
- A ban whose command failed still counts as banned (the daemon keeps it); it is kept here and tried again
  before the next operation and by `retry_failed`. `norestored` skips bans restored from the store.
- One action runs one command at a time (its own lock); there is no lock shared between actions or jails.
The action's values, command texts and scripts are its Definition (banjail.actions.definition): run-time tags
are filled by render.py, so log-derived values never enter the script text unquoted.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable, Coroutine, Mapping, Sequence
from typing import Any

from banjail.actions import completion
from banjail.actions.completion import Completion
from banjail.actions.definition import Definition, truthy
from banjail.actions.runner import Outcome, Runner
from banjail.actions.tags import Counters, HistoryLookup, family_of
from banjail.config.schema import ActionSpec
from banjail.errors import ActionError
from banjail.model import Ban

log = logging.getLogger("banjail.actions")

_STARTED, _HAS_BANS = 1, 2


class CommandAction:
    """One action.d action of one jail (see the module doc for its guarantees)."""

    def __init__(
        self,
        spec: ActionSpec,
        *,
        jail: str,
        runner: Runner | None = None,
        history: HistoryLookup | None = None,
        counters: Counters | None = None,
        clock: Callable[[], float] = time.time,
        ipv6: bool = True,
    ) -> None:
        self.spec = spec
        self.jail = jail
        self.runner = runner or Runner()
        self._clock = clock
        self.definition = Definition(
            spec, label=self._label(), history=history, counters=counters, clock=clock, ipv6=ipv6
        )
        self._started: dict[str, int] = {}
        self._executed: dict[str, dict[str, str]] = {}  # operation -> family -> command run (for dedup)
        self._banned: dict[str, Ban] = {}
        self._failed: dict[str, Ban] = {}
        self._lock = asyncio.Lock()
        self.epoch = 0  # raised by each repair: bans applied before it may need a re-ban
        # set by the daemon for a side action: its actionban runs leave completion marks (exactly once)
        self.completion: Completion | None = None
        for warning in self.definition.nested_shell_warnings():
            log.warning("%s: %s", self._label(), warning)

    # -- the Action protocol ------------------------------------------------------------------------------

    @property
    def name(self) -> str:
        return self.spec.name

    @property
    def timeout(self) -> float:
        return self.definition.timeout

    @property
    def on_demand(self) -> bool:
        value = self.definition.option("actionstart_on_demand")
        return self.definition.conditional if value is None or not value.strip() else truthy(value)

    @property
    def norestored(self) -> bool:
        return self.definition.flag("norestored")

    @property
    def firewall(self) -> str | None:
        """The firewall program (iptables, ip6tables, ipset, nft) the action's actionban or actionstop runs, or
        None: such an action's rules outlive a killed server, and its bans are held over a restart
        (actions.handover)."""
        return self.definition.firewall()

    async def clear_leftovers(self) -> None:
        """After an unclean stop (the server was killed), run actionstop for every family so that what the
        killed server's commands left (chains, rules, sets) goes before actionstart and the restored bans make
        it again: a restored ban is then in the firewall once, never twice. A failure is expected (nothing may
        be left, after a reboot) and only logged. Only for firewall actions (see `firewall`)."""
        if self.firewall is None:
            return
        async with self._lock:
            done: set[str] = set()
            for family in self.definition.families():
                try:
                    command = self._command("actionstop", family)
                except ActionError:
                    continue
                if not command.strip() or command in done:
                    continue
                done.add(command)
                outcome = await self.runner.run(
                    await self.definition.script("actionstop", family, None), self.timeout
                )
                log.info(
                    "%s: cleared what the last (killed) server left%s: %s",
                    self._label(),
                    f" ({family})" if family else "",
                    "done" if outcome.ok else outcome.describe(),
                )

    async def start(self) -> None:
        """Run actionstart for every family, unless the action starts on demand (at its first ban)."""
        if self.on_demand:
            return
        async with self._lock:
            await self._start([f for f in self.definition.families() if not self._started.get(f)])

    async def stop(self) -> None:
        """Run actionstop for every started family; the action may be started again afterwards."""
        async with self._lock:
            families = [f for f, flags in self._started.items() if flags]
            self._started.clear()
            self._banned.clear()
            self._failed.clear()
            await self._operation("actionstop", "stopping", families, after=self._forget("actionstart"))

    def ban(self, bans: Sequence[Ban]) -> Coroutine[Any, Any, None]:
        # _each's coroutine itself (awaited by the caller as `async def ban` would be): a layer less per ban
        return self._each(bans, "actionban", "banning")

    async def reban(self, bans: Sequence[Ban]) -> None:
        """Apply bans again (after a repair): actionreban when the action has one, else actionban."""
        op = "actionreban" if self.definition.defines("actionreban") else "actionban"
        await self._each(bans, op, "rebanning")

    async def prolong(self, bans: Sequence[Ban]) -> None:
        """Tell the target a ban got longer (actionprolong; nothing when the action has none)."""
        if self.definition.defines("actionprolong"):
            await self._each(bans, "actionprolong", "prolonging")

    async def unban(self, bans: Sequence[Ban]) -> None:
        errors: list[str] = []
        async with self._lock:
            # A ban whose command failed was never applied: nothing to take back, and no retry.
            applied = [ban for ban in bans if self._failed.pop(ban.fid, None) is None]
            await self._retry_failed(errors)
            for ban in applied:
                self._banned.pop(ban.fid, None)
                family = family_of(ban)
                if not self._started.get(family, 0) & _HAS_BANS:
                    continue
                outcome = await self._process("actionunban", ban, family)
                if outcome is not None and not outcome.ok:
                    errors.append(self._failure("unbanning", ban.fid, outcome))
        self._raise(errors)

    async def flush(self) -> None:
        """actionflush for every family holding bans; without one, actionunban for each ban this action holds."""
        async with self._lock:
            self._failed.clear()
            if not self.definition.defines("actionflush"):
                held = list(self._banned.values())
            else:
                held = []
                families = [f for f, flags in self._started.items() if flags & 3 == 3]
                await self._operation("actionflush", "flushing", families, after=self._emptied)
                self._banned.clear()
        if held:
            await self.unban(held)

    async def reload(self) -> None:
        """Run actionreload for every started family."""
        async with self._lock:
            families = [f for f, flags in self._started.items() if flags]
            await self._operation("actionreload", "reloading", families)

    async def retry_failed(self) -> None:
        """Try again the bans whose command failed; raises ActionError if some still fail."""
        errors: list[str] = []
        async with self._lock:
            await self._retry_failed(errors)
        self._raise(errors)

    async def consistency_check(self) -> bool:
        """actioncheck for every started family, repairing what fails; False if some family stays broken
        (it is then marked stopped so the next ban starts it again)."""
        if not self.definition.defines("actioncheck"):
            return True
        ok = True
        async with self._lock:
            for family, flags in list(self._started.items()):
                if flags and not await self._invariant_check(family, allow_repair=True, force_start=True):
                    self._started[family] = 0
                    self._unrecord("actionstart", family)
                    ok = False
        return ok

    def properties(self) -> Mapping[str, str]:
        return self.definition.properties()

    def set_property(self, key: str, value: str) -> None:
        self.definition.set(key, value)

    @property
    def failed(self) -> tuple[Ban, ...]:
        """Bans whose command failed and that are waiting for a retry."""
        return tuple(self._failed.values())

    # -- operations ---------------------------------------------------------------------------------------

    async def _each(self, bans: Sequence[Ban], op: str, verb: str) -> None:
        errors: list[str] = []
        async with self._lock:
            await self._retry_failed(errors)
            for ban in bans:
                if ban.restored and self.norestored:
                    continue
                self._failed.pop(ban.fid, None)
                error = await self._apply(ban, op, verb)
                if error:
                    errors.append(error)
        self._raise(errors)

    async def _apply(self, ban: Ban, op: str, verb: str) -> str:
        family = family_of(ban)
        if self.on_demand and not self._started.get(family):
            try:
                await self._start([family])
            except ActionError as exc:
                self._failed[ban.fid] = ban
                return str(exc)
        outcome = await self._process(op, ban, family)
        if outcome is None or outcome.ok:
            self._banned[ban.fid] = ban
            self._started[family] = self._started.get(family, 0) | _STARTED | _HAS_BANS
            return ""
        if op != "actionprolong":
            self._failed[ban.fid] = ban
        return self._failure(verb, ban.fid, outcome)

    async def _retry_failed(self, errors: list[str]) -> None:
        for ban in list(self._failed.values()):
            del self._failed[ban.fid]
            error = await self._apply(ban, "actionban", "banning (retry)")
            if error:
                errors.append(error)

    async def _process(self, op: str, ban: Ban, family: str) -> Outcome | None:
        """Run `op` for `ban`; after a failure check (and repair) and try once more. None: nothing to run."""
        if not self._command(op, family).strip():
            return None
        has_check = bool(self._command("actioncheck", family).strip())
        repair = op != "actionunban" or self.definition.flag("actionrepair_on_unban")
        outcome: Outcome | None = None
        for attempt in range(2):
            if attempt and has_check:
                ok = await self._invariant_check(family, allow_repair=repair, force_start=op != "actionunban")
                if not ok:
                    return outcome
            outcome = await self._run(op, family, ban)
            if outcome.ok:
                return outcome
        return outcome

    async def _invariant_check(self, family: str, *, allow_repair: bool, force_start: bool) -> bool:
        if not force_start and family not in self._started:
            return True
        check = await self._run("actioncheck", family, None)
        if check.ok:
            return True
        if not allow_repair:
            log.error("%s: invariant check failed (%s); unban is impossible", self._label(), check.describe())
            return False
        log.error(
            "%s: invariant check failed (%s); trying to restore a sane environment",
            self._label(),
            check.describe(),
        )
        self.epoch += 1
        if self._command("actionrepair", family).strip():
            repaired = await self._run("actionrepair", family, None)
            if not repaired.ok:
                self._started[family] = 0
                log.critical("%s: unable to restore environment: %s", self._label(), repaired.describe())
                return False
            self._started[family] = _STARTED
        else:
            try:
                await self._operation("actionstop", "stopping", [family], after=self._forget("actionstart"))
            except ActionError as exc:
                log.warning("%s", exc)
            self._started[family] = 0
            await self._start([family])
        if self._started.get(family) and not (await self._run("actioncheck", family, None)).ok:
            log.critical("%s: unable to restore environment (check still fails)", self._label())
            return False
        return True

    async def _start(self, families: Sequence[str]) -> None:
        def started(family: str, ok: bool) -> None:
            if ok:
                self._unrecord("actionstop", family)
                self._started[family] = self._started.get(family, 0) | _STARTED

        await self._operation("actionstart", "starting", families, after=started)

    async def _operation(
        self,
        op: str,
        verb: str,
        families: Sequence[str],
        after: Callable[[str, bool], None] | None = None,
    ) -> None:
        """Run a ban-less operation once per family (skipping a command already run for another family)."""
        errors: list[str] = []
        done = self._executed.setdefault(op, {})
        for family in families:
            command = self._command(op, family)
            ok = True
            if command.strip() and command not in [c for f, c in done.items() if f != family]:
                outcome = await self._run(op, family, None)
                ok = outcome.ok
                if not ok:
                    errors.append(self._failure(verb, family or "-", outcome))
            if after is not None:
                after(family, ok)
            if ok:
                done[family] = command
            else:
                self._unrecord(op, family)
        self._raise(errors)

    def _forget(self, op: str) -> Callable[[str, bool], None]:
        def forget(family: str, ok: bool) -> None:
            if ok:
                self._unrecord(op, family)

        return forget

    def _unrecord(self, op: str, family: str) -> None:
        """Forget that `op` ran for `family`, and for every family where it ran the command `family` would run
        (a stop of "inet4" also undoes the family-less start of an action without families)."""
        done = self._executed.get(op, {})
        done.pop(family, None)
        command = self._command(op, family)
        for other in [f for f, c in done.items() if c == command]:
            del done[other]

    def _emptied(self, family: str, ok: bool) -> None:
        if ok and self._started.get(family):
            self._started[family] &= ~_HAS_BANS

    # -- commands -----------------------------------------------------------------------------------------

    def _command(self, op: str, family: str) -> str:
        return self.definition.command(op, family)

    async def _run(self, op: str, family: str, ban: Ban | None) -> Outcome:
        definition = self.definition
        script = definition.script_now(op, family, ban)
        if script is None:
            script = await definition.script(op, family, ban)
        marks = self.completion
        mark = None
        if ban is not None and op == "actionban" and marks is not None and script.text.strip():
            mark = marks.begin(self.jail, self.spec.name, "ban", ban, self._clock(), feeds=False)
        outcome = await self.runner.run(
            script if mark is None else completion.script(mark, script), definition.timeout
        )
        if mark is not None and marks is not None:
            marks.ended(mark, outcome.returncode, "" if outcome.ok else outcome.describe())
        level = logging.DEBUG if outcome.ok else logging.ERROR
        if log.isEnabledFor(level):  # the arguments are built at every ban: only when the line is written
            log.log(
                level, "%s: %s%s: %s", self._label(), op, f" ({family})" if family else "", outcome.describe()
            )
        return outcome

    def _label(self) -> str:
        return f"[{self.jail}] action {self.name}"

    def _failure(self, verb: str, what: str, outcome: Outcome) -> str:
        return (
            f"{self._label()}: error {verb} {what}: {outcome.describe()}; command: {outcome.script.strip()}"
        )

    @staticmethod
    def _raise(errors: list[str]) -> None:
        if errors:
            raise ActionError("\n".join(errors))
