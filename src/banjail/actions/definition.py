"""An action.d file's [Definition] values as one jail's command action uses them: the option values (settable at
run time), the per-family values of a conditional action (`[Init?family=inet6]`), the command text of each
operation with every config value substituted (cached; run-time tags left in place), and the script it renders
for one run (run-time tags quoted by render.py: log-derived values never enter the script text unquoted)."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable, Mapping

from banjail.actions.handover import firewall_tool
from banjail.actions.render import Script, nested_shell_warning, render, used_tags
from banjail.actions.tags import HISTORY_TAGS, BanInfo, Counters, HistoryLookup, fq_hostname, host_name
from banjail.config.schema import ActionSpec
from banjail.config.tags import TagError, substitute_text
from banjail.errors import ActionError
from banjail.model import Ban
from banjail.timespec import str2seconds

DEFAULT_TIMEOUT = 60.0
# Tags the static stage must leave for the run time (upstream's escaped tags and the ban's own time).
_RUNTIME_ONLY = frozenset({"matches", "ipmatches", "ipjailmatches", "bantime"})
# Operations whose text may nest a shell in a way that breaks upstream's quoting (warned once, at build).
_OPERATIONS = (
    "actionban", "actioncheck", "actionflush", "actionreban", "actionreload", "actionrepair", "actionstart",
    "actionstop", "actionunban",
)  # fmt: skip
_WARNED_OPERATIONS = ("actionstart", "actionban", "actionunban", "actionprolong", "actionreban")


def truthy(value: str | None) -> bool:
    """An action option's boolean reading, as upstream's: 1, true, yes, on (any case)."""
    return (value or "").strip().lower() in ("1", "true", "yes", "on")


class Definition:
    """The values of one action for one jail; `label` names it in errors ("[jail] action name")."""

    def __init__(
        self,
        spec: ActionSpec,
        *,
        label: str,
        history: HistoryLookup | None = None,
        counters: Counters | None = None,
        clock: Callable[[], float] = time.time,
        ipv6: bool = True,
    ) -> None:
        self.label = label
        self._history = history
        self._counters = counters
        self._clock = clock
        self._ipv6 = ipv6
        self._options = dict(spec.options)
        self._families = {family: dict(values) for family, values in spec.family_options.items()}
        self._static: dict[tuple[str, str], str] = {}
        self._timeout: list[float] = []  # `timeout` once derived (empty: not yet; set() clears it)
        self._firewall: list[str | None] = []  # firewall()'s answer once derived (empty: not yet)

    @property
    def timeout(self) -> float:
        """The `timeout` option in seconds (DEFAULT_TIMEOUT when unset). Derived once until the next set(): each
        command asks for it."""
        if not self._timeout:
            text = self._options.get("timeout", "").strip()
            self._timeout.append(str2seconds(text) if text else DEFAULT_TIMEOUT)
        return self._timeout[0]

    @property
    def conditional(self) -> bool:
        """The action has per-family values: it runs per family ("inet4", "inet6")."""
        return bool(self._families)

    def families(self) -> list[str]:
        """The families the action runs for: [""] for an unconditional one; inet6 only with IPv6 on."""
        if not self._families:
            return [""]
        return ["inet4", "inet6"] if self._ipv6 else ["inet4"]

    def option(self, key: str) -> str | None:
        """The raw value of option `key` (None when the action has no such option)."""
        return self._options.get(key)

    def defines(self, op: str) -> bool:
        """Option `op` has a non-blank value."""
        return bool(self._options.get(op, "").strip())

    def flag(self, key: str) -> bool:
        """Option `key` reads as true (see `truthy`)."""
        return truthy(self._options.get(key))

    def properties(self) -> Mapping[str, str]:
        """Every option, with the timeout the action uses when it has none and every operation ("" when the file
        has none: upstream's `get <jail> action <act> actionreban` prints an empty line, not an error)."""
        options = {**dict.fromkeys(_OPERATIONS, ""), **self._options}
        return {**options, "timeout": self._options.get("timeout", f"{DEFAULT_TIMEOUT:g}")}

    def set(self, key: str, value: str) -> None:
        """Set option `key` (the next command text is substituted anew)."""
        self._options[key] = value
        self._static.clear()
        self._timeout.clear()
        self._firewall.clear()

    def nested_shell_warnings(self) -> list[str]:
        """`op warning` for each operation whose text nests a shell unsafely (render.nested_shell_warning)."""
        found = ((op, nested_shell_warning(self._options.get(op, ""))) for op in _WARNED_OPERATIONS)
        return [f"{op} {warning}" for op, warning in found if warning]

    def firewall(self) -> str | None:
        """The first firewall program actionban or actionstop runs for some family (handover.firewall_tool), or
        None. Derived once until the next set(): the lanes ask for it several times per ban."""
        if not self._firewall:
            self._firewall.append(self._firewall_tool())
        return self._firewall[0]

    def _firewall_tool(self) -> str | None:
        for op in ("actionban", "actionstop"):
            for family in self.families():
                try:
                    tool = firewall_tool(self.command(op, family))
                except ActionError:
                    continue
                if tool is not None:
                    return tool
        return None

    def command(self, op: str, family: str) -> str:
        """The text of `op` for `family` with every config value substituted; run-time tags left in place.
        Raises ActionError naming the action and operation when a tag cannot be substituted."""
        key = (op, family)
        found = self._static.get(key)
        if found is None:
            values = {**self._options, **self._families.get(family, {})}
            try:
                found = substitute_text(values.get(op, ""), values, ignore=_RUNTIME_ONLY)
            except TagError as exc:
                raise ActionError(f"{self.label}: {op}: {exc}") from None
            self._static[key] = found
        return found

    def script_now(self, op: str, family: str, ban: Ban | None) -> Script | None:
        """`script`'s answer when it needs nothing off the event loop (no host name lookup, no store query),
        without a coroutine: None when it does (await `script` then). Most commands need only the ban's own
        values (<ip>, <fid>, ...)."""
        text = self.command(op, family)
        tags = used_tags(text)
        if (
            "fq-hostname" in tags
            or (ban is not None and ban.ip is not None and "ip-host" in tags)
            or (ban is not None and self._history is not None and not tags.isdisjoint(HISTORY_TAGS))
        ):
            return None
        info = BanInfo(ban, family, history=self._history, counters=self._counters, now=self._clock())
        return render(text, info.value)

    async def script(self, op: str, family: str, ban: Ban | None) -> Script:
        """The script one run of `op` executes, its run-time tags filled for `ban` (None: a ban-less operation).
        Host name lookups and store queries it needs run off the event loop."""
        found = self.script_now(op, family, ban)
        if found is not None:
            return found
        text = self.command(op, family)
        info = BanInfo(ban, family, history=self._history, counters=self._counters, now=self._clock())
        tags = used_tags(text)
        # DNS lookups block: never on the event loop.
        if ban is not None and ban.ip is not None and "ip-host" in tags:
            info.preset("ip-host", await asyncio.to_thread(host_name, ban.ip))
        if "fq-hostname" in tags:
            info.preset("fq-hostname", await asyncio.to_thread(fq_hostname))
        if ban is not None and self._history is not None and not tags.isdisjoint(HISTORY_TAGS):
            await asyncio.to_thread(info.load_history, tags)  # a store query: never on the event loop
        return render(text, info.value)
