"""banjail.filter.matcher: what lines yield (outcomes, failures, sessions), and scan() == process() line by line."""

from __future__ import annotations

import calendar
import re
import time
from dataclasses import dataclass

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from banjail.filter import session
from banjail.filter.datedetect import DateDetector
from banjail.filter.matcher import MAX_LINE, Matcher
from banjail.filter.outcome import IGNORED, MATCHED, MISSED, LineOutcome, ScanStats
from banjail.filter.program import RECENT
from banjail.model import FilterSpec

NOW = calendar.timegm((2026, 3, 1, 12, 0, 0))
_MONTHS = {
    m: i
    for i, m in enumerate(
        ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"], 1
    )
}
_STAMP = re.compile(r"([A-Z][a-z]{2}) +(\d+) (\d\d):(\d\d):(\d\d)")


@dataclass(frozen=True, slots=True)
class Hit:
    time: float
    start: int
    end: int
    template: str


class StubDetector:
    """A syslog-date finder with the DateDetector shape (year fixed at 2026, UTC)."""

    none = False

    def find(self, line: str, now: float) -> Hit | None:
        m = _STAMP.search(line)
        if m is None:
            return None
        mon, day, hh, mm, ss = m.groups()
        epoch = calendar.timegm((2026, _MONTHS[mon], int(day), int(hh), int(mm), int(ss)))
        return Hit(float(epoch), m.start(), m.end(), "MON Day H:M:S")


def T(hms: str) -> float:
    h, m, s = (int(x) for x in hms.split(":"))
    return float(calendar.timegm((2026, 3, 1, h, m, s)))


SIMPLE = FilterSpec(
    failregex=(
        r"^\s*auth failed for <F-USER>\S+</F-USER> from <HOST>$",
        r"^\s*bad key from <HOST> id <F-ID>\w+</F-ID>$",
    ),
    ignoreregex=(r"from 10\.0\.0\.\d+",),
)

# An sshd-like filter: a prefix with a session id, NOFAIL hints, FORGET on disconnect, GAINED on success.
SESSIONS = FilterSpec(
    prefregex=r"^\s*<F-MLFID>\S+ app\[\d+\]:</F-MLFID> <F-CONTENT>.+</F-CONTENT>$",
    failregex=(
        r"^Failed password for <F-USER>\S+</F-USER> from <HOST>$",
        r"^<F-NOFAIL>Connection from</F-NOFAIL> <HOST>$",
        r"^<F-NOFAIL>hint</F-NOFAIL> user <F-USER>\S+</F-USER>$",
        r"^Bad user <F-USER>\S+</F-USER>$",
        r"^<F-MLFFORGET>Disconnected</F-MLFFORGET>$",
        r"^<F-MLFFORGET><F-MLFGAINED>Accepted</F-MLFGAINED></F-MLFFORGET> for <F-USER>\S+</F-USER>$",
    ),
)

# With fewer ignoreregexes than failregexes minus two, ignoreregex runs first and can ignore any line.
IGNORE_FIRST = FilterSpec(
    failregex=(
        r"^\s*auth failed for <F-USER>\S+</F-USER> from <HOST>$",
        r"^\s*bad key from <SUBNET> id <F-ID>\w+</F-ID>$",
        r"^\s*single from <ADDR>$",
        r"^\s*cron job <F-ID>\d+</F-ID>$",
    ),
    ignoreregex=(r"cron job 1$",),
)

MULTI = FilterSpec(
    failregex=(r"^\s*begin <F-ID>\d+</F-ID><SKIPLINES>^\s*end \S+ from <HOST>$", r"^\s*single from <HOST>$"),
    ignoreregex=(r"^\s*end allowed",),
    maxlines=3,
)


def run(spec: FilterSpec, lines: list[str], **kw: object) -> list[LineOutcome]:
    m = Matcher(spec, detector=StubDetector(), **kw)  # type: ignore[arg-type]
    return [m.process(line, NOW, n) for n, line in enumerate(lines, 1)]


def brief(outcomes: list[LineOutcome]) -> list[tuple[object, ...]]:
    return [
        (o.lineno, o.kind, o.failregex, [(f.fid, f.ip, f.time, f.lines, dict(f.groups)) for f in o.failures])
        for o in outcomes
    ]


