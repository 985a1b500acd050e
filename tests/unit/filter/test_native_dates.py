"""The native date cut (banjail.filter._native.DateCut) against Python's re: for every line of a chunk the same
group 1 end, text and fraction span as the date template's regex matched on the line, or None when Python's
re would not find a date starting every line (then the uniform path asks re, which decides)."""

from __future__ import annotations

import re

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from banjail.filter import native, translate
from banjail.filter.datedetect import DateDetector

pytestmark = pytest.mark.skipif(not native.built(), reason="the C extension is not built")

SAMPLES = {
    "syslog": "Dec  6 05:07:20 web1 sshd[1]: x",
    "iso": "2026-12-06T05:07:20.013255+00:00 web1 sshd[1]: x",
}
PIECES = ("Dec", "Feb", "Sat ", " ", "  ", "6", "06", "29", "30", "31", "05", ":", "07", "20", "24", "60", "61",
          ".", ",", "013255", "1234567", "2026", "-", "/", "T", "Z", "+00:00", "-0130", "UTC", "\x1c", "\x0b",
          "\t", "a", "_", "[", "\x7f", "\x00")


_syslog = st.builds(
    lambda mon, day, pad, h, m, s, frac: f"{mon} {day:>{pad}} {h:02d}:{m:02d}:{s:02d}{frac} h sshd[2]: y",
    st.sampled_from(["Jan", "Feb", "Dec", "dec", "Sat Dec", "Fri"]), st.integers(0, 32), st.sampled_from([1, 2]),
    st.integers(0, 25), st.integers(0, 61), st.integers(0, 62), st.sampled_from(["", ".5", ".123456", ".1234567"]),
)
_iso = st.builds(
    lambda y, mo, d, sep, h, m, s, frac, zone: f"{y}-{mo:02d}-{d:02d}{sep}{h:02d}:{m:02d}:{s:02d}{frac}{zone} h: y",
    st.integers(1999, 2031), st.integers(0, 13), st.integers(0, 32), st.sampled_from(["T", " ", "  ", "t"]),
    st.integers(0, 25), st.integers(0, 61), st.integers(0, 62), st.sampled_from(["", ".5", ",123456", "."]),
    st.sampled_from(["", "Z", "+00:00", "-0130", " UTC", "+1", "x"]),
)


def expected(regex: re.Pattern[str], chunk: str, fraction: int) -> tuple[object, ...] | None:
    rows = chunk.split("\n")[:-1]
    found = [regex.match(row) for row in rows]
    if any(m is None or m.start(1) != 0 or m.group(1) == "" for m in found):
        return None
    spans = [m.span(fraction) for m in found if m is not None] if fraction >= 0 else None
    return (
        [m.end(1) for m in found if m is not None],
        [m.group(1) for m in found if m is not None],
        [s[0] for s in spans] if spans is not None else None,
        [s[1] for s in spans] if spans is not None else None,
    )


@pytest.mark.parametrize("fmt", sorted(SAMPLES))
@settings(max_examples=300, deadline=None)
@given(
    lines=st.lists(
        st.one_of(
            st.builds(lambda s: SAMPLES["syslog"] if s else SAMPLES["iso"], st.booleans()),
            st.lists(st.sampled_from(PIECES), max_size=14).map("".join),
            _syslog,
            _iso,
        ),
        min_size=1,
        max_size=8,
    ),
    fraction=st.booleans(),
)
def test_date_cut_equals_re(fmt: str, lines: list[str], fraction: bool) -> None:
    lines = [line for line in lines if (line[:1].isdigit() == (fmt == "iso")) or not line[:1].isalnum()] or lines
    template = DateDetector().uniform_template(SAMPLES[fmt] + "\n")
    assert template is not None
    regex = template.regex
    cut = native._native.DateCut(translate.to_pcre2(regex))
    group = regex.groupindex.get("f", -1) if fraction else -1
    chunk = "".join(line + "\n" for line in lines)
    got = cut.cuts(chunk, group)
    want = expected(regex, chunk, group)
    if want is None:
        assert got is None
    else:  # a match limit could give None too; none is near here
        assert got is not None and (got[0], got[1], got[2], got[3]) == want
