"""DateCut.prefetch (_native_prefetch.c): cuts and runs of a prefetched chunk give what they give without it, for
the chunk prefetched (however far its worker got), another chunk, a chunk read twice and a DateCut dropped with a
job; and a Matcher given the next chunk (Matcher.prefetch) scans with the same outcomes, counts and state as one
that is not."""

from __future__ import annotations

import dataclasses
import itertools
import time

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from banjail.filter import native, translate
from banjail.filter.datedetect import DateDetector
from banjail.filter.matcher import Matcher
from banjail.filter.outcome import ScanStats
from banjail.model import FilterSpec

pytestmark = pytest.mark.skipif(not native.built(), reason="the C extension is not built")

SAMPLES = {
    "syslog": "Dec  6 05:07:20 web1 sshd[1]: x",
    "iso": "2026-12-06T05:07:20.013255+00:00 web1 sshd[1]: x",
}
_LINE = st.one_of(
    st.sampled_from(list(SAMPLES.values())),
    st.builds(
        lambda d, h, m, s, frac: f"Dec {d:>2} {h:02d}:{m:02d}:{s:02d}{frac} h sshd[2]: y",
        st.integers(0, 32), st.integers(0, 25), st.integers(0, 61), st.integers(0, 62),
        st.sampled_from(["", ".5", ".123456"]),
    ),
    st.builds(
        lambda d, h, m, s, frac: f"2026-12-{d:02d}T{h:02d}:{m:02d}:{s:02d}{frac}+00:00 h: y",
        st.integers(0, 32), st.integers(0, 25), st.integers(0, 61), st.integers(0, 62),
        st.sampled_from(["", ".5", ",123456"]),
    ),
    st.sampled_from(["", "x", "Dec", " Dec  6 05:07:20 h"]),
)
CHUNK = st.lists(_LINE, min_size=1, max_size=12).map(lambda lines: "".join(line + "\n" for line in lines))


def _date_cut(fmt: str) -> tuple[object, int, int]:
    template = DateDetector().uniform_template(SAMPLES[fmt] + "\n")
    assert template is not None
    regex = template.regex
    cut = native._native.DateCut(translate.to_pcre2(regex))
    return cut, regex.groupindex["S"], regex.groupindex.get("f", -1)


def _unique(text: str) -> str:
    # a str object of its own: prefetch knows its chunk by identity
    return "".join(list(text))


@pytest.mark.parametrize("fmt", sorted(SAMPLES))
@settings(max_examples=200, deadline=None)
@given(chunk=CHUNK, other=CHUNK)
def test_a_prefetched_chunk_is_cut_and_run_as_without(fmt: str, chunk: str, other: str) -> None:
    plain, seconds, fraction = _date_cut(fmt)
    want_runs = plain.runs(chunk, seconds, fraction)  # type: ignore[attr-defined]
    want_cuts = plain.cuts(chunk, fraction)  # type: ignore[attr-defined]
    # whether the worker takes a chunk (it is idle, its lock free) and how far it got when the lines are read
    # varies from run to run: the results may not
    cut, _, _ = _date_cut(fmt)
    cut.prefetch(chunk)  # type: ignore[attr-defined]
    assert cut.runs(chunk, seconds, fraction) == want_runs  # type: ignore[attr-defined]
    assert cut.runs(chunk, seconds, fraction) == want_runs  # read twice: the rest matched by the reader
    cut.prefetch(chunk)  # type: ignore[attr-defined]
    assert cut.cuts(chunk, fraction) == want_cuts  # type: ignore[attr-defined]
    # another chunk than the one prefetched: dropped, the lines matched as without
    other = _unique(other)
    cut.prefetch(other)  # type: ignore[attr-defined]
    twin = _unique(chunk)
    assert cut.runs(twin, seconds, fraction) == want_runs  # type: ignore[attr-defined]
    assert cut.runs(other, seconds, fraction) == plain.runs(other, seconds, fraction)  # type: ignore[attr-defined]


