"""banjail.config.ini: one file's syntax and the merge of several, as upstream's configparser reads them."""

from __future__ import annotations

import pytest

from banjail.config.ini import Entry, InterpolationError, Tree, parse_text
from banjail.errors import Problem


def values(text: str, section: str = "s") -> dict[str, str]:
    parsed = parse_text(text, "f.conf")
    assert parsed.problems == []
    options = parsed.defaults if section == "DEFAULT" else parsed.sections[section]
    return {name: entry.value for name, entry in options.items()}


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("[s]\na = 1\n", {"a": "1"}),
        ("[s]\na: 1\n", {"a": "1"}),
        ("[s]\nName = x\n", {"name": "x"}),  # names lower-cased
        ("[s]\na = x ; comment\n", {"a": "x"}),  # ; after whitespace is a comment
        ("[s]\na = x;y\n", {"a": "x;y"}),  # ; without whitespace is not
        ("[s]\na = x # y\n", {"a": "x # y"}),  # # is never inline
        ("[s]\n# c\n; c\na = 1\n", {"a": "1"}),
        ("[s]\na = one\n    two\n  three\n", {"a": "one\ntwo\nthree"}),
        ("[s]\na = one\n\n    two\n\n", {"a": "one\n\ntwo"}),  # inner blank kept, trailing dropped
        ("[s]\na = one\n# note\n    two\n", {"a": "one\ntwo"}),  # comment lines inside a value vanish
        ("[s]\na =\n    one\n", {"a": "\none"}),
        ("[s]\na = b = c\n", {"a": "b = c"}),
        ("[s]\nurl = http://x\n", {"url": "http://x"}),  # first delimiter wins
        ("[s]\na = %%(x)s\n", {"a": "%%(x)s"}),  # raw until interpolated
        ("[s]\n  a = 1\n  b = 2\n", {"a": "1", "b": "2"}),  # same indent: new option
        ("[s] trailing\na = 1\n", {"a": "1"}),
    ],
)
def test_parse_values(text: str, expected: dict[str, str]) -> None:
    assert values(text) == expected


def test_default_section_and_lines() -> None:
    parsed = parse_text("[DEFAULT]\nx = 1\n[Definition]\n\nfailregex = a\n  b\n", "f.conf")
    assert parsed.defaults == {"x": Entry("1", "f.conf", 2)}
    assert parsed.sections == {"Definition": {"failregex": Entry("a\nb", "f.conf", 5)}}


@pytest.mark.parametrize(
    ("text", "problem"),
    [
        (
            "a = 1\n",
            Problem(
                "line 'a = 1' is outside any section",
                "f.conf",
                1,
                fix="put a [section] header (for example [Definition] or [DEFAULT]) above it",
            ),
        ),
        (
            "[s]\na = 1\nA = 2\n",
            Problem(
                "option is given twice in this section of the same file",
                "f.conf",
                3,
                "s",
                "a",
                fix="keep only one of them (a later file such as a .local may override it)",
            ),
        ),
        (
            "[s]\njunk\n",
            Problem(
                "cannot parse line 'junk'",
                "f.conf",
                2,
                "s",
                fix="write `name = value`, or indent the line to continue the previous value",
            ),
        ),
        (
            "[s]\na = 1\n[s]\nb = 2\n",
            Problem(
                "section [s] appears twice in this file",
                "f.conf",
                3,
                "s",
                fix="merge the two sections into one",
            ),
        ),
    ],
)
def test_parse_problems(text: str, problem: Problem) -> None:
    assert parse_text(text, "f.conf").problems == [problem]


def test_problem_rendering() -> None:
    problem = parse_text("[s]\na = 1\na = 2\n", "/etc/x.conf").problems[0]
    assert str(problem) == (
        "/etc/x.conf:3: [s] a: option is given twice in this section of the same file "
        "(keep only one of them (a later file such as a .local may override it))"
    )


def tree(*texts: str) -> Tree:
    result = Tree()
    for index, text in enumerate(texts):
        result.merge(parse_text(text, f"f{index}.conf"))
    return result


