"""IgnoreSet and IgnoreCache."""

from __future__ import annotations

import json
import subprocess
from collections.abc import Iterable
from pathlib import Path

import pytest

from banjail.core.ignore import (
    MEMO_SIZE,
    IgnoreCache,
    IgnoreMatch,
    IgnoreSet,
    parse_address,
    parse_network,
    split_entries,
)
from banjail.errors import ConfigError

DNS = {"trusted.example": ["198.51.100.7", "2001:db8::7"], "gone.example": []}


def resolver(name: str) -> Iterable[str]:
    return DNS.get(name, [])


ENTRIES = [
    "127.0.0.1/8",
    "::1",
    "192.0.2.10",
    "10.1.0.0/255.255.0.0",
    "2001:db8:aa::/48",
    "::ffff:172.16.0.0/108",
    "trusted.example",
    "203.0.113.0/32",
]


@pytest.mark.parametrize(
    ("ip", "expected"),
    [
        ("127.0.0.1", IgnoreMatch("ip", "127.0.0.1/8")),
        ("127.255.1.2", IgnoreMatch("ip", "127.0.0.1/8")),
        ("::1", IgnoreMatch("ip", "::1")),
        ("192.0.2.10", IgnoreMatch("ip", "192.0.2.10")),
        ("::ffff:192.0.2.10", IgnoreMatch("ip", "192.0.2.10")),
        ("192.0.2.11", None),
        ("10.1.200.3", IgnoreMatch("ip", "10.1.0.0/255.255.0.0")),
        ("10.2.0.1", None),
        ("2001:db8:aa:1::5", IgnoreMatch("ip", "2001:db8:aa::/48")),
        ("2001:db8:ab::5", None),
        ("172.31.255.255", IgnoreMatch("ip", "::ffff:172.16.0.0/108")),
        ("172.32.0.1", None),
        ("198.51.100.7", IgnoreMatch("dns", "trusted.example")),
        ("2001:db8::7", IgnoreMatch("dns", "trusted.example")),
        ("203.0.113.0", IgnoreMatch("ip", "203.0.113.0/32")),
        ("[2001:db8:aa::9]", IgnoreMatch("ip", "2001:db8:aa::/48")),
        ("host.example", None),  # not an address: never ignored
        ("", None),
        ("192.0.2.1", IgnoreMatch("ignoreself rule")),
    ],
)
def test_match(ip: str, expected: IgnoreMatch | None) -> None:
    ignore = IgnoreSet(ENTRIES, self_ips=["192.0.2.1", "fe80::1"], resolver=resolver)
    assert ignore.match(ip) == expected
    assert ignore.contains(ip) == (None if expected is None else expected.source)


def test_ignoreself_can_be_turned_off_and_comes_first() -> None:
    ignore = IgnoreSet(["192.0.2.1"], self_ips=["192.0.2.1"])
    assert ignore.contains("192.0.2.1") == "ignoreself rule"
    ignore.ignoreself = False
    assert ignore.contains("192.0.2.1") == "ip"
    ignore.set_self_ips(["::ffff:192.0.2.2"])
    ignore.ignoreself = True
    assert ignore.contains("192.0.2.2") == "ignoreself rule"


def test_add_remove_and_entries() -> None:
    ignore = IgnoreSet(["192.0.2.0/24", "192.0.2.5"])
    ignore.add("192.0.2.5")  # duplicate: ignored
    ignore.add("  ")
    assert ignore.entries == ("192.0.2.0/24", "192.0.2.5")
    ignore.remove("192.0.2.0/24")
    ignore.remove("absent")
    assert list(ignore.entries) == ["192.0.2.5"]
    assert ignore.contains("192.0.2.6") is None
    assert ignore.contains("192.0.2.5") == "ip"


def test_file_entries_come_from_the_text_the_caller_read() -> None:
    files = {"/etc/fail2ban/ignore.list": "# office\n192.0.2.0/28, 198.51.100.1  # vpn\n\ntrusted.example\n"}
    ignore = IgnoreSet(["file:/etc/fail2ban/ignore.list"], files=files, resolver=resolver)
    assert ignore.entries == ("file:/etc/fail2ban/ignore.list",)
    assert ignore.match("192.0.2.14") == IgnoreMatch("ip", "192.0.2.0/28", "/etc/fail2ban/ignore.list")
    assert ignore.match("2001:db8::7") == IgnoreMatch("dns", "trusted.example", "/etc/fail2ban/ignore.list")
    assert ignore.contains("192.0.2.16") is None