@pytest.mark.parametrize(
    ("chunk", "taken"),
    [
        (SAMPLES["iso"] + "\n", True),
        (SAMPLES["iso"], False),  # no line end
        (SAMPLES["iso"] + "é\n", False),  # not ASCII
        ("", False),
    ],
)
def test_prefetch_takes_ascii_lines_only(chunk: str, taken: bool) -> None:
    cut, _, _ = _date_cut("iso")
    got = False
    for _ in range(200):  # the worker may be starting (holding its lock): it takes a chunk once idle
        got = cut.prefetch(chunk)  # type: ignore[attr-defined]
        if got or not taken:
            break
        time.sleep(0.005)
    assert got is taken


def test_a_date_cut_goes_with_a_job_pending() -> None:
    chunk = (SAMPLES["syslog"] + "\n") * 5000
    for _ in range(20):  # queued, busy or done when it goes: its thread is ended either way
        cut, _, _ = _date_cut("syslog")
        cut.prefetch(chunk)  # type: ignore[attr-defined]
        del cut


AUTH = (
    "{date} web1 sshd[{pid}]: Invalid user {user} from 10.0.{a}.{b} port 4242\n",
    "{date} web1 sshd[{pid}]: Failed password for invalid user {user} from 10.0.{a}.{b} port 4242 ssh2\n",
    "{date} web1 sshd[{pid}]: Accepted publickey for {user} from 10.0.{a}.{b} port 4242 ssh2\n",
    "{date} web1 sshd[{pid}]: Connection closed by 10.0.{a}.{b} port 4242 [preauth]\n",
)


def _log(lines: list[tuple[int, int, int, int]], iso: bool) -> list[str]:
    out = []
    for k, (kind, pid, a, second) in enumerate(lines):
        date = f"2026-12-06T05:{k // 60 % 60:02d}:{second:02d}+00:00" if iso else f"Dec  6 05:{k // 60 % 60:02d}:{second:02d}"
        out.append(AUTH[kind].format(date=date, pid=pid, user=f"u{a}", a=a, b=pid % 7))
    return out


def _scan(chunks: list[str], prefetch: bool) -> tuple[list[object], ScanStats, object]:
    spec = FilterSpec(
        prefregex=r"^<F-MLFID>%(__prefix_line)s</F-MLFID>(?:pam_unix\(\S+\):\s+)?<F-CONTENT>.+</F-CONTENT>$",
        failregex=(r"^[iI](?:llegal|nvalid) user <F-USER>\S+</F-USER> from <HOST>",
                   r"^Failed \S+ for invalid user <F-USER>\S+</F-USER> from <HOST>"),
    )  # fmt: skip
    spec = dataclasses.replace(spec, prefregex=spec.prefregex.replace("%(__prefix_line)s", r"\s*\S+ sshd\[\d+\]: "))
    matcher = Matcher(spec, detector=DateDetector())
    matcher.threaded = True
    stats = ScanStats()
    outcomes: list[object] = []
    lineno = 1
    for k, chunk in enumerate(chunks):
        if prefetch and k + 1 < len(chunks):
            matcher.prefetch(chunks[k + 1])
        outcomes += matcher.scan(chunk, 1796600000.0, lineno, stats, keep_missed=True)
        lineno += chunk.count("\n")
    return outcomes, stats, sorted(matcher.sessions.entries.items())


@settings(max_examples=40, deadline=None)
@given(
    lines=st.lists(st.tuples(st.integers(0, 3), st.integers(1, 40), st.integers(0, 9), st.integers(0, 59)),
                   min_size=300, max_size=1200),
    cuts=st.lists(st.integers(1, 1199), max_size=4),
    iso=st.booleans(),
)  # fmt: skip
def test_a_matcher_given_the_next_chunk_scans_as_without(
    lines: list[tuple[int, int, int, int]], cuts: list[int], iso: bool
) -> None:
    rows = _log(lines, iso)
    bounds = sorted({0, len(rows), *(c for c in cuts if c < len(rows))})
    chunks = ["".join(rows[a:b]) for a, b in itertools.pairwise(bounds)]
    assert _scan(chunks, True) == _scan(chunks, False)
