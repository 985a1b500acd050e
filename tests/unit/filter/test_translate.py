"""banjail.filter.translate proven against Python's re through the C extension: generated regexes (classes,
`\\s` with \\x1c-\\x1f, `\\w`, `\\b`, `$` before the final newline, look-arounds, lazy and bounded repeats,
conditionals, back-references, case folding) on generated ASCII subjects give the same match and the same span
of every group, or the translator refuses them."""

from __future__ import annotations

import re
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from banjail.filter import native, translate

pytestmark = pytest.mark.skipif(not native.built(), reason="the native engine is not built")

ALPHABET = "ab AB1_:.-\t\x0b\x0c\r\x1c\x1d\x1e\x1f\x7f"


def _program(pcre: str, names: tuple[tuple[str, int], ...]) -> Any:
    from banjail.filter import _native  # type: ignore[attr-defined]

    return _native.Program(None, (), -1, [pcre], [names], bytes(128), ((0,),))


def _spans(pattern: re.Pattern[str], subject: str) -> dict[str, Any] | None:
    m = pattern.search(subject)
    return None if m is None else m.groupdict()


def _native_groups(pattern: re.Pattern[str], subject: str) -> dict[str, Any] | None:
    names = tuple(sorted(pattern.groupindex.items(), key=lambda item: item[1]))
    rows = _program(translate.to_pcre2(pattern), names).scan(subject, [0] * subject.count("\n"))
    assert len(rows) <= 1
    return rows[0][2][0] if rows else None


@pytest.mark.parametrize("code", range(128))
@pytest.mark.parametrize(
    "item",
    [r"\s", r"\S", r"\w", r"\W", r"\d", r"\D", ".", "[^a]", r"[\s:]", r"[^\s\d]", "[a-f0-3_]", "(?i:a)", "(?i:[xy])", r"\b."],
)
def test_each_character_item_accepts_what_python_accepts(item: str, code: int) -> None:
    if code == 0x0A:
        return  # the line end: no line holds it
    pattern = re.compile(f"^(?P<g>{item})")
    subject = chr(code) + "\n"
    assert _native_groups(pattern, subject) == _spans(pattern, subject)


_ATOMS = st.sampled_from(
    ["a", "b", " ", "A", ":", r"\.", ".", r"\s", r"\S", r"\w", r"\d", "[ab]", "[^a ]", r"[\s:]", "[a-c]"]
)


def _regex(depth: int = 3) -> st.SearchStrategy[str]:
    if depth == 0:
        return _ATOMS
    sub = _regex(depth - 1)
    return st.one_of(
        _ATOMS,
        st.tuples(sub, sub).map("".join),
        st.tuples(sub, sub).map(lambda t: f"(?:{t[0]}|{t[1]})"),
        st.tuples(sub, st.sampled_from(["*", "+", "?", "*?", "+?", "??", "{0,2}", "{1,3}?", "{2}"])).map(
            lambda t: f"(?:{t[0]}){t[1]}"
        ),
        sub.map(lambda s: f"(?={s})"),
        sub.map(lambda s: f"(?!{s})"),
        sub.map(lambda s: f"(?i:{s})"),
        st.sampled_from([r"\b", r"\B", "$", "^", r"\Z", r"\A", r"(?<=a)", r"(?<! )"]),
    )


@settings(max_examples=400, deadline=None)
@given(
    parts=st.lists(_regex(), min_size=1, max_size=4),
    tail=st.sampled_from(["", "$", r"\s*$", r"(?:\s|$)", r"\Z"]),
    cond=st.booleans(),
    subject=st.text(ALPHABET, max_size=12),
)
def test_generated_regexes_match_as_python(parts: list[str], tail: str, cond: bool, subject: str) -> None:
    # named groups around every part, a conditional and a back-reference on the first one
    body = "".join(f"(?P<g{n}>{p})" for n, p in enumerate(parts))
    if cond:
        body += "(?(g0)a|b)(?P=g0)?"
    pattern = re.compile(body + tail)
    try:
        translate.to_pcre2(pattern)
    except translate.Refused:
        return
    try:
        got = _native_groups(pattern, subject + "\n")
    except ValueError as exc:  # PCRE2 refused the translation (e.g. a look-behind): the engine refuses too
        assert "PCRE2 refuses" in str(exc)
        return
    assert got == _spans(pattern, subject + "\n")


@pytest.mark.parametrize(
    ("regex", "flags", "reason"),
    [
        ("é", re.IGNORECASE, "a case-folded non-ASCII literal"),
        ("(?i:[ſx])", 0, "a case-folded non-ASCII literal"),
        ("(?i:[a-z])", 0, "a case-folded class range"),
        (r"(a)(?i:\1)", 0, "a case-folded back-reference"),
        ("a", re.MULTILINE, "a MULTILINE, DOTALL, ASCII or LOCALE flag"),
        ("a", re.DOTALL, "a MULTILINE, DOTALL, ASCII or LOCALE flag"),
        ("(?>ab)", 0, "the construct ATOMIC_GROUP"),
        ("a++", 0, "the construct POSSESSIVE_REPEAT"),
    ],
)
def test_refused(regex: str, flags: int, reason: str) -> None:
    with pytest.raises(translate.Refused) as refused:
        translate.to_pcre2(re.compile(regex, flags))
    assert str(refused.value) == reason


# Without case folding a non-ASCII literal, or a range's part beyond ASCII, accepts no ASCII character (the
# engine feeds only ASCII subjects): the syslog date template's "[Ssſ]" translates.
@pytest.mark.parametrize(
    ("regex", "translated"),
    [("é", "(*FAIL)"), ("[aé]", r"\x61"), ("[^é]", "[\\x00-\\x7f]"), ("[a-ü]", r"[\x61-\x7f]"), ("[é-ü]", "(*FAIL)")],
)
def test_non_ascii_accepts_no_ascii(regex: str, translated: str) -> None:
    assert translate.to_pcre2(re.compile(regex)) == translated
    pattern = re.compile(regex)
    for code in range(128):
        expected = pattern.fullmatch(chr(code)) is not None
        assert (re.fullmatch(translated.replace("(*FAIL)", "(?!)"), chr(code)) is not None) == expected