@pytest.mark.parametrize(
    ("line", "expected"),
    [
        (
            "Mar  1 10:00:00 auth failed for bob from 192.0.2.1",
            (MATCHED, (0,), [("192.0.2.1", "192.0.2.1", T("10:00:00"), "bob")]),
        ),
        (
            "Mar  1 10:00:00 auth failed for bob from ::ffff:192.0.2.1",
            (MATCHED, (0,), [("192.0.2.1", "192.0.2.1", T("10:00:00"), "bob")]),
        ),
        (
            "Mar  1 10:00:00 auth failed for bob from 2001:DB8::0:1",
            (MATCHED, (0,), [("2001:db8::1", "2001:db8::1", T("10:00:00"), "bob")]),
        ),
        ("Mar  1 10:00:00 auth failed for bob from 10.0.0.7", (IGNORED, (), [])),
        (
            "Mar  1 10:00:00 bad key from 192.0.2.9 id k77",
            (MATCHED, (1,), [("k77", "192.0.2.9", T("10:00:00"), None)]),
        ),
        ("Mar  1 10:00:00 something else", (MISSED, (), [])),
        # no date, no earlier date within a minute of now: it matches, but has no time to count
        ("auth failed for bob from 192.0.2.1", (MATCHED, (0,), [])),
    ],
)
def test_single_lines(line: str, expected: tuple[object, ...]) -> None:
    (o,) = run(SIMPLE, [line])
    got = (o.kind, o.failregex, [(f.fid, f.ip, f.time, f.group("user")) for f in o.failures])
    assert got == expected


def test_failure_keeps_the_whole_line_and_groups() -> None:
    (o,) = run(SIMPLE, ["Mar  1 10:00:00 auth failed for bob from 192.0.2.1"])
    (f,) = o.failures
    assert f.lines == ("Mar  1 10:00:00 auth failed for bob from 192.0.2.1",)
    assert dict(f.groups) == {"user": "bob", "ip4": "192.0.2.1"}
    assert (f.lineno, f.regex_index, o.template) == (1, 0, "MON Day H:M:S")


def test_dateless_line_uses_recent_last_date() -> None:
    m = Matcher(SIMPLE, detector=StubDetector())
    m.process("Mar  1 11:59:30 noise", NOW, 1)
    o = m.process("auth failed for bob from 192.0.2.1", NOW, 2)
    (f,) = o.failures
    assert f.time == T("11:59:30")
    assert f.lines == (
        "Mar  1 11:59:30auth failed for bob from 192.0.2.1",
    )  # upstream prefixes the date text


def test_live_mode_takes_now_and_stops_at_first_failure() -> None:
    spec = FilterSpec(failregex=(r"from <HOST>", r"failed .* <HOST>"))
    m = Matcher(spec, detector=StubDetector(), check_all=False, live=True)
    o = m.process("Mar  1 10:00:00 failed from 192.0.2.1", NOW, 1)
    assert [(f.fid, f.time, f.regex_index) for f in o.failures] == [("192.0.2.1", NOW, 0)]
    all_regexes = Matcher(spec, detector=StubDetector()).process(
        "Mar  1 10:00:00 failed from 192.0.2.1", NOW, 1
    )
    assert all_regexes.failregex == (0, 1)


@pytest.mark.parametrize(
    ("usedns", "text", "fids"),
    [
        ("warn", "host.example", ["192.0.2.50", "2001:db8::50"]),
        ("yes", "192.0.2.8", ["192.0.2.8"]),
        ("no", "host.example", []),
        ("raw", "host.example", ["host.example"]),
    ],
)
def test_usedns(usedns: str, text: str, fids: list[str]) -> None:
    asked: list[str] = []

    def resolver(name: str) -> list[str]:
        asked.append(name)
        return ["192.0.2.50", "2001:DB8::50", "192.0.2.50", "junk"]

    spec = FilterSpec(failregex=(r"^\s*login from <DNS>$",), usedns=usedns)
    m = Matcher(spec, detector=StubDetector(), resolver=resolver)
    o = m.process(f"Mar  1 10:00:00 login from {text}", NOW, 1)
    assert [f.fid for f in o.failures] == fids
    assert asked == (["host.example"] if usedns in ("yes", "warn") and text == "host.example" else [])


