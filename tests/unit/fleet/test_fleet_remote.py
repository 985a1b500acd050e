"""banjail.fleet.remote: remote notices offered to a jail's BanBook (clock skew, longest end, origin)."""

from __future__ import annotations

import pytest

from banjail.core.banbook import ALREADY, BANNED, EXPIRED, PROLONGED, BanBook
from banjail.fleet.notice import ban_notice
from banjail.fleet.remote import offer, origin_of, reason_for, reason_of
from banjail.model import Ban

NOW = 10_000.0


@pytest.mark.parametrize(
    ("start", "end", "kind", "until"),
    [
        (NOW, NOW + 600, BANNED, NOW + 600),  # same clock
        (NOW + 5, NOW + 605, BANNED, NOW + 600),  # origin 5 s ahead: its length from now
        (NOW - 5, NOW + 595, BANNED, NOW + 595),  # origin 5 s behind (or an old notice): its end
        (NOW - 20, NOW - 10, EXPIRED, None),  # over by our clock
        (NOW - 3600, None, BANNED, None),  # permanent stays permanent
    ],
)
def test_a_remote_ban_keeps_its_end_within_its_length(
    start: float, end: float | None, kind: str, until: float | None
) -> None:
    book = BanBook("sshd")
    notice = ban_notice("sshd", "192.0.2.7", start, end, 1, "web1", "sshd, 5 failures", start)
    admission = book.admit(offer(notice, NOW, None), NOW)
    assert admission.kind == kind
    if kind != EXPIRED:
        assert admission.ban.until == until
        assert origin_of(admission.ban) == "web1"
        assert reason_of(admission.ban) == "sshd, 5 failures"


def test_many_hosts_banning_one_address_give_one_ban_with_the_longest_end() -> None:
    book = BanBook("sshd")
    local = Ban("sshd", "192.0.2.7", "192.0.2.7", NOW - 100, NOW + 500, 1, 5)
    assert book.admit(local, NOW).kind == BANNED
    ends = [NOW + 300, NOW + 900, NOW + 700, NOW + 1200, NOW + 1000]
    kinds = []
    for n, end in enumerate(ends):
        notice = ban_notice("sshd", "192.0.2.7", NOW - 50 + n, end, 1, f"h{n}", "r", NOW)
        kinds.append(book.admit(offer(notice, NOW, book.get("192.0.2.7")), NOW).kind)
    assert kinds == [ALREADY, PROLONGED, ALREADY, PROLONGED, ALREADY]
    assert len(book) == 1
    held = book.get("192.0.2.7")
    assert held is not None and held.until == NOW + 1200


@pytest.mark.parametrize(("failures", "expected"), [(0, "manual"), (5, "sshd, 5 failures")])
def test_reason_for_a_local_ban(failures: int, expected: str) -> None:
    ban = Ban("sshd", "192.0.2.7", "192.0.2.7", NOW, NOW + 1, 1, failures)
    assert reason_for(ban, "sshd") == expected
    assert origin_of(ban) is None
