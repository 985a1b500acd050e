"""banjail.filter.scan and banjail.filter.singleline against the general per-line step.

The reference is `Matcher(..., single=False).process` line by line (the step that upstream's sample corpus
checks); the fast path is `Matcher.scan` over chunks cut anywhere, with every combination of what it is asked to
keep. Lines mix syslog and ISO 8601 dates (the template changes mid-chunk), dateless lines, <F-MLFID> sessions,
ignoreregex (run first and run after a match), identifiers that cannot be read, and lines longer than MAX_LINE.
"""

from __future__ import annotations

import calendar
import dataclasses
import importlib.util
import io
import itertools
import re
import sys
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from banjail.filter import engine as engines
from banjail.filter import prefilter
from banjail.filter.datedetect import DateDetector
from banjail.filter.matcher import MAX_LINE, Matcher
from banjail.filter.outcome import IGNORED, MATCHED, MISSED, LineOutcome, ScanStats
from banjail.model import FilterSpec

NOW = float(calendar.timegm((2026, 3, 1, 12, 0, 0)))
# the engine contract: every engine this installation has gives the reference's results
ENGINES = [e.name for e in engines.available()]

SESSIONS = FilterSpec(
    prefregex=r"^<F-MLFID>\s*\S+ app\[\d+\]:</F-MLFID> (?:error: )?<F-CONTENT>.+</F-CONTENT>$",
    failregex=(
        r"^Failed (?:<F-NOFAIL>publickey</F-NOFAIL>|\S+) for <F-USER>\S+</F-USER> from <HOST>( port \d+)?$",
        r"^<F-NOFAIL>Connection from</F-NOFAIL> <HOST>$",
        r"^Bad user <F-USER>\S+</F-USER>$",
        r"^<F-MLFFORGET>Disconnected</F-MLFFORGET>(?: from <HOST>)?$",
        r"^<F-MLFFORGET><F-MLFGAINED>Accepted \w+</F-MLFGAINED></F-MLFFORGET> for <F-USER>\S+</F-USER>",
        r"user <F-ALT_USER>\S+</F-ALT_USER> from <HOST> id <F-TUPLE_K>\d+</F-TUPLE_K>",
    ),
    ignoreregex=(r"from 10\.0\.0\.\d+",),
)
PLAIN = FilterSpec(
    failregex=(
        r"auth failed for <F-USER>\S+</F-USER> from <HOST>",
        r"^\s*(?:\S+ app\[\d+\]: )?bad key(?: from <HOST>)?(?: id <F-ID>\w+</F-ID>)?$",
        r"from <HOST> port",
    ),
    ignoreregex=(r"^\s*cron", r"from 10\.0\.0\.\d+"),
)
# without ignoreregex (the native engine refuses ignoreregexes: these run on it)
SESSIONS_BARE = dataclasses.replace(SESSIONS, ignoreregex=())
PLAIN_BARE = dataclasses.replace(PLAIN, ignoreregex=())
IGNORE_FIRST = FilterSpec(
    failregex=(
        r"auth failed for <F-USER>\S+</F-USER> from <HOST>",
        r"bad key from <SUBNET> id <F-ID>\w+</F-ID>",
        r"single from <ADDR>",
        r"cron job <F-ID>\d+</F-ID>",
    ),
    ignoreregex=(r"cron job 1$",),
)

MESSAGES = (
    "Failed password for {user} from {ip} port 22",
    "Failed publickey for {user} from {ip}",
    "Connection from {ip}",
    "Bad user {user}",
    "Disconnected",
    "Disconnected from {ip}",
    "Accepted password for {user}",
    "error: auth failed for {user} from {ip}",
    "user {user} from {ip} id {n}",
    "bad key from {ip} id k{n}",
    "bad key",
    "single from {ip}",
    "cron job {n}",
    "session opened for {user}",
    "x" * (MAX_LINE + 5) + " from {ip} port 1",
)
DATES = (
    "Mar  1 11:59:{s:02d} ",
    "2026-03-01T11:59:{s:02d}.{f:06d}+00:00 ",
    "",
    "[2026-03-01 11:58:{s:02d}] ",
)

_line = st.tuples(
    st.integers(0, len(MESSAGES) - 1),
    st.integers(0, 3),  # pid
    st.sampled_from(
        ["192.0.2.1", "192.0.2.2", "2001:db8::9", "::ffff:192.0.2.1", "10.0.0.4", "host.example"]
    ),
    st.sampled_from(["bob", "eve", "root"]),
    st.integers(0, 59),
    st.sampled_from([0, 0, 0, 1, 1, 2, 3]),  # date format: mostly syslog and ISO
    st.integers(0, 999_999),
)


