"""banjail's stock filters over upstream fail2ban's annotated sample logs of the same names (crosscheck.py).

Each filter must agree with upstream's annotations except for the differences listed here, each of which is a
place where upstream's expectation is wrong for banjail's threat model or rests on a log form no real service
writes; tests/filters/README.md explains every one.
"""

from __future__ import annotations

import os
import time

import pytest
from conftest import stock_filter_names
from crosscheck import TEST_TZ, UPSTREAM_LOGS, banjail_engine, crosscheck

# filter -> number of annotations where banjail deliberately differs from upstream
KNOWN_DIFFERENCES: dict[str, int] = {
    "sshd": 26,  # 20 deliberate (README), 6 where banjail's Failure.groups holds one "users" value, not a set
    "apache-auth": 1,
    "nginx-http-auth": 2,
    "pam-generic": 6,
    "postfix": 1,
    "roundcube-auth": 3,
    "asterisk": 10,  # 9 res_security_log events and 1 quoted From header (README)
}

pytestmark = pytest.mark.compat


@pytest.mark.parametrize("name", [n for n in stock_filter_names() if (UPSTREAM_LOGS / n).exists()])
def test_agrees_with_upstream_samples(name: str) -> None:
    os.environ["TZ"] = TEST_TZ
    time.tzset()
    try:
        report = crosscheck(name, banjail_engine)
    finally:
        os.environ["TZ"] = "UTC"
        time.tzset()
    assert report.annotations > 0
    assert len(report.differences) <= KNOWN_DIFFERENCES.get(name, 0), "\n".join(report.differences)
