"""JailState: the pure per-jail pipeline, line in, events out."""

from __future__ import annotations

from banjail.core.banbook import ALREADY, BANNED, PROLONGED
from banjail.core.banpolicy import BanHistory, BanPolicy
from banjail.core.counter import FailureCounter
from banjail.core.ignore import IgnoreSet
from banjail.core.jail import AskIgnore, BanDecided, Event, Found, Ignored, JailState, Restored
from banjail.filter.matcher import Matcher
from banjail.model import Ban, Failure, FilterSpec, Unban

T0 = 1_700_000_000.0
SPEC = FilterSpec(failregex=(r"^Failed login for \S+ from <HOST>$",))


def jail(
    *,
    maxretry: int = 3,
    policy: BanPolicy | None = None,
    ignore: IgnoreSet | None = None,
    history: dict[tuple[str, str | None], BanHistory] | None = None,
    ignorecommand: bool = False,
) -> JailState:
    known = history or {}
    return JailState(
        "sshd",
        matcher=Matcher(SPEC, live=True, check_all=False),
        counter=FailureCounter("sshd", maxretry=maxretry, findtime=600),
        policy=policy or BanPolicy(bantime=600),
        ignore=ignore,
        history=lambda fid, name: known.get((fid, name)),
        ignorecommand=ignorecommand,
    )


def kinds(events: list[Event]) -> list[str]:
    out = []
    for event in events:
        if isinstance(event, Found):
            out.append(f"found {event.failure.fid}")
        elif isinstance(event, Ignored):
            out.append(f"ignore {event.failure.fid} by {event.source}")
        elif isinstance(event, AskIgnore):
            out.append(f"ask {event.failure.fid}")
        elif isinstance(event, BanDecided):
            out.append(f"{event.kind} {event.ban.fid} until {event.ban.until} store={event.store}")
        elif isinstance(event, Restored):
            out.append("restored " + " ".join(f"{b.fid} until {b.until}" for b in event.bans))
        else:
            out.append(f"unban {event.fid}")
    return out


def test_three_failures_ban_then_unban_after_bantime() -> None:
    state = jail()
    events: list[Event] = []
    for i in range(3):
        events += state.feed("Failed login for root from 192.0.2.7", T0 + i)
    assert state.feed("Accepted login for root from 192.0.2.8", T0 + 3) == []
    assert kinds(events) == [
        "found 192.0.2.7",
        "found 192.0.2.7",
        "found 192.0.2.7",
        f"banned 192.0.2.7 until {T0 + 602} store=True",
    ]
    ban = events[-1]
    assert isinstance(ban, BanDecided)
    assert ban.ban.lines == ("Failed login for root from 192.0.2.7",) * 3
    assert state.next_wakeup() == T0 + 602
    assert state.tick(T0 + 602) == []
    assert state.tick(T0 + 603) == [Unban("sshd", "192.0.2.7", "192.0.2.7", T0 + 603)]


def test_ignored_addresses_are_not_counted() -> None:
    state = jail(maxretry=1, ignore=IgnoreSet(["192.0.2.0/24"], self_ips=["198.51.100.1"]))
    assert kinds(state.feed("Failed login for a from 192.0.2.9", T0)) == ["ignore 192.0.2.9 by ip"]
    assert kinds(state.feed("Failed login for a from 198.51.100.1", T0)) == [
        "ignore 198.51.100.1 by ignoreself rule"
    ]
    assert len(state.counter) == 0


def test_ignorecommand_round_trip() -> None:
    state = jail(maxretry=1, ignorecommand=True)
    [ask] = state.feed("Failed login for a from 192.0.2.9", T0)
    assert isinstance(ask, AskIgnore)
    assert kinds(state.resume(ask, True, T0)) == ["ignore 192.0.2.9 by command"]
    assert kinds(state.resume(ask, False, T0)) == [
        "found 192.0.2.9",
        f"banned 192.0.2.9 until {T0 + 600} store=True",
    ]


def test_increment_uses_history_and_boosts_known_bad_addresses() -> None:
    history: dict[tuple[str, str | None], BanHistory] = {
        ("192.0.2.7", "sshd"): BanHistory(count=2, last_at=T0 - 86400, last_bantime=1200)
    }
    state = jail(maxretry=5, policy=BanPolicy(bantime=600, increment=True), history=history)
    # banned twice before: one failure counts min(2**1 + 1, 5) = 3; the second reaches 5.
    events = state.feed("Failed login for a from 192.0.2.7", T0)
    events += state.feed("Failed login for a from 192.0.2.7", T0 + 1)
    assert kinds(events) == [
        "found 192.0.2.7",
        "found 192.0.2.7",
        f"banned 192.0.2.7 until {T0 + 1 + 2400} store=True",
    ]
    decided = events[-1]
    assert isinstance(decided, BanDecided)
    assert decided.ban.count == 3


