"""banjail's native iptables + ipset action: sets per jail and family, filled in batches.

Kernel layout for jail `sshd` (defaults): `hash:ip` sets `f2b-sshd` (inet) and `f2b6-sshd` (inet6) for single
addresses, `hash:net` sets `f2bn-sshd` and `f2bn6-sshd` for network (CIDR) bans, all with timeout support; one
rule per set in <chain>:
    iptables -I INPUT -p tcp -m multiport --dports ssh -m set --match-set f2b-sshd src -j REJECT ...

Guarantees:
- `ban(bans)` writes the whole batch with one `ipset restore` (one process, whatever the size); each member
  carries the time left of its ban, so the kernel lifts it on time even while the daemon is down. ipset's
  longest timeout is 2147483 s (24.8 days): a longer ban is stored without timeout, and the daemon lifts it.
  Banning an address again replaces its timeout (`-exist`). hash:net sets hold overlapping networks, so every
  network ban is one member.
- `start` is idempotent: sets that exist keep their members (bans survive a crash and restart) and a rule is
  inserted only when `iptables -C` does not find it. `stop` removes the rules and the sets; `unban` of an
  address not in a set is not an error.
- Repair: with every ban batch the rules are checked (`iptables -C`, beside the `ipset restore`, so the members
  land no later) and the missing ones inserted, so rules flushed behind banjail's back are back when the next
  ban lands; this makes `ban()` return after ~20 ms instead of ~5 ms. A restore that fails (a set destroyed)
  makes the action create the sets and rules and try once more.
- Everything runs by argv behind the Runner's prefix; only addresses and networks that parse as such reach
  ipset, and config values are checked against narrow patterns.
"""

from __future__ import annotations

import asyncio
import logging
import re
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass

from banjail.actions.kernelset import KernelSetAction
from banjail.actions.netcover import element_text, networks
from banjail.actions.nftscript import elements
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


@dataclass(frozen=True, slots=True)
class SetRule:
    """One ipset of a jail and the iptables rule that matches it: `hash:ip` for addresses, `hash:net` for
    network (CIDR) bans; args are the rule's arguments from the chain on (for -I, -C and -D)."""

    name: str
    kind: str
    args: tuple[str, ...]


def rules(options: Mapping[str, str], jail: str, *, ipv6: bool = True) -> dict[str, tuple[SetRule, SetRule]]:
    """Family ("inet"/"inet6") -> (address set, network set) with their rules. Raises ConfigError."""
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
    net4 = check(
        "ipsetnet4", values.get("ipsetnet4") or f"f2bn-{label}", _SET, "an ipset name, at most 31 characters"
    )
    net6 = check(
        "ipsetnet6", values.get("ipsetnet6") or f"f2bn6-{label}", _SET, "an ipset name, at most 31 characters"
    )
    if problems:
        raise ConfigError(problems)
    block6 = [_REJECT6.get(word, word) for word in block]

    def pair(addresses: str, nets: str, verdict: list[str]) -> tuple[SetRule, SetRule]:
        return (
            SetRule(
                addresses,
                "hash:ip",
                (chain, *match, "-m", "set", "--match-set", addresses, "src", "-j", *verdict),
            ),
            SetRule(
                nets, "hash:net", (chain, *match, "-m", "set", "--match-set", nets, "src", "-j", *verdict)
            ),
        )

    found = {"inet": pair(set4, net4, block)}
    if ipv6:
        found["inet6"] = pair(set6, net6, block6)
    return found


def restore_script(
    items: Sequence[tuple[str, str]],
    set4: str,
    set6: str | None,
    verb: str,
    now: float,
    *,
    nets: bool = False,
) -> str:
    """`ipset restore` input for the (address, nft-style element) pairs (with nets: the (network, element)
    pairs) among `items`. verb: add | del."""
    lines: list[str] = []
    for address, text in items:
        if ("/" in address) != nets:
            continue
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


