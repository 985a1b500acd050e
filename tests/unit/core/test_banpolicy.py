"""BanPolicy: ban length, bantime.increment and its options, against tables and upstream's own computation."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import pytest

from banjail.core.banpolicy import BanHistory, BanPolicy, Verdict
from banjail.errors import ConfigError
from banjail.model import Ban, BanRequest

T0 = 1_700_000_000.0
UPSTREAM_PYTHON = "/usr/bin/python3"
ORACLE = Path(__file__).with_name("oracle_bantime.py")

REQUEST = BanRequest(jail="sshd", fid="192.0.2.7", ip="192.0.2.7", at=T0, failures=5, lines=("l1", "l2"))


def history(count: int, last_at: float = T0 - 86400, last_bantime: float = 600) -> BanHistory:
    return BanHistory(count=count, last_at=last_at, last_bantime=last_bantime)


def test_first_ban_lasts_bantime_from_last_failure() -> None:
    verdict = BanPolicy(bantime=600).decide(REQUEST, None, now=T0 + 1)
    assert verdict == Verdict(
        Ban(
            jail="sshd",
            fid="192.0.2.7",
            ip="192.0.2.7",
            at=T0,
            until=T0 + 600,
            count=1,
            failures=5,
            lines=("l1", "l2"),
            follows=True,
        )
    )


@pytest.mark.parametrize(
    ("policy", "prior", "now", "until", "count", "recorded"),
    [
        (BanPolicy(bantime=-1), None, T0 + 10**9, None, 1, False),  # permanent never expires
        (BanPolicy(bantime=-1, increment=True), history(3), T0, None, 1, False),  # no increment of permanent
        (BanPolicy(bantime=600), history(3), T0, T0 + 600, 1, False),  # history ignored without increment
        (BanPolicy(bantime=600, increment=True), None, T0, T0 + 600, 1, False),
        (BanPolicy(bantime=600, increment=True), history(1), T0, T0 + 1200, 2, False),
        (BanPolicy(bantime=600, increment=True), history(3), T0, T0 + 4800, 4, False),
        (BanPolicy(bantime=600, increment=True), history(30), T0, T0 + 600 * 2**20, 31, False),
        (BanPolicy(bantime=600, increment=True, maxtime=3600), history(5), T0, T0 + 3600, 6, False),
        (BanPolicy(bantime=600, increment=True, factor=0.5), history(2), T0, T0 + 1200, 3, False),
        # a count of 0 in the store: counted, not incremented
        (BanPolicy(bantime=600, increment=True), history(0), T0, T0 + 600, 1, False),
        # a request not after the newest recorded ban: re-read lines, already in the store
        (BanPolicy(bantime=600, increment=True), history(2, last_at=T0), T0, T0 + 2400, 3, True),
    ],
)
def test_ban_lengths(
    policy: BanPolicy, prior: BanHistory | None, now: float, until: float | None, count: int, recorded: bool
) -> None:
    verdict = policy.decide(REQUEST, prior, now)
    assert verdict.ban is not None
    assert (verdict.ban.until, verdict.ban.count, verdict.recorded, verdict.error) == (
        until,
        count,
        recorded,
        "",
    )


def test_request_whose_ban_is_already_over_is_dropped() -> None:
    # Upstream checks the jail's own bantime, even when the increment would have made the ban longer.
    policy = BanPolicy(bantime=600, increment=True)
    assert policy.decide(REQUEST, history(4), now=T0 + 601) == Verdict(None)
    assert policy.decide(REQUEST, history(4), now=T0 + 600).ban is not None


@pytest.mark.parametrize(
    ("multipliers", "expected"),
    [
        ("1 2 4 8 16 32 64", [1200, 2400, 4800, 9600, 19200, 38400, 38400, 38400]),
        ("1 5 30 60 300 720 1440 2880", [3000, 18000, 36000, 180000, 432000, 864000, 1728000, 1728000]),
        ("3", [1800] * 8),
    ],
)
def test_multipliers_index_by_previous_count(multipliers: str, expected: list[float]) -> None:
    policy = BanPolicy.from_options(bantime=600, increment=True, multipliers=multipliers)
    assert [policy.incremented(n) for n in range(1, 9)] == expected


def test_rndtime_uses_the_injected_random_source() -> None:
    policy = BanPolicy.from_options(bantime=600, increment=True, rndtime=100, rand=lambda: 0.25)
    assert policy.incremented(1) == 1225


def test_formula_failure_falls_back_to_base_bantime() -> None:
    policy = BanPolicy.from_options(bantime=600, increment=True, formula="ban.Time / (ban.Count - 2)")
    verdict = policy.decide(REQUEST, history(2), T0)
    assert verdict.ban is not None
    assert (verdict.ban.until, verdict.ban.count) == (T0 + 600, 3)
    assert verdict.error == "bantime.formula failed for count 2: division by zero"


def test_from_options_reports_every_bad_option() -> None:
    with pytest.raises(ConfigError) as caught:
        BanPolicy.from_options(
            bantime=600, factor="os.getpid()", formula="ban.Time + x", multipliers="1 two 4"
        )
    assert [(p.option, p.message) for p in caught.value.problems] == [
        ("bantime.factor", "not allowed in a formula: the call 'os.getpid'"),
        ("bantime.formula", "not allowed in a formula: the name 'x'"),
        ("bantime.multipliers", "'two' is not a number"),
    ]


@pytest.mark.parametrize(
    ("count", "failure_time", "expected"),
    [
        (None, T0, 1),
        (1, T0, 2),
        (2, T0, 3),
        (3, T0, 5),
        (4, T0, 5),  # 9, capped at maxretry
        (3, T0 - 86400, 1),  # not after the newest recorded ban: no boost
    ],
)
def test_failure_weight_of_known_bad_fids(count: int | None, failure_time: float, expected: int) -> None:
    policy = BanPolicy(bantime=600, increment=True)
    prior = None if count is None else history(count)
    assert policy.failure_weight(failure_time, prior, maxretry=5) == expected
    assert BanPolicy(bantime=600).failure_weight(failure_time, prior, maxretry=5) == 1


UPSTREAM_CASES: list[tuple[dict[str, str], float]] = [
    ({}, 600),
    ({"factor": "2"}, 600),
    ({"factor": "1.5", "maxtime": "86400"}, 3600),
    ({"formula": "ban.Time * math.exp(float(ban.Count+1)*banFactor)/math.exp(1*banFactor)"}, 600),
    (
        {
            "formula": "ban.Time * math.exp(float(ban.Count+1)*banFactor)/math.exp(1*banFactor)",
            "factor": "0.5",
        },
        60,
    ),
    ({"formula": "ban.Time + ban.Count * 60"}, 600),  # max(ban.Time, ...) keeps it from shrinking
    ({"formula": "ban.Time / 2"}, 600),
    ({"multipliers": "1 2 4 8 16 32 64"}, 600),
    ({"multipliers": "1 5 30 60 300 720 1440 2880", "factor": "2", "maxtime": "500000"}, 300),
]


@pytest.mark.compat
def test_increment_agrees_with_upstream() -> None:
    if not Path("/usr/lib/python3/dist-packages/fail2ban").exists():
        pytest.skip("upstream fail2ban not installed")
    counts = [*range(1, 25), 40]
    payload = [[options, base, counts] for options, base in UPSTREAM_CASES]
    out = subprocess.run(
        [UPSTREAM_PYTHON, str(ORACLE)], input=json.dumps(payload), capture_output=True, text=True, check=True
    )
    for (options, base), expected in zip(UPSTREAM_CASES, json.loads(out.stdout), strict=True):
        maxtime = options.get("maxtime")
        policy = BanPolicy.from_options(
            bantime=base,
            increment=True,
            factor=options.get("factor", ""),
            formula=options.get("formula", ""),
            multipliers=options.get("multipliers", ""),
            maxtime=None if maxtime is None else float(maxtime),
        )
        assert [policy.incremented(n) for n in counts] == pytest.approx(expected, rel=1e-12), options