def render(item: tuple[int, int, str, str, int, int, int]) -> str:
    kind, pid, ip, user, sec, fmt, frac = item
    msg = MESSAGES[kind].format(ip=ip, user=user, n=pid)
    return DATES[fmt].format(s=sec, f=frac) + f"h app[{pid}]: " + msg


def reference(
    spec: FilterSpec, lines: list[str], check_all: bool, *, live: bool = False, now: float = NOW
) -> list[LineOutcome]:
    m = Matcher(spec, detector=DateDetector(), check_all=check_all, single=False, live=live)
    return [m.process(line, now, n) for n, line in enumerate(lines, 1)]


def kept(o: LineOutcome, missed: bool, ignored: bool, matched: bool, failures: bool) -> bool:
    if o.failures and failures:
        return True
    return {MISSED: missed, IGNORED: ignored, MATCHED: matched}[o.kind]


def strip(o: LineOutcome) -> LineOutcome:
    return LineOutcome(o.lineno, o.line, o.kind, o.failregex, o.ignoreregex, (), o.template)


@pytest.mark.parametrize("engine", ENGINES)
@pytest.mark.parametrize(
    "spec",
    [SESSIONS, PLAIN, IGNORE_FIRST, SESSIONS_BARE, PLAIN_BARE],
    ids=["mlfid", "plain", "ignore-first", "mlfid-bare", "plain-bare"],
)
@pytest.mark.parametrize("check_all", [True, False], ids=["all", "first"])
@settings(max_examples=40, deadline=None)
@given(
    items=st.lists(_line, max_size=60),
    cuts=st.lists(st.integers(0, 60), max_size=3),
    keep=st.tuples(st.booleans(), st.booleans(), st.booleans(), st.booleans()),
)
def test_scan_equals_the_general_step(
    engine: str,
    spec: FilterSpec,
    check_all: bool,
    items: list[tuple[int, int, str, str, int, int, int]],
    cuts: list[int],
    keep: tuple[bool, bool, bool, bool],
) -> None:
    lines = [render(item) for item in items]
    expected = reference(spec, lines, check_all)
    missed, ignored, matched, failures = keep
    m = Matcher(spec, detector=DateDetector(), check_all=check_all, engine=engine)
    assert m.single
    assert m.engine.name == (engine if not spec.ignoreregex else "python"), m.engine_note
    stats = ScanStats()
    got: list[LineOutcome] = []
    bounds = sorted({0, len(lines), *(c for c in cuts if c < len(lines))})
    for start, end in itertools.pairwise(bounds):
        chunk = "".join(line + "\n" for line in lines[start:end])
        got += m.scan(
            chunk,
            NOW,
            start + 1,
            stats,
            keep_missed=missed,
            keep_ignored=ignored,
            keep_matched=matched,
            failures=failures,
        )
    want = [o if failures else strip(o) for o in expected if kept(o, missed, ignored, matched, failures)]
    assert got == want
    assert (stats.lines, stats.matched, stats.ignored, stats.missed) == (
        len(lines),
        sum(o.kind == MATCHED for o in expected),
        sum(o.kind == IGNORED for o in expected),
        sum(o.kind == MISSED for o in expected),
    )
    fail_hits = [0] * len(spec.failregex)
    ignore_hits = [0] * len(spec.ignoreregex)
    templates: dict[str, int] = {}
    for o in expected:
        for i in o.failregex:
            fail_hits[i] += 1
        if o.ignoreregex >= 0:
            ignore_hits[o.ignoreregex] += 1
        if o.template is not None:
            templates[o.template] = templates.get(o.template, 0) + 1
    if lines:  # the per-regex lists are sized by the first scan
        assert (stats.failregex_hits, stats.ignoreregex_hits) == (fail_hits, ignore_hits)
    assert stats.template_hits == templates
    assert m.truncated == sum(len(line) > MAX_LINE for line in lines)


def test_a_line_whose_id_cannot_be_read_empties_the_buffer_in_first_match_mode() -> None:
    """Upstream's quirk, kept by both steps: the regexes after such a match search an empty line."""
    spec = FilterSpec(failregex=(r"bad key(?: from <HOST>)?$", r"^<F-ID>\s*</F-ID>$"))
    for check_all, hits in ((False, (1,)), (True, ())):
        line = "Mar  1 11:59:00 bad key"
        (ref,) = reference(spec, [line], check_all)
        got = Matcher(spec, detector=DateDetector(), check_all=check_all).process(line, NOW, 1)
        assert (ref.failregex, got) == (hits, ref)


@pytest.mark.parametrize(
    ("strings", "pattern"),
    [
        (["ab", "abc", "abd", "b", "xyz", "xya"], "ab|b|xy(?:a|z)"),
        (["Failed ", "Accepted "], "Accepted\\ |Failed\\ "),
        (["from ", "from"], "from"),
        (["a.b", "a+c"], "a(?:\\+c|\\.b)"),
    ],
)
def test_literal_prefilter_is_a_trie(strings: list[str], pattern: str) -> None:
    found = prefilter.alternation([frozenset(strings)])
    assert found is not None and found.pattern == pattern


