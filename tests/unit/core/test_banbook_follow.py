"""Bans that follow the jail's bantime (Ban.follows) and bans with a length of their own, as upstream 1.0.2's
tickets without and with a ban time of their own: BanPolicy.decide sets it, BanBook.rebase moves the followers'
ends, a prolongation and a restore fix the length, BanPolicy.cap_restored is upstream's getCurrentBans cap.

The rules checked here against upstream's server: tests/e2e/test_bantime_follow.py."""

from __future__ import annotations

from dataclasses import dataclass, replace

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from banjail.core.banbook import BANNED, PROLONGED, BanBook
from banjail.core.banpolicy import BanHistory, BanPolicy
from banjail.core.counter import FailureCounter
from banjail.core.jail import JailState, Restored
from banjail.model import Ban, BanRequest

T0 = 1_700_000_000.0


def request(fid: str = "192.0.2.7", at: float = T0) -> BanRequest:
    return BanRequest(jail="sshd", fid=fid, ip=fid, at=at, failures=3, lines=())


def ban(fid: str, at: float, length: float | None, *, follows: bool, restored: bool = False) -> Ban:
    until = None if length is None else at + length
    return Ban("sshd", fid, fid, at, until, 1, 3, restored=restored, follows=follows)


# -- BanPolicy.decide: which bans follow ----------------------------------------------------------------------

DECIDE = [
    # (policy, history count (None: never banned), follows, length (None: permanent), error)
    (BanPolicy(bantime=600), None, True, 600, False),
    (BanPolicy(bantime=600), 3, True, 600, False),  # increment off: the history changes nothing
    (BanPolicy(bantime=600, increment=True), None, True, 600, False),  # first ban: follows
    (BanPolicy(bantime=600, increment=True), 1, False, 1200, False),  # incremented: its own
    (BanPolicy(bantime=600, increment=True), 2, False, 2400, False),
    # multipliers `1 1`: the incremented length equals the base and is still its own (upstream: yes)
    (BanPolicy.from_options(bantime=600, increment=True, multipliers="1 1"), 1, False, 600, False),
    (BanPolicy(bantime=-1, increment=True), 2, True, None, False),  # permanent: never incremented
    (BanPolicy(bantime=-1), None, True, None, False),
    # a formula that fails: the base bantime, following it (upstream sets no ban time then)
    (BanPolicy.from_options(bantime=600, increment=True, formula="ban.Time / (ban.Count - 1)"), 1, True, 600, True),
]


@pytest.mark.parametrize(("policy", "count", "follows", "length", "error"), DECIDE)
def test_decide_says_whether_the_ban_follows_the_bantime(
    policy: BanPolicy, count: int | None, follows: bool, length: float | None, error: bool
) -> None:
    known = None if count is None else BanHistory(count=count, last_at=T0 - 86400, last_bantime=600)
    verdict = policy.decide(request(), known, T0)
    assert verdict.ban is not None
    got = (verdict.ban.follows, None if verdict.ban.until is None else verdict.ban.until - T0, bool(verdict.error))
    assert got == (follows, length, error)


# -- BanBook.rebase -------------------------------------------------------------------------------------------

REBASE = [
    # (new bantime, {fid: until after}, fids moved in ban order)
    (1200, {"f": T0 + 1200, "g": T0 + 1300, "own": T0 + 60, "perm": None, "fperm": T0 + 1200}, ["f", "g", "fperm"]),
    (300, {"f": T0 + 300, "g": T0 + 400, "own": T0 + 60, "perm": None, "fperm": T0 + 300}, ["f", "g", "fperm"]),
    (-1, {"f": None, "g": None, "own": T0 + 60, "perm": None, "fperm": None}, ["f", "g"]),
    (600, {"f": T0 + 600, "g": T0 + 700, "own": T0 + 60, "perm": None, "fperm": T0 + 600}, ["fperm"]),
]


def _book() -> BanBook:
    book = BanBook("sshd")
    book.admit(ban("f", T0, 600, follows=True), T0)
    book.admit(ban("g", T0 + 100, 600, follows=True), T0)
    book.admit(ban("own", T0, 60, follows=False), T0)  # incremented or prolonged: its own length
    book.admit(ban("perm", T0, None, follows=False), T0)
    book.admit(ban("fperm", T0, None, follows=True), T0)  # banned while the bantime was -1
    return book


@pytest.mark.parametrize(("bantime", "ends", "moved"), REBASE)
def test_rebase_moves_only_the_bans_that_follow(bantime: float, ends: dict[str, float | None], moved: list[str]) -> None:
    book = _book()
    assert [b.fid for b in book.rebase(bantime)] == moved
    assert {b.fid: b.until for b in book.banned()} == ends
    finite = [e for e in ends.values() if e is not None]
    assert book.next_end() == min(finite)


