"""`why <ip>`: the evidence behind an address's bans, or why it is not banned, as one JSON-ready object.

For every jail (running, or named by a ban in the store) that banned the address, or a network holding it
(banprefix4/banprefix6, `banip 10.0.0.0/24`): each ban of the history with the failures that made it (time, log
file, failregex index and text, lines, in or out of the findtime window that fired), the bantime and how it was
computed (bantime.increment: count, formula or multipliers, factor, cap), the ignore rules checked, the action
runs (banjail.store.actionruns: when, exit status, first stderr line) and the origin host and reason of a fleet
ban (banjail.fleet.remote keeps them in the ban's groups). For a
running jail that did not ban it: its current failures and the reason it is not banned.

The regex text is the jail's current failregex at the stored index (a reload may have changed the list since).
Reads the store on the store executor; the rest is the jails' in-memory state.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from banjail.core.banpolicy import DEFAULT_FORMULA, BanPolicy
from banjail.core.ignore import parse_address, parse_network
from banjail.daemon.jail import Jail
from banjail.fleet.remote import ORIGIN as FLEET_ORIGIN
from banjail.fleet.remote import REASON as FLEET_REASON
from banjail.store.checkpoint import CountedFailure
from banjail.store.evidence import Record, StoredBan

if TYPE_CHECKING:
    from banjail.daemon.app import Daemon


def stamp(when: float | None) -> str | None:
    """Local time text of an epoch (None stays None)."""
    return None if when is None else time.strftime("%Y-%m-%d %H:%M:%S", time.localtime(when))


def candidate_fids(daemon: Daemon, target: str, networks: Sequence[str]) -> list[str]:
    """The fids `target`'s failures and bans may be stored under: itself (normalised), the network each jail's
    banprefix gives it, and every stored network fid that holds it."""
    address = parse_address(target)
    if address is None:
        return [target]
    fids = [str(address)]
    for jail in daemon.jails.values():
        prefix = jail.state.prefix
        network = None if prefix is None else prefix.network(str(address))
        if network is not None:
            fids.append(network)
    for text in networks:
        net = parse_network(text)
        if net is not None and net.version == address.version and address in net:
            fids.append(text)
    return list(dict.fromkeys(fids))


async def explain(daemon: Daemon, target: str) -> dict[str, Any]:
    """The `why` object for `target` (an address, a network or any fid)."""
    store = daemon.store
    networks = await daemon.db(store.network_fids)
    fids = candidate_fids(daemon, target.strip(), networks)
    record: Record = await daemon.db(store.ban_evidence, fids)
    runs: list[Any] = []
    reader = getattr(store, "action_runs", None)
    if callable(reader):
        for fid in dict.fromkeys(b.fid for b in record.bans):
            runs += await daemon.db(reader, fid)
    now = daemon.clock.now()
    names = list(daemon.jails) + [b.jail for b in record.bans if b.jail not in daemon.jails]
    jails = []
    for name in dict.fromkeys(names):
        jail = daemon.jails.get(name)
        bans = [b for b in record.bans if b.jail == name]
        pending = [f for j, f in record.pending if j == name]
        jails.append(_jail(jail, name, fids, bans, pending, runs, now))
    banned = [j["jail"] for j in jails if j["banned_now"]]
    return {"address": fids[0], "fids": fids, "banned_in": banned, "jails": jails}


def _jail(
    jail: Jail | None,
    name: str,
    fids: list[str],
    bans: list[StoredBan],
    pending: list[CountedFailure],
    runs: list[Any],
    now: float,
) -> dict[str, Any]:
    entry: dict[str, Any] = {"jail": name, "running": jail is not None}
    if jail is None:
        entry.update(
            banned_now=False, bans=[_ban(None, b, runs, now) for b in bans], verdict="jail not running"
        )
        return entry
    config = jail.config
    state = jail.state
    current = [f for f in fids if f in state.book]
    entry["filter"] = {"name": config.filter.name or config.filter_spec, "file": config.filter.file}
    entry["findtime"] = state.counter.findtime
    entry["maxretry"] = state.counter.maxretry
    entry["banned_now"] = bool(current)
    entry["bans"] = [_ban(jail, b, runs, now) for b in bans]
    entry["ignore"] = _ignore_rules(jail, fids[0])
    retries = {f: state.counter.retries(f) for f in fids if state.counter.retries(f)}
    entry["current_failures"] = {
        "retries": retries,
        "failures": [_failure(jail, f, None) for f in pending],
    }
    entry["verdict"] = _verdict(jail, fids, current, retries, entry["ignore"])
    return entry


def _verdict(
    jail: Jail, fids: list[str], current: list[str], retries: dict[str, int], ignore: dict[str, Any]
) -> str:
    state = jail.state
    if current:
        ban = state.book.get(current[0])
        until = "permanently" if ban is None or ban.until is None else f"until {stamp(ban.until)}"
        return f"banned as {current[0]} {until}"
    if ignore["matched"]:
        return f"not banned: ignored by {ignore['matched']}"
    if retries:
        fid, count = max(retries.items(), key=lambda kv: kv[1])
        return (
            f"not banned: {fid} has {count} of maxretry {state.counter.maxretry} failures "
            f"within findtime {state.counter.findtime:g} s"
        )
    return f"not banned: no failure counted within findtime {state.counter.findtime:g} s"


def _ignore_rules(jail: Jail, address: str) -> dict[str, Any]:
    """The ignore rules a failure of `address` is checked against, and the one that matches it (if any)."""
    ignore = jail.state.ignore
    found = ignore.match(address)
    matched = None
    if found is not None:
        matched = (
            found.source
            + (f" {found.entry}" if found.entry else "")
            + (f" (file {found.file})" if found.file else "")
        )
    return {
        "ignoreself": ignore.ignoreself,
        "ignoreip": list(ignore.entries),
        "ignorecommand": jail.ignorecommand or None,
        "matched": matched,
    }


def _failure(jail: Jail | None, failure: CountedFailure, since: float | None) -> dict[str, Any]:
    regexes = jail.config.filter.failregex if jail is not None else ()
    index = failure.regex
    return {
        "time": failure.time,
        "time_text": stamp(failure.time),
        "source": failure.source or None,
        "failregex": {
            "index": index if index >= 0 else None,
            "text": regexes[index] if 0 <= index < len(regexes) else None,
        },
        "lines": list(failure.lines),
        "retries": failure.count,
        "in_window": None if since is None else failure.time >= since,
    }


def _ban(jail: Jail | None, ban: StoredBan, runs: list[Any], now: float) -> dict[str, Any]:
    at = float(ban.timeofban)
    until = None if ban.bantime < 0 else at + ban.bantime
    findtime = None if jail is None else jail.state.counter.findtime
    since = None if findtime is None else at - findtime
    groups = dict(ban.groups)
    mine = [r for r in runs if r.jail == ban.jail and r.fid == ban.fid and r.timeofban == ban.timeofban]
    return {
        "fid": ban.fid,
        "network": ban.fid if "/" in ban.fid else None,
        "time": at,
        "time_text": stamp(at),
        "until": until,
        "until_text": stamp(until) if until is not None else "permanent",
        "current": until is None or until > now,
        "failures_counted": ban.failures,
        "window": None
        if jail is None
        else {"findtime": findtime, "maxretry": jail.state.counter.maxretry, "from": since, "to": at},
        "failures": [_failure(jail, f, since) for f in ban.evidence],
        "matches": list(ban.lines),
        "bantime": bantime_rule(jail, ban),
        "actions": [
            {
                "action": r.action,
                "op": r.op,
                "started": r.started,
                "started_text": stamp(r.started),
                "ended": r.ended,
                "status": r.status,
                "stderr": r.stderr,
            }
            for r in mine
        ],
        "origin": groups.get(FLEET_ORIGIN),  # the host a fleet ban came from (None: this host's own)
        "fleet_reason": groups.get(FLEET_REASON),
    }


def bantime_rule(jail: Jail | None, ban: StoredBan) -> dict[str, Any]:
    """The ban's length and how the jail's policy arrives at it for the ban's count. For the ban in force,
    `follows_bantime` says whether its end moves with `set <jail> bantime` (Ban.follows; None: not in force)."""
    out: dict[str, Any] = {"seconds": ban.bantime, "count": ban.bancount, "follows_bantime": None}
    if jail is None:
        return out
    live = jail.state.book.get(ban.fid)
    if live is not None and round(live.at) == ban.timeofban:
        out["follows_bantime"] = live.follows
    policy: BanPolicy = jail.state.policy
    out["base"] = policy.bantime
    out["increment"] = policy.increment
    if not policy.increment:
        out["how"] = "bantime (bantime.increment is off)"
        return out
    out["factor"] = policy.factor
    out["maxtime"] = policy.maxtime
    out["rndtime"] = policy.rndtime
    out["overalljails"] = policy.overalljails
    if policy.multipliers:
        out["multipliers"] = list(policy.multipliers)
        rule = "bantime * factor * multipliers[min(count - 1, last)]"
    else:
        out["formula"] = jail.config.bantime_formula or DEFAULT_FORMULA
        rule = f"max(bantime, {out['formula']}) with ban.Count = count - 1"
    previous = ban.bancount - 1
    if previous < 1 or policy.bantime <= 0:
        out["how"] = "first ban of this address: the base bantime"
        return out
    try:
        uncapped = BanPolicy(
            bantime=policy.bantime,
            increment=True,
            factor=policy.factor,
            formula=policy.formula,
            multipliers=policy.multipliers,
        ).incremented(previous)
    except (ArithmeticError, ValueError) as exc:
        out["how"] = f"{rule}: failed ({exc}); the base bantime was used"
        return out
    capped = policy.maxtime is not None and uncapped > policy.maxtime
    out["how"] = (
        f"{rule} = {uncapped:g} s"
        + (f", capped by bantime.maxtime {policy.maxtime:g} s" if capped else "")
        + (f", plus up to {policy.rndtime:g} s random (bantime.rndtime)" if policy.rndtime else "")
    )
    return out
