"""The native engine's one-line step in C (banjail.filter._native_step.c) against the Python reference, on
generated logs aimed at what it ports: many interleaved <F-MLFID> sessions with NOFAIL, GAINED and FORGET lines,
more live sessions than the cache holds, expiry (times crossing the session TTL), more users than MAX_USERS /
MAX_USER_CHARS, more lines than MAX_LINES / MAX_LINE_CHARS, ip4, ip6, ::ffff:-mapped, cidr, DNS names, F-ID
forms, lines without a valid date and lines no identifier can be read from. Both engines scan the same chunks
(cut at random points); after each chunk the outcomes (failure by failure: id, ip, time, groups, lines, line
number, regex index), the stats and the log's state (the sessions' contents in their order, the address cache,
the last date) must be equal."""

from __future__ import annotations

import calendar
import itertools
import random
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from banjail.filter import native, session
from banjail.filter.datedetect import DateDetector
from banjail.filter.identity import Identities
from banjail.filter.matcher import Matcher
from banjail.filter.outcome import ScanStats
from banjail.model import FilterSpec

pytestmark = pytest.mark.skipif(not native.built(), reason="the native engine is not built")

NOW = float(calendar.timegm((2026, 3, 1, 12, 0, 0)))
# the date is optional in the prefregex so that a line whose date text is not a date still matches
SESSIONS = FilterSpec(
    prefregex=r"^(?:[A-Z][a-z]{2} +\d+ [\d:]+)?\s*<F-MLFID>\S+ app\[\d+\]:</F-MLFID> <F-CONTENT>.+</F-CONTENT>$",
    failregex=(
        r"^Failed (?:<F-NOFAIL>publickey</F-NOFAIL>|\S+) for <F-USER>\S+</F-USER> from <HOST>( port \d+)?$",
        r"^<F-NOFAIL>Connection from</F-NOFAIL> <HOST>$",
        r"^Bad user <F-USER>\S+</F-USER>$",
        r"^<F-MLFFORGET>Disconnected</F-MLFFORGET>(?: from <HOST>)?$",
        r"^<F-MLFFORGET><F-MLFGAINED>Accepted \w+</F-MLFGAINED></F-MLFFORGET> for <F-USER>\S+</F-USER>",
        r"^Invalid key <F-ID>\S+</F-ID> from <HOST>$",
        r"^Subnet <SUBNET> refused$",
        r"^Token <F-ID>\w+</F-ID>$",
        r"^<F-MLFGAINED>Gained</F-MLFGAINED> for <F-USER>\S+</F-USER>",
        r"(?:Failed|Bad) .*from <HOST>",
        r"^<F-NOFAIL>Probe</F-NOFAIL> <F-USER>\S+</F-USER> from <HOST>$",
    ),
)
PLAIN = FilterSpec(
    failregex=(
        r"auth failed for <F-USER>\S+</F-USER> from <HOST>",
        r"bad key(?: from <HOST>)?(?: id <F-ID>\w+</F-ID>)?$",
        r"Subnet <SUBNET> refused$",
        r"Token <F-ID>\w+</F-ID>$",
        r"from <HOST>",
    ),
)
# The prefregex's own groups: USER (always "h") is also a group of some failregexes, whose value then wins;
# EVEN takes part for even pids only. The C step builds each merged dict straight from the match records.
SHARED = FilterSpec(
    prefregex=(
        r"^(?:[A-Z][a-z]{2} +\d+ [\d:]+)?\s*<F-MLFID>(?:<F-USER>h</F-USER>|\S+) "
        r"app\[(?:<F-EVEN>\d*[02468]</F-EVEN>|\d+)\]:</F-MLFID> <F-CONTENT>.+</F-CONTENT>$"
    ),
    failregex=SESSIONS.failregex,
)
# A prefregex without a content group: the failregexes then search the line from its date's end.
UNCUT = FilterSpec(
    prefregex=r"^(?:[A-Z][a-z]{2} +\d+ [\d:]+)?\s*\S+ app\[(?:<F-EVEN>\d*[02468]</F-EVEN>|\d+)\]:",
    failregex=PLAIN.failregex,
)
MESSAGES = (
    "Failed password for {user} from {ip} port 22",
    "Failed publickey for {user} from {ip}",
    "Connection from {ip}",
    "Bad user {user}",
    "Disconnected",
    "Disconnected from {ip}",
    "Accepted password for {user}",
    "Invalid key k{n} from {ip}",
    "Subnet {ip}/{n} refused",
    "Token t{n}",
    "Token {ip}",
    "Gained for {user}",
    "auth failed for {user} from {ip}",
    "bad key",
    "bad key from {ip} id k{n}",
    "session opened for {user}",
    "Probe {user} from {ip}",
)
ADDRESSES = ("192.0.2.1", "192.0.2.2", "2001:db8::9", "::ffff:192.0.2.1", "host.example", "198.51.100.7")
USERS = (
    "bob",
    "eve",
    "root",
    *(f"user{k}" for k in range(20)),
    "a" * 1500,
    "b" * 1500,
    "c" * 1500,
    "d" * 1500,
)
MONTHS = ("Mar", "Mar", "Mar", "Mar", "Mar", "Mar", "Feb")  # Feb 30: a date text that is no date

