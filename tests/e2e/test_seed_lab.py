"""The lab itself: sshd in the private server host answers, logs a failed login to the file, and nothing leaks."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from lab import clients
from lab.site import SeedSite

pytestmark = pytest.mark.e2e

STAMP = r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}\+00:00 srv sshd\[\d+\]: "


def test_sshd_answers_and_logs_a_failed_password(seed_site: SeedSite) -> None:
    site = seed_site
    assert clients.logins(site.innocent, site.sshd.address, site.sshd.user, site.sshd.password, 1) == ["ok"]
    assert clients.logins(site.attacker, site.sshd.address, site.sshd.user, "wrong", 1) == ["auth-failed"]
    assert clients.probe(site.ignored, site.sshd.address) == "open"

    text = site.sshd.auth_log.read_text()
    attacker = re.escape(site.attacker.address)
    assert re.search(
        STAMP + f"Accepted password for alice from {re.escape(site.innocent.address)} port", text
    )
    assert len(re.findall(STAMP + f"Failed password for alice from {attacker} port \\d+ ssh2\n", text)) == 1

    # The host's hostname, /etc and /dev are its own.
    assert site.host.run(["hostname", "-f"]).stdout == "srv.lab.test\n"
    assert site.host.run(["test", "-S", "/dev/log"], check=False).returncode == 0
    assert "alice:" not in Path("/etc/passwd").read_text()
