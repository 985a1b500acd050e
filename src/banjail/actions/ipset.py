"""banjail's native iptables + ipset action: a `hash:ip` set per jail and family, filled in batches.

Kernel layout for jail `sshd` (defaults): sets `f2b-sshd` (inet) and `f2b6-sshd` (inet6), created with
timeout support; one rule per family in <chain>:
    iptables -I INPUT -p tcp -m multiport --dports ssh -m set --match-set f2b-sshd src -j REJECT ...

Guarantees:
- `ban(bans)` writes the whole batch with one `ipset restore` (one process, whatever the size); each address
  carries the time left of its ban, so the kernel lifts it on time even while the daemon is down. ipset's
  longest timeout is 2147483 s (24.8 days): a longer ban is stored without timeout, and the daemon lifts it.
  Banning an address again replaces its timeout (`-exist`).
- `start` is idempotent: sets that exist keep their members (bans survive a crash and restart) and the rule is
  inserted only when `iptables -C` does not find it. `stop` removes the rules and the sets; `unban` of an
  address not in a set is not an error.
- Everything runs by argv behind the Runner's prefix; only addresses that parse as IP addresses reach ipset,
  and config values are checked against narrow patterns.
"""

from __future__ import annotations

import logging
import re
import time
from collections.abc import Callable, Mapping, Sequence

from banjail.actions.kernelset import KernelSetAction
from banjail.actions.nftables import elements
from banjail.actions.program import run_program
from banjail.actions.runner import Outcome, Runner
from banjail.config.schema import ActionSpec
from banjail.errors import ActionError, ConfigError, Problem
from banjail.model import Ban

log = logging.getLogger("banjail.actions")

MAX_TIMEOUT = 2_147_483  # ipset's limit, in seconds
_WORD = re.compile(r"[A-Za-z0-9_.:,/-]+\Z")
_SET = re.compile(r"[A-Za-z0-9_.-]{1,31}\Z")  # ipset names: at most 31 characters
# The IPv6 counterparts of iptables' IPv4 reject types.
_REJECT6 = {
    "icmp-port-unreachable": "icmp6-port-unreachable",
    "icmp-host-unreachable": "icmp6-addr-unreachable",
    "icmp-net-unreachable": "icmp6-no-route",
    "icmp-admin-prohibited": "icmp6-adm-prohibited",
    "icmp-net-prohibited": "icmp6-adm-prohibited",
    "icmp-host-prohibited": "icmp6-adm-prohibited",
}
DEFAULTS: Mapping[str, str] = {
    "type": "multiport",
    "port": "ssh",
    "protocol": "tcp",
    "chain": "INPUT",
    "blocktype": "REJECT --reject-with icmp-port-unreachable",
    "timeout": "60",
}


def rules(options: Mapping[str, str], jail: str, *, ipv6: bool = True) -> dict[str, tuple[str, list[str]]]:
    """Family ("inet"/"inet6") -> (set name, iptables rule arguments after the chain). Raises ConfigError."""
    values = {**DEFAULTS, **{k: v.strip() for k, v in options.items() if v.strip()}}
    label = values.get("name") or jail
    problems: list[Problem] = []

    def check(option: str, value: str, pattern: re.Pattern[str], fix: str) -> str:
        if not pattern.match(value):
            problems.append(
                Problem("invalid value", section=f"{jail} action ipset", option=option, value=value, fix=fix)
            )
        return value

    chain = check("chain", values["chain"], _WORD, "an iptables chain name such as INPUT")
    protocol = check("protocol", values["protocol"], _WORD, "a protocol name such as tcp")
    match = ["-p", protocol]
    if values["type"] == "multiport":
        port = check("port", values["port"], _WORD, "ports, service names or ranges a:b separated by commas")
        match += ["-m", "multiport", "--dports", port]
    elif values["type"] != "allports":
        check("type", values["type"], re.compile(r"\Z."), "multiport or allports")
    block = values["blocktype"].split()
    for word in block:
        check("blocktype", word, _WORD, "an iptables target such as REJECT or DROP, with its options")
    set4 = check(
        "ipset4", values.get("ipset4") or f"f2b-{label}", _SET, "an ipset name, at most 31 characters"
    )
    set6 = check(
        "ipset6", values.get("ipset6") or f"f2b6-{label}", _SET, "an ipset name, at most 31 characters"
    )
    if problems:
        raise ConfigError(problems)
    block6 = [_REJECT6.get(word, word) for word in block]
    found = {"inet": (set4, [chain, *match, "-m", "set", "--match-set", set4, "src", "-j", *block])}
    if ipv6:
        found["inet6"] = (set6, [chain, *match, "-m", "set", "--match-set", set6, "src", "-j", *block6])
    return found