@pytest.mark.parametrize(
    ("texts", "section", "option", "expected"),
    [
        (("[s]\na = 1\nb = <%(a)s>\n",), "s", "b", "<1>"),
        (("[DEFAULT]\na = d\n[s]\nb = %(a)s\n",), "s", "b", "d"),
        (("[DEFAULT]\na = d\n[s]\na = s\nb = %(a)s\n",), "s", "b", "s"),  # section before DEFAULT
        (("[DEFAULT]\nb = %(a)s\n[s]\na = s\n",), "s", "b", "s"),  # DEFAULT values resolve in the section
        (("[s]\nb = %(__name__)s\n",), "s", "b", "s"),
        (("[s]\nb = 100%%\n",), "s", "b", "100%"),
        (("[s]\nb = %%(a)s\n",), "s", "b", "%(a)s"),
        (("[s]\nb = %(A)s\na = x\n",), "s", "b", "x"),  # reference names are lower-cased
        (("[o]\nx = 1\n[s]\nb = %(o/x)s\n",), "s", "b", "1"),
        (
            ("[DEFAULT]\nx = 0\n[o]\nq = 1\n[s]\nb = %(o/x)s\n",),
            "s",
            "b",
            "0",
        ),  # section/opt falls to DEFAULT
        (("[DEFAULT]\nx = d\n[s]\nx = s\nb = %(default/x)s\n",), "s", "b", "d"),
        (("[s]\nx = 1\n", "[s]\nx = %(known/x)s 2\n"), "s", "x", "1 2"),
        (("[s]\nx = 1\n", "[s]\nx = %(known/x)s 2\n", "[s]\nx = %(known/x)s 3\n"), "s", "x", "1 2 3"),
        (
            ("[DEFAULT]\nx = d\n[s]\ny = 1\n", "[s]\nx = %(known/x)s s\n"),
            "s",
            "x",
            "d s",
        ),  # known falls to DEFAULT
        (("[DEFAULT]\nx = 1\n", "[DEFAULT]\nx = 2\n"), "s2", "x", "2"),
        (("[s]\na = 1\nb = 2\n", "[s]\nb = 3\n"), "s", "a", "1"),  # other options survive an override
    ],
)
def test_interpolation(texts: tuple[str, ...], section: str, option: str, expected: str) -> None:
    merged = tree(*texts)
    merged.sections.setdefault("s2", {})
    assert merged.get(section, option) == expected


def test_vars_take_precedence_over_the_section() -> None:
    merged = tree("[s]\na = x\nb = %(a)s\n")
    assert merged.get("s", "b", {"a": "arg"}) == "arg"
    assert merged.get("s", "a", {"a": "arg"}) == "arg"


def test_conditional_sections_merge_into_their_base() -> None:
    merged = tree("[Init]\nx = 4\n[Init?family=inet6]\nx = 6\n")
    assert {k: e.value for k, e in merged.sections["Init"].items()} == {"x": "4", "x?family=inet6": "6"}


def test_get_missing_option_is_none() -> None:
    assert tree("[s]\na = 1\n").get("s", "zz") is None


@pytest.mark.parametrize(
    ("text", "message", "fix"),
    [
        (
            "[s]\nb = %(nope)s\n",
            "%(nope)s refers to an option that is not defined",
            "define nope in [s] or [DEFAULT], or fix the name",
        ),
        (
            "[s]\nb = 5% off\n",
            "a lone '%' at '% off'",
            "write %% for a literal percent sign, or %(name)s to refer to an option",
        ),
        (
            "[s]\nb = %(b)s\n",
            "references nest too deeply (a %(...)s loop?)",
            "check that no option refers back to itself",
        ),
        (
            "[s]\nb = %(zz/x)s\n",
            "%(zz/x)s refers to an option that is not defined",
            "define x in [s] or [DEFAULT], or fix the name",
        ),
    ],
)
def test_interpolation_errors_name_file_line_and_fix(text: str, message: str, fix: str) -> None:
    with pytest.raises(InterpolationError) as info:
        tree(text).get("s", "b")
    assert info.value.problem == Problem(
        message, "f0.conf", 2, "s", "b", text.split(" = ", 1)[1].strip(), fix
    )


def test_get_ex_reads_other_sections_and_known() -> None:
    merged = tree("[Definition]\nx = 1\n[Init]\ny = i\n", "[Definition]\nx = 2\n")
    assert merged.get_ex("Definition", "known/x") == "1"
    assert merged.get_ex("Definition", "Init/y") == "i"
    assert merged.get_ex("Definition", "x") == "2"
