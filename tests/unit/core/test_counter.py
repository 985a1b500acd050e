"""FailureCounter: tables of upstream's counting rules, and a differential run against upstream's FailManager."""

from __future__ import annotations

import json
import random
import subprocess
from pathlib import Path

import pytest

from banjail.core.counter import FailureCounter
from banjail.model import BanRequest, Failure

T0 = 1_700_000_000.0
UPSTREAM_PYTHON = "/usr/bin/python3"
ORACLE = Path(__file__).with_name("oracle_failmanager.py")


def fail(fid: str, at: float, *lines: str, groups: tuple[tuple[str, str], ...] = ()) -> Failure:
    return Failure(fid=fid, ip=fid, time=at, lines=lines or (f"line {at}",), groups=groups)


def feed(counter: FailureCounter, times: list[float], fid: str = "192.0.2.1") -> list[BanRequest]:
    bans = []
    for at in times:
        ban = counter.count(fail(fid, at), at)
        if ban is not None:
            bans.append(ban)
    return bans


@pytest.mark.parametrize(
    ("maxretry", "findtime", "offsets", "expected"),
    [
        # (seconds after T0 of each failure) -> [(ban at offset, failures)]
        (3, 600, [0, 10, 20], [(20, 3)]),
        (3, 600, [0, 10], []),
        (1, 600, [0], [(0, 1)]),
        (3, 600, [0, 10, 20, 30, 40, 50], [(20, 3), (50, 3)]),  # the count restarts after a ban
        # third failure 700 s after the first: retry 2 -> round(2/700*600)=round(1.714)=2, +1 = 3 -> ban
        (3, 600, [0, 1, 700], [(700, 3)]),
        # 1000 s later: round(2/1000*600)=round(1.2)=1, +1 = 2 -> no ban, not a fresh start either
        (3, 600, [0, 1, 1000], []),
        (3, 600, [0, 1, 1000, 1001], [(1001, 4)]),
        # banker's rounding: round(1/1200*600)=round(0.5)=0, +1 = 1
        (2, 600, [0, 1200], []),
        # round(3/1000*500)=round(1.5)=2 (half to even), +1 = 3
        (4, 500, [0, 0, 0, 1000], []),
        (4, 500, [0, 0, 0, 1000, 1000], [(1000, 5)]),
        # an older failure does not move times; it only counts
        (3, 600, [100, 50, 0], [(100, 3)]),
    ],
)
def test_counting_rules(
    maxretry: int, findtime: float, offsets: list[float], expected: list[tuple[float, int]]
) -> None:
    counter = FailureCounter("sshd", maxretry=maxretry, findtime=findtime)
    bans = feed(counter, [T0 + o for o in offsets])
    assert [(b.at - T0, b.failures) for b in bans] == expected


def test_ban_request_carries_first_failure_identity_and_newest_lines() -> None:
    counter = FailureCounter("sshd", maxretry=3, maxmatches=2)
    groups = (("user", "root"),)
    assert counter.count(fail("10.0.0.1", T0, "a", groups=groups), T0) is None
    assert counter.count(fail("10.0.0.1", T0 + 1, "b", "c"), T0 + 1) is None
    ban = counter.count(fail("10.0.0.1", T0 + 2, "d", groups=(("user", "x"),)), T0 + 2)
    assert ban == BanRequest(
        jail="sshd", fid="10.0.0.1", ip="10.0.0.1", at=T0 + 2, failures=3, lines=("c", "d"), groups=groups
    )
    assert "10.0.0.1" not in counter
    assert counter.total == 3


@pytest.mark.parametrize(
    ("maxmatches", "expected"),
    [(0, ()), (1, ("3",)), (5, ("1", "2", "3")), (10, ("1", "2", "3"))],
)
def test_maxmatches_bounds_kept_lines(maxmatches: int, expected: tuple[str, ...]) -> None:
    counter = FailureCounter("j", maxretry=3, maxmatches=maxmatches)
    counter.count(fail("f", T0, "1"), T0)
    counter.count(fail("f", T0, "2"), T0)
    ban = counter.count(fail("f", T0, "3"), T0)
    assert ban is not None
    assert ban.lines == expected


def test_count_argument_adds_retries_but_one_attempt() -> None:
    counter = FailureCounter("j", maxretry=5)
    assert counter.count(fail("f", T0), T0, count=3) is None
    assert counter.retries("f") == 3
    ban = counter.count(fail("f", T0), T0, count=2)
    assert ban is not None
    assert ban.failures == 2