def test_sessions() -> None:
    """Expectations checked against fail2ban 1.0.2's Filter with the same regexes."""
    lines = [
        "Mar  1 10:00:00 h app[1]: Connection from 192.0.2.1",  # nofail: remembered, not a failure
        "Mar  1 10:00:01 h app[1]: Bad user eve",  # no address of its own: takes the session's
        "Mar  1 10:00:02 h app[2]: Connection from 192.0.2.2",
        "Mar  1 10:00:03 h app[2]: Accepted for alice",  # gained: session 2 is forgotten, nothing counted
        "Mar  1 10:00:04 h app[2]: Bad user mallory",  # no session any more: pending, no failure
        "Mar  1 10:00:05 h app[1]: Disconnected",
        "Mar  1 10:00:06 h app[1]: Bad user eve",  # session 1 was forgotten: pending again
    ]
    got = [(o.kind, [(f.fid, f.lines) for f in o.failures]) for o in run(SESSIONS, lines)]
    assert got == [
        (IGNORED, []),
        (
            MATCHED,
            [
                (
                    "192.0.2.1",
                    (
                        "Mar  1 10:00:00 h app[1]: Connection from 192.0.2.1",
                        "Mar  1 10:00:01 h app[1]: Bad user eve",
                    ),
                )
            ],
        ),
        (IGNORED, []),
        (IGNORED, []),
        (MATCHED, []),
        # FORGET without NOFAIL is itself a failure of the session's address; only its own line is kept
        (MATCHED, [("192.0.2.1", ("Mar  1 10:00:05 h app[1]: Disconnected",))]),
        (MATCHED, []),
    ]


@pytest.mark.parametrize(
    ("names", "kept"),
    [
        # below the bound: every name, as upstream
        ([f"u{n}" for n in range(3)], [f"u{n}" for n in range(3)]),
        # a session trying many names keeps the first MAX_USERS
        ([f"u{n:03d}" for n in range(200)], [f"u{n:03d}" for n in range(session.MAX_USERS)]),
        # long names: the characters bound stops the set, but a second name is always kept ("several users")
        (["a" * 5000, "b" * 5000, "c"], ["a" * 5000, "b" * 5000]),
        (["a" * 3000, "b" * 1000, "c" * 200], ["a" * 3000, "b" * 1000]),
    ],
)
def test_session_users_bounded(names: list[str], kept: list[str]) -> None:
    lines = ["Mar  1 10:00:00 h app[1]: Connection from 192.0.2.1"]
    lines += [f"Mar  1 10:00:01 h app[1]: Bad user {name}" for name in names]
    outcomes = run(SESSIONS, lines)
    last = outcomes[-1].failures[0]
    assert [v for k, v in last.groups if k == "users"] == kept
    # every failure carries at most the bound, and they share one tuple of pairs
    assert all(len([k for k, _v in o.failures[0].groups if k == "users"]) <= session.MAX_USERS for o in outcomes[1:])


def test_session_lines_bounded() -> None:
    # lines of a session waiting for its address gather until a line gives it: only the newest MAX_LINES (and
    # MAX_LINE_CHARS) stay with it
    lines = [f"Mar  1 10:{n // 60:02d}:{n % 60:02d} h app[1]: hint user root" for n in range(300)]
    lines.append("Mar  1 10:05:00 h app[1]: Connection from 192.0.2.1")
    failures = [f for o in run(SESSIONS, lines) for f in o.failures]
    assert [f.lines for f in failures] == [tuple(lines[-session.MAX_LINES :])]
    long = [f"Mar  1 10:00:0{n} h app[2]: hint user {'x' * 30000}" for n in range(5)]
    long.append("Mar  1 10:00:06 h app[2]: Connection from 192.0.2.2")
    failures = [f for o in run(SESSIONS, long) for f in o.failures]
    assert [[len(line) for line in f.lines] for f in failures] == [[30036, 30036, 51]]
    assert session.newest([("a",)]) == [("a",)]
    assert session.newest([("x" * 70000,), ("y" * 70000,)]) == [("y" * 70000,)]