def test_manual_ban_prolong_and_unban_by_network() -> None:
    state = jail()
    assert kinds([state.ban("192.0.2.7", T0)]) == [f"banned 192.0.2.7 until {T0 + 600} store=True"]
    assert kinds([state.ban("::ffff:192.0.2.7", T0 + 1)]) == [
        f"{PROLONGED} 192.0.2.7 until {T0 + 601} store=True"
    ]
    assert kinds([state.ban("192.0.2.8", T0)]) == [f"{BANNED} 192.0.2.8 until {T0 + 600} store=True"]
    assert kinds([state.ban("192.0.2.8", T0 - 10)]) == [f"{ALREADY} 192.0.2.8 until {T0 + 600} store=False"]
    assert state.unban("192.0.2.99", T0) == []
    assert state.unban("192.0.2.0/24", T0 + 5) == [
        Unban("sshd", "192.0.2.8", "192.0.2.8", T0 + 5, manual=True),
        Unban("sshd", "192.0.2.7", "192.0.2.7", T0 + 5, manual=True),
    ]
    assert len(state.book) == 0


def test_restore_skips_ignored_and_expired() -> None:
    state = jail(ignore=IgnoreSet(["10.0.0.0/8"]))

    def stored(fid: str, until: float | None) -> Ban:
        return Ban("sshd", fid, fid, T0 - 100, until, 2, 3, restored=True)

    events = state.restore(
        [stored("192.0.2.1", T0 + 500), stored("10.1.1.1", T0 + 500), stored("192.0.2.2", T0 - 1)], T0
    )
    # The Ignored events come first, then the bans as one batch (the daemon logs the two kinds apart anyway).
    assert kinds(events) == ["ignore 10.1.1.1 by ip", f"restored 192.0.2.1 until {T0 + 500}"]
    assert [b.fid for b in state.book.banned()] == ["192.0.2.1"]


def test_restore_over_bans_in_force_prolongs_or_keeps_them_after_the_batch() -> None:
    state = jail()
    state.ban("192.0.2.1", T0 - 100)  # in force until T0 + 500
    state.ban("192.0.2.2", T0 - 100)

    def stored(fid: str, until: float) -> Ban:
        return Ban("sshd", fid, fid, T0 - 100, until, 1, 3, restored=True)

    events = state.restore(
        [stored("192.0.2.1", T0 + 900), stored("192.0.2.3", T0 + 700), stored("192.0.2.2", T0 + 400)],
        T0,
        cap=False,  # lengths past bantime 600 are kept (the start after a kill -9); the cap is tested apart
    )
    assert kinds(events) == [
        f"restored 192.0.2.3 until {T0 + 700}",
        f"prolonged 192.0.2.1 until {T0 + 900} store=False",
        f"already banned 192.0.2.2 until {T0 + 500} store=False",
    ]
    assert state.restore([], T0) == []


def test_attempt_counts_its_lines() -> None:
    state = jail(maxretry=3)
    events = state.attempt("192.0.2.5", ["x", "y", "z"], T0)
    assert kinds(events) == ["found 192.0.2.5", f"banned 192.0.2.5 until {T0 + 600} store=True"]
    assert isinstance(events[0], Found) and (events[0].attempt, events[0].count) == (True, 3)


def test_attempt_skips_ignore_rules_ignorecommand_and_history_weight() -> None:
    # As upstream's addAttempt: the failure goes straight to the counter.
    increment = BanPolicy.from_options(bantime=600, increment=True)
    history = {("192.0.2.5", "sshd"): BanHistory(count=3, last_at=T0 - 10, last_bantime=600)}
    state = jail(
        maxretry=5,
        ignore=IgnoreSet(["192.0.2.0/24"], ignoreself=True, self_ips=["192.0.2.5"]),
        ignorecommand=True,
        policy=increment,
        history=history,
    )
    events = state.attempt("192.0.2.5", [], T0)
    assert kinds(events) == ["found 192.0.2.5"]
    assert isinstance(events[0], Found) and (events[0].attempt, events[0].count) == (True, 1)
    assert state.counter.retries("192.0.2.5") == 1
    assert kinds(state.attempt("not-an-ip", [], T0)) == ["found not-an-ip"]
    assert kinds(state.attempt("::ffff:192.0.2.9", [], T0)) == ["found 192.0.2.9"]


def test_catch_up_drops_old_failures_and_operation_takes_them_as_now() -> None:
    state = jail(maxretry=1)
    old = Failure(fid="192.0.2.5", ip="192.0.2.5", time=T0 - 601, lines=("l",))
    events: list[Event] = []
    state.failure(old, T0, events, catching_up=True)
    assert events == []
    state.failure(old, T0, events)
    assert kinds(events) == ["found 192.0.2.5", f"banned 192.0.2.5 until {T0 + 600} store=True"]
