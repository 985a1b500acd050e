"""Regexes as upstream's server reports them: the expected texts are fail2ban 1.0.2's replies to
`get <jail> failregex|prefregex` for the same configured regexes (recorded from its server)."""

from __future__ import annotations

import pytest

from banjail.daemon.regexview import reported, reported_prefregex

IP4 = r"(?:::f{4,6}:)?(?P<ip4>(?:\d{1,3}\.){3}\d{1,3})"
IP6 = r"(?P<ip6>(?:[0-9a-fA-F]{1,4}::?|::){1,7}(?:[0-9a-fA-F]{1,4}|(?<=:):))"
DNS = r"(?P<dns>[\w\-.^_]*\w)"
ADDR = rf"\[?(?:{IP4}|{IP6})\]?"
HOST = rf"(?:{ADDR}|{DNS})"

CASES: list[tuple[str, str, str]] = [
    ("^auth failure from <HOST>$", "warn", rf"^auth failure from {HOST}$"),
    ("^auth failure from <HOST>$", "no", rf"^auth failure from {ADDR}$"),
    (
        r"^bad user <F-USER>\S+</F-USER> from <SUBNET> port <F-PORT/>$",
        "no",
        rf"^bad user (?P<user>\S+) from \[?(?:{IP4}|{IP6})(?:/(?P<cidr>\d+))?\]? port (?P<fport>\w+)$",
    ),
    (
        r"^(?:(?i)weird) <IP4> or <IP6> or <DNS> <F-ID/> <CIDR> <SKIPLINES> </F-X>$",
        "no",
        rf"^(?i:weird) {IP4} or {IP6} or {DNS} (?P<fid>\S+) (?P<cidr>\d+) \n(?P<skiplines0>(?:(?:.*\n)*?)) </F-X>$",
    ),
    ("^<F-MLFID>auth</F-MLFID> <F-CONTENT>.+</F-CONTENT>$", "no", "^(?P<mlfid>auth) (?P<content>.+)$"),
    ("^no tags at all$", "yes", "^no tags at all$"),
]


@pytest.mark.parametrize(("regex", "usedns", "expected"), CASES, ids=[c[0] for c in CASES])
def test_reported_as_upstream(regex: str, usedns: str, expected: str) -> None:
    assert reported(regex, usedns) == expected


def test_no_prefregex_is_empty_text() -> None:
    assert reported_prefregex("", "warn") == ""
