"""The server side of every control command: `Controller.dispatch(argv)` carries out one command as upstream's
transmitter receives it and returns the Python value upstream's server returns for it, so the control layer can
format it (or pickle it for upstream's own client) unchanged.

Errors are raised as ControlError whose message is what upstream's client prints:
`Sorry but the jail 'x' does not exist`, `Sorry but the command is invalid`, `Invalid command`, ...
The per-jail `get`/`set` properties live in banjail.daemon.properties.
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from typing import Any

from banjail import FAIL2BAN_COMPAT_VERSION
from banjail.config.schema import JailConfig
from banjail.daemon import cymru, database, manual, properties, reading, why
from banjail.daemon.app import Daemon
from banjail.daemon.jail import Jail
from banjail.daemon.logging import level_value, logger
from banjail.errors import BanjailError, ControlError
from banjail.fleet.remote import origin_of
from banjail.timespec import str2seconds_typed

INVALID = "Invalid command"
SORRY = "Sorry but the command is invalid"
STOP_DELAY = 0.05  # lets the control layer send the reply to `stop` before the daemon goes away

log_server = logger("server")


def unknown_jail(name: str) -> ControlError:
    return ControlError(f"Sorry but the jail '{name}' does not exist")


class Controller:
    """Carries out control commands on a running Daemon."""

    def __init__(self, daemon: Daemon, *, stop_after_reply: bool = True) -> None:
        """stop_after_reply: `stop` schedules the daemon's stop itself (shortly after returning). False when the
        control server stops the daemon once the reply is sent (ControlServer's on_stop)."""
        self.daemon = daemon
        self.stop_after_reply = stop_after_reply

    def jail(self, name: str) -> Jail:
        jail = self.daemon.jails.get(name)
        if jail is None:
            raise unknown_jail(name)
        return jail

    async def dispatch(self, argv: list[Any]) -> object:
        """Carry out one command; return upstream's reply value; raise ControlError on any error."""
        if not argv:
            raise ControlError(SORRY)
        try:
            return await self._dispatch(argv)
        except ControlError:
            raise
        except IndexError:
            raise ControlError(SORRY) from None
        except (BanjailError, ValueError, KeyError, OSError) as exc:
            raise ControlError(
                str(exc) if not isinstance(exc, KeyError) else f"Invalid command {exc}"
            ) from None

    async def _dispatch(self, argv: list[Any]) -> object:
        name = argv[0]
        args = argv[1:]
        if name == "ping":
            return "pong"
        if name == "version":
            return FAIL2BAN_COMPAT_VERSION
        if name == "echo":
            return args
        if name == "server-status":
            return "Server ready"
        if name == "flushlogs":
            return self.daemon.logs.reopen()
        if name == "status":
            return self.status(args, await self._cymru(args))
        if name == "stats":
            return self.stats()
        if name == "banned":
            return self.banned(None, [str(a) for a in args])
        if name == "why" and args:
            return await why.explain(self.daemon, str(args[0]))
        if name == "unban" and args:
            return await self.unban_all_jails(None if args == ["--all"] else [str(a) for a in args])
        if name == "stop":
            await self.stop(args)
            return None
        if name == "start":
            await self.start(str(args[0]))
            return None
        if name == "add":
            return await self.add(str(args[0]), str(args[1]) if len(args) > 1 else "auto")
        if name == "reload":
            return await self.reload(args)
        if name == "get":
            return self.get(args)
        if name in ("set", "multi-set"):
            return await self.set(args)
        if name == "server-stream":
            for command in args[0]:
                await self.dispatch(list(command))
            return None
        if name == "sleep":
            await asyncio.sleep(float(args[0]))
            return None
        if name == "config-error":
            log_server.error("%s", args[0])
            return None
        raise ControlError(INVALID)

    # -- server commands ----------------------------------------------------------------------------------------

    async def _cymru(self, args: Sequence[Any]) -> dict[str, dict[str, list[str]]]:
        """For `status <jail> cymru` (and `status --all cymru`): each jail's Cymru lists of its banned ids,
        looked up on a thread (banjail.daemon.cymru); {} for any other status."""
        if len(args) != 2 or str(args[1]) != "cymru":
            return {}
        names = sorted(self.daemon.jails) if args[0] == "--all" else [self.jail(str(args[0])).name]
        found: dict[str, dict[str, list[str]]] = {}
        for name in names:
            fids = [b.fid for b in self.daemon.jails[name].state.book.banned()]
            found[name] = await asyncio.to_thread(cymru.lookup, fids)
        return found

    def status(self, args: Sequence[Any], looked_up: dict[str, dict[str, list[str]]] | None = None) -> object:
        """`status`, `status <jail> [flavor]`, `status --all [flavor]` (upstream 1.1's shape: the server
        status with a dict of every jail's status appended); looked_up: the Cymru lists of the `cymru` flavor
        (Controller._cymru), by jail."""
        looked = looked_up or {}
        jails = sorted(self.daemon.jails)
        summary: list[Any] = [("Number of jail", len(jails)), ("Jail list", ", ".join(jails))]
        if not args:
            return summary
        flavor = str(args[1]) if len(args) > 1 else "basic"
        if len(args) > 2:
            raise ControlError("Invalid command (no status)")
        if args[0] == "--all":
            summary.append(
                {name: self.jail_status(self.daemon.jails[name], flavor, looked.get(name)) for name in jails}
            )
            return summary
        jail = self.jail(str(args[0]))
        return self.jail_status(jail, flavor, looked.get(jail.name))

    def stats(self) -> dict[str, object]:
        """`stats` (upstream 1.1's shape): jail -> [backend, [currently failed, total failed], [currently banned,
        total banned]]; the backend is the one in use: `systemd` for the journal, else what the jail's first file
        source reads with (`pyinotify`/`polling`; `auto` before it started), as upstream names its filters."""
        rows: dict[str, object] = {}
        for name in sorted(self.daemon.jails):
            jail = self.daemon.jails[name]
            state = jail.state
            backend = properties.backend_in_use(jail)
            rows[name] = [backend, [len(state.counter), state.counter.total], [len(state.book), state.book.total]]
        return rows

    def jail_status(
        self, jail: Jail, flavor: str = "basic", looked_up: dict[str, list[str]] | None = None
    ) -> list[tuple[str, object]]:
        """Upstream's jail status tree: Filter (failures and files or journal matches), Actions (bans); with the
        `cymru` flavor, the ASN, country and RIR lists of `looked_up` (banjail.daemon.cymru) end Actions, as
        upstream's rows."""
        if flavor not in ("short", "basic", "cymru", "stats"):
            logger("actions").warning(
                "Unsupported extended jail status flavor %r. Supported: %s",
                flavor,
                ["short", "basic", "cymru"],
            )
        state = jail.state
        filter_status: list[tuple[str, object]] = [
            ("Currently failed", len(state.counter)),
            ("Total failed", state.counter.total),
        ]
        if flavor != "stats":
            if properties.is_journal(jail):
                matches = " + ".join(" ".join(m.split()) for m in jail.config.journalmatch)
                filter_status.append(("Journal matches", [matches]))
            else:
                filter_status.append(("File list", properties.logpaths(jail)))
            filter_status += reading.status_rows(jail.sources)  # banjail's extras, only when not zero
        action_status: list[tuple[str, object]] = [
            ("Currently banned", len(state.book)),
            ("Total banned", state.book.total),
        ]
        if flavor not in ("short", "stats"):
            action_status.append(("Banned IP list", [b.fid for b in state.book.banned()]))
        if flavor not in ("short", "stats") and jail.config.fleet != "no":
            action_status.append(("Banned by the fleet", _fleet_bans(jail)))
        if flavor == "cymru":
            action_status += cymru.rows(looked_up if looked_up is not None else cymru.lookup([]))
        return [("Filter", filter_status), ("Actions", action_status)]

    def banned(self, name: str | None, ids: list[str]) -> object:
        """`banned [ip ...]` (all jails) and `get <jail> banned [ip ...]` (one jail), upstream's shapes."""
        if name is not None:
            return _banned_in(self.jail(name), ids)
        jails = list(self.daemon.jails.values())
        if ids:
            return [[j.name for j in jails if ip in j.state.book] for ip in ids]
        return [{j.name: _banned_in(j, [])} for j in jails]

    async def unban_all_jails(self, ids: list[str] | None) -> int:
        count = 0
        for name in list(self.daemon.jails):
            count += await manual.unban(self.daemon, name, ids)
        return count

    async def stop(self, args: Sequence[Any]) -> None:
        """`stop`: the server ends; bans of native actions stay in the kernel with their timeouts (a restart
        keeps them). `stop --unban`: every ban is lifted first (as `unban --all`), then the same. `stop --all`,
        `stop <JAIL>`: jails stop (their actions remove their rules), the server stays."""
        if list(args) == ["--unban"]:
            log_server.info("Lifting every ban before the shutdown (stop --unban)")
            await self.unban_all_jails(None)
            args = []
        if not args:
            if not self.stop_after_reply:
                return None
            loop = asyncio.get_running_loop()
            loop.call_later(STOP_DELAY, lambda: asyncio.ensure_future(self.daemon.stop()))
            return None
        if args[0] == "--all":
            log_server.info("Stopping all jails")
            for name in list(self.daemon.jails):
                await self.daemon.stop_jail(name)
            return None
        self.jail(str(args[0]))
        await self.daemon.stop_jail(str(args[0]))
        return None

    async def start(self, name: str) -> None:
        self.jail(name)
        await self.daemon.start_jail(name)

    async def add(self, name: str, backend: str) -> str:
        if name == "--all":
            raise ControlError(f"Reserved name {name!r}")
        if name in self.daemon.jails:
            raise ControlError(f"The jail '{name}' already exists")
        configured = {j.name: j for j in self.daemon.config.jails}
        config = configured.get(name) or JailConfig(name=name, backend=backend)
        await self.daemon.add_jail(config)
        return name

    async def reload(self, args: Sequence[Any]) -> str:
        """`reload [--restart] [--unban] [--all] [jail]`, or upstream's form [name, opts, stream] (its client
        sends the jails' commands; banjail reads the configuration itself, so the stream is not needed)."""
        if len(args) >= 2 and isinstance(args[1], list | tuple):
            target = str(args[0])
            flags = [str(f) for f in args[1]]
        else:
            flags = [str(a) for a in args if str(a).startswith("--")]
            names = [str(a) for a in args if not str(a).startswith("--")]
            target = names[0] if names else "--all"
        name = None if target == "--all" else target
        if name is not None and "--if-exists" not in flags:
            self.jail(name)
        log_server.info("Reload %s", f"jail {name}" if name else "all jails")
        config = await self.daemon.load_config()
        await self.daemon.reload(config, name, restart="--restart" in flags, unban="--unban" in flags)
        log_server.info("Reload finished.")
        return "OK"

    # -- get / set ----------------------------------------------------------------------------------------------

    def get(self, args: Sequence[Any]) -> object:
        key = str(args[0])
        server = self._server_get(key)
        if server is not _NONE:
            return server
        jail = self.jail(key)
        prop = str(args[1])
        if prop == "banned":
            return _banned_in(jail, [str(a) for a in args[2:]])
        return properties.get(self.daemon, jail, prop, [str(a) for a in args[2:]])

    def _server_get(self, key: str) -> object:
        daemon = self.daemon
        if key == "loglevel":
            return daemon.logs.level
        if key == "logtarget":
            return daemon.logs.target
        if key == "syslogsocket":
            return daemon.logs.syslogsocket
        if key == "dbfile":
            return daemon.dbfile
        if key == "dbmaxmatches":
            return None if daemon.dbfile is None else daemon.dbmaxmatches
        if key == "dbpurgeage":
            return None if daemon.dbfile is None else daemon.dbpurgeage
        if key == "thread":
            return {"stacksize": 0}
        return _NONE

    async def set(self, args: Sequence[Any]) -> object:
        key = str(args[0])
        daemon = self.daemon
        if key == "loglevel":
            level_value(str(args[1]))
            daemon.logs.set_level(str(args[1]))
            return daemon.logs.level
        if key == "logtarget":
            try:
                daemon.logs.set_target(str(args[1]))
            except OSError as exc:
                log_server.error("Unable to log to %r: %s", args[1], exc)
                raise ControlError("Failed to change log target") from None
            return daemon.logs.target
        if key == "syslogsocket":
            daemon.logs.syslogsocket = str(args[1])
            return daemon.logs.syslogsocket
        if key == "dbfile":
            return await database.switch(daemon, str(args[1]))
        if key == "dbmaxmatches":
            if daemon.dbfile is None:
                return None
            daemon.dbmaxmatches = int(args[1])
            store_max = getattr(daemon.store, "max_matches", None)
            if store_max is not None:
                daemon.store.max_matches = daemon.dbmaxmatches  # type: ignore[attr-defined]
            return daemon.dbmaxmatches
        if key == "dbpurgeage":
            if daemon.dbfile is None:
                return None
            daemon.dbpurgeage = str2seconds_typed(str(args[1]))
            return daemon.dbpurgeage
        if key in ("allowipv6", "thread"):
            return args[1]
        jail = self.jail(key)
        return await properties.set_(daemon, jail, str(args[1]), [str(a) for a in args[2:]])


_NONE = object()


def _fleet_bans(jail: Jail) -> list[str]:
    """`<address> (from <host>)` for each ban of the jail that another fleet host decided."""
    return [f"{b.fid} (from {origin})" for b in jail.state.book.banned() if (origin := origin_of(b)) is not None]


def _banned_in(jail: Jail, ids: list[str]) -> object:
    banned = [b.fid for b in jail.state.book.banned()]
    if not ids:
        return banned
    if len(ids) == 1:
        return 1 if ids[0] in jail.state.book else 0
    return [1 if ip in jail.state.book else 0 for ip in ids]
