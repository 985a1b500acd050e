"""The seed-scenario site: the lab's namespaces, the private server host and sshd, opened and closed together."""

from __future__ import annotations

import contextlib
import os
import shutil
import subprocess
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from . import sshd as sshd_lab
from .netns import Lab, Node
from .serverhost import ServerHost

# Programs the lab runs; tools/e2e-deps installs them. A missing one is an error, not a skip.
PROGRAMS = ("ip", "unshare", "nsenter", "nft", "iptables", "rsyslogd", "ssh-keygen", "whois", "ss")


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


def kernel_support() -> str:
    """Why namespaces cannot be made here ("" when they can): only kernel or privilege limits are reasons."""
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


def missing_programs() -> list[str]:
    """Programs of PROGRAMS that are not on PATH (tools/e2e-deps installs them)."""
    return [program for program in PROGRAMS if shutil.which(program) is None]


@contextlib.contextmanager
def seed_site(workdir: Path, logger: str = "rsyslog") -> Iterator[SeedSite]:
    """Open the namespaces, the server host and sshd (logging via `logger`); close all of it on exit."""
    lab = Lab(["attacker", "innocent", "ignored"]).open()
    try:
        host = ServerHost(lab.server.netns, workdir).open()
        try:
            sshd = sshd_lab.start(host, workdir / "sshd", logger=logger)
            yield SeedSite(lab, host, sshd, workdir)
        finally:
            host.close()
    finally:
        lab.close()