def test_a_lowered_bantime_is_due_at_once_and_a_raised_one_later() -> None:
    book = _book()
    book.rebase(50)  # f and fperm ended at T0 + 50, g at T0 + 150; own at T0 + 60
    assert [u.fid for u in book.due(T0 + 100)] == ["f", "fperm", "own"]
    book.rebase(3600)  # g: T0 + 3700
    assert book.due(T0 + 3699) == [] and book.next_end() == T0 + 3700
    assert [u.fid for u in book.due(T0 + 3700.5)] == ["g"]
    assert [b.fid for b in book.banned()] == ["perm"]


def test_a_prolonged_ban_has_its_own_length() -> None:
    # upstream: `banip` twice, 2 s apart, bantime 5 -> `+ 7`; a later `set bantime 20` leaves it at 7
    book = BanBook("sshd")
    book.admit(ban("a", T0, 5, follows=True), T0)
    admission = book.admit(ban("a", T0 + 2, 5, follows=True), T0 + 2)
    assert (admission.kind, admission.ban.until, admission.ban.follows) == (PROLONGED, T0 + 7, False)
    assert book.rebase(20) == []
    assert book.get("a") == admission.ban


def test_current_is_the_books_version_of_the_same_ban() -> None:
    book = BanBook("sshd")
    decided = ban("a", T0, 600, follows=True)
    assert book.admit(decided, T0).kind == BANNED
    (moved,) = book.rebase(900)
    assert book.current(decided) == moved and moved.until == T0 + 900
    other = ban("a", T0 + 5, 600, follows=True)  # another ban of the fid: not the one in force
    assert book.current(other) is other
    assert book.current(ban("b", T0, 600, follows=True)).until == T0 + 600


def test_rebase_keeps_the_heap_bounded() -> None:
    book = BanBook("sshd")
    for n in range(100):
        book.admit(ban(f"10.0.0.{n}", T0 + n, 600, follows=True), T0)
    for bantime in (700, 800, 900, 1000):
        book.rebase(bantime)
    assert len(book._heap) == 100
    assert book.next_end() == T0 + 1000


# -- JailState: set_bantime, restore ----------------------------------------------------------------------------


def state(policy: BanPolicy) -> JailState:
    return JailState("sshd", matcher=None, counter=FailureCounter("sshd", maxretry=3, findtime=600), policy=policy)


def test_set_bantime_changes_new_bans_and_moves_the_followers() -> None:
    jail = state(BanPolicy(bantime=600))
    jail.ban("192.0.2.1", T0)
    moved = jail.set_bantime(86400)
    assert [(b.fid, b.until) for b in moved] == [("192.0.2.1", T0 + 86400)]
    assert jail.policy.bantime == 86400
    decided = jail.ban("192.0.2.2", T0 + 10)
    assert (decided.ban.until, decided.ban.follows) == (T0 + 86410, True)


CAP = [
    # (policy, stored length (None: permanent), restored until (None: permanent; "gone": not restored))
    (BanPolicy(bantime=600), 300, T0 + 300),
    (BanPolicy(bantime=600), 3600, T0 + 600),  # upstream: `+ 10` after bantime 20 was stored, config 10
    (BanPolicy(bantime=600), None, T0 + 600),
    (BanPolicy(bantime=-1), None, None),  # no cap when bans may be permanent
    (BanPolicy(bantime=-1), 3600, T0 + 3600),
    (BanPolicy(bantime=600, increment=True), 86400, T0 + 86400),  # increment without maxtime: no cap
    (BanPolicy(bantime=600, increment=True, maxtime=7200), 86400, T0 + 7200),
    (BanPolicy(bantime=600, increment=True, maxtime=7200), None, T0 + 7200),
    (BanPolicy(bantime=60), 3600, "gone"),  # capped, it ended before now (T0 + 100)
]


@pytest.mark.parametrize(("policy", "length", "until"), CAP)
def test_restore_caps_stored_lengths_as_upstream(policy: BanPolicy, length: float | None, until: object) -> None:
    stored = ban("192.0.2.9", T0, length, follows=False, restored=True)
    events = state(policy).restore([stored], T0 + 100)
    got = "gone" if not events else [(b.until, b.follows) for e in events if isinstance(e, Restored) for b in e.bans]
    assert got == ("gone" if until == "gone" else [(until, False)])