def restore_script(
    items: Sequence[tuple[str, str]], set4: str, set6: str | None, verb: str, now: float
) -> str:
    """`ipset restore` input for (address, nft-style element) pairs. verb: add | del."""
    lines: list[str] = []
    for address, text in items:
        name = set6 if ":" in address else set4
        if name is None:
            continue
        if verb == "del":
            lines.append(f"del {name} {address}")
            continue
        _, _, left = text.partition(" timeout ")
        seconds = int(left[:-1]) if left else 0
        lines.append(f"add {name} {address} timeout {seconds if seconds <= MAX_TIMEOUT else 0}")
    return "\n".join(lines) + "\n" if lines else ""


class IpsetAction(KernelSetAction):
    """The native iptables-ipset action of one jail (see the module doc for what it guarantees)."""

    DEFAULTS = DEFAULTS

    def __init__(
        self,
        spec: ActionSpec,
        *,
        jail: str,
        runner: Runner | None = None,
        clock: Callable[[], float] = time.time,
        ipv6: bool = True,
    ) -> None:
        super().__init__(spec, jail=jail, runner=runner, clock=clock, ipv6=ipv6)
        self._rules = rules(self._options, jail, ipv6=ipv6)

    async def start(self) -> None:
        async with self._lock:
            await self._start()

    async def stop(self) -> None:
        """Remove the jail's rules (every copy) and sets."""
        async with self._lock:
            self._started = False
            for family, (name, rule) in self._rules.items():
                program = _iptables(family)
                while (await self._run((*program, "-D", *rule))).ok:
                    pass
                await self._run(("ipset", "destroy", name))

    async def ban(self, bans: Sequence[Ban]) -> None:
        await self._members(bans, "add", "banning")

    async def reban(self, bans: Sequence[Ban]) -> None:
        await self._members(bans, "add", "rebanning")

    async def prolong(self, bans: Sequence[Ban]) -> None:
        await self._members(bans, "add", "prolonging")  # -exist add replaces the timeout

    async def unban(self, bans: Sequence[Ban]) -> None:
        await self._members(bans, "del", "unbanning")

    async def flush(self) -> None:
        async with self._lock:
            if self._started:
                for name, _ in self._rules.values():
                    await self._check(await self._run(("ipset", "flush", name)), "flushing")

    def properties(self) -> Mapping[str, str]:
        return {**DEFAULTS, **self._options}

    def set_property(self, key: str, value: str) -> None:
        options = {**self._options, key: value}
        self._rules = rules(options, self.jail, ipv6=self._ipv6)
        self._options = options

    async def _members(self, bans: Sequence[Ban], verb: str, what: str) -> None:
        now = self._clock()
        items = elements(bans, now)
        async with self._lock:
            if not items:
                return
            if not self._started:
                await self._start()
            set6 = self._rules["inet6"][0] if "inet6" in self._rules else None
            script = restore_script(items, self._rules["inet"][0], set6, verb, now)
            if script:
                outcome = await run_program(
                    self.runner, ("ipset", "-exist", "restore"), script.encode(), self.timeout
                )
                await self._check(outcome, f"{what} {len(items)} address(es)")

    async def _start(self) -> None:
        for family, (name, rule) in self._rules.items():
            create = f"create {name} hash:ip timeout 0 family {family}\n"
            await self._check(
                await run_program(self.runner, ("ipset", "-exist", "restore"), create.encode(), self.timeout),
                "creating the set",
            )
            program = _iptables(family)
            if not (await self._run((*program, "-C", *rule))).ok:
                await self._check(await self._run((*program, "-I", *rule)), "inserting the rule")
        self._started = True

    async def _run(self, argv: Sequence[str]) -> Outcome:
        return await run_program(self.runner, argv, timeout=self.timeout)

    async def _check(self, outcome: Outcome, what: str) -> None:
        if not outcome.ok:
            raise ActionError(
                f"[{self.jail}] action {self.name}: error {what}: {outcome.describe()}; command: {outcome.script}"
            )


def _iptables(family: str) -> tuple[str, ...]:
    # -w: wait for the xtables lock rather than fail while another program holds it.
    return ("ip6tables", "-w") if family == "inet6" else ("iptables", "-w")