_line = st.tuples(
    st.integers(0, len(MESSAGES) - 1),
    st.one_of(st.integers(0, 2), st.integers(0, 300)),  # a few busy sessions, many others
    st.sampled_from(ADDRESSES),
    st.sampled_from(USERS),
    # seconds forward from the previous line: crosses the 300 s TTL within a log, sometimes to the second
    st.sampled_from((0, 0, 0, 1, 2, 5, 30, 60, 150, 300)),
    st.sampled_from(MONTHS),
    st.integers(0, 32),
    st.sampled_from((1,) * 30 + (55,)),  # sometimes a run of one message: a session beyond MAX_LINES (CHARS)
)


Item = tuple[int, int, str, str, int, str, int, int]


def _render(items: list[Item], pace: int = 1) -> list[str]:
    """The lines; time runs `pace` times slower (30: more than 100 sessions live at once)."""
    at = 0
    out = []
    for kind, pid, ip, user, step, month, n, times in items:
        at += step // pace
        day = 30 if month == "Feb" else 1
        h, rest = divmod(at, 3600)
        stamp = f"{month} {day:2d} {10 + h:02d}:{rest // 60:02d}:{rest % 60:02d}"
        out += [f"{stamp} h app[{pid}]: " + MESSAGES[kind].format(ip=ip, user=user, n=n)] * times
    return out


def _brief(o: Any) -> tuple[Any, ...]:
    fails = tuple((f.fid, f.ip, f.time, f.lines, f.groups, f.lineno, f.regex_index) for f in o.failures)
    return (o.lineno, o.line, o.kind, o.failregex, o.ignoreregex, fails, o.template)


def _state(m: Matcher) -> tuple[Any, ...]:
    # pref_last is not compared: only a caller counting prefregex hits reads it, and book() sets it then. Nor is
    # the address cache: the C step keeps its own for the addresses it has seen (and reads a plain IPv4 address
    # itself), so Identities.addresses holds fewer entries there; _cache_agrees checks what it holds.
    s = m.state
    return (list(s.sessions.entries.items()), s.last_text, s.last_date)


def _cache_agrees(m: Matcher) -> None:
    """Every entry of the log's address cache is what a fresh Identities computes for its key."""
    fresh = Identities("raw")
    for (text, cidr, family), value in m.state.identities.addresses.items():
        assert fresh.address(text, cidr, family) == value, (text, cidr, family)


class _Fallbacks:
    """Counts the lines the C step hands to Python (its fallback calls run_line)."""

    def __init__(self) -> None:
        self.calls = 0
        self.real = native.run_line

    def __call__(self, *args: Any, **kwargs: Any) -> None:
        self.calls += 1
        self.real(*args, **kwargs)


