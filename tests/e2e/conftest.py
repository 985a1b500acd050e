"""Fixtures for the seed-scenario tests (test_seed*.py): a namespace lab with a real sshd on a private host.

Each site is per test: its own namespaces, server host, logger, sshd and log, so no test sees another's log
lines, firewall or processes. Everything is torn down in `finally` blocks, in reverse order (lab/site.py).
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from lab import site as site_lab
from lab import sshd as sshd_lab


def _ready() -> None:
    reason = site_lab.kernel_support()
    if reason:
        pytest.skip(reason)
    missing = site_lab.missing_programs()
    assert not missing, f"missing programs {missing}: run tools/e2e-deps"


@pytest.fixture
def seed_site(tmp_path: Path) -> Iterator[site_lab.SeedSite]:
    """The lab with sshd logging through rsyslog to `site.sshd.auth_log`."""
    _ready()
    with site_lab.seed_site(tmp_path, "rsyslog") as site:
        yield site


@pytest.fixture
def seed_journal_site(tmp_path: Path) -> Iterator[site_lab.SeedSite]:
    """The lab with sshd logging to a systemd-journald of the server host's own."""
    _ready()
    assert Path(sshd_lab.JOURNALD).exists(), f"{sshd_lab.JOURNALD} is missing: run tools/e2e-deps"
    with site_lab.seed_site(tmp_path, "journald") as site:
        yield site
