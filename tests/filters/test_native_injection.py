"""The native engine against the reference on the log-injection generator's lines (tests/filters/injection):
for a sample of stock filters (every option set) and for upstream's sshd filter (normal and aggressive, the
filter the bench runs natively), a sample of the generated cases (every STRIDE-th), each case's lines fed to
both engines as one chunk (so a case with a non-ASCII or dateless line falls back alone), failure by failure
(id, ip, time, groups, lines, line number, regex index), missed outcomes included. The case, line and
native-line counts are asserted to stay large, so a generator change cannot empty the test silently."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from injection.generate import cases
from injection.services import load
from test_native_samples import NOW, _brief

from banjail.config.load import load_filter
from banjail.filter import native
from banjail.filter.datedetect import DateDetector
from banjail.filter.matcher import Matcher
from banjail.filter.outcome import ScanStats
from banjail.model import FilterSpec

pytestmark = pytest.mark.skipif(not native.built(), reason="the native engine is not built")

SSHD = Path("/etc/fail2ban/filter.d/sshd.conf")
# sshd (the sessions), web filters (one with dates not at the line start), a mail filter
FILTERS = ("sshd", "apache-auth", "postfix", "dovecot", "nginx-http-auth")
STRIDE = 7


def _chunks(name: str) -> list[str]:
    # a generated line holding a newline is split there, as a log file would be
    return ["".join(line + "\n" for line in case.lines) for case in list(cases(load(name)))[::STRIDE]]


def _both(spec: FilterSpec, chunks: list[str]) -> tuple[int, int, int]:
    """Assert both engines agree, case chunk by case chunk; (lines, lines run natively, failures)."""
    out: dict[str, list[Any]] = {}
    stats = {}
    for engine in ("python", "native"):
        m = Matcher(spec, detector=DateDetector(spec.datepattern, logtimezone=spec.logtimezone),
                    check_all=False, engine=engine)  # fmt: skip
        stats[engine] = ScanStats()
        got = []
        lineno = 1
        for chunk in chunks:
            got += m.scan(chunk, NOW, lineno, stats[engine], keep_missed=True)
            lineno += chunk.count("\n")
        out[engine] = [_brief(o) for o in got]
    assert out["native"] == out["python"]
    failures = sum(len(o[5]) for o in out["python"])
    return stats["python"].lines, stats["native"].native_lines, failures


@pytest.mark.parametrize("name", FILTERS)
def test_injection_lines_on_both_engines(name: str, empty_config_dir: Path) -> None:
    chunks = _chunks(name)
    for options in load(name).option_sets:
        spec = load_filter(name, config_dir=str(empty_config_dir), args=options or None,
                           jail_options={"usedns": "raw"})  # fmt: skip
        lines, _ran, _failures = _both(spec, chunks)
        assert lines > 100


@pytest.mark.skipif(not SSHD.exists(), reason="needs upstream's sshd filter")
@pytest.mark.parametrize("mode", ["normal", "aggressive"])
def test_injection_lines_with_upstream_sshd(mode: str) -> None:
    spec = load_filter(str(SSHD), args={"mode": mode}, jail_options={"usedns": "raw"})
    lines, ran, failures = _both(spec, _chunks("sshd"))
    assert (lines > 2000, ran > lines // 2, failures > 100) == (True, True, True), (lines, ran, failures)
