"""dateregex: group 1 alone, line-start anchoring and the newline-free form, read from regex sources."""

from __future__ import annotations

import re

import pytest

from banjail.filter.dateregex import group_one, single_line, starts_line


@pytest.mark.parametrize(("source", "group", "line_start"), [
    (r"^\W{0,2}((?P<H>\d\d):(?P<M>\d\d))(?!(?<=\w)\w)", r"((?P<H>\d\d):(?P<M>\d\d))", True),
    (r"(?i)^(a(b)c)", r"(a(b)c)", True),
    (r"^(?P<x>[(]y\))z", r"(?P<x>[(]y\))", True),  # group 1 may be named; a "(" in a class is no group
    (r"^[^\[]*\[(\d+)\]", r"(\d+)", True),
    (r"(?:^|(?<=^\[))(\d{10})", r"(\d{10})", False),  # "^" or a lookbehind: not only at the start
    (r"^a|(b)", r"(b)", False),  # an alternative at the top level
    (r"(^a|b)(c)", r"(^a|b)", False),
    (r"((?:^a|^b)c)", r"((?:^a|^b)c)", False),  # read conservatively: the "|" is inside a leading group
    (r"(?:^x)(y)", r"(y)", True),
    (r"x^(y)", r"(y)", False),
    (r"^(?P<n>a)(?P=n)", r"(?P<n>a)", True),
    (r"^(\x41)", None, False),  # long escapes are not read
    (r"^(?#c)(a)", None, False),
    (r"^no group", None, True),
])
def test_group_one_and_starts_line(source: str, group: str | None, line_start: bool) -> None:
    regex = re.compile(source)
    found = group_one(regex)
    assert (found.pattern if found is not None else None) == group
    assert starts_line(regex) == line_start


@pytest.mark.parametrize(("source", "rewritten"), [
    (r"^\W{0,2}(\d+)\s*(?:Z)?", r"^[^\w\n]{0,2}(\d+)[^\S\n]*(?:Z)?"),
    (r"^[^\[]*\[(\D)", r"^[^\n\[]*\[([^\d\n])"),
    (r"(?i)^[a-z](?P<s>[-/])\d(?P=s)", r"^[a-z](?P<s>[-/])\d(?P=s)"),
    (r"^a$", r"^a$"),
    (r"^[\s,]", None),  # a class that takes the newline and is not negated
    (r"^a\n", None),
    (r"^a\Z", None),
    (r"(?s)^a.b", None),
    (r"^(?s:a.b)", None),
    (r"(?x)^a b", None),
])
def test_single_line(source: str, rewritten: str | None) -> None:
    found = single_line(re.compile(source))
    assert (found.pattern if found is not None else None) == rewritten
    assert found is None or found.flags & re.MULTILINE
