"""BanBook: one ban per fid, prolonging, unban scheduling."""

from __future__ import annotations

import pytest

from banjail.core.banbook import ALREADY, BANNED, EXPIRED, PROLONGED, Admission, BanBook
from banjail.model import Ban, Unban

T0 = 1_700_000_000.0


def ban(fid: str, at: float, length: float | None, count: int = 1) -> Ban:
    return Ban(
        jail="sshd",
        fid=fid,
        ip=fid,
        at=at,
        until=None if length is None else at + length,
        count=count,
        failures=3,
    )


@pytest.mark.parametrize(
    ("first", "second", "kind", "until"),
    [
        (ban("a", T0, 600), ban("a", T0 + 10, 300), ALREADY, T0 + 600),
        (ban("a", T0, 600), ban("a", T0 + 10, 590), ALREADY, T0 + 600),  # ends at the same time
        (ban("a", T0, 600), ban("a", T0 + 10, 1200), PROLONGED, T0 + 1210),
        (ban("a", T0 + 10, 600), ban("a", T0, 1200), PROLONGED, T0 + 1210),  # older ban time: from the newer
        (ban("a", T0, 600), ban("a", T0 + 10, None), PROLONGED, None),
        (ban("a", T0, None), ban("a", T0 + 10, 10**9), ALREADY, None),
    ],
)
def test_second_ban_of_a_banned_fid(first: Ban, second: Ban, kind: str, until: float | None) -> None:
    book = BanBook("sshd")
    assert book.admit(first, T0) == Admission(BANNED, first)
    admission = book.admit(second, T0 + 20)
    assert (admission.kind, admission.ban.until) == (kind, until)
    assert book.get("a") == admission.ban
    assert (len(book), book.total) == (1, 1)


def test_expired_bans_are_refused() -> None:
    book = BanBook("sshd")
    old = ban("a", T0 - 700, 600)
    assert book.admit(old, T0) == Admission(EXPIRED, old)
    assert "a" not in book


def test_due_unbans_strictly_after_the_end_and_skips_stale_schedule() -> None:
    book = BanBook("sshd")
    book.admit(ban("a", T0, 600), T0)
    book.admit(ban("b", T0, 300), T0)
    book.admit(ban("c", T0, None), T0)
    book.admit(ban("a", T0, 900), T0)  # prolonged: its first schedule row is stale
    assert book.next_end() == T0 + 300
    assert book.due(T0 + 300) == []
    assert book.due(T0 + 300.5) == [Unban("sshd", "b", "b", T0 + 300.5)]
    assert book.next_end() == T0 + 900  # the stale T0 + 600 row is skipped
    assert book.due(T0 + 800) == []
    assert book.due(T0 + 10**9) == [Unban("sshd", "a", "a", T0 + 10**9)]
    assert book.next_end() is None
    assert [b.fid for b in book.banned()] == ["c"]


def test_manual_unban_and_listing_order() -> None:
    book = BanBook("sshd")
    for fid, length in [("p", None), ("x", 900), ("y", 300), ("z", 600)]:
        book.admit(ban(fid, T0, length), T0)
    assert [b.fid for b in book.banned()] == ["y", "z", "x", "p"]
    assert book.remove("y", T0 + 1) == Unban("sshd", "y", "y", T0 + 1, manual=True)
    assert book.remove("y", T0 + 1) is None
    assert book.due(T0 + 10_000) == [
        Unban("sshd", "z", "z", T0 + 10_000),
        Unban("sshd", "x", "x", T0 + 10_000),
    ]
    assert book.remove_all(T0 + 2) == [Unban("sshd", "p", "p", T0 + 2, manual=True)]
    assert (len(book), book.total, book.next_end()) == (0, 4, None)


RESTORE_CASES = [
    pytest.param(
        [ban("a", T0, 600), ban("b", T0 - 50, 100), ban("c", T0, None)], id="one expired, one permanent"
    ),
    pytest.param(
        [ban("a", T0, 600), ban("a", T0 + 10, 1200), ban("a", T0, 300)], id="a fid twice: prolonged, already"
    ),
    pytest.param(
        [ban(f"10.0.0.{i}", T0 - i, 100 + 7 * (i % 5)) for i in range(40)], id="many, unordered ends"
    ),
    pytest.param([], id="none"),
]


@pytest.mark.parametrize("bans", RESTORE_CASES)
def test_bulk_restore_equals_admitting_each_in_order(bans: list[Ban]) -> None:
    bulk, single = BanBook("sshd"), BanBook("sshd")
    single.admit(ban("z", T0 - 5, 30), T0)
    bulk.admit(ban("z", T0 - 5, 30), T0)  # a ban already in force before the restore
    expected = [a for a in (single.admit(b, T0) for b in bans) if a.kind != EXPIRED]
    banned, others = bulk.restore(bans, T0)
    assert banned == [a.ban for a in expected if a.kind == BANNED]
    assert others == [a for a in expected if a.kind != BANNED]
    assert (bulk.banned(), len(bulk), bulk.total) == (single.banned(), len(single), single.total)
    for now in (T0 + 40, T0 + 130, T0 + 700, T0 + 1300):
        assert (bulk.next_end(), bulk.due(now)) == (single.next_end(), single.due(now))
