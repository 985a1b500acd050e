"""The native engine against the reference on web logs, whose date does not start the line (Apache's error log
"[date] ...", access logs "client - user [date] ..."): failure by failure (id, ip, time, groups, lines, line
number, regex) and count by count (lines, kinds, prefregex, failregex and template hits), with the prefregex
counted (fail2ban-regex's report) and not (--json), with and without missed lines kept, on
- upstream's sample logs of every apache-* and nginx-* filter, with upstream's filter files, in every option
  set the log names, as one chunk and in chunks of 7 lines (uniform chunks and per-line ones on one state);
- the bench's generated error and access logs (bench/gen_weblog.py), which must run natively throughout;
- hypothesis-made lines: valid and invalid dates, odd and doubled brackets, the date text twice on a line,
  lines without a date, zones, prefixes of every length.
Upstream's files are read at run time; the test skips without them."""

from __future__ import annotations

import calendar
import dataclasses
import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from banjail.config.load import load_filter
from banjail.filter import native
from banjail.filter.datedetect import DateDetector
from banjail.filter.matcher import Matcher
from banjail.filter.outcome import LineOutcome, ScanStats
from banjail.model import FilterSpec

pytestmark = pytest.mark.skipif(not native.built(), reason="the native engine is not built")

ETC = Path("/etc/fail2ban")
LOGS = Path("/usr/lib/python3/dist-packages/fail2ban/tests/files/logs")
GENERATOR = Path(__file__).parents[2] / "bench" / "gen_weblog.py"
NOW = float(calendar.timegm((2026, 12, 7, 0, 0, 0)))
WEB_FILTERS = sorted(p.name for p in LOGS.glob("*") if p.name.startswith(("apache-", "nginx-"))) if LOGS.is_dir() else []


def _brief(o: LineOutcome) -> tuple[Any, ...]:
    failures = tuple((f.fid, f.ip, f.time, f.lines, f.groups, f.lineno, f.regex_index) for f in o.failures)
    return (o.lineno, o.line, o.kind, o.failregex, o.ignoreregex, failures, o.template)


def _counts(stats: ScanStats) -> dict[str, Any]:
    counts = dataclasses.asdict(stats)
    del counts["native_lines"]
    return counts


def both(spec: FilterSpec, lines: list[str], now: float, chunk_lines: int, *, count_pref: bool,
         keep_missed: bool) -> tuple[int, int]:  # fmt: skip
    """Assert both engines give the same outcomes and counts for `lines` fed in chunks of `chunk_lines` (0:
    one chunk); returns (lines the native engine ran, failures)."""
    got: dict[str, tuple[list[tuple[Any, ...]], dict[str, Any]]] = {}
    ran = 0
    step = chunk_lines or max(len(lines), 1)
    for engine in ("python", "native"):
        m = Matcher(spec, detector=DateDetector(spec.datepattern, logtimezone=spec.logtimezone), engine=engine)
        m.count_pref = count_pref and spec.prefregex != ""  # as fail2ban-regex sets it
        stats = ScanStats()
        out: list[LineOutcome] = []
        for at in range(0, len(lines), step):
            out += m.scan("".join(x + "\n" for x in lines[at : at + step]), now, at + 1, stats,
                          keep_missed=keep_missed)  # fmt: skip
        got[engine] = ([_brief(o) for o in out], _counts(stats))
        ran = stats.native_lines
    assert got["native"] == got["python"]
    return ran, sum(len(o[5]) for o in got["python"][0])


def _options(text: str) -> list[dict[str, str]]:
    """The option sets a sample log names (`# filterOptions: [...]`), the defaults first."""
    sets: list[dict[str, str]] = [{}]
    for line in text.splitlines():
        if line.startswith("# filterOptions:"):
            found = json.loads(line.partition(":")[2])
            for one in found if isinstance(found, list) else [found]:
                if one not in sets:
                    sets.append({k: str(v) for k, v in one.items()})
    return sets


def _filter(name: str, options: dict[str, str]) -> FilterSpec:
    return load_filter(str(ETC / "filter.d" / f"{name}.conf"), config_dir=str(ETC), args=options or None,
                       jail_options={"usedns": "raw"})  # fmt: skip


