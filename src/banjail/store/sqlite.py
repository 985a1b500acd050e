"""SqliteStore: bans and log positions in SQLite, with the meaning of upstream fail2ban's schema version 4.

Tables: banjail.store.schema (upstream's layout, so either program can open the other's file, and banjail's
own tables).

Exactly-once reading: `commit` writes a batch's positions, counted failures and bans in one transaction (see
banjail.store.checkpoint).

Durability: WAL journal, synchronous FULL (NORMAL with fsync=False), one transaction per call, committed before
the call returns.
"""

from __future__ import annotations

import socket
import sqlite3
import threading
import time
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager
from typing import Any, TypeVar

from banjail.core.banpolicy import BanHistory
from banjail.model import Ban, Position
from banjail.store import (
    StoreError,
    actionruns,
    bandata,
    counted,
    evidence,
    fleetstate,
    lifecycle,
    merged,
    schema,
)
from banjail.store.actionruns import ActionRun
from banjail.store.checkpoint import Checkpoint, CountedFailure
from banjail.store.evidence import Record
from banjail.store.merged import MergedBans

T = TypeVar("T")
JOURNAL_PREFIX = "journal:"

_BIPS_UPSERT = (
    "INSERT INTO bips(jail, ip, timeofban, bantime, bancount, data) VALUES(?, ?, ?, ?, ?, ?) "
    "ON CONFLICT(ip, jail) DO UPDATE SET timeofban = excluded.timeofban, bantime = excluded.bantime, "
    "bancount = excluded.bancount, data = excluded.data"
)

# Upstream keeps bips of bans that ended this many purge ages ago (its outDatedFactor).
_OUTDATED_FACTOR = 3