def test_multiline_buffer_and_skiplines() -> None:
    lines = [
        "Mar  1 10:00:00 begin 7",
        "Mar  1 10:00:01 noise",
        "Mar  1 10:00:02 end x from 192.0.2.3",
        "Mar  1 10:00:03 single from 192.0.2.4",
    ]
    got = brief(run(MULTI, lines))
    assert got[2][3] == [
        (
            "7",
            "192.0.2.3",
            T("10:00:02"),
            ("Mar  1 10:00:00 begin 7", "Mar  1 10:00:02 end x from 192.0.2.3"),
            # as upstream's ticket data: the skipped text, and "ip" since the id is not the address
            {"fid": "7", "skiplines0": " noise\n", "ip4": "192.0.2.3", "ip": "192.0.2.3"},
        )
    ]
    assert got[3][3] == [
        (
            "192.0.2.4",
            "192.0.2.4",
            T("10:00:03"),
            ("Mar  1 10:00:03 single from 192.0.2.4",),
            {"ip4": "192.0.2.4"},
        )
    ]


@pytest.mark.parametrize(
    ("line", "expected"),
    [
        ("Mar  1 10:00:00 cron job 1", (IGNORED, 0, [])),  # ignored before any failregex runs
        ("Mar  1 10:00:00 cron job 12", (MATCHED, -1, [("12", None)])),
        ("Mar  1 10:00:00 bad key from 192.0.2.77/24 id k1", (MATCHED, -1, [("k1", "192.0.2.0/24")])),
        ("Mar  1 10:00:00 single from [2001:db8::7]", (MATCHED, -1, [("2001:db8::7", "2001:db8::7")])),
    ],
)
def test_ignore_first_and_ids(line: str, expected: tuple[object, ...]) -> None:
    (o,) = run(IGNORE_FIRST, [line])
    assert (o.kind, o.ignoreregex, [(f.fid, f.ip) for f in o.failures]) == expected


def test_first_failure_only_when_not_check_all() -> None:
    spec = FilterSpec(failregex=(r"<F-NOFAIL>hint</F-NOFAIL> from <HOST>", r"from <HOST>"))
    line = "Mar  1 10:00:00 hint from 192.0.2.1"
    (every,) = run(spec, [line])
    (first,) = run(spec, [line], check_all=False)
    # fail2ban-regex: both regexes hit; the NOFAIL one makes the line count as ignored, the other still fails
    assert (every.kind, every.failregex, [f.fid for f in every.failures]) == (IGNORED, (0, 1), ["192.0.2.1"])
    # the daemon stops at the first regex; without a session, upstream counts even a NOFAIL match
    assert (first.kind, first.failregex, [f.fid for f in first.failures]) == (IGNORED, (0,), ["192.0.2.1"])


def test_long_lines_are_cut_and_counted() -> None:
    m = Matcher(SIMPLE, detector=StubDetector())
    o = m.process("Mar  1 10:00:00 auth failed for " + "b" * MAX_LINE + " from 192.0.2.1", NOW, 1)
    assert (o.kind, len(o.line), m.truncated) == (MISSED, MAX_LINE, 1)


# --- scan() against process() ----------------------------------------------------------------------------------

_SESSION_MSGS = [
    "Connection from {ip}",
    "Failed password for {user} from {ip}",
    "hint user {user}",
    "Bad user {user}",
    "Disconnected",
    "Accepted for {user}",
    "noise about {user}",
    "Failed password for {user} from {ip} trailing",
]
_SIMPLE_MSGS = [
    "auth failed for {user} from {ip}",
    "auth failed for {user} from 10.0.0.{n}",
    "bad key from {ip} id k{n}",
    "begin {n}",
    "end y from {ip}",
    "end allowed from {ip}",
    "single from {ip}",
    "cron job {n}",
]

_line = st.tuples(
    st.integers(0, 7),
    st.integers(0, 3),
    st.sampled_from(["192.0.2.1", "192.0.2.2", "2001:db8::9", "::ffff:192.0.2.1", "host.example"]),
    st.sampled_from(["bob", "eve", "root"]),
    st.integers(0, 59),
    st.booleans(),
)


def _render(templates: list[str], item: tuple[int, int, str, str, int, bool], session: bool) -> str:
    kind, pid, ip, user, sec, dated = item
    msg = templates[kind].format(ip=ip, user=user, n=pid)
    prefix = f"h app[{pid}]: " if session else ""
    return (f"Mar  1 11:59:{sec:02d} " if dated else "") + prefix + msg