@pytest.mark.parametrize(
    ("text", "part"),
    [
        ("Failed ", "Failed "),  # starts with a capital: kept whole
        (" not allowed because listed in DenyUsers", "DenyUsers"),  # the last capital with 6 characters after
        (" from ", " from "),  # shorter than 7: kept whole
        (" port 22 ", "port 22 "),  # lower case beats a space
        ("authentication failure;", "authentication failure;"),
    ],
)
def test_literal_prefilter_searches_a_rare_part_of_each_string(text: str, part: str) -> None:
    assert prefilter._scan_part(text) == part


@settings(max_examples=200, deadline=None)
@given(
    strings=st.lists(st.text("aB .", min_size=1, max_size=9), min_size=1, max_size=6),
    text=st.text("aB .c", max_size=14),
)
def test_literal_prefilter_finds_whatever_a_plain_alternation_finds(strings: list[str], text: str) -> None:
    # it may find more (a part of a string), never less: a line it passes over cannot hold any of the strings
    found = prefilter.alternation([frozenset(strings)])
    plain = re.compile("|".join(re.escape(s) for s in strings))
    assert found is not None
    if plain.search(text) is not None:
        assert found.search(text) is not None
    if all(len(s) <= 6 for s in strings):
        assert (found.search(text) is None) == (plain.search(text) is None)


# One date format per chunk, so the detector proves the chunk uniform and the chunk path runs; "Feb 30" and
# "Feb 29" (2026 is no leap year) are dates the template finds but that are not valid.
UNIFORM_DATES = {
    "syslog": ("Mar  1 11:59:{s:02d} ", "Feb 30 11:59:{s:02d} ", "Feb 29 10:00:{s:02d} "),
    "iso": (
        "2026-03-01T11:59:{s:02d}.{f:06d}+00:00 ",
        "2026-02-30T11:59:{s:02d} ",
        "2026-03-01 11:59:{s:02d} ",
    ),
}


@pytest.mark.parametrize("engine", ENGINES)
@pytest.mark.parametrize(
    "spec", [SESSIONS, PLAIN, SESSIONS_BARE, PLAIN_BARE], ids=["mlfid", "plain", "mlfid-bare", "plain-bare"]
)
@pytest.mark.parametrize("fmt", ["syslog", "iso"])
@settings(max_examples=30, deadline=None)
@given(
    items=st.lists(_line.filter(lambda item: item[0] != len(MESSAGES) - 1), min_size=1, max_size=60),
    odd=st.lists(st.integers(0, 59), max_size=3),
    check_all=st.booleans(),
    failures=st.booleans(),
    live=st.booleans(),
    later=st.sampled_from([0, 30, 3600]),  # with live, 30 s moves part of the dates to now, 3600 all of them
)
def test_uniform_chunks_equal_the_general_step(
    engine: str,
    spec: FilterSpec,
    fmt: str,
    items: list[tuple[int, int, str, str, int, int, int]],
    odd: list[int],
    check_all: bool,
    failures: bool,
    live: bool,
    later: int,
) -> None:
    dates = UNIFORM_DATES[fmt]
    lines = []
    for n, (kind, pid, ip, user, sec, _fmt, frac) in enumerate(items):
        date = dates[1 + n % 2 if n in odd else 0].format(s=sec, f=frac)
        lines.append(date + f"h app[{pid}]: " + MESSAGES[kind].format(ip=ip, user=user, n=pid))
    now = NOW + later
    expected = reference(spec, lines, check_all, live=live, now=now)
    m = Matcher(spec, detector=DateDetector(), check_all=check_all, live=live, engine=engine)
    assert m.engine.name == (engine if not spec.ignoreregex else "python"), m.engine_note
    stats = ScanStats()
    half = len(lines) // 2
    got = m.scan(
        "".join(x + "\n" for x in lines[:half]), now, 1, stats, keep_ignored=False, failures=failures
    )
    got += m.scan(
        "".join(x + "\n" for x in lines[half:]), now, half + 1, stats, keep_ignored=False, failures=failures
    )
    want = [o if failures else strip(o) for o in expected if kept(o, False, False, True, failures)]
    assert got == want
    assert (stats.lines, stats.matched, stats.ignored) == (
        len(lines),
        sum(o.kind == MATCHED for o in expected),
        sum(o.kind == IGNORED for o in expected),
    )
    templates: dict[str, int] = {}
    for o in expected:
        if o.template is not None:
            templates[o.template] = templates.get(o.template, 0) + 1
    assert stats.template_hits == templates