class SqliteStore:
    """The Store on an SQLite file (or ":memory:"). Opening creates the schema when the file is new, upgrades an
    upstream v3 database, and refuses anything else with a StoreError that says what to do."""

    def __init__(
        self, path: str, *, max_matches: int = 10, unknown_bantime: float = 600, fsync: bool = True
    ) -> None:
        """max_matches bounds the log lines kept per ban (dbmaxmatches; 0 keeps none); unknown_bantime is the
        length given to bans a pre-v3 database recorded without one (upstream's marker -2). With fsync (the
        default) a commit also survives power loss; without, it survives any crash of the process only."""
        self.path = path
        self.max_matches = max_matches
        self.unknown_bantime = unknown_bantime
        self._texts = bandata.Texts(128)  # the data texts of the last bans stored, for their prolongations
        self._pruner = counted.Pruner()  # counted failures kept per jail (dbmaxfailures, banjail.store.counted)
        # The daemon writes from its store executor and may read ban histories from the event loop: one
        # connection, one call at a time.
        self._lock = threading.Lock()
        try:
            self._db = sqlite3.connect(path, check_same_thread=False, isolation_level=None)
            self._db.execute("PRAGMA foreign_keys = ON")
            # a 512 KiB page cache instead of SQLite's 2 MB default: the daemon mostly appends, but each batch's
            # bans read back their fids' counted failures (evidence) and index pages; at 256 KiB those were read
            # again from the OS at every commit (replayed bench checkpoints: 0.31 s -> 0.27 s of commits)
            self._db.execute("PRAGMA cache_size = -512")
            if path != ":memory:":
                self._db.execute("PRAGMA journal_mode = WAL")
            self._db.execute("PRAGMA synchronous = FULL" if fsync else "PRAGMA synchronous = NORMAL")
            self._open_schema()
        except sqlite3.DatabaseError as exc:
            raise StoreError(
                f"cannot use the database {path!r}: {exc} (move the file away to start with an empty database, "
                "or set dbfile = None)"
            ) from None

    def _open_schema(self) -> None:
        found = schema.found(self._db, self.path)
        with self._transaction() as db:
            schema.create(db, found, time.time())

    @contextmanager
    def _transaction(self) -> Iterator[sqlite3.Connection]:
        db = self._db
        with self._lock:
            db.execute("BEGIN IMMEDIATE")
            try:
                yield db
            except BaseException:
                db.execute("ROLLBACK")
                raise
            db.execute("COMMIT")

    def _rows(self, query: str, args: Iterable[object]) -> list[Any]:
        with self._lock:
            return self._db.execute(query, tuple(args)).fetchall()

    # -- jails --------------------------------------------------------------------------------------------------

    def add_jail(self, jail: str) -> None:
        with self._transaction() as db:
            self._enable(db, jail)

    @staticmethod
    def _enable(db: sqlite3.Connection, jail: str) -> None:
        db.execute(
            "INSERT INTO jails(name, enabled) VALUES(?, 1) ON CONFLICT(name) DO UPDATE SET enabled = 1",
            (jail,),
        )

    def disable_jail(self, jail: str) -> None:
        with self._transaction() as db:
            db.execute("UPDATE jails SET enabled = 0 WHERE name = ?", (jail,))

    # -- bans ---------------------------------------------------------------------------------------------------

    def add_ban(self, ban: Ban) -> None:
        self.add_bans((ban,))

    def add_bans(self, bans: Iterable[Ban]) -> None:
        rows = self._ban_rows(bans)
        if not rows:
            return
        with self._transaction() as db:
            self._insert_bans(db, rows)

    def _ban_rows(self, bans: Iterable[Ban]) -> list[tuple[Any, ...]]:
        encode = self._texts.encode
        max_matches = self.max_matches
        return [(ban.jail, ban.fid, round(ban.at), _bantime(ban), ban.count, encode(ban, max_matches)) for ban in bans]

    @staticmethod
    def _insert_bans(db: sqlite3.Connection, rows: list[tuple[Any, ...]]) -> None:
        db.executemany(
            "INSERT OR IGNORE INTO jails(name, enabled) VALUES(?, 1)",
            [(j,) for j in {r[0] for r in rows}],
        )
        db.executemany(
            "INSERT INTO bans(jail, ip, timeofban, bantime, bancount, data) VALUES(?, ?, ?, ?, ?, ?)",
            rows,
        )
        # The fid's current ban: its row is updated in place, not replaced (upstream's INSERT OR REPLACE deletes
        # it and inserts it anew, so every prolonged ban of a flood cost its table page and its three index
        # entries twice: a quarter of a flood commit's pages). Both leave the same (ip, jail) row; only its rowid
        # differs, and no reader of bips depends on one (upstream's and ours look rows up by ip and jail, or sort
        # them by value; tests/unit/store/test_bips_upsert.py compares every reader with upstream's statement).
        db.executemany(_BIPS_UPSERT, rows)

    def del_ban(self, jail: str, fid: str | None = None) -> None:
        with self._transaction() as db:
            if fid is None:
                db.execute("DELETE FROM bips WHERE jail = ?", (jail,))
                db.execute("DELETE FROM bans WHERE jail = ?", (jail,))
            else:
                db.execute("DELETE FROM bips WHERE jail = ? AND ip = ?", (jail, fid))
                db.execute("DELETE FROM bans WHERE jail = ? AND ip = ?", (jail, fid))

    def active_bans(self, now: float, jail: str | None = None) -> list[Ban]:
        query = "SELECT jail, ip, timeofban, bantime, bancount, data FROM bips WHERE (timeofban + bantime > ? OR bantime <= -1)"
        args: list[object] = [now]
        if jail is not None:
            query += " AND jail = ?"
            args.append(jail)
        query += " ORDER BY jail, timeofban, ip"
        rows = self._rows(query, args)
        # A restore reads 100k rows: each distinct data text is parsed once (manual and match-less bans share
        # theirs), and a row costs only its times and its Ban.
        details = bandata.decode_all([row[5] for row in rows], self.max_matches)
        unknown = self.unknown_bantime
        bans = []
        for jail_name, fid, timeofban, bantime, bancount, raw in rows:
            if not fid:
                continue
            if bantime == -2:  # written before schema v3, which had no bantime column
                bantime = unknown
            at = float(timeofban)
            until = None if bantime == -1 else at + float(bantime)
            if until is not None and until <= now:
                continue
            lines, failures, ip, groups = details[raw]
            if ip is None and _is_address(fid):
                ip = fid
            # Positional: a quarter cheaper than keywords, 100k times (Ban's field order).
            bans.append(Ban(jail_name, fid, ip, at, until, int(bancount), failures, lines, groups, True))
        return bans

    def ban_history(self, fid: str, jail: str | None) -> BanHistory | None:
        if jail is not None:
            rows = self._rows(
                "SELECT bancount, timeofban, bantime FROM bips WHERE ip = ? AND jail = ?", (fid, jail)
            )
        else:
            rows = self._rows(
                "SELECT sum(bancount), max(timeofban), sum(bantime) FROM bips WHERE ip = ? GROUP BY ip",
                (fid,),
            )
        if not rows:
            return None
        row = rows[0]
        return BanHistory(count=int(row[0]), last_at=float(row[1]), last_bantime=float(row[2]))

    def ban_count(self, fid: str, jail: str | None) -> int:
        history = self.ban_history(fid, jail)
        return 0 if history is None else history.count

    def merged_bans(self, fid: str, jail: str | None) -> MergedBans | None:
        with self._lock:
            return merged.read(self._db, fid, jail, self.max_matches)

    # -- log positions ------------------------------------------------------------------------------------------

    def set_position(self, jail: str, path: str, position: Position) -> None:
        with self._transaction() as db:
            db.execute("INSERT OR IGNORE INTO jails(name, enabled) VALUES(?, 1)", (jail,))
            db.execute(
                "INSERT OR REPLACE INTO logs(jail, path, firstlinemd5, lastfilepos) VALUES(?, ?, ?, ?)",
                _position_row(jail, path, position),
            )

    # -- batches: positions, counted failures and bans together -------------------------------------------------

    def commit(self, checkpoints: Iterable[Checkpoint]) -> None:
        items = [c for c in checkpoints if c]
        if not items:
            return
        ban_rows = self._ban_rows(b for c in items for b in c.bans)
        with self._transaction() as db:
            db.executemany(
                "INSERT OR IGNORE INTO jails(name, enabled) VALUES(?, 1)",
                [(j,) for j in {c.jail for c in items} if j],  # a fleet cursor alone has no jail
            )
            runs = [r for c in items for r in c.runs]
            if runs:
                actionruns.record_many(db, runs)
            for item in items:
                evidence.write(db, item)  # before counted.write forgets the banned fids' failures
                counted.write(db, item)
                self._pruner.written(db, item)
                fleetstate.write(db, item)
                if item.positions:
                    db.executemany(
                        "INSERT OR REPLACE INTO logs(jail, path, firstlinemd5, lastfilepos) VALUES(?, ?, ?, ?)",
                        [_position_row(item.jail, path, p) for path, p in item.positions],
                    )
            if ban_rows:
                self._insert_bans(db, ban_rows)
            moved = [(_bantime(b), b.jail, b.fid, round(b.at)) for c in items for b in c.moved]
            if moved:  # after the inserts: a ban stored and moved in one transaction ends with its new end
                # `+timeofban`: looked up by (jail, ip), not by the (jail, timeofban) index, which a flood fills
                # with thousands of rows per second (100k moved bans: 0.5 s instead of 9 s)
                for table in ("bips", "bans"):
                    db.executemany(
                        f"UPDATE {table} SET bantime = ? WHERE jail = ? AND ip = ? AND +timeofban = ?", moved
                    )

    # -- what each action did with each ban (banjail.store.actionruns) ----------------------------------------

    def record_action_run(self, run: ActionRun) -> None:
        self.record_action_runs((run,))

    def record_action_runs(self, runs: Iterable[ActionRun]) -> None:
        """Record many runs in one transaction (the daemon batches a job's runs)."""
        found = list(runs)
        if found:
            with self._transaction() as db:
                actionruns.record_many(db, found)

    def action_runs(self, fid: str) -> list[ActionRun]:
        with self._lock:
            return actionruns.runs_for(self._db, fid)

    def applied_actions(self, jail: str) -> set[tuple[str, int, str]]:
        """(fid, timeofban, action) of every ban of `jail` an action applied (see actionruns.applied_in)."""
        with self._lock:
            return actionruns.applied_in(self._db, jail)

    # -- `why` (banjail.store.evidence) --------------------------------------------------------------------------

    def network_fids(self) -> list[str]:
        """Every banned or counting fid that names a network."""
        with self._lock:
            return evidence.network_fids(self._db)

    def ban_evidence(self, fids: Sequence[str]) -> Record:
        """The bans of `fids` in the history with the failures that made them, and their pending failures."""
        with self._lock:
            return evidence.read(self._db, fids, self.max_matches)

    def run(self, work: Callable[[sqlite3.Connection], T]) -> T:
        """Run `work` in one transaction of its own (the fleet's outbox and cursor, banjail.store.fleetstate)."""
        with self._transaction() as db:
            return work(db)

    def begin_run(self) -> bool:
        """Mark a server running (banjail.store.lifecycle); True when the previous one was killed."""
        with self._transaction() as db:
            return lifecycle.begin(db)

    def end_run(self) -> None:
        with self._transaction() as db:
            lifecycle.end(db)

    def runs_since(self) -> float:
        """When this database began recording action runs."""
        with self._lock:
            return lifecycle.runs_since(self._db)

    def counted_failures(self, jail: str, since: float) -> list[CountedFailure]:
        with self._transaction() as db:
            return counted.read(db, jail, since)

    def get_position(self, jail: str, path: str) -> Position | None:
        rows = self._rows(
            "SELECT firstlinemd5, lastfilepos FROM logs WHERE jail = ? AND path = ?", (jail, path)
        )
        if not rows:
            return None
        row = rows[0]
        mark = row[0] or ""
        offset = int(row[1] or 0)
        if path.startswith(JOURNAL_PREFIX):
            return Position(offset=offset, cursor=mark)
        return Position(offset=offset, first_line_hash=mark)

    # -- upkeep -------------------------------------------------------------------------------------------------

    def purge(self, now: float, age: float) -> None:
        limit = int(now) - age
        with self._transaction() as db:
            db.execute("DELETE FROM bans WHERE timeofban < ?", (now - age,))
            db.execute(
                "DELETE FROM bips WHERE timeofban < ? AND bantime != -1 AND timeofban + bantime * ? < ?",
                (limit, _OUTDATED_FACTOR, limit),
            )
            # Counted failures live at most findtime; dbpurgeage bounds what a jail that never restarts leaves.
            db.execute("DELETE FROM banjail_failures WHERE time < ?", (now - age,))
            actionruns.purge(db, now - age)
            evidence.purge(db, now - age)
            db.execute(
                "DELETE FROM banjail_failures WHERE jail NOT IN (SELECT name FROM jails WHERE enabled = 1)"
            )
            db.execute(
                "DELETE FROM jails WHERE enabled = 0 "
                "AND NOT EXISTS(SELECT 1 FROM bans WHERE jail = jails.name) "
                "AND NOT EXISTS(SELECT 1 FROM bips WHERE jail = jails.name)"
            )

    @property
    def max_failures(self) -> int:
        """Counted failures kept per jail (dbmaxfailures)."""
        return self._pruner.cap

    @max_failures.setter
    def max_failures(self, cap: int) -> None:
        self._pruner.cap = cap

    def close(self) -> None:
        with self._lock:
            self._db.close()


def _position_row(jail: str, path: str, position: Position) -> tuple[str, str, str, int]:
    mark = position.cursor if path.startswith(JOURNAL_PREFIX) else position.first_line_hash
    return (jail, path, mark, position.offset)


def _bantime(ban: Ban) -> float | int:
    if ban.until is None:
        return -1
    length = ban.until - ban.at
    return int(length) if length == int(length) else length


def _is_address(text: str) -> bool:
    # inet_pton is what the filter engine validates addresses with, and far cheaper than ipaddress.
    for family in (socket.AF_INET, socket.AF_INET6):
        try:
            socket.inet_pton(family, text)
        except OSError:
            continue
        return True
    return False
