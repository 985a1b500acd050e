"""Fixtures for the seed-scenario tests (test_seed*.py): a namespace lab with a real sshd on a private host.

`seed_site` is per test: its own namespaces, server host, rsyslog + sshd and auth.log, so no test sees another's
log lines, firewall or processes. Everything is torn down in `finally` blocks, in reverse order.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import subprocess
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from lab import sshd as sshd_lab
from lab.netns import Lab, Node
from lab.serverhost import ServerHost

# Programs the lab runs; tools/e2e-deps installs them. A missing one is an error, not a skip.
_PROGRAMS = ("ip", "unshare", "nsenter", "nft", "iptables", "rsyslogd", "ssh-keygen", "whois", "ss")


@dataclass(frozen=True)
class SeedSite:
    """A running lab: the server host with sshd, and the attacker, innocent and ignored client namespaces."""

    lab: Lab
    host: ServerHost
    sshd: sshd_lab.Sshd
    workdir: Path

    @property
    def attacker(self) -> Node:
        return self.lab["attacker"]

    @property
    def innocent(self) -> Node:
        return self.lab["innocent"]

    @property
    def ignored(self) -> Node:
        return self.lab["ignored"]


def _kernel_support() -> str:
    """Why namespaces cannot be made here ("" when they can): only kernel or privilege limits skip."""
    if os.geteuid() != 0:
        return "needs root (network namespaces, mounts)"
    probe = subprocess.run(
        ["unshare", "--net", "--mount", "--pid", "--fork", "true"],
        capture_output=True,
        text=True,
        check=False,
    )
    if probe.returncode != 0:
        return f"the kernel refuses new namespaces: {probe.stderr.strip()}"
    return ""


@contextlib.contextmanager
def _site(tmp_path: Path, logger: str) -> Iterator[SeedSite]:
    reason = _kernel_support()
    if reason:
        pytest.skip(reason)
    missing = [program for program in _PROGRAMS if shutil.which(program) is None]
    assert not missing, f"missing programs {missing}: run tools/e2e-deps"
    lab = Lab(["attacker", "innocent", "ignored"]).open()
    try:
        host = ServerHost(lab.server.netns, tmp_path).open()
        try:
            sshd = sshd_lab.start(host, tmp_path / "sshd", logger=logger)
            yield SeedSite(lab, host, sshd, tmp_path)
        finally:
            host.close()
    finally:
        lab.close()


@pytest.fixture
def seed_site(tmp_path: Path) -> Iterator[SeedSite]:
    """The lab with sshd logging through rsyslog to `site.sshd.auth_log`."""
    with _site(tmp_path, "rsyslog") as site:
        yield site


@pytest.fixture
def seed_journal_site(tmp_path: Path) -> Iterator[SeedSite]:
    """The lab with sshd logging to a systemd-journald of the server host's own."""
    if not Path(sshd_lab.JOURNALD).exists():
        pytest.fail(f"{sshd_lab.JOURNALD} is missing: run tools/e2e-deps")
    with _site(tmp_path, "journald") as site:
        yield site
