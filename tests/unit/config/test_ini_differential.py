"""banjail's INI syntax against Python's configparser configured as upstream configures it (the parser upstream
fail2ban runs on), on generated files: same sections, same option names, same raw values, same rejections."""

from __future__ import annotations

import configparser

from hypothesis import given, settings
from hypothesis import strategies as st

from banjail.config.ini import parse_text

LINES = st.sampled_from(
    [
        "[s]",
        "[t]",
        "[DEFAULT]",
        "a = 1",
        "A = 2",
        "b: x ; note",
        "b = x;y",
        "c = v # not a comment",
        "  continued",
        "\tmore",
        "",
        "# comment",
        "; comment",
        "   # indented comment",
        "d =",
        "e = %(a)s",
        "f = a = b",
        "g=h:i",
        "  h = indented option",
    ]
)


def reference(text: str) -> dict[str, dict[str, str]] | None:
    parser = configparser.ConfigParser(inline_comment_prefixes=";", interpolation=None)
    try:
        parser.read_string(text)
    except configparser.Error:
        return None
    result = {"DEFAULT": dict(parser.defaults())}
    for name in parser.sections():
        result[name] = dict(parser._sections[name])  # own options only, as upstream reads them
    return result


@settings(max_examples=400, deadline=None)
@given(st.lists(LINES, max_size=12))
def test_same_reading_as_configparser(lines: list[str]) -> None:
    text = "\n".join(lines) + "\n"
    expected = reference(text)
    parsed = parse_text(text, "f.conf")
    if expected is None:
        assert parsed.problems, text
        return
    assert parsed.problems == [], text
    got = {"DEFAULT": {k: e.value for k, e in parsed.defaults.items()}}
    got.update({name: {k: e.value for k, e in opts.items()} for name, opts in parsed.sections.items()})
    assert got == expected, text
