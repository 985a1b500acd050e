"""The native engine against the reference on every stock filter's sample log (injection lines included),
failure by failure (id, ip, time, groups, lines, line number), in both matching modes, fed line by line and as
one chunk; and on hypothesis-made sshd lines with upstream's sshd filter, hostile characters included
(\\x1c-\\x1f, \\x0b, \\r, NUL, non-ASCII letters and spaces, ::ffff: addresses)."""

from __future__ import annotations

import calendar
from pathlib import Path
from typing import Any

import pytest
from conftest import stock_filter_names
from hypothesis import given, settings
from hypothesis import strategies as st
from samplefile import SAMPLES, load

from banjail.config.load import load_filter
from banjail.filter import native
from banjail.filter.datedetect import DateDetector
from banjail.filter.matcher import Matcher
from banjail.filter.outcome import LineOutcome, ScanStats
from banjail.model import FilterSpec

pytestmark = pytest.mark.skipif(not native.built(), reason="the native engine is not built")

SSHD = Path("/etc/fail2ban/filter.d/sshd.conf")


def _brief(o: LineOutcome) -> tuple[Any, ...]:
    failures = tuple((f.fid, f.ip, f.time, f.lines, f.groups, f.lineno, f.regex_index) for f in o.failures)
    return (o.lineno, o.line, o.kind, o.failregex, o.ignoreregex, failures, o.template)


def _both(spec: FilterSpec, lines: list[str], now: float, check_all: bool, whole: bool) -> tuple[int, int]:
    """Assert both engines agree on `lines`; returns (lines the native engine ran, failures)."""
    out: dict[str, list[LineOutcome]] = {}
    ran = 0
    for engine in ("python", "native"):
        m = Matcher(spec, detector=DateDetector(spec.datepattern, logtimezone=spec.logtimezone),
                    check_all=check_all, engine=engine)  # fmt: skip
        stats = ScanStats()
        got: list[LineOutcome] = []
        if whole:
            got = m.scan("".join(x + "\n" for x in lines), now, 1, stats, keep_missed=True)
        else:
            for n, line in enumerate(lines, 1):
                got += m.scan(line + "\n", now, n, stats, keep_missed=True)
        out[engine] = got
        ran = stats.native_lines
    assert [_brief(o) for o in out["native"]] == [_brief(o) for o in out["python"]]
    return ran, sum(len(o.failures) for o in out["python"])


@pytest.mark.parametrize("check_all", [True, False], ids=["all", "first"])
@pytest.mark.parametrize("name", stock_filter_names())
def test_stock_samples_on_both_engines(name: str, check_all: bool, empty_config_dir: Path) -> None:
    sample = load(SAMPLES / f"{name}.log")
    for block in sample.blocks:
        for args in block.options:
            spec = load_filter(name, config_dir=str(empty_config_dir), args=args or None,
                               jail_options={"usedns": "raw"})  # fmt: skip
            lines = [case.line for case in block.cases if "\n" not in case.line]
            for whole in (False, True):
                _both(spec, lines, sample.now, check_all, whole)


NOW = float(calendar.timegm((2026, 3, 1, 12, 0, 0)))
_HOSTILE = st.text(
    st.sampled_from([*"abz09_-.:/ ", "\x1c", "\x1f", "\x0b", "\r", "\x00", "é", "\xa0", "\u2003", "\u212a"]),
    min_size=0,
    max_size=8,
)
_MESSAGES = (
    "Failed password for {u} from {ip} port 22 ssh2",
    "Failed password for invalid user {u} from {ip} port 22 ssh2",
    "Invalid user {u} from {ip} port 22",
    "Connection closed by authenticating user {u} {ip} port 22 [preauth]",
    "Disconnected from invalid user {u} {ip} port 22 [preauth]",
    "Received disconnect from {ip} port 22:11: Bye Bye [preauth]",
    "Accepted publickey for {u} from {ip} port 22 ssh2",
    "pam_unix(sshd:auth): authentication failure; logname= uid=0 euid=0 tty=ssh ruser= rhost={ip}  user={u}",
    "error: maximum authentication attempts exceeded for {u} from {ip} port 22 ssh2 [preauth]",
    "User {u} from {ip} not allowed because not listed in AllowUsers",
    "Connection from {ip} port 22 on 10.0.0.1 port 22",
)
_LINE = st.tuples(
    st.integers(0, len(_MESSAGES) - 1),
    _HOSTILE,
    st.sampled_from(["192.0.2.1", "2001:db8::1", "::ffff:192.0.2.7", "198.51.100.7", "host.example", "1.2.3.400"]),
    st.integers(1, 3),
    st.integers(0, 59),
    _HOSTILE,
)


@pytest.fixture(scope="module")
def sshd_specs() -> list[FilterSpec]:
    if not SSHD.exists():
        pytest.skip("needs upstream's sshd filter")
    return [
        load_filter(f"{SSHD}[mode={mode}]", config_dir=str(SSHD.parents[1]), jail_options={"usedns": "raw"})
        for mode in ("normal", "aggressive")
    ]


@settings(max_examples=60, deadline=None)
@given(items=st.lists(_LINE, min_size=1, max_size=40), check_all=st.booleans(), whole=st.booleans())
def test_hostile_sshd_lines_on_both_engines(
    sshd_specs: list[FilterSpec], items: list[tuple[int, str, str, int, int, str]], check_all: bool, whole: bool
) -> None:
    lines = [
        f"Mar  1 11:59:{sec:02d} host sshd[{pid}]: " + _MESSAGES[kind].format(u=user, ip=ip) + tail
        for kind, user, ip, pid, sec, tail in items
    ]
    for spec in sshd_specs:
        _both(spec, lines, NOW, check_all, whole)
