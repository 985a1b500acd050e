"""The seed scenario with the journal: sshd logs to a systemd-journald of the server host's own, and banjail's sshd
jail reads it with `backend = systemd` (the stock filter's journalmatch; `_COMM=sshd` is what finds sshd here,
as there is no systemd unit) and bans with its native nftables action.
"""

from __future__ import annotations

import subprocess
import sys

import pytest
from lab import clients, firewall
from lab import sshd as sshd_lab
from lab.banjail import Banjail
from lab.poll import until
from lab.site import SeedSite

pytestmark = pytest.mark.e2e

JAIL_LOCAL = """\
[sshd]
enabled = true
backend = systemd
banaction = nftables
maxretry = 3
"""
WRONG = "wrong-password"



def test_journal_failures_ban(seed_journal_site: SeedSite) -> None:
    site = seed_journal_site
    server, netns, attacker = site.sshd.address, site.lab.server.netns, site.attacker.address
    daemon = Banjail(site.host, site.workdir / "banjail", JAIL_LOCAL)
    try:
        daemon.start()
        assert clients.logins(site.attacker, server, site.sshd.user, WRONG, 2) == ["auth-failed"] * 2

        def status() -> str:
            return daemon.client("status", "sshd")[0]

        assert until(lambda: "Total failed:\t2" in status(), 30) is not None, status() + daemon.output()
        assert firewall.nft_elements(netns, "banjail", "addr-set-sshd") == []

        third = subprocess.Popen(
            ["ip", "netns", "exec", site.attacker.netns, sys.executable, clients.CLIENT, "login", server, "22",
             site.sshd.user, WRONG, "1"],
            stdout=subprocess.PIPE, text=True,
        )  # fmt: skip
        try:
            banned_at = until(
                lambda: firewall.nft_elements(netns, "banjail", "addr-set-sshd") == [attacker], 10
            )
        finally:
            third.communicate(timeout=30)
        assert banned_at is not None, daemon.output()
        logged = sshd_lab.failed_logins(site.host, site.sshd, attacker)
        assert len(logged) == 3
        latency = banned_at - logged[-1]
        print(
            f"\n[journal, nftables] ban latency from the journal entry to the firewall: {latency * 1000:.0f} ms"
        )
        assert 0 < latency < 5
        assert clients.probe(site.attacker, server) in ("refused", "timeout")
        assert clients.probe(site.innocent, server) == "open"
        assert status() == (
            "Status for the jail: sshd\n"
            "|- Filter\n"
            "|  |- Currently failed:\t0\n"
            "|  |- Total failed:\t3\n"
            "|  `- Journal matches:\t_SYSTEMD_UNIT=sshd.service + _SYSTEMD_UNIT=ssh.service + _COMM=sshd"
            " + _COMM=sshd-session\n"
            "`- Actions\n"
            "   |- Currently banned:\t1\n"
            "   |- Total banned:\t1\n"
            f"   `- Banned IP list:\t{attacker}\n"
        )
    finally:
        daemon.close()