def test_restore_without_cap_keeps_the_stored_length() -> None:
    stored = ban("192.0.2.9", T0, 86400, follows=False, restored=True)
    (event,) = state(BanPolicy(bantime=600)).restore([stored], T0 + 100, cap=False)
    assert isinstance(event, Restored) and event.bans == (stored,)


def test_restored_bans_do_not_follow_a_new_bantime() -> None:
    jail = state(BanPolicy(bantime=600))
    jail.restore([ban("192.0.2.9", T0, 600, follows=False, restored=True)], T0)
    assert jail.set_bantime(3600) == []
    assert jail.book.get("192.0.2.9") == ban("192.0.2.9", T0, 600, follows=False, restored=True)


# -- property: the book against upstream's rules ----------------------------------------------------------------


@dataclass
class Ticket:
    """Upstream's BanTicket as far as its end goes: the time of ban and its own ban time (None: none)."""

    at: float
    own: float | None


class Upstream:
    """upstream 1.0.2's end-of-ban rules (ticket.getEndOfBanTime, banmanager.addBanTicket/unBanList), with one
    deliberate change: the due set is computed at every `now` (upstream looks again only at its planned next
    unban time, so there a lowered bantime lifts bans late; banjail lifts them at once)."""

    def __init__(self, bantime: float) -> None:
        self.bantime = bantime
        self.tickets: dict[str, Ticket] = {}

    def end(self, ticket: Ticket) -> float:
        length = self.bantime if ticket.own is None else ticket.own
        return float("inf") if length == -1 else ticket.at + length

    def add(self, fid: str, ticket: Ticket, now: float) -> None:
        if self.end(ticket) < now:
            return  # "Ignore ..., expired bantime"
        old = self.tickets.get(fid)
        if old is None:
            self.tickets[fid] = ticket
        elif self.end(ticket) > self.end(old):  # prolong: the old ticket gets a ban time of its own
            length = self.bantime if ticket.own is None else ticket.own
            if length != -1 and ticket.at > old.at:
                length += ticket.at - old.at
            old.own = length

    def due(self, now: float) -> set[str]:
        gone = {fid for fid, t in self.tickets.items() if now > self.end(t)}
        for fid in gone:
            del self.tickets[fid]
        return gone


FIDS = ["10.0.0.1", "10.0.0.2", "10.0.0.3", "10.0.0.4"]
BANTIMES = st.sampled_from([-1, 1, 30, 60, 300, 600, 3600])
OPS = st.lists(
    st.one_of(
        # a ban request: fid, seconds before now its last failure was, previous bans in the store (0: none)
        st.tuples(st.just("ban"), st.sampled_from(FIDS), st.integers(0, 40), st.integers(0, 3)),
        st.tuples(st.just("set"), BANTIMES),
        st.tuples(st.just("step"), st.integers(0, 900)),
    ),
    max_size=60,
)


@settings(max_examples=300, deadline=None)
@given(bantime=BANTIMES, increment=st.booleans(), ops=OPS)
def test_bans_due_match_upstreams_rules(bantime: float, increment: bool, ops: list[tuple[object, ...]]) -> None:
    """For any sequence of bans (new, prolonging, incremented), bantime changes and time steps, the bans due at
    every `now` and the end of every ban in force are upstream's. The offered ban's own length, when it has
    one, is the policy's increment (upstream: a fid found in the store with bantime.increment)."""
    policy = BanPolicy(bantime=bantime, increment=increment)
    book = BanBook("sshd")
    model = Upstream(bantime)
    now = T0
    for op in ops:
        if op[0] == "ban":
            _, fid, ago, previous = op
            assert isinstance(fid, str) and isinstance(ago, int) and isinstance(previous, int)
            known = BanHistory(previous, T0 - 86400, 600) if previous else None
            verdict = policy.decide(request(fid, now - ago), known, now)
            own: float | None = None
            if increment and policy.bantime > 0 and known is not None:  # upstream's incrBanTime
                own = policy.incremented(previous)
            if verdict.ban is not None:
                book.admit(verdict.ban, now)
            if policy.bantime == -1 or now - ago + policy.bantime >= now:
                model.add(fid, Ticket(now - ago, own), now)
        elif op[0] == "set":
            value = float(op[1])  # type: ignore[arg-type]
            policy = replace(policy, bantime=value)
            book.rebase(value)
            model.bantime = value
        else:
            now += op[1]  # type: ignore[operator]
            assert {u.fid for u in book.due(now)} == model.due(now)
        ends = {fid: model.end(t) for fid, t in model.tickets.items()}
        assert {b.fid: (float("inf") if b.until is None else b.until) for b in book.banned()} == ends
