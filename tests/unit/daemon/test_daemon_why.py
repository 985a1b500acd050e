"""`why`: the account of a ban's length (bantime, or bantime.increment's rule for the ban's count, with its
cap), and past and current bans with the action runs banjail.store.actionruns recorded."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from daemon_harness import START, Harness, jail_config, run

from banjail.daemon import why
from banjail.daemon.jail import Jail, build_state
from banjail.daemon.why import bantime_rule
from banjail.store.actionruns import ActionRun
from banjail.store.evidence import StoredBan


def jail(**options: Any) -> Jail:
    config = jail_config(**options)
    return Jail(config=config, state=build_state(config, history=lambda fid, name: None, self_ips=tuple))


def ban(seconds: float, count: int) -> StoredBan:
    return StoredBan("test", "192.0.2.7", 1_700_000_000, seconds, count, (), 3, ())


FORMULA = (
    "max(bantime, ban.Time * (1<<(ban.Count if ban.Count<20 else 20)) * banFactor) with ban.Count = count - 1"
)


@pytest.mark.parametrize(
    ("options", "seconds", "count", "how"),
    [
        ({}, 600, 1, "bantime (bantime.increment is off)"),
        ({"bantime_increment": True}, 600, 1, "first ban of this address: the base bantime"),
        ({"bantime_increment": True}, 2400, 3, f"{FORMULA} = 2400 s"),
        (
            {"bantime_increment": True, "bantime_maxtime": 1000.0},
            1000,
            3,
            f"{FORMULA} = 2400 s, capped by bantime.maxtime 1000 s",
        ),
        (
            {"bantime_increment": True, "bantime_multipliers": (1, 5, 30)},
            18000,
            9,
            "bantime * factor * multipliers[min(count - 1, last)] = 18000 s",
        ),
        (
            {"bantime_increment": True, "bantime_rndtime": 60.0},
            1230,
            2,
            f"{FORMULA} = 1200 s, plus up to 60 s random (bantime.rndtime)",
        ),
    ],
)
def test_how_the_bantime_was_computed(options: dict[str, Any], seconds: float, count: int, how: str) -> None:
    explained = bantime_rule(jail(**options), ban(seconds, count))
    assert (explained["seconds"], explained["count"], explained["how"]) == (seconds, count, how)


def test_why_lists_past_and_current_bans_with_the_recorded_action_runs(tmp_path: Path) -> None:
    ip = "192.0.2.7"

    async def scenario() -> dict[str, Any]:
        h = Harness(tmp_path, [jail_config(bantime_increment=True)])
        await h.daemon.start()
        try:
            h.source().feed(*[f"fail from {ip}"] * 3)  # first ban: 600 s
            await h.settle()
            h.clock.advance(700)
            await h.daemon.tick(h.clock.now())
            h.source().feed(*[f"fail from {ip}"] * 3)  # second ban: the formula doubles it
            await h.settle()
            first = round(START)
            # what banjail.store.actionruns records for an action's run (helper dropin's recorder writes these)
            h.daemon.store.record_action_run(
                ActionRun("test", ip, first, "rec", "ban", START + 0.1, START + 0.2, 0, "")
            )
            h.daemon.store.record_action_run(
                ActionRun(
                    "test",
                    ip,
                    first,
                    "rec",
                    "unban",
                    START + 601,
                    START + 601.5,
                    1,
                    "iptables: No chain\nmore",
                )
            )
            return await why.explain(h.daemon, ip)
        finally:
            await h.daemon.stop()

    found = run(scenario())
    (jail,) = found["jails"]
    assert found["banned_in"] == ["test"]
    assert [(b["current"], b["bantime"]["seconds"], b["bantime"]["count"]) for b in jail["bans"]] == [
        (False, 600.0, 1),
        (True, 1200.0, 2),
    ]
    assert jail["bans"][1]["bantime"]["how"] == f"{FORMULA} = 1200 s"
    assert [(a["op"], a["status"], a["stderr"]) for a in jail["bans"][0]["actions"]] == [
        ("ban", 0, ""),
        ("unban", 1, "iptables: No chain"),
    ]
    assert jail["bans"][1]["actions"] == []
    # a known bad address's failures weigh more under bantime.increment (2 retries each): two made the second ban
    assert [[f["retries"] for f in b["failures"]] for b in jail["bans"]] == [[1, 1, 1], [2, 2]]
    assert jail["current_failures"]["retries"] == {ip: 2}  # the third line of the second burst counts anew


def test_why_names_the_fleet_host_a_ban_came_from(tmp_path: Path) -> None:
    from banjail.control.whytext import render_why
    from banjail.fleet.remote import ORIGIN, REASON
    from banjail.model import Ban

    async def scenario() -> dict[str, Any]:
        h = Harness(tmp_path, [jail_config()])
        await h.daemon.start()
        try:
            groups = ((ORIGIN, "web-2"), (REASON, "sshd: 5 failures"))
            h.daemon.store.add_ban(
                Ban("test", "203.0.113.9", "203.0.113.9", START, START + 600, 1, 5, (), groups)
            )
            return await why.explain(h.daemon, "203.0.113.9")
        finally:
            await h.daemon.stop()

    found = run(scenario())
    (ban,) = found["jails"][0]["bans"]
    assert (ban["origin"], ban["fleet_reason"]) == ("web-2", "sshd: 5 failures")
    assert "    origin: fleet host web-2 (sshd: 5 failures)" in render_why(found).splitlines()