@pytest.mark.parametrize(
    ("at", "now", "catching_up", "expected"),
    [
        (T0, T0, False, T0),
        (T0 - 60, T0, False, T0 - 60),  # within the 60 s tolerance
        (T0 - 60.9, T0, False, T0 - 60.9),  # int(-60.9) = -60: still tolerated, as upstream
        (T0 - 61, T0, False, T0),  # far in the past while in operation: taken as now
        (T0 + 30, T0, False, T0),  # the future is clamped to now
        (T0 + 3600, T0, False, T0),
        (T0 - 599, T0, True, T0 - 599),  # catch-up keeps what is within findtime
        (T0 - 600, T0, True, T0 - 600),
        (T0 - 601, T0, True, None),  # and drops what is older
        (T0 + 5, T0, True, T0),
    ],
)
def test_admit_time(at: float, now: float, catching_up: bool, expected: float | None) -> None:
    counter = FailureCounter("j", findtime=600)
    assert counter.admit_time(at, now, catching_up=catching_up) == expected


def test_add_drops_old_failures_when_catching_up() -> None:
    counter = FailureCounter("j", maxretry=1, findtime=600)
    assert counter.add(fail("f", T0 - 700), T0, catching_up=True) is None
    assert counter.total == 0
    ban = counter.add(fail("f", T0 - 700), T0)
    assert ban is not None
    assert ban.at == T0


def test_expire_drops_entries_whose_newest_failure_left_findtime() -> None:
    counter = FailureCounter("j", maxretry=10, findtime=600)
    counter.count(fail("old", T0), T0)
    counter.count(fail("new", T0 + 300), T0 + 300)
    assert counter.expire(T0 + 599) == 0
    assert counter.expire(T0 + 600) == 1  # newest failure exactly findtime ago: gone
    assert "old" not in counter
    assert len(counter) == 1
    assert counter.expire(T0 + 10_000) == 1
    assert len(counter) == 0


def test_forget() -> None:
    counter = FailureCounter("j", maxretry=2)
    counter.count(fail("f", T0), T0)
    counter.forget("f")
    counter.forget("absent")
    assert counter.count(fail("f", T0), T0) is None


def _scenarios(seed: int, n: int) -> list[dict[str, object]]:
    rng = random.Random(seed)
    scenarios: list[dict[str, object]] = []
    for _ in range(n):
        findtime = rng.choice([60, 300, 600, 3600])
        fids = [f"192.0.2.{i}" for i in range(rng.randint(1, 6))]
        at = T0
        steps: list[list[object]] = []
        for i in range(rng.randint(5, 80)):
            at += rng.choice([0, 0.5, 1, 7, 30, findtime / 3, findtime, findtime * 2.5]) * rng.random() * 2
            jitter = -rng.random() * findtime if rng.random() < 0.1 else 0.0  # out-of-order lines
            steps.append(["fail", rng.choice(fids), round(at + jitter, 3), [f"l{i}"] * rng.randint(0, 2)])
            if rng.random() < 0.08:
                steps.append(["cleanup", round(at + rng.random() * findtime, 3)])
        scenarios.append(
            {
                "maxretry": rng.randint(1, 6),
                "findtime": findtime,
                "maxmatches": rng.choice([0, 1, 3, 5]),
                "steps": steps,
            }
        )
    return scenarios


def _ours(scenario: dict[str, object]) -> list[list[object]]:
    counter = FailureCounter(
        "j",
        maxretry=int(scenario["maxretry"]),  # type: ignore[call-overload]
        findtime=float(scenario["findtime"]),  # type: ignore[arg-type]
        maxmatches=int(scenario["maxmatches"]),  # type: ignore[call-overload]
    )
    events: list[list[object]] = []
    for step in scenario["steps"]:  # type: ignore[attr-defined]
        if step[0] == "cleanup":
            counter.expire(step[1])
            events.append(["size", len(counter)])
            continue
        _, fid, at, lines = step
        ban = counter.count(Failure(fid=fid, ip=fid, time=at, lines=tuple(lines)), at)
        if ban is not None:
            events.append(["ban", ban.fid, ban.at, ban.failures, list(ban.lines)])
    events.append(["total", counter.total, len(counter)])
    return events


@pytest.mark.compat
def test_differential_against_upstream_failmanager() -> None:
    if not Path(UPSTREAM_PYTHON).exists() or not Path("/usr/lib/python3/dist-packages/fail2ban").exists():
        pytest.skip("upstream fail2ban not installed")
    scenarios = _scenarios(seed=20261125, n=400)
    out = subprocess.run(
        [UPSTREAM_PYTHON, str(ORACLE)],
        input=json.dumps(scenarios),
        capture_output=True,
        text=True,
        check=True,
        timeout=120,
    )
    theirs = json.loads(out.stdout)
    bans = 0
    for index, (scenario, expected) in enumerate(zip(scenarios, theirs, strict=True)):
        mine = json.loads(json.dumps(_ours(scenario)))
        assert mine == expected, f"scenario {index} differs"
        bans += sum(1 for e in expected if e[0] == "ban")
    assert bans > 300  # the generator really exercises banning