TOTALS: dict[str, int] = {}


@pytest.mark.parametrize("name", WEB_FILTERS)
def test_upstream_web_samples_on_both_engines(name: str) -> None:
    if not (ETC / "filter.d" / f"{name}.conf").exists():
        pytest.skip(f"upstream's {name}.conf is not installed")
    text = (LOGS / name).read_text(encoding="utf-8", errors="surrogateescape")
    lines = [x for x in text.splitlines() if x.strip() and not x.startswith("#")]
    for options in _options(text):
        try:
            spec = _filter(name, options)
        except Exception as exc:  # an option set for another fail2ban version: nothing to compare
            pytest.skip(f"{name} {options}: {exc}")
        for chunk_lines in (0, 7):
            for count_pref, keep_missed in ((True, False), (False, True)):
                both(spec, lines, NOW, chunk_lines, count_pref=count_pref, keep_missed=keep_missed)


def _generated(kind: str, lines: int) -> list[str]:
    out = subprocess.run([sys.executable, str(GENERATOR), "--kind", kind, "--lines", str(lines), "--seed", "3",
                          "--end", str(int(NOW) - 60), "--out", "/dev/stdout"], check=True, capture_output=True,
                         text=True).stdout  # fmt: skip
    return out.splitlines()


@pytest.mark.parametrize(("kind", "name"), [("error", "apache-auth"), ("access", "nginx-botsearch")])
def test_generated_web_logs_run_natively_with_the_same_results(kind: str, name: str) -> None:
    if not (ETC / "filter.d" / f"{name}.conf").exists():
        pytest.skip(f"upstream's {name}.conf is not installed")
    lines = _generated(kind, 6000)
    spec = _filter(name, {})
    for count_pref in (True, False):
        ran, failures = both(spec, lines, NOW, 1000, count_pref=count_pref, keep_missed=False)
        assert (ran, failures > 500) == (len(lines), True)


# --- hypothesis-made lines ------------------------------------------------------------------------------------

_day = st.sampled_from(["06", "6", "00", "29", "31", "32"])
_mon = st.sampled_from(["Dec", "Feb", "dec", "Xyz"])
_clock = st.builds(lambda h, m, s: f"{h:02d}:{m:02d}:{s:02d}", st.sampled_from([0, 5, 23, 24]),
                   st.sampled_from([0, 7, 59, 60]), st.sampled_from([0, 20, 59, 60, 61]))  # fmt: skip
_error_date = st.builds(
    lambda wd, mon, day, clock, frac, year: f"{wd}{mon} {day} {clock}{frac}{year}",
    st.sampled_from(["Sun ", "", "sun "]), _mon, _day, _clock, st.sampled_from(["", ".013255", ".5", ".1234567"]),
    st.sampled_from([" 2026", " 2025", "", " 26"]),
)
_access_date = st.builds(
    lambda day, mon, year, clock, zone: f"{day}/{mon}/{year}:{clock}{zone}",
    _day, _mon, st.sampled_from(["2026", "2025", "26"]), _clock,
    st.sampled_from([" +0000", " -0130", " +0200", "", " UTC", " +1"]),
)
# three dates in four well-formed (though perhaps not valid: Feb 29-31), so that many chunks are uniform
_good = st.builds(lambda d, h, m, s: (d, f"{h:02d}:{m:02d}:{s:02d}"), st.sampled_from(["06", "29", "31", "01"]),
                  st.integers(0, 23), st.integers(0, 59), st.integers(0, 59))  # fmt: skip
_error_date = st.one_of(_error_date, *[st.builds(
    lambda g, mon, frac, year: f"Sun {mon} {g[0]} {g[1]}{frac}{year}", _good, st.sampled_from(["Dec", "Feb"]),
    st.sampled_from(["", ".013255"]), st.sampled_from([" 2026", " 2024"]))] * 3)  # fmt: skip
_access_date = st.one_of(_access_date, *[st.builds(
    lambda g, mon, zone: f"{g[0]}/{mon}/2026:{g[1]}{zone}", _good, st.sampled_from(["Dec", "Feb"]),
    st.sampled_from([" +0000", " -0130"]))] * 3)  # fmt: skip
