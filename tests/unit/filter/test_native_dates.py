"""The native date cut (banjail.filter._native.DateCut) against Python's re: for every line of a chunk the same
group 1 start, end, text and fraction span as the date template's regex matched on the line, or None when
Python's re would not find a date on every line (then the uniform path asks re, which decides); its `without`
against slicing and its `count` against re.search."""

from __future__ import annotations

import re

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from banjail.filter import dateruns, native, translate
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
    if any(m is None or m.start(1) < 0 or m.group(1) == "" for m in found):
        return None
    matches = [m for m in found if m is not None]
    spans = [(m.start(fraction) - m.start(1), m.end(fraction) - m.start(1)) if m.start(fraction) >= 0 else (-1, -1)
             for m in matches] if fraction >= 0 else None  # fmt: skip
    starts = [m.start(1) for m in matches]
    return (
        starts if any(starts) else None,
        [m.end(1) for m in matches],
        [m.group(1) for m in matches],
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
    check_cut(template.regex, lines, fraction)


def check_cut(regex: re.Pattern[str], lines: list[str], fraction: bool) -> None:
    cut = native._native.DateCut(translate.to_pcre2(regex))
    group = regex.groupindex.get("f", -1) if fraction else -1
    chunk = "".join(line + "\n" for line in lines)
    got = cut.cuts(chunk, group)
    want = expected(regex, chunk, group)
    if want is None:
        assert got is None
    else:  # a match limit could give None too; none is near here
        assert got == want


# Web logs: the date after a prefix. The error log's "[" before the date ({^LN-BEG} allows two non-word
# characters) and the access log's client address (the web filters' `^[^\[]*\[({DATE})`).
WEB = {
    "error": ("{^LN-BEG}", "[Sun Dec 06 05:07:20.013255 2026] [auth_basic:error] [pid 1:tid 2] [client 1.2.3.4] x"),
    "access": ("^[^\\[]*\\[({DATE})", '1.2.3.4 - - [06/Dec/2026:05:07:20 +0000] "GET / HTTP/1.1" 404 1 "-" "a"'),
}
_apache_date = st.builds(
    lambda day, mon, year, h, m, s, frac, zone: f"{day}/{mon}/{year}:{h:02d}:{m:02d}:{s:02d}{frac}{zone}",
    st.sampled_from(["06", "6", "00", "31", "32"]), st.sampled_from(["Dec", "dec", "Feb", "Xyz"]),
    st.sampled_from(["2026", "26", "1999"]), st.integers(0, 25), st.integers(0, 61), st.integers(0, 62),
    st.sampled_from(["", ".5"]), st.sampled_from(["", " +0000", " -0130", " +1", " UTC"]),
)
_error_date = st.builds(
    lambda day, mon, d, h, m, s, frac, year: f"{day}{mon} {d:02d} {h:02d}:{m:02d}:{s:02d}{frac}{year}",
    st.sampled_from(["", "Sun ", "sun "]), st.sampled_from(["Dec", "Feb", "dec"]), st.integers(0, 32),
    st.integers(0, 25), st.integers(0, 61), st.integers(0, 62), st.sampled_from(["", ".013255", ".1234567"]),
    st.sampled_from(["", " 2026", " 26"]),
)
WEB_PIECES = ("[", "]", "[[", " ", "-", "1.2.3.4", "::1", '"', "GET /", "[client 1.2.3.4]", "\x1c", "\t", "a")


def _web_line(prefix: str, date: str, suffix: str) -> str:
    return f"{prefix}{date}{suffix}"


_web_lines = st.lists(
    st.one_of(
        st.builds(_web_line, st.sampled_from(["[", "[[", "", " [", "<", "##"]), _error_date,
                  st.sampled_from(["] [core:error] x", "]", " [" + "Sun Dec 06 05:07:20 2026] y", ""])),
        st.builds(_web_line, st.sampled_from(["1.2.3.4 - - [", "::1 - bob [", "[", " - [", "a [[", "1.2.3.4 - - "]),
                  _apache_date, st.sampled_from(['] "GET / HTTP/1.1" 404 1', "]", " [06/Dec/2026:05:07:20] x", ""])),
        st.lists(st.sampled_from(WEB_PIECES), max_size=10).map("".join),
        st.sampled_from([WEB["error"][1], WEB["access"][1]]),
    ),
    min_size=1,
    max_size=8,
)


@pytest.mark.parametrize("kind", sorted(WEB))
@settings(max_examples=300, deadline=None)
@given(lines=_web_lines, fraction=st.booleans())
def test_date_cut_after_a_prefix_equals_re(kind: str, lines: list[str], fraction: bool) -> None:
    pattern, sample = WEB[kind]
    template = DateDetector([pattern]).uniform_template(sample + "\n")
    assert template is not None
    check_cut(template.regex, lines, fraction)


@settings(max_examples=200, deadline=None)
@given(lines=st.lists(st.lists(st.sampled_from(WEB_PIECES), max_size=8).map("".join), min_size=1, max_size=8),
       cuts=st.lists(st.tuples(st.integers(0, 40), st.integers(0, 40)), min_size=8, max_size=8))  # fmt: skip
def test_without_cuts_each_line(lines: list[str], cuts: list[tuple[int, int]]) -> None:
    spans = [(min(a, b, len(line)), min(max(a, b), len(line))) for line, (a, b) in zip(lines, cuts, strict=False)]
    cut = native._native.DateCut("x")
    chunk = "".join(line + "\n" for line in lines)
    got = cut.without(chunk, [s for s, _ in spans], [e for _, e in spans])
    assert got == "".join(line[:s] + line[e:] + "\n" for line, (s, e) in zip(lines, spans, strict=True))


@pytest.mark.parametrize(
    ("starts", "ends", "message"),
    [
        ([0], [5], "an offset beyond its line"),
        ([2], [1], "a cut that ends before it starts"),
        ([0, 0], [0, 0], "starts and ends must hold one offset per line"),
        ([0], [0, 0], "starts and ends must hold one offset per line"),
    ],
)
def test_without_refuses_bad_offsets(starts: list[int], ends: list[int], message: str) -> None:
    with pytest.raises(ValueError, match=f"^{message}$"):
        native._native.DateCut("x").without("abc\n", starts, ends)


@settings(max_examples=200, deadline=None)
@given(lines=st.lists(st.lists(st.sampled_from((*WEB_PIECES, "error", "[]", "[] [error]")), max_size=8).map("".join),
                      min_size=1, max_size=8))  # fmt: skip
def test_count_equals_re_search(lines: list[str]) -> None:
    regex = re.compile(r"^\[\]\s\[(?:error|\S+:\S+)\]|client$|a\n")
    chunk = "".join(line + "\n" for line in lines)
    found = [regex.search(line + "\n") is not None for line in lines]
    assert native._native.DateCut(translate.to_pcre2(regex)).count(chunk) == (sum(found), found[-1])


def expected_runs(regex: re.Pattern[str], chunk: str) -> tuple[object, ...] | None:
    """DateCut.runs' answer from Python's re: a line continues its run when its text has the head's length,
    its groups the head's places and its characters the head's outside the seconds and the fraction."""
    rows = chunk.split("\n")[:-1]
    found = [regex.match(row) for row in rows]
    if any(m is None or m.start(1) < 0 or m.group(1) == "" for m in found):
        return None
    matches = [m for m in found if m is not None]
    sec, frac = regex.groupindex["S"], regex.groupindex.get("f", -1)
    heads: list[tuple[int, str, tuple[tuple[int, int], ...]]] = []
    seconds = bytearray()
    for i, m in enumerate(matches):
        first, text = m.start(1), m.group(1)
        regs = tuple((s - first, e - first) if s >= 0 else (-1, -1) for s, e in m.regs[1:])
        ss, se = regs[sec - 1]
        fs, fe = regs[frac - 1] if frac >= 0 else (-1, -1)
        value = text[ss:se]
        seconds.append(int(value) if ss >= 0 and 1 <= len(value) <= 2 and value.isdigit() else 255)
        if heads:
            _, head, head_regs = heads[-1]
            keep = [k for k in range(len(text)) if not ss <= k < se and not fs <= k < fe]
            if len(head) == len(text) and head_regs == regs and all(head[k] == text[k] for k in keep):
                continue
        heads.append((i, text, regs))
    starts = [m.start(1) for m in matches]
    return (starts if any(starts) else None, [m.end(1) for m in matches], heads, bytes(seconds))


_repeated = st.builds(lambda s, t: s + t, st.sampled_from([SAMPLES["syslog"], SAMPLES["iso"]]), st.sampled_from(["", " x"]))
_runs_lines = st.lists(
    st.one_of(_syslog, _iso, _repeated),
    min_size=1,
    max_size=8,
)


@pytest.mark.parametrize("fmt", sorted(SAMPLES))
@settings(max_examples=300, deadline=None)
@given(lines=_runs_lines)
def test_runs_equal_re(fmt: str, lines: list[str]) -> None:
    check_runs(DateDetector(), SAMPLES[fmt], lines)


def check_runs(detector: DateDetector, sample: str, lines: list[str]) -> None:
    template = detector.uniform_template(sample + "\n")
    assert template is not None
    regex = template.regex
    chunk = "".join(line + "\n" for line in lines)
    got = native._native.DateCut(translate.to_pcre2(regex)).runs(chunk, regex.groupindex["S"],
                                                                 regex.groupindex.get("f", -1))  # fmt: skip
    assert got == expected_runs(regex, chunk)


@pytest.mark.parametrize("kind", sorted(WEB))
@settings(max_examples=300, deadline=None)
@given(lines=_web_lines)
def test_runs_after_a_prefix_equal_re(kind: str, lines: list[str]) -> None:
    pattern, sample = WEB[kind]
    check_runs(DateDetector([pattern]), sample, lines)


def _one_byte_changes(sample: str) -> list[list[str]]:
    """Two-line chunks: the sample, then the sample with one date character changed (a digit to another digit,
    a letter to another letter), at every position of its date text: a new run unless only the seconds or the
    fraction changed, which check_runs' reference decides."""
    date = sample.split(" web1")[0]
    chunks = []
    for k, ch in enumerate(date):
        if ch.isdigit():
            other = "1" if ch != "1" else "2"
        elif ch.isalpha():
            other = "a" if ch != "a" else "b"
        else:
            continue
        chunks.append([sample, date[:k] + other + date[k + 1 :] + sample[len(date) :]])
    return chunks


# a valid date that differs in the first character of a stretch between the seconds and the fraction (most
# one-character changes there make no date at all): the month, the zone after the fraction
FIRST_CHANGED = {"syslog": ("Dec", "Nov"), "iso": ("+00:00", "-00:00")}


@pytest.mark.parametrize("fmt", sorted(SAMPLES))
def test_runs_break_at_every_changed_date_character(fmt: str) -> None:
    """Every position of the date text, as one changed character, and the date's first character: a run
    continues only over the seconds and the fraction (each run's head is the line that starts it, so a wrong
    continuation shows as a missing head)."""
    sample = SAMPLES[fmt]
    old, new = FIRST_CHANGED[fmt]
    chunks = [*_one_byte_changes(sample), [sample, sample.replace(old, new, 1)]]
    assert len(chunks) >= 11
    for lines in chunks:
        check_runs(DateDetector(), sample, lines)
    template = DateDetector().uniform_template(sample + "\n")
    assert template is not None
    regex = template.regex
    got = native._native.DateCut(translate.to_pcre2(regex)).runs(
        "".join(line + "\n" for line in chunks[-1]), regex.groupindex["S"], regex.groupindex.get("f", -1)
    )
    assert got is not None and len(got[2]) == 2  # two heads: the first character broke the run


@settings(max_examples=300, deadline=None)
@given(
    base=st.one_of(st.floats(allow_nan=False, allow_infinity=False), st.integers(0, 2**33).map(float)),
    seconds=st.binary(min_size=1, max_size=80).map(lambda b: bytes(x % 64 if x < 192 else x for x in b)),
    data=st.data(),
)
def test_run_epochs_makes_the_reference_doubles(base: float, seconds: bytes, data: st.DataObject) -> None:
    """_native.run_epochs (dateruns.minute_runs' derived epochs) appends exactly base + s for each second after
    the run's head when every second of the run is 0-59, and nothing otherwise"""
    from banjail.filter import _native  # type: ignore[attr-defined]

    head = data.draw(st.integers(0, len(seconds) - 1))
    end = data.draw(st.integers(head + 1, len(seconds)))
    run = seconds[head:end]
    got: list[float | None] = [None]
    assert _native.run_epochs(got, base, seconds, head, end) is (max(run) <= 59)
    want: list[float | None] = [None]
    assert dateruns.python_run_epochs(want, base, seconds, head, end) is (max(run) <= 59)
    assert got == want == ([None, *[base + s for s in run[1:]]] if max(run) <= 59 else [None])
    assert [x.hex() for x in got[1:] if x is not None] == [x.hex() for x in want[1:] if x is not None]


@pytest.mark.parametrize(("head", "end"), [(-1, 1), (0, 3), (1, 1), (2, 1)])
def test_run_epochs_refuses_a_run_outside_its_seconds(head: int, end: int) -> None:
    from banjail.filter import _native  # type: ignore[attr-defined]

    with pytest.raises(ValueError) as raised:
        _native.run_epochs([], 1.0, b"ab", head, end)
    assert str(raised.value) == "run_epochs: head < end within seconds"
