"""banjail.config.tags: <tag> substitution and name[key=value] arguments."""

from __future__ import annotations

import pytest

from banjail.config.tags import TagError, extract_options, split_with_options, substitute, substitute_text


@pytest.mark.parametrize(
    ("values", "expected"),
    [
        ({"a": "3", "b": "<a>_3"}, {"a": "3", "b": "3_3"}),
        ({"b": "<a>-<a>", "a": "x"}, {"b": "x-x", "a": "x"}),
        ({"a": "<b>", "b": "<c>", "c": "z"}, {"a": "z", "b": "z", "c": "z"}),
        # nested: the innermost tag first
        (
            {"failregex": "<mdre-<mode>>", "mode": "normal", "mdre-normal": "N"},
            {"failregex": "N", "mode": "normal", "mdre-normal": "N"},
        ),
        # run-time and unknown tags stay
        ({"r": "^from <HOST> user <F-USER>.*</F-USER> <ip> <matches>"}, None),
        ({"r": "a < b > c <with space>"}, None),
        ({"r": "<<sender>>", "sender": "me"}, {"r": "<me>", "sender": "me"}),
    ],
)
def test_substitute(values: dict[str, str], expected: dict[str, str] | None) -> None:
    assert substitute(values) == (values if expected is None else expected)


def test_substitute_uses_lookup_for_known_and_section_tags() -> None:
    lookup = {"known/chain": "INPUT", "Init/x": "<y>"}.get
    assert substitute({"c": "<known/chain>/<Init/x>", "y": "Y"}, lookup=lookup) == {"c": "INPUT/Y", "y": "Y"}


def test_ignored_options_are_neither_substituted_nor_substituted_into_others() -> None:
    values = {"bantime": "<x>", "x": "1", "cmd": "ban <bantime> <x>"}
    assert substitute(values, ignore={"bantime"}) == {"bantime": "<x>", "x": "1", "cmd": "ban <bantime> 1"}


def test_conditional_variant_is_preferred() -> None:
    values = {"blocktype": "4", "blocktype?family=inet6": "6", "cmd": "<blocktype>"}
    assert substitute_text("<blocktype>", values, conditional="family=inet6") == "6"
    assert substitute_text("<blocktype>", values) == "4"


@pytest.mark.parametrize(
    ("values", "message"),
    [
        ({"a": "<a>"}, "tag <a> refers to itself (a -> a)"),
        ({"a": "<b>", "b": "x<a>"}, "tag <a> refers to itself (a -> b -> a)"),
    ],
)
def test_self_reference_is_an_error(values: dict[str, str], message: str) -> None:
    with pytest.raises(TagError) as info:
        substitute(values)
    assert str(info.value) == message
    assert info.value.tag == "a"


def test_unbounded_growth_is_an_error() -> None:
    # Each round builds a new tag name from the last: bounded, never endless.
    with pytest.raises(TagError) as info:
        substitute({"x": "<a>"}, lookup=lambda tag: "<" + tag + "a>" if len(tag) < 100 else None)
    assert str(info.value) == "tags nest more than 25 levels deep: x -> a -> aa -> aaa -> aaaa ..."


@pytest.mark.parametrize(
    ("text", "name", "args"),
    [
        ("sshd", "sshd", {}),
        ("  sshd  ", "sshd", {}),
        ("sshd[mode=aggressive]", "sshd", {"mode": "aggressive"}),
        ("a[x=1, y=2]", "a", {"x": "1", "y": "2"}),
        ("a[port=\"ssh,sftp\", b='x, ]y']", "a", {"port": "ssh,sftp", "b": "x, ]y"}),
        ("a[x=1][y=2]", "a", {"x": "1", "y": "2"}),
        ("a[x= 1 ,]", "a", {"x": "1"}),
        ("a[]", "a", {}),
        ("a[x=]", "a", {"x": ""}),
        ("a[name=%(__name__)s-tcp, k.e-y=v]", "a", {"name": "%(__name__)s-tcp", "k.e-y": "v"}),
        ("/etc/f2b/filter.d/x.conf[mode=m]", "/etc/f2b/filter.d/x.conf", {"mode": "m"}),
        ('a[x="multi\nline"]', "a", {"x": "multi\nline"}),
        # upstream 1.1's conditional argument: the value for one family
        ('iptables[blocktype?family=inet6="DROP", port=22]', "iptables", {"blocktype?family=inet6": "DROP", "port": "22"}),
    ],
)
def test_extract_options(text: str, name: str, args: dict[str, str]) -> None:
    assert extract_options(text) == (name, args)


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("", "empty name"),
        ("[x=1]", "missing name before '[' in '[x=1]'"),
        ("a[x=1", "arguments of 'a' must end with ']': 'a[x=1'"),
        ("a[x]", "expected key=value at 0 in 'a' arguments: 'x'"),
        (
            'a[x="1" y=2]',
            "unexpected text after argument 'x' at 6: 'y=2' (quote values that contain ',' or ']')",
        ),
    ],
)
def test_extract_options_errors(text: str, message: str) -> None:
    with pytest.raises(ValueError) as info:
        extract_options(text)
    assert str(info.value) == message


@pytest.mark.parametrize(
    ("text", "items"),
    [
        ("a b", ["a", "b"]),
        ('a[x=1] b[y="2, 3"]\n  c', ["a[x=1]", 'b[y="2, 3"]', "c"]),
        ("a [x=1]", ["a [x=1]"]),
        ("a[x=1][y=2] b", ["a[x=1][y=2]", "b"]),
        ('a[x="] b"] c', ['a[x="] b"]', "c"]),
        ("a[x=1, y=2\n   z=3]\nb", ["a[x=1, y=2\n   z=3]", "b"]),
        ("", []),
        ("a[x=1\nb", ["a[x=1", "b"]),
    ],
)
def test_split_with_options(text: str, items: list[str]) -> None:
    assert split_with_options(text) == items
