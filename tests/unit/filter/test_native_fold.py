"""The C step folds <F-ALT_*> and <F-TUPLE_*> groups (native_fold, _native_merge.c) as CompiledRegex.fold does:
hypothesis-made lines where each alternative user may be empty or set, with or without the plain user group, and
one to three tuple groups on one target (so the target grows from None, from a tuple and from a group's own
value),
run through both engines as one chunk; every failure (id, ip, time, groups, lines, line number) must agree."""

from __future__ import annotations

import calendar
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from banjail.filter import native
from banjail.filter.datedetect import DateDetector
from banjail.filter.matcher import Matcher
from banjail.filter.outcome import LineOutcome, ScanStats
from banjail.model import FilterSpec

pytestmark = pytest.mark.skipif(not native.built(), reason="the native engine is not built")

NOW = float(calendar.timegm((2026, 3, 1, 12, 0, 0)))
SPEC = FilterSpec(
    prefregex=r"^<F-MLFID>\s*\S+ app\[\d+\]:</F-MLFID> <F-CONTENT>.+</F-CONTENT>$",
    failregex=(
        r"^user <F-ALT_USER_1>\w*</F-ALT_USER_1>:<F-USER>\w*</F-USER>:<F-ALT_USER_2>\w*</F-ALT_USER_2> "
        r"k <F-TUPLE_K_1>\w*</F-TUPLE_K_1>(?:,<F-TUPLE_K_2>\w+</F-TUPLE_K_2>)?(?:,<F-TUPLE_K_3>\w+</F-TUPLE_K_3>)? "
        r"from <HOST>$",
        r"^alt <F-ALT_USER>\w+</F-ALT_USER> tag <F-TUPLE_TAG>\w+</F-TUPLE_TAG> from <HOST>$",
        r"^plain <F-USER>\w+</F-USER> from <HOST>$",
        r"^pair <F-PORT>\w*</F-PORT> <F-TUPLE_PORT>\w+</F-TUPLE_PORT> from <HOST>$",
    ),
)
WORDS = st.sampled_from(["", "bob", "eve", "0", "root"])


def _brief(o: LineOutcome) -> tuple[Any, ...]:
    failures = tuple((f.fid, f.ip, f.time, f.lines, f.groups, f.lineno, f.regex_index) for f in o.failures)
    return (o.lineno, o.kind, o.failregex, failures)


@st.composite
def _line(draw: st.DrawFn) -> str:
    kind = draw(st.integers(0, 3))
    ip = draw(st.sampled_from(["192.0.2.1", "192.0.2.2", "2001:db8::7"]))
    pid = draw(st.integers(1, 4))
    if kind == 0:
        ks = draw(st.lists(st.sampled_from(["1", "x", "ab"]), min_size=0, max_size=2))
        body = (f"user {draw(WORDS)}:{draw(WORDS)}:{draw(WORDS)} k {draw(WORDS)}"
                + "".join("," + k for k in ks) + f" from {ip}")  # fmt: skip
    elif kind == 1:
        body = f"alt {draw(st.sampled_from(['bob', 'x1']))} tag {draw(st.sampled_from(['t', 'u2']))} from {ip}"
    elif kind == 2:
        body = f"plain {draw(st.sampled_from(['bob', 'eve']))} from {ip}"
    else:  # the tuple's target is a group of its own: (its value, the tuple group's)
        body = f"pair {draw(WORDS)} {draw(st.sampled_from(['x', 'y2']))} from {ip}"
    second = draw(st.integers(0, 59))
    return f"Mar  1 11:59:{second:02d} host app[{pid}]: {body}"


@settings(max_examples=150, deadline=None)
@given(lines=st.lists(_line(), min_size=1, max_size=60), check_all=st.booleans())
def test_folds_agree_with_the_reference(lines: list[str], check_all: bool) -> None:
    lines.sort(key=lambda x: x[:15])  # dates in order, as a log has them
    out = {}
    ran = 0
    for engine in ("python", "native"):
        m = Matcher(SPEC, detector=DateDetector(()), check_all=check_all, engine=engine)
        stats = ScanStats()
        got = m.scan("".join(x + "\n" for x in lines), NOW, 1, stats, keep_missed=True)
        assert all(o.kind != 0 for o in got)  # every line matched a failregex
        out[engine] = [_brief(o) for o in got]
        ran = stats.native_lines
    assert out["native"] == out["python"]
    assert ran == len(lines)  # the C step ran them
    assert any(o[3] for o in out["python"])  # and some gave failures


def test_a_tuple_target_grows_from_none_and_from_a_tuple() -> None:
    line = "Mar  1 11:59:00 host app[1]: user :bob: k a,b,c from 192.0.2.1"
    m = Matcher(SPEC, detector=DateDetector(()), engine="native")
    stats = ScanStats()
    failures = [f for o in m.scan(line + "\n", NOW, 1, stats) for f in o.failures]
    assert stats.native_lines == 1
    assert [dict(f.groups)["k"] for f in failures] == ["(None, 'a', 'b', 'c')"]  # a failure's groups are text
    assert [dict(f.groups)["user"] for f in failures] == ["bob"]