def _compare(
    spec: FilterSpec,
    lines: list[str],
    cuts: list[int],
    check_all: bool,
    live: bool,
    keep: tuple[bool, ...],
    nows: list[float] | None = None,
) -> int:
    """Both engines over the same chunks (chunk k scanned at nows[k], by default 150 s after chunk k - 1: the
    sessions' TTL runs on the caller's now); the lines matched or ignored."""
    text = [line + "\n" for line in lines]
    bounds = sorted({0, len(text), *(c for c in cuts if c < len(text))})
    chunks = ["".join(text[a:b]) for a, b in itertools.pairwise(bounds)]
    matchers = {
        e: Matcher(spec, detector=DateDetector(), check_all=check_all, live=live, engine=e)
        for e in ("python", "native")
    }
    assert matchers["native"].engine.name == "native"
    stats = {e: ScanStats() for e in matchers}
    lineno = 1
    missed, ignored, matched, failures = keep
    for k, chunk in enumerate(chunks):
        now = nows[k] if nows is not None else NOW + 150 * k
        got = {}
        for e, m in matchers.items():
            out = m.scan(chunk, now, lineno, stats[e], keep_missed=missed, keep_ignored=ignored,
                         keep_matched=matched, failures=failures)  # fmt: skip
            got[e] = [_brief(o) for o in out]
        assert got["native"] == got["python"]
        assert stats["native"].failregex_hits == stats["python"].failregex_hits
        assert _state(matchers["native"]) == _state(matchers["python"])
        _cache_agrees(matchers["native"])
        lineno += chunk.count("\n")
    py, nat = stats["python"], stats["native"]
    assert (nat.lines, nat.matched, nat.ignored, nat.missed, nat.prefregex_hits, nat.template_hits) == (
        py.lines, py.matched, py.ignored, py.missed, py.prefregex_hits, py.template_hits)  # fmt: skip
    return py.matched + py.ignored


@pytest.mark.parametrize("spec", [SESSIONS, PLAIN, SHARED, UNCUT], ids=["mlfid", "plain", "shared", "uncut"])
@pytest.mark.parametrize("check_all", [True, False], ids=["all", "first"])
@settings(max_examples=40, deadline=None)
@given(
    items=st.lists(_line, min_size=150, max_size=500),
    cuts=st.lists(st.integers(0, 500), max_size=5),
    live=st.booleans(),
    pace=st.sampled_from((1, 30)),
    keep=st.tuples(st.booleans(), st.booleans(), st.booleans(), st.booleans()),
)
def test_c_step_equals_the_python_step(
    spec: FilterSpec,
    check_all: bool,
    items: list[Item],
    cuts: list[int],
    live: bool,
    pace: int,
    keep: tuple[bool, bool, bool, bool],
) -> None:
    _compare(spec, _render(items, pace), cuts, check_all, live, keep)


# (seconds after the first line, pid) of "Connection from" lines; then one line of session 0 at the end
EDGES = [
    [(0, 0), (299, 0), (300, 0), (301, 0)],  # the TTL, to the second
    [(0, 0), *((1, pid) for pid in range(1, 101)), (2, 0)],  # a full cache drops its oldest live session
    [(0, 0), *((1, pid) for pid in range(1, 100)), (300, 100), (301, 0)],  # full: the expired ones all go
]


@pytest.mark.parametrize("edge", EDGES, ids=["ttl", "evict-oldest", "evict-expired"])
@pytest.mark.parametrize("check_all", [True, False], ids=["all", "first"])
def test_session_cache_edges(edge: list[tuple[int, int]], check_all: bool) -> None:
    lines = [f"Mar  1 10:{at // 60:02d}:{at % 60:02d} h app[{pid}]: Connection from 192.0.2.{pid % 250}"
             for at, pid in edge]  # fmt: skip
    lines.append(lines[-1].replace("Connection from", "Failed password for bob from"))
    # one chunk per line, each scanned at its line's time
    _compare(SESSIONS, lines, list(range(len(lines))), check_all, False, (True, True, True, True),
             [NOW + at for at, _pid in [*edge, edge[-1]]])  # fmt: skip