_ip = st.sampled_from(["192.0.2.1", "203.0.113.45", "2001:db8::7", "::ffff:192.0.2.9", "1.2.3.400", "host.example"])
_ERRORS = (
    "[auth_basic:error] [pid 1:tid 2] [client {ip}:5000] AH01618: user {u} not found: /private",
    "[error] [client {ip}] user {u} not found: /",
    "[error] [client {ip}] client denied by server configuration: /srv/[{date}]",
    "[core:error] [pid 3] [client {ip}] File does not exist: /srv/http/site/[client 10.0.0.1] user {u} not found",
    "[error] [client {ip}] script '/var/www/x.php' not found or unable to stat",
    "[error] [client {ip}] {date} user {u} not found: /",
)
_ACCESS = (
    '{ip} - {u} [{date}] "GET /phpMyAdmin/index.php HTTP/1.1" 404 162 "-" "curl"',
    '{ip} - - [{date}] "GET /wp-login.php HTTP/1.1" 404 162 "-" "Mozilla/5.0 [{date}]"',
    '{ip} - - [{date}] "POST /index.php HTTP/1.1" 200 12 "-" "EmailCollector"',
    '{ip} - - [{date}] "GET / HTTP/1.1" 404 12 "-" "-"',
    '{ip} - - [[{date}]] "GET /cgi-bin/x HTTP/1.1" 404 1 "-" "-"',
    '{ip} - - {date} "GET /cgi-bin/x HTTP/1.1" 404 1 "-" "-"',
)
_user = st.sampled_from(["root", "bob", "", "a b", "[x]", "-"])
_error_line = st.builds(
    lambda pre, date, post, kind, ip, u: f"{pre}{date}{post}" + _ERRORS[kind].format(ip=ip, u=u, date=date),
    st.sampled_from(["[", "[[", "", "<", " [", "##"]), _error_date, st.sampled_from(["] ", "]] ", " ", "]"]),
    st.integers(0, len(_ERRORS) - 1), _ip, _user,
)
_access_line = st.builds(
    lambda kind, ip, u, date: _ACCESS[kind].format(ip=ip, u=u, date=date),
    st.integers(0, len(_ACCESS) - 1), _ip, _user, _access_date,
)
_junk = st.sampled_from(["", "no date here", "[", "]", "[] [error] [client 192.0.2.1] user x not found: /",
                         '192.0.2.1 - - [] "GET /wp-login.php HTTP/1.1" 404 1 "-" "-"'])  # fmt: skip
HYPO_FILTERS = {"error": ("apache-auth", "apache-noscript", "apache-nohome"),
                "access": ("nginx-botsearch", "apache-badbots", "apache-pass")}  # fmt: skip


@pytest.fixture(scope="module")
def web_specs() -> dict[str, list[FilterSpec]]:
    specs: dict[str, list[FilterSpec]] = {}
    for kind, names in HYPO_FILTERS.items():
        specs[kind] = [_filter(n, {}) for n in names if (ETC / "filter.d" / f"{n}.conf").exists()]
    if not any(specs.values()):
        pytest.skip("needs upstream's web filters")
    return specs


@settings(max_examples=200, deadline=None)
@given(kind=st.sampled_from(sorted(HYPO_FILTERS)), data=st.data(), count_pref=st.booleans(),
       chunk_lines=st.sampled_from([0, 1, 1, 2, 3]))  # fmt: skip
def test_hypothesis_web_lines_on_both_engines(web_specs: dict[str, list[FilterSpec]], kind: str,
                                              data: st.DataObject, count_pref: bool, chunk_lines: int) -> None:  # fmt: skip
    made = _error_line if kind == "error" else _access_line
    # mostly dated lines, so that many chunks are uniform and take the native path; a junk line makes its chunk
    # take the per-line path on both engines, with the state the native chunks before it left
    lines = data.draw(st.lists(st.one_of(made, made, made, made, made, _junk), min_size=1, max_size=12))
    for spec in web_specs[kind]:
        both(spec, lines, NOW, chunk_lines, count_pref=count_pref, keep_missed=not count_pref)
