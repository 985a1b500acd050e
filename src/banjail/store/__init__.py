"""Persistence of bans and log positions: the Store contract and its implementations.

* banjail.store.sqlite.SqliteStore: SQLite with the meaning of upstream fail2ban's schema v4, so upstream's database
  can be opened by banjail and banjail's by upstream (`dbfile = /var/lib/fail2ban/fail2ban.sqlite3`, `:memory:`).
* banjail.store.null.NullStore: `dbfile = None`; remembers nothing.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Protocol

from banjail.core.banpolicy import BanHistory
from banjail.errors import BanjailError
from banjail.model import Ban, Position
from banjail.store.actionruns import ActionRun
from banjail.store.checkpoint import Checkpoint, CountedFailure
from banjail.store.evidence import Record
from banjail.store.merged import MergedBans


class StoreError(BanjailError):
    """The database cannot be opened or used; the message names the file and what to do."""


class Store(Protocol):
    """What the daemon needs from persistence. Every write is durable when the call returns (a ban is committed
    before it is reported or applied). Calls are blocking: the daemon makes them from one executor thread."""

    def add_jail(self, jail: str) -> None:
        """Record that `jail` is enabled (done before its first ban or position)."""

    def disable_jail(self, jail: str) -> None:
        """Record that `jail` was stopped; its bans stay (upstream's delJail)."""

    def add_ban(self, ban: Ban) -> None:
        """Record a ban: one row of history, and the fid's current ban in its jail (replacing the previous)."""

    def add_bans(self, bans: Iterable[Ban]) -> None:
        """Record many bans in one transaction."""

    def del_ban(self, jail: str, fid: str | None = None) -> None:
        """Forget fid's bans in jail (a manual unban), or every ban of jail when fid is None."""

    def active_bans(self, now: float, jail: str | None = None) -> list[Ban]:
        """The bans still in force at `now` (permanent ones included), of one jail or all, with restored=True;
        at most one per (jail, fid): its newest."""

    def ban_history(self, fid: str, jail: str | None) -> BanHistory | None:
        """fid's previous bans in `jail`, or summed over every jail when jail is None (overalljails)."""

    def ban_count(self, fid: str, jail: str | None) -> int:
        """How many times fid was banned in `jail` (or in all jails when None); 0 if never."""

    def merged_bans(self, fid: str, jail: str | None) -> MergedBans | None:
        """fid's bans in `jail` (all jails when None) merged as upstream's getBansMerged (see store.merged);
        None when there is none. Reads only: safe from any thread."""

    def set_position(self, jail: str, path: str, position: Position) -> None:
        """Remember how far `jail` has read the log `path` (a file path, or "journal:..." for a journal)."""

    def get_position(self, jail: str, path: str) -> Position | None:
        """The remembered position, or None when `jail` never saved one for `path`."""

    def commit(self, checkpoints: Iterable[Checkpoint]) -> None:
        """Apply the checkpoints of one or more processed batches (of any jails, in order) in ONE transaction:
        all of them are durable when the call returns, or none is."""

    def counted_failures(self, jail: str, since: float) -> list[CountedFailure]:
        """The failures `jail` counted and did not yet turn into a ban, in counting order, for every fid whose
        newest failure is after `since` (now - findtime); the others are dropped from the store."""

    def record_action_run(self, run: ActionRun) -> None:
        """Record what one action did with one ban (banjail.store.actionruns)."""

    def record_action_runs(self, runs: Iterable[ActionRun]) -> None:
        """Record many runs in one transaction."""

    def action_runs(self, fid: str) -> list[ActionRun]:
        """Every recorded run on fid's bans, oldest first."""

    def applied_actions(self, jail: str) -> set[tuple[str, int, str]]:
        """(fid, timeofban, action) of every ban of `jail` an action applied and did not remove."""

    def begin_run(self) -> bool:
        """Mark a server running; True when the previous one never reached its graceful stop (killed)."""

    def end_run(self) -> None:
        """Mark the graceful stop done."""

    def runs_since(self) -> float:
        """When the database began recording action runs (bans older than that have none)."""
    def network_fids(self) -> list[str]:
        """Every banned or counting fid that names a network (banjail.store.evidence)."""

    def ban_evidence(self, fids: Sequence[str]) -> Record:
        """The bans of `fids` in the history with the failures that made them, and their pending failures."""

    def purge(self, now: float, age: float) -> None:
        """Drop ban history older than `age` seconds (dbpurgeage), stale current bans and stopped jails."""

    def close(self) -> None:
        """Release the database; further calls are errors."""


__all__ = ["ActionRun", "BanHistory", "Checkpoint", "CountedFailure", "MergedBans", "Store", "StoreError"]