@pytest.mark.parametrize("check_all", [True, False], ids=["all", "first"])
def test_a_long_log_runs_mostly_in_c_and_reaches_every_bound(
    check_all: bool, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A fixed long log: the C step takes most hit lines (so the generated test above tests it), the cache is
    full, and sessions reach the user and line bounds."""
    rng = random.Random(13)
    items = [
        (rng.randrange(len(MESSAGES)), rng.choice((0, 1, rng.randrange(160))), rng.choice(ADDRESSES),
         rng.choice(USERS), rng.randrange(8), rng.choice(MONTHS), rng.randrange(33), 1)
        for _ in range(6000)
    ]  # fmt: skip
    # two sessions parking NOFAIL lines: one beyond MAX_LINES, one beyond MAX_LINE_CHARS; two trying every user
    # (beyond MAX_USERS; the long names first: beyond MAX_USER_CHARS)
    items[3000:3000] = [
        (2, 900, "192.0.2.1", "bob", 0, "Mar", 0, 60),
        (16, 901, "192.0.2.1", "a" * 1500, 0, "Mar", 0, 50),
        *((3, 902, "", user, 0, "Mar", 0, 1) for user in USERS),
        *((3, 903, "", user, 0, "Mar", 0, 1) for user in reversed(USERS)),
    ]
    runs = 3000 + 2 + 2 * len(USERS)
    fallbacks = _Fallbacks()
    monkeypatch.setattr(native, "run_line", fallbacks)
    hits = _compare(SESSIONS, _render(items), [1000, 2500, 4000], check_all, False, (False, True, True, True))
    assert 0 < fallbacks.calls < hits // 4, (fallbacks.calls, hits)  # the Feb 30 lines go to Python
    m = Matcher(SESSIONS, detector=DateDetector(), check_all=check_all, engine="native")
    m.scan("".join(line + "\n" for line in _render(items[:runs])), NOW, 1, ScanStats())  # up to the two runs
    entries = m.state.sessions.entries
    assert session.MAX_SESSIONS * 9 // 10 < len(entries) <= session.MAX_SESSIONS  # 160 pids: evictions
    assert len(entries["h app[902]:"][0]["users"]) == session.MAX_USERS
    assert sorted(map(len, entries["h app[903]:"][0]["users"]))[-3:] == [
        6,
        1500,
        1500,
    ]  # "user19", "d"*, "c"*
    parked = [sum(map(len, line)) for line in entries["h app[901]:"][0]["nofail-matches"]]
    assert (len(entries["h app[900]:"][0]["nofail-matches"]), len(parked) < session.MAX_LINES) == (
        session.MAX_LINES,
        True,
    )
    assert sum(parked) <= session.MAX_LINE_CHARS < sum(parked) + parked[0]


# IPv4 texts the <HOST> pattern captures whose canonical text differs (leading zeros: upstream reads them as
# invalid and keeps the text), the extremes, a mapped and a v6 address
ADDRESS_EDGES = ("0.0.0.0", "255.255.255.255", "1.2.3.4", "01.2.3.4", "1.2.3.04", "001.002.003.004", "1.02.3.4",
                 "10.0.0.1", "::ffff:10.0.0.1", "2001:db8::1", "2001:0db8:0:0::1")  # fmt: skip


@pytest.mark.parametrize("check_all", [True, False], ids=["all", "first"])
def test_address_cache_edges_and_collisions(check_all: bool) -> None:
    """The C step's address cache (a direct-mapped table of 1024 slots) and its own reading of a plain IPv4
    address give what Python's Identities give: edge texts, and 12,000 distinct addresses (so slots are taken
    over by other addresses) each seen a few times, in random order."""
    rng = random.Random(7)
    texts = [*ADDRESS_EDGES * 20, *(f"10.{n >> 16}.{(n >> 8) & 255}.{n & 255}" for n in range(12_000))] * 2
    rng.shuffle(texts)
    lines = [f"Mar  1 10:{k // 3600 % 60:02d}:{k % 60:02d} h app[1]: auth failed for bob from {ip}"
             for k, ip in enumerate(texts)]  # fmt: skip
    hits = _compare(PLAIN, lines, [5000, 20_000], check_all, False, (False, False, False, True))
    assert hits == len(lines)
