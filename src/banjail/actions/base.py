"""The contract between the daemon and every action (command actions from action.d, native nftables, mail...).

Duties of an action:
- `start` is called once before the first ban of the jail (or at jail start when the action is not on-demand);
  `stop` once at jail stop, in reverse order of the jail's actions; both are idempotent.
- `persistent` (an optional attribute or property; read it with `persistent(action)`) is True when the action's bans stay enforced without the daemon: the kernel holds them with their
  own timeouts (nftables or ipset sets with per-element timeouts), so a ban ends on time even if the daemon never
  comes back. The daemon's shutdown then skips `stop` (the attacker stays out across a restart); an explicit
  `fail2ban-client stop <jail>` still stops it. At the next start `start` and the restore's `ban` must therefore
  be idempotent: existing tables, sets, rules and elements are reused, never duplicated. Actions without the
  property are not persistent.
- `ban` and `unban` receive batches: everything the daemon has for this action at that moment (a flood, a restore
  at start-up). An action that can apply a batch in one step (nft -f -) must; others loop. They return only once
  the change is in place (or has definitely failed), and raise ActionError with a message naming the action, the
  command and its output on failure. Bans passed with `restored=True` come from the store at start-up.
- An action never blocks the event loop: commands run as subprocesses awaited by asyncio, with a timeout that kills
  the whole process group. Values that come from logs (matches, user names, any F-* group) never reach a shell
  unquoted.
- Each action of a jail has its own queue (banjail.daemon.lanes): one action's jobs run one at a time in ban
  order, and a slow action (mail, whois) never delays another action's ban or another jail. Stop and shutdown
  wait until every action of the jail is idle.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Protocol

from banjail.model import Ban


class Action(Protocol):
    """One configured action of one jail."""

    @property
    def name(self) -> str: ...

    async def start(self) -> None: ...

    async def stop(self) -> None: ...

    async def ban(self, bans: Sequence[Ban]) -> None: ...

    async def unban(self, bans: Sequence[Ban]) -> None: ...

    async def flush(self) -> None:
        """Remove every ban of this jail from the target (actionflush), used by `unban --all` and reload."""
        ...

    def properties(self) -> Mapping[str, str]:
        """Options `fail2ban-client get <jail> action <act> <prop>` can read (and set_property can change)."""
        ...

    def set_property(self, key: str, value: str) -> None: ...


def persistent(action: object) -> bool:
    """Whether the action's bans stay enforced without the daemon (an action without the attribute: no)."""
    return getattr(action, "persistent", False) is True