def network_items(bans: Sequence[Ban], now: float) -> list[tuple[str, str]]:
    """(network, nft-style element) pairs, as `elements` gives for addresses, for the bans that name a
    network and are not over. hash:net sets hold overlapping networks, so each ban is one member; as they
    refuse a prefix of length 0, `0.0.0.0/0` and `::/0` become their two halves."""
    found = []
    for _, network, until in networks(bans):
        if until is None or until > now:
            for part in network.subnets(new_prefix=1) if network.prefixlen == 0 else (network,):
                found.append((str(part), element_text(part, until, now)))
    return found


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
            for family, pair in self._rules.items():
                program = _iptables(family)
                for item in pair:
                    while (await self._run((*program, "-D", *item.args))).ok:
                        pass
                    await self._run(("ipset", "destroy", item.name))

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
                for pair in self._rules.values():
                    for item in pair:
                        await self._check(await self._run(("ipset", "flush", item.name)), "flushing")

    def properties(self) -> Mapping[str, str]:
        return {**DEFAULTS, **self._options}

    def set_property(self, key: str, value: str) -> None:
        options = {**self._options, key: value}
        self._rules = rules(options, self.jail, ipv6=self._ipv6)
        self._options = options

    async def _members(self, bans: Sequence[Ban], verb: str, what: str) -> None:
        now = self._clock()
        items = elements(bans, now)
        if len(items) < len(bans):
            items += network_items(bans, now)
        async with self._lock:
            if not items:
                return
            if not self._started:
                await self._start()
            v4, v6 = self._rules["inet"], self._rules.get("inet6")
            script = restore_script(items, v4[0].name, v6[0].name if v6 else None, verb, now, nets=False)
            script += restore_script(items, v4[1].name, v6[1].name if v6 else None, verb, now, nets=True)
            if not script:
                return
            label = f"{what} {len(items)} address(es)"
            # The rules may be gone while the sets stay (`iptables -F`, `nft flush ruleset` with iptables-nft):
            # the members would land and nothing would be enforced. Their checks run beside the restore, so
            # the members land as soon as without them.
            checks = self._check_rules() if verb == "add" else _nothing()
            outcome, missing = await asyncio.gather(self._restore(script), checks)
            if not outcome.ok:
                # A set destroyed behind banjail's back: create what is missing and try once more, as upstream
                # repairs an action whose check fails.
                log.warning(
                    "[%s] action %s: %s; recreating the sets and rules",
                    self.jail,
                    self.name,
                    outcome.describe(),
                )
                await self._start()
                outcome = await self._restore(script)
            else:
                await self._insert(missing)
            await self._check(outcome, label)

    async def _restore(self, script: str) -> Outcome:
        return await run_program(self.runner, ("ipset", "-exist", "restore"), script.encode(), self.timeout)

    async def _start(self) -> None:
        create = "".join(
            f"create {item.name} {item.kind} timeout 0 family {family}\n"
            for family, pair in self._rules.items()
            for item in pair
        )
        await self._check(await self._restore(create), "creating the sets")
        await self._ensure_rules()
        self._started = True

    async def _ensure_rules(self) -> None:
        await self._insert(await self._check_rules())

    async def _check_rules(self) -> list[tuple[tuple[str, ...], SetRule]]:
        """The rules `iptables -C` does not find (the checks run side by side), with their program."""
        wanted = [(_iptables(family), item) for family, pair in self._rules.items() for item in pair]
        found = await asyncio.gather(*(self._run((*program, "-C", *item.args)) for program, item in wanted))
        return [rule for rule, check in zip(wanted, found, strict=True) if not check.ok]

    async def _insert(self, missing: Sequence[tuple[tuple[str, ...], SetRule]]) -> None:
        for program, item in missing:
            await self._check(await self._run((*program, "-I", *item.args)), "inserting the rule")

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


async def _nothing() -> list[tuple[tuple[str, ...], SetRule]]:
    return []
