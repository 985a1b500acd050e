"""The bar: upstream fail2ban (Debian's package) in the same lab, with `action_mwl` while DNS hangs.

Not a test of banjail and not collected by default (its name does not start with test_): a measurement of what
test_seed_mail's banjail is compared with, on this machine. Run it explicitly:

    SEED_UPSTREAM_WAIT=150 .venv/bin/python -m pytest tests/e2e/lab/measure_upstream.py -s

It asserts only that upstream did ban and did mail, and prints its latencies. Measured here: upstream's filter
waits for DNS before it even counts the failure, so the firewall ban came 58.7 s after the failure line (banjail:
tens of milliseconds, the mail 10 s later).
"""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

from lab import clients, firewall, mail
from lab import sshd as sshd_lab
from lab.banjail import UPSTREAM, Banjail
from lab.site import SeedSite

from .poll import until

pytestmark = [pytest.mark.e2e, pytest.mark.compat]

JAIL_LOCAL = """\
[DEFAULT]
banaction = nftables
destemail = sysadmin@lab.test
sender = banjail@srv.lab.test
mta = sendmail
action = %(action_mwl)s

[sshd]
enabled = true
logpath = {log}
maxretry = 3
"""
WRONG = "wrong-password"
# How long upstream is given to ban and to mail (it waits for DNS with the firewall ban; see the module doc).
WAIT = float(os.environ.get("SEED_UPSTREAM_WAIT", "40"))



def test_upstream_action_mwl_while_dns_hangs(seed_site: SeedSite) -> None:
    site = seed_site
    sink = mail.start_sink(site.host, site.workdir)
    mail.configure_msmtp(site.host)
    mail.hang_resolver(site.host, site.workdir)
    daemon = Banjail(
        site.host, site.workdir / "upstream", JAIL_LOCAL.format(log=site.sshd.auth_log), program=UPSTREAM
    )
    netns, attacker = site.lab.server.netns, site.attacker.address
    try:
        daemon.start(timeout=30)
        assert (
            clients.logins(site.attacker, site.sshd.address, site.sshd.user, WRONG, 2) == ["auth-failed"] * 2
        )
        third = subprocess.Popen(
            ["ip", "netns", "exec", site.attacker.netns, sys.executable, clients.CLIENT, "login",
             site.sshd.address, "22", site.sshd.user, WRONG, "1"],
            stdout=subprocess.PIPE, text=True,
        )  # fmt: skip
        try:
            banned_at = until(
                lambda: firewall.nft_elements(netns, "f2b-table", "addr-set-sshd") == [attacker], WAIT
            )
        finally:
            third.communicate(timeout=30)
        assert banned_at is not None, daemon.output()
        latency = banned_at - sshd_lab.failed_logins(site.host, site.sshd, attacker)[-1]
        reports = until(lambda: any("banned" in m.subject for m in sink.messages()), WAIT)
        assert reports is not None, daemon.output()
        report = next(m for m in sink.messages() if "banned" in m.subject)
        print(
            f"\n[upstream fail2ban, action_mwl, DNS hanging] ban latency {latency:.1f} s; "
            f"ban mail {report.at - banned_at:+.1f} s after the ban ({report.subject})"
        )
    finally:
        daemon.close()
