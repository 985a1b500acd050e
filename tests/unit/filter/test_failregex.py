"""banjail.filter.failregex (tags -> regex, groups) and banjail.filter.prefilter (required literals)."""

from __future__ import annotations

import re

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from banjail.errors import RegexError
from banjail.filter import prefilter
from banjail.filter.failregex import compile_filter, compile_regex, expand_tags


@pytest.mark.parametrize(
    ("regex", "text", "groups"),
    [
        ("^x <HOST>$", "x 192.0.2.1", {"ip4": "192.0.2.1", "ip6": None, "dns": None}),
        ("^x <ADDR>$", "x [2001:db8::1]", {"ip4": None, "ip6": "2001:db8::1"}),
        ("^x <IP4>$", "x 192.0.2.1", {"ip4": "192.0.2.1"}),
        ("^x <F-IP6/>$", "x ::1", {"ip6": "::1"}),
        ("^x <SUBNET>$", "x 192.0.2.0/24", {"ip4": "192.0.2.0", "ip6": None, "cidr": "24"}),
        ("^x <ADDR>/<CIDR>$", "x 192.0.2.0/24", {"ip4": "192.0.2.0", "ip6": None, "cidr": "24"}),
        ("^x <F-ID/>$", "x abc", {"fid": "abc"}),
        ("^x <F-ID>\\w+</F-ID> <F-PORT/>$", "x abc 22", {"fid": "abc", "fport": "22"}),
        ("^<F-USER>\\w+</F-USER> <DNS>$", "bob host.example", {"user": "bob", "dns": "host.example"}),
        ("^x</F-USER>$", "x</F-USER>", {}),  # a closing tag never opened stays literal text
        ("^<unknown> <F-ID/>$", "<unknown> a", {"fid": "a"}),
        ("^(?:(?i)ab) <F-ID/>$", "AB a", {"fid": "a"}),  # global flag group made local
    ],
)
def test_tags(regex: str, text: str, groups: dict[str, str | None]) -> None:
    compiled = compile_regex(regex)
    m = compiled.pattern.search(text)
    assert m is not None
    assert m.groupdict() == groups


def test_host_without_dns() -> None:
    assert "(?P<dns>" not in expand_tags("<HOST>", "no")
    assert "(?P<dns>" in expand_tags("<HOST>", "warn")


def test_alt_and_tuple_groups() -> None:
    regex = compile_regex(
        r"^<F-ALT_USER_1>\w*</F-ALT_USER_1>:<F-USER>\w*</F-USER>:<F-TUPLE_ID_1>\w+</F-TUPLE_ID_1>"
    )
    m = regex.pattern.search("bob::x")
    assert m is not None
    groups = regex.groups(m)
    assert groups["user"] == "bob"
    assert groups["fid"] == (None, "x")


def test_skiplines_are_reported() -> None:
    regex = compile_regex(r"^a <HOST><SKIPLINES>^b$", multiline=True)
    m = regex.pattern.search("a 192.0.2.1\nnoise 1\nnoise 2\nb\n")
    assert m is not None
    assert regex.skipped(m) == ["noise 1", "noise 2"]


def test_every_bad_regex_is_reported() -> None:
    with pytest.raises(RegexError) as info:
        compile_filter(["^ok <HOST>$", "^(unclosed <HOST>", "^no id$", "  "], ["[bad"], "")
    messages = [(p.option, p.message.split(":")[0]) for p in info.value.problems]
    assert messages == [
        ("failregex", "line 2"),
        ("failregex", "line 3"),
        ("failregex", "line 4"),
        ("ignoreregex", "line 1"),
    ]
    assert info.value.problems[1].message == "line 3: no failure-id group"
    assert info.value.problems[2].message == "line 4: cannot compile: empty regex"


def test_prefregex_id_satisfies_failregex() -> None:
    regexes = compile_filter(["^failed$"], [], "^<F-MLFID>\\w+</F-MLFID> <F-CONTENT>.+</F-CONTENT>$")
    assert regexes.prefregex is not None
    assert len(regexes.failregex) == 1


@pytest.mark.parametrize(
    ("regex", "needs"),
    [
        ("^Failed password for <HOST>", {"Failed password for "}),
        (
            "^[iI](?:llegal|nvalid) user <HOST>",
            {"Illegal user ", "Invalid user ", "illegal user ", "invalid user "},
        ),
        ("(?:abc|xyz)def", {"abcdef", "xyzdef"}),
        ("(?i)Failed <HOST>", None),
        ("a(?:b|)c <HOST>", {"abc ", "ac "}),  # optional parts expand into alternatives
        ("a.b <HOST>", None),  # nothing of 3+ characters is certain
        ("^(?:(?:Connection (?:closed|reset))+) <HOST>", {"Connection closed", "Connection reset"}),
    ],
)
def test_required_literals(regex: str, needs: set[str] | None) -> None:
    found = prefilter.required(compile_regex(regex).pattern)
    assert (set(found) if found is not None else None) == needs


@pytest.mark.parametrize(
    ("regex", "chars"),
    [
        ("^Failed <HOST>", "F"),
        ("^[iI]nvalid <HOST>", "Ii"),
        ("^(?:a|b)?c <HOST>", "abc"),
        ("^\\s*x <HOST>", None),
        ("x <HOST>", None),
    ],
)
def test_first_chars(regex: str, chars: str | None) -> None:
    found = prefilter.first_chars(compile_regex(regex).pattern)
    assert ("".join(sorted(found)) if found is not None else None) == chars


_PIECES = st.sampled_from(
    ["ab", "c", "(?:ab|cd)", "x?", "[ab]", "(?:ef)+", "\\d", ".", "(?:g|)", "(?i:hi)", "yz*"]
)


@settings(max_examples=300, deadline=None)
@given(st.lists(_PIECES, min_size=1, max_size=6), st.text(alphabet="abcdefghiyzxHI01 ", max_size=30))
def test_required_literals_are_sound(pieces: list[str], text: str) -> None:
    """Whenever a pattern matches, the text contains one of its required strings; first_chars likewise."""
    pattern = re.compile("".join(pieces))
    anchored = re.compile("^" + "".join(pieces))
    needs = prefilter.required(pattern)
    m = pattern.search(text)
    if m is not None and needs is not None:
        assert any(s in m.group() for s in needs)
    firsts = prefilter.first_chars(anchored)
    if firsts is not None and anchored.search(text):
        assert text[:1] in firsts
