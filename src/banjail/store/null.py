"""NullStore: the Store for `dbfile = None`. Remembers nothing; every read finds nothing."""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from banjail.core.banpolicy import BanHistory
from banjail.model import Ban, Position
from banjail.store.actionruns import ActionRun
from banjail.store.checkpoint import Checkpoint, CountedFailure
from banjail.store.evidence import Record
from banjail.store.merged import MergedBans


class NullStore:
    """A Store that keeps nothing: bans do not survive a restart and bantime.increment never sees a history."""

    path = ""

    def add_jail(self, jail: str) -> None:
        pass

    def disable_jail(self, jail: str) -> None:
        pass

    def add_ban(self, ban: Ban) -> None:
        pass

    def add_bans(self, bans: Iterable[Ban]) -> None:
        pass

    def del_ban(self, jail: str, fid: str | None = None) -> None:
        pass

    def active_bans(self, now: float, jail: str | None = None) -> list[Ban]:
        return []

    def ban_history(self, fid: str, jail: str | None) -> BanHistory | None:
        return None

    def ban_count(self, fid: str, jail: str | None) -> int:
        return 0

    def merged_bans(self, fid: str, jail: str | None) -> MergedBans | None:
        return None

    def set_position(self, jail: str, path: str, position: Position) -> None:
        pass

    def get_position(self, jail: str, path: str) -> Position | None:
        return None

    def commit(self, checkpoints: Iterable[Checkpoint]) -> None:
        pass

    def record_action_run(self, run: ActionRun) -> None:
        pass

    def record_action_runs(self, runs: Iterable[ActionRun]) -> None:
        pass

    def action_runs(self, fid: str) -> list[ActionRun]:
        return []

    def applied_actions(self, jail: str) -> set[tuple[str, int, str]]:
        return set()

    def begin_run(self) -> bool:
        return False

    def end_run(self) -> None:
        pass

    def runs_since(self) -> float:
        return 0.0
    def network_fids(self) -> list[str]:
        return []

    def ban_evidence(self, fids: Sequence[str]) -> Record:
        return Record((), ())

    def counted_failures(self, jail: str, since: float) -> list[CountedFailure]:
        return []

    def purge(self, now: float, age: float) -> None:
        pass

    def close(self) -> None:
        pass
