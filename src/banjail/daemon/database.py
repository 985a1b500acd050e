"""The daemon's database: opening it (`dbfile`), and switching it at run time (`set dbfile <FILE>`), as upstream.

Upstream's rules for a switch: the same file is no change; `None` when there is no database is no change;
otherwise the switch is refused while any jail exists ("Cannot change database when there are jails present"),
so no ban is in memory when it happens and none is carried over: jails started afterwards (`start`, `reload`)
restore theirs from the new database. The new database starts with upstream's defaults, dbpurgeage 1d and
dbmaxmatches 10 (set them again after the switch, as upstream's client does).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from banjail.daemon import runtime
from banjail.daemon.commit import GroupCommit
from banjail.daemon.completions import Completions, directory_for
from banjail.daemon.logging import logger
from banjail.errors import ControlError
from banjail.store import Store, StoreError
from banjail.store.null import NullStore

if TYPE_CHECKING:
    from banjail.daemon.app import Daemon

DEFAULT_PURGEAGE = 86400
DEFAULT_MAXMATCHES = 10

log_database = logger("database")


def disabled(dbfile: str) -> bool:
    """Whether `dbfile` means "no database" (upstream's `None`, any case; or empty)."""
    return dbfile.strip().lower() in ("", "none")


def open_store(dbfile: str, max_matches: int, max_failures: int | None = None) -> tuple[Store, str | None]:
    """The store for `dbfile` and its name (`None`: no persistence, as upstream). Raises StoreError naming the
    file when it cannot be used."""
    if disabled(dbfile):
        return NullStore(), None
    from banjail.store.sqlite import SqliteStore

    if dbfile != ":memory:":
        runtime.ensure_parent(dbfile)
    store = SqliteStore(dbfile, max_matches=max_matches)
    if max_failures is not None:
        store.max_failures = max(1, max_failures)
    return store, dbfile


async def switch(daemon: Daemon, dbfile: str) -> str | None:
    """`set dbfile <FILE>`: returns the database file in use afterwards (None: no database)."""
    if daemon.dbfile == dbfile or (daemon.dbfile is None and disabled(dbfile)):
        return daemon.dbfile
    if daemon.jails:
        raise ControlError("Cannot change database when there are jails present")
    try:
        store, name = await daemon.db(open_store, dbfile, DEFAULT_MAXMATCHES)
    except (StoreError, OSError) as exc:
        raise ControlError(str(exc)) from None
    old = daemon.store
    await daemon.runs.close()
    daemon.marks.close()
    await daemon.committer.close()
    await daemon.db(old.end_run)
    await daemon.db(old.close)
    daemon.store = store
    daemon.committer = GroupCommit(store.commit, daemon.db)
    daemon.dbfile = name
    daemon.unclean = await daemon.db(store.begin_run)
    daemon.marks = Completions(directory_for(name), daemon.runs.add)
    await daemon.settle_marks()
    daemon.dbpurgeage = DEFAULT_PURGEAGE
    daemon.dbmaxmatches = DEFAULT_MAXMATCHES
    if name is not None:
        log_database.info("Connected to fail2ban persistent database '%s'", name)
    return name
