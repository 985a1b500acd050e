"""`why`'s account of a ban's length: bantime, or bantime.increment's rule for the ban's count, with its cap."""

from __future__ import annotations

from typing import Any

import pytest
from daemon_harness import jail_config

from banjail.daemon.jail import Jail, build_state
from banjail.daemon.why import bantime_rule
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