def test_dns_entries_are_resolved_again_on_refresh() -> None:
    table = {"moving.example": ["192.0.2.1"]}
    ignore = IgnoreSet(["moving.example"], resolver=lambda name: table.get(name, []))
    assert ignore.contains("192.0.2.1") == "dns"
    table["moving.example"] = ["192.0.2.2"]
    ignore.refresh()
    assert (ignore.contains("192.0.2.1"), ignore.contains("192.0.2.2")) == (None, "dns")
    assert IgnoreSet(["moving.example"]).contains("192.0.2.2") is None  # no resolver: names match nothing


def test_bad_entries_are_all_reported() -> None:
    with pytest.raises(ConfigError) as caught:
        IgnoreSet(["10.0.0.0/33", "192.0.2.1", "file:/missing", "fe80::/200"])
    assert [(p.value, p.message) for p in caught.value.problems] == [
        ("10.0.0.0/33", "not an address, a network or a host name"),
        ("file:/missing", "ignore file '/missing' was not read"),
        ("fe80::/200", "not an address, a network or a host name"),
    ]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("1.2.3.4", "1.2.3.4"),
        ("::ffff:1.2.3.4", "1.2.3.4"),
        ("[::1]", "::1"),
        (" 2001:DB8::1 ", "2001:db8::1"),
    ],
)
def test_parse_address(text: str, expected: str) -> None:
    assert str(parse_address(text)) == expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("10.1.2.3/8", "10.0.0.0/8"),
        ("10.0.0.0/255.255.0.0", "10.0.0.0/16"),
        ("::ffff:10.0.0.0/104", "10.0.0.0/8"),
        ("2001:db8::1/32", "2001:db8::/32"),
        ("nonsense/8", "None"),
    ],
)
def test_parse_network(text: str, expected: str) -> None:
    assert str(parse_network(text)) == expected


def test_split_entries() -> None:
    assert split_entries("127.0.0.1/8 ::1,192.0.2.1\n  # all comment\nhost.example # trailing") == [
        "127.0.0.1/8",
        "::1",
        "192.0.2.1",
        "host.example",
    ]


def test_ignore_cache_expires_by_time_and_bounds_its_size() -> None:
    cache = IgnoreCache(max_count=3, max_time=300)
    cache.set("a", True, now=0)
    assert cache.get("a", now=299.9) is True
    assert cache.get("a", now=300) is None
    assert len(cache) == 0
    for index, key in enumerate("bcd"):
        cache.set(key, index % 2 == 0, now=1000 + index)
    cache.set("e", False, now=1003)  # full: the oldest ("b") goes
    assert [cache.get(k, now=1004) for k in "bcde"] == [None, False, True, False]
    cache.set("c", True, now=1005)  # an update does not evict
    assert [cache.get(k, now=1006) for k in "cde"] == [True, True, False]


def test_ignore_cache_drops_expired_entries_first_when_full() -> None:
    cache = IgnoreCache(max_count=2, max_time=10)
    cache.set("old", True, now=0)
    cache.set("new", True, now=5)
    cache.set("newer", True, now=12)  # "old" expired (and is the oldest)
    assert (cache.get("old", 12), cache.get("new", 12), cache.get("newer", 12)) == (None, True, True)


ORACLE_ENTRIES = [
    "127.0.0.1/8",
    "::1",
    "192.0.2.10",
    "10.1.0.0/255.255.0.0",
    "10.2.0.0/16",
    "2001:db8:aa::/48",
    "203.0.113.0/32",
    "198.51.100.64/26",
    "fe80::/10",
]
ORACLE_IPS = [
    "127.0.0.1",
    "127.9.9.9",
    "128.0.0.1",
    "::1",
    "::2",
    "192.0.2.10",
    "::ffff:192.0.2.10",
    "192.0.2.11",
    "10.1.200.3",
    "10.2.255.255",
    "10.3.0.0",
    "2001:db8:aa:1::5",
    "2001:db8:ab::5",
    "203.0.113.0",
    "203.0.113.1",
    "198.51.100.64",
    "198.51.100.127",
    "198.51.100.128",
    "fe80::1234",
    "host.example",
]


