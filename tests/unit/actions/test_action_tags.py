"""BanInfo: the run-time tag values of a ban (checked against upstream's action info by hand-run oracle)."""

from __future__ import annotations

import pytest

from banjail.actions.tags import BanInfo, History, family_of, fq_hostname, reverse_name, sh_hostname
from banjail.model import Ban

BAN = Ban(
    jail="sshd",
    fid="192.0.2.7",
    ip="192.0.2.7",
    at=1700000000.5,
    until=1700000600.5,
    count=2,
    failures=5,
    lines=("line 1 from 192.0.2.7", "line 2; rm -rf /"),
    groups=(("user", "root'x"), ("fid", "192.0.2.7"), ("fport", "22")),
    restored=True,
)


@pytest.mark.parametrize(
    ("tag", "value"),
    [
        ("ip", "192.0.2.7"),
        ("family", "inet4"),
        ("ip-rev", "7.2.0.192."),
        ("fid", "192.0.2.7"),
        ("failures", "5"),
        ("time", "1700000000.5"),
        ("bantime", "600"),
        ("bancount", "2"),
        ("matches", "line 1 from 192.0.2.7\nline 2; rm -rf /"),
        ("ipmatches", "line 1 from 192.0.2.7\nline 2; rm -rf /"),
        ("ipjailfailures", "5"),
        ("restored", "1"),
        ("F-USER", "root'x"),
        ("F-ID", "192.0.2.7"),
        ("F-PORT", "22"),
        ("F-NOPE", ""),
        ("F-user", None),  # upper case only, as upstream
        ("br", "\n"),
        ("sp", " "),
        ("name", None),
        ("jail.banned", None),
    ],
)
def test_ban_values(tag: str, value: str | None) -> None:
    assert BanInfo(BAN, "inet4").value(tag) == value


def test_host_names() -> None:
    info = BanInfo(None, "")
    assert info.value("fq-hostname") == fq_hostname()
    assert info.value("sh-hostname") == sh_hostname()


@pytest.mark.parametrize(
    ("ip", "rev"),
    [
        ("1.2.3.4", "4.3.2.1."),
        ("::ffff:1.2.3.4", "4.3.2.1."),
        ("2001:db8::1", "1.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.8.b.d.0.1.0.0.2."),
        ("user1", ""),
    ],
)
def test_reverse_name(ip: str, rev: str) -> None:
    assert reverse_name(ip) == rev


def test_family_and_ids_that_are_not_addresses() -> None:
    v6 = Ban("j", "2001:db8::1", "2001:db8::1", 0.0, None, 1, 3)
    user = Ban("j", "alice", None, 0.0, None, 1, 3)
    assert (family_of(v6), family_of(user)) == ("inet6", "inet4")
    assert BanInfo(v6, "inet6").value("bantime") == "-1"
    assert BanInfo(user, "inet4").value("ip") == "alice"
    assert BanInfo(user, "inet4").value("ip-rev") == ""


def test_history_and_counters_are_asked_only_when_used() -> None:
    calls: list[bool] = []

    def history(ban: Ban, all_jails: bool) -> History:
        calls.append(all_jails)
        return History(("old line", "new line"), 9 if all_jails else 7)

    info = BanInfo(BAN, "inet4", history=history, counters=lambda: {"name": "sshd", "banned": 4, "found_total": 11})
    assert info.value("ip") == "192.0.2.7"
    assert calls == []
    assert info.value("ipmatches") == "old line\nnew line"
    assert info.value("ipfailures") == "9"
    assert info.value("ipjailfailures") == "7"
    assert info.value("jail.banned") == "4"
    assert info.value("jail.found_total") == "11"
    assert info.value("jail.name") == "sshd"  # upstream 1.1's tag
    assert calls == [True, False]  # one query per scope, as upstream's _mi4ip


def test_without_a_ban() -> None:
    info = BanInfo(None, "inet6", now=12.5)
    assert [info.value(t) for t in ("family", "time", "ip", "matches")] == ["inet6", "12.5", None, None]
