"""The ban decision's short path (a jail without bantime.increment: BanPolicy.plain, then BanBook.offer) against
the general one (BanPolicy.decide with its Verdict, then BanBook.admit), and BanBook's prolonging against the
dataclasses.replace it replaced: the same decisions, the same book, for any sequence of requests."""

from __future__ import annotations

from dataclasses import replace

from hypothesis import given, settings
from hypothesis import strategies as st

from banjail.core.banbook import ALREADY, BANNED, EXPIRED, PROLONGED, BanBook
from banjail.core.banpolicy import BanPolicy
from banjail.core.counter import FailureCounter
from banjail.core.jail import JailState
from banjail.model import Ban, BanRequest

NOW = 1_700_000_000.0
FIDS = ["192.0.2.1", "192.0.2.2", "2001:db8::1"]

requests = st.builds(
    lambda fid, offset, failures, lines: BanRequest(
        jail="sshd", fid=fid, ip=fid, at=NOW + offset, failures=failures, lines=("line",) * lines
    ),
    st.sampled_from(FIDS),
    st.one_of(st.floats(-900, 60), st.sampled_from([-600.0, -300.0, -300.5, 0.0])),
    st.integers(1, 5),
    st.integers(0, 2),
)


def state(bantime: float) -> JailState:
    return JailState(
        "sshd",
        matcher=None,
        counter=FailureCounter("sshd", maxretry=3, findtime=600),
        policy=BanPolicy(bantime=bantime),
    )


@settings(max_examples=300, deadline=None)
@given(st.lists(st.tuples(requests, st.floats(0, 400)), max_size=12), st.sampled_from([-1.0, 1.0, 300.0, 600.0]))
def test_plain_decision_is_the_general_one(sequence: list[tuple[BanRequest, float]], bantime: float) -> None:
    fast, slow = state(bantime), state(bantime)
    for request, later in sequence:
        now = NOW + later
        assert fast._decide_plain(request, now) == slow._decide_any(request, now)
        assert fast.book.banned() == slow.book.banned()
        assert (fast.book.total, fast.next_wakeup()) == (slow.book.total, slow.next_wakeup())
        assert fast.tick(now) == slow.tick(now)


def test_decide_takes_the_plain_path_only_without_increment() -> None:
    request = BanRequest(jail="sshd", fid="192.0.2.1", ip="192.0.2.1", at=NOW, failures=3, lines=())
    plain = state(600.0)
    assert plain._decide(request, NOW).ban.follows is True
    incremented = state(600.0)
    incremented.policy = replace(incremented.policy, increment=True)
    decided = incremented._decide(request, NOW)
    assert (decided.kind, decided.ban.until, decided.store) == (BANNED, NOW + 600, True)


def _admit_by_replace(book: dict[str, Ban], ban: Ban, now: float) -> tuple[str, Ban]:
    """BanBook.admit as it was written with dataclasses.replace (the reference)."""
    end = float("inf") if ban.until is None else ban.until
    if ban.until is not None and ban.until < now:
        return EXPIRED, ban
    old = book.get(ban.fid)
    if old is None:
        book[ban.fid] = ban
        return BANNED, ban
    if end <= (float("inf") if old.until is None else old.until):
        return ALREADY, old
    until = None if ban.until is None else max(ban.at, old.at) + (ban.until - ban.at)
    longer = replace(old, until=until, count=max(old.count, ban.count), follows=False)
    book[ban.fid] = longer
    return PROLONGED, longer


bans = st.builds(
    lambda fid, offset, length, count, restored, follows: Ban(
        jail="sshd", fid=fid, ip=fid, at=NOW + offset, until=None if length is None else NOW + offset + length,
        count=count, failures=3, lines=("a",), groups=(("user", "root"),), restored=restored, follows=follows,
    ),
    st.sampled_from(FIDS),
    st.floats(-900, 60),
    st.one_of(st.none(), st.floats(1, 1200)),
    st.integers(1, 4),
    st.booleans(),
    st.booleans(),
)  # fmt: skip


@settings(max_examples=300, deadline=None)
@given(st.lists(bans, max_size=12))
def test_offer_is_admit_by_replace(sequence: list[Ban]) -> None:
    book = BanBook("sshd")
    reference: dict[str, Ban] = {}
    for ban in sequence:
        held = book.holds(ban.fid, ban.until)
        kind, admitted = _admit_by_replace(reference, ban, NOW)
        if kind != EXPIRED:  # holds: the ban in force exactly when the offer would be ALREADY
            assert held == (admitted if kind == ALREADY else None)
        assert book.offer(ban, NOW) == (kind, admitted)
        assert {b.fid: b for b in book.banned()} == reference