@pytest.mark.compat
def test_agrees_with_upstream_ignore_list() -> None:
    if not Path("/usr/lib/python3/dist-packages/fail2ban").exists():
        pytest.skip("upstream fail2ban not installed")
    oracle = Path(__file__).with_name("oracle_ignore.py")
    out = subprocess.run(
        ["/usr/bin/python3", str(oracle)],
        input=json.dumps({"entries": ORACLE_ENTRIES, "ips": ORACLE_IPS}),
        capture_output=True,
        text=True,
        check=True,
    )
    ignore = IgnoreSet(ORACLE_ENTRIES, ignoreself=False)
    assert [ignore.contains(ip) for ip in ORACLE_IPS] == json.loads(out.stdout)


# -- the memo of answers: bounded, and emptied by every change of the rules -----------------------------------


def _changed(rules: IgnoreSet, change: str) -> None:
    if change == "add":
        rules.add("198.18.0.0/15")
    elif change == "remove":
        rules.remove("10.9.9.9")
    elif change == "ignoreself on":
        rules.ignoreself = True
    elif change == "self ips":
        rules.set_self_ips(["198.18.0.1"])
    elif change == "refresh":
        DNS["moving.example"] = ["198.18.0.1"]
        try:
            rules.refresh()
        finally:
            DNS.pop("moving.example")


# (change, rules before, address asked before and after, answer after); before it, every address is not ignored
# (or, for `remove`, ignored as "ip")
MEMO_CASES = [
    ("add", ["192.0.2.99"], "198.18.0.1", "ip"),
    ("remove", ["10.9.9.9", "192.0.2.99"], "10.9.9.9", None),
    ("ignoreself on", ["192.0.2.99"], "192.0.2.200", "ignoreself rule"),
    ("self ips", ["192.0.2.99"], "198.18.0.1", "ignoreself rule"),
    ("refresh", ["moving.example", "192.0.2.99"], "198.18.0.1", "dns"),
]


@pytest.mark.parametrize(
    ("change", "entries", "address", "after"), MEMO_CASES, ids=[c[0] for c in MEMO_CASES]
)
def test_a_change_of_the_rules_is_seen_by_addresses_asked_before(
    change: str, entries: list[str], address: str, after: str | None
) -> None:
    rules = IgnoreSet(entries, ignoreself=change == "self ips", self_ips=["192.0.2.200"], resolver=resolver)
    before = rules.contains(address)
    assert rules.contains(address) == before  # the second answer comes from the memo
    _changed(rules, change)
    assert (before, rules.contains(address)) == ("ip" if change == "remove" else None, after)


def test_the_memo_is_bounded_and_keeps_answering_right() -> None:
    rules = IgnoreSet(["10.0.0.0/8"], ignoreself=False)
    seen = [f"10.{n >> 8 & 255}.{n & 255}.1" for n in range(2 * MEMO_SIZE + 3)]
    others = [f"11.{n >> 8 & 255}.{n & 255}.1" for n in range(2 * MEMO_SIZE + 3)]
    for ip, other in zip(seen, others, strict=True):
        assert (rules.contains(ip), rules.contains(other)) == ("ip", None)
        assert rules.remembered <= MEMO_SIZE
    assert [rules.contains(ip) for ip in seen[:3]] == ["ip"] * 3


def test_text_that_is_no_address_is_never_ignored_twice_over() -> None:
    rules = IgnoreSet(["0.0.0.0/0", "::/0"], ignoreself=False)
    for text in ["host.example", "", "1.2.3", "1.2.3.4.5", "[::1]", " 10.0.0.1 ", "::ffff:10.0.0.1"]:
        first = rules.contains(text)
        assert (
            rules.contains(text)
            == first
            == (None if text in ("host.example", "", "1.2.3", "1.2.3.4.5") else "ip")
        )