# --- the benchmark's generated auth.log with upstream's sshd filter ------------------------------------------------

_GENERATOR = Path(__file__).parents[3] / "bench" / "gen_authlog.py"
_SSHD = Path("/etc/fail2ban/filter.d/sshd.conf")


def _authlog(lines: int, fmt: str, seed: int) -> str:
    spec = importlib.util.spec_from_file_location("gen_authlog", _GENERATOR)
    assert spec is not None and spec.loader is not None
    gen = importlib.util.module_from_spec(spec)
    sys.modules["gen_authlog"] = gen  # dataclasses look their module up while the class is built
    spec.loader.exec_module(gen)
    out = io.StringIO()
    gen.write_authlog(out, gen.LogSpec(lines=lines, end=int(NOW) - 60, seed=seed, format=fmt))
    return out.getvalue()


@pytest.mark.skipif(
    not (_SSHD.exists() and _GENERATOR.exists()), reason="upstream's sshd filter is not installed"
)
@pytest.mark.parametrize("fmt", ["syslog", "iso"])
@pytest.mark.parametrize("mode", ["normal", "aggressive"])
@pytest.mark.parametrize("check_all", [True, False], ids=["all", "first"])
@pytest.mark.parametrize("engine", ENGINES)
def test_generated_authlog_with_upstream_sshd(fmt: str, mode: str, check_all: bool, engine: str) -> None:
    from banjail.config.load import load_filter

    spec = load_filter(f"{_SSHD}[mode={mode}]", config_dir=str(_SSHD.parents[1]))
    text = _authlog(3000, fmt, seed=7)
    lines = text.splitlines()
    expected = reference(spec, lines, check_all)
    m = Matcher(spec, detector=DateDetector(), check_all=check_all, engine=engine)
    assert m.engine.name == engine, m.engine_note
    stats = ScanStats()
    got: list[LineOutcome] = []
    for start in range(0, len(lines), 700):  # chunks of whole lines, as fail2ban-regex reads them
        part = "".join(x + "\n" for x in lines[start : start + 700])
        got += m.scan(part, NOW, start + 1, stats, keep_ignored=False, keep_matched=False)
    assert got == [o for o in expected if o.failures]
    assert sum(len(o.failures) for o in got) > 100
    if engine == "native":  # every chunk of the generated log is ASCII and uniform: none falls back
        assert stats.native_lines == len(lines)
    assert (stats.lines, stats.matched, stats.ignored) == (
        len(lines),
        sum(o.kind == MATCHED for o in expected),
        sum(o.kind == IGNORED for o in expected),
    )


# --- ISO dates with a fraction of a second, in a local zone with DST ------------------------------------------------
# The chunk path parses a date once per run of texts equal but for their fraction (uniform._fraction_runs); local
# times in the hour CET/CEST repeats (2026-10-25 02:xx) and the hour it skips (2026-03-29 02:xx) must still give
# the per-line path's epochs.
LOCAL_DAYS = ("2026-10-25 01:59", "2026-10-25 02:00", "2026-10-25 02:59", "2026-10-25 03:00", "2026-03-29 02:30",
              "2026-03-29 01:59", "2026-02-28 23:59", "2026-02-29 00:00")


@pytest.mark.usefixtures("cet")
@pytest.mark.parametrize("engine", ENGINES)
@settings(max_examples=40, deadline=None)
@given(
    items=st.lists(
        st.tuples(
            st.integers(0, len(LOCAL_DAYS) - 1), st.integers(0, 3), st.integers(0, 999_999),
            st.sampled_from(["", "+00:00", "+02:00", "Z"]), st.integers(0, len(MESSAGES) - 2),
        ),
        min_size=1, max_size=50,
    ),
)
def test_iso_fractions_in_a_local_zone_equal_the_general_step(
    engine: str, items: list[tuple[int, int, int, str, int]]
) -> None:
    now = float(calendar.timegm((2026, 11, 1, 12, 0, 0)))
    lines = [
        f"{LOCAL_DAYS[day]}:{sec:02d}.{frac:06d}{zone} h app[1]: " + MESSAGES[kind].format(ip="192.0.2.1", user="bob", n=1)
        for day, sec, frac, zone, kind in items
    ]
    expected = reference(PLAIN_BARE, lines, True, now=now)
    m = Matcher(PLAIN_BARE, detector=DateDetector(), check_all=True, engine=engine)
    stats = ScanStats()
    got = m.scan("".join(x + "\n" for x in lines), now, 1, stats, keep_ignored=False, failures=True)
    assert got == [o for o in expected if kept(o, False, False, True, True)]
    assert stats.lines == len(lines)
    assert stats.native_lines == (len(lines) if engine == "native" else 0)