@pytest.mark.parametrize(
    ("spec", "templates", "session"),
    [
        (SESSIONS, _SESSION_MSGS, True),
        (SIMPLE, _SIMPLE_MSGS, False),
        (IGNORE_FIRST, _SIMPLE_MSGS, False),
        (MULTI, _SIMPLE_MSGS, False),
    ],
    ids=["mlfid", "simple", "ignore-first", "maxlines3"],
)
@settings(max_examples=60, deadline=None)
@given(items=st.lists(_line, max_size=40), keep=st.booleans(), trailing=st.booleans())
def test_scan_equals_process(
    spec: FilterSpec,
    templates: list[str],
    session: bool,
    items: list[tuple[int, int, str, str, int, bool]],
    keep: bool,
    trailing: bool,
) -> None:
    lines = [_render(templates, item, session) for item in items]
    expected = run(spec, lines)
    scanner = Matcher(spec, detector=StubDetector())
    stats = ScanStats()
    chunk = "\n".join(lines) + ("\n" if trailing and lines else "")
    got = scanner.scan(chunk, NOW, 1, stats, keep_missed=keep)
    assert got == [o for o in expected if keep or o.kind != MISSED]
    assert (stats.lines, stats.matched, stats.ignored, stats.missed) == (
        len(lines),
        sum(o.kind == MATCHED for o in expected),
        sum(o.kind == IGNORED for o in expected),
        sum(o.kind == MISSED for o in expected),
    )
    hits = [0] * len(spec.failregex)
    for o in expected:
        for i in o.failregex:
            hits[i] += 1
    assert stats.failregex_hits == hits
    assert stats.template_hits == (
        {"MON Day H:M:S": sum(1 for i in items if i[5])} if any(i[5] for i in items) else {}
    )


def test_scan_in_chunks_equals_one_chunk() -> None:
    lines = [
        _render(_SESSION_MSGS, (k % 8, k % 3, "192.0.2.1", "bob", k % 60, k % 5 != 0), True)
        for k in range(200)
    ]
    one = Matcher(SESSIONS, detector=StubDetector()).scan("\n".join(lines), NOW, 1, ScanStats())
    parts = Matcher(SESSIONS, detector=StubDetector())
    stats = ScanStats()
    got = parts.scan("\n".join(lines[:77]) + "\n", NOW, 1, stats) + parts.scan(
        "\n".join(lines[77:]), NOW, 78, stats
    )
    assert got == one
    assert stats.lines == 200


# Live mode (upstream's operation mode): a date more than RECENT seconds from now counts as now. The uniform path
# skips the per-line rule when a chunk's smallest and largest dates are recent; it must give what the rule gives.
_LIVE = FilterSpec(failregex=(r"Failed from <HOST>",))


@pytest.mark.parametrize("engine", ["python", "native"])
@settings(max_examples=60, deadline=None)
@given(
    offsets=st.lists(st.one_of(st.integers(-61, 61), st.integers(-400, 400)), min_size=1, max_size=40),
    fraction=st.sampled_from((0.0, 0.25, 0.5, 0.999)),
    shift=st.sampled_from((0, 0, -62, -500, 62, 500)),  # a whole chunk behind or ahead of now
)
def test_live_dates_beyond_recent_count_as_now(engine: str, offsets: list[int], fraction: float, shift: int) -> None:
    base = NOW + 3600  # a date an hour or more away from the year's edges
    lines = []
    for k, off in enumerate(sorted(o + shift for o in offsets)):  # a log's dates grow
        y, mo, d, h, mi, s = time.gmtime(base + off)[:6]
        lines.append(f"{y:04d}-{mo:02d}-{d:02d} {h:02d}:{mi:02d}:{s:02d} h app[1]: Failed from 192.0.2.{k % 250}\n")
    chunk = "".join(lines)
    now = base + fraction
    got = {}
    for live in (False, True):
        m = Matcher(_LIVE, detector=DateDetector(logtimezone="UTC"), check_all=False, live=live, engine=engine)
        got[live] = [f.time for o in m.scan(chunk, now, 1, ScanStats()) for f in o.failures]
    assert len(got[False]) == len(lines)
    assert got[True] == [now if abs(int(t - now)) > RECENT else t for t in got[False]]
