"""Ban mail end to end: the sysadmin's report arrives through a real MTA and a real SMTP server, and never delays
the firewall ban.

In the private server host: aiosmtpd listens on 127.0.0.1:2525; Debian's msmtp-mta is /usr/sbin/sendmail with the
host's own /etc/msmtprc pointing there. banjail bans with its native nftables action and reports with
- `action_mwl` and `mta = sendmail` (whois + log lines through sendmail), while every DNS lookup on the host hangs
  (whois would wait 20 s; upstream then enforces the firewall ban only after 13.6 s), and
- the direct `smtp` action (no MTA) with the same content.
"""

from __future__ import annotations

import subprocess
import sys

import pytest
from lab import clients, firewall, mail
from lab import sshd as sshd_lab
from lab.banjail import Banjail
from lab.poll import until
from lab.site import SeedSite

pytestmark = pytest.mark.e2e

JAIL_LOCAL = """\
[DEFAULT]
banaction = nftables
destemail = sysadmin@lab.test
sender = banjail@srv.lab.test
mta = sendmail
action = {action}

[sshd]
enabled = true
logpath = {log}
maxretry = 3
"""
MWL = "%(action_mwl)s"
SMTP = """%(action_)s
         smtp[host="127.0.0.1:{port}", dest="%(destemail)s", sender="%(sender)s", logpath="%(logpath)s"]"""
WRONG = "wrong-password"



def _scenario(site: SeedSite, action: str, hang_dns: bool) -> tuple[mail.Received, float, float, Banjail]:
    """Start the sink (and the hanging resolver), banjail, 3 failed logins; (mail, ban latency, ban time)."""
    sink = mail.start_sink(site.host, site.workdir)
    mail.configure_msmtp(site.host)
    if hang_dns:
        mail.hang_resolver(site.host, site.workdir)
    daemon = Banjail(
        site.host, site.workdir / "banjail", JAIL_LOCAL.format(action=action, log=site.sshd.auth_log)
    )
    try:
        return _attack(site, sink, daemon)
    except BaseException:
        daemon.close()
        raise


def _attack(site: SeedSite, sink: mail.Sink, daemon: Banjail) -> tuple[mail.Received, float, float, Banjail]:
    daemon.start()
    netns, attacker = site.lab.server.netns, site.attacker.address
    assert clients.logins(site.attacker, site.sshd.address, site.sshd.user, WRONG, 2) == ["auth-failed"] * 2

    third = subprocess.Popen(
        ["ip", "netns", "exec", site.attacker.netns, sys.executable, clients.CLIENT, "login",
         site.sshd.address, "22", site.sshd.user, WRONG, "1"],
        stdout=subprocess.PIPE, text=True,
    )  # fmt: skip
    try:
        banned_at = until(lambda: firewall.nft_elements(netns, "banjail", "addr-set-sshd") == [attacker], 10)
    finally:
        third.communicate(timeout=30)
    assert banned_at is not None, daemon.output()
    latency = banned_at - sshd_lab.failed_logins(site.host, site.sshd, attacker)[-1]
    received = sink.wait(1, 30)
    assert len(received) == 1, daemon.output()
    return received[0], latency, banned_at, daemon


def _check_report(site: SeedSite, report: mail.Received) -> None:
    attacker = site.attacker.address
    assert report.mail_from == "banjail@srv.lab.test"
    assert report.rcpt_tos == ("sysadmin@lab.test",)
    assert report.subject == f"[Fail2Ban] sshd: banned {attacker} from srv.lab.test"
    assert report.message["From"] == "Fail2Ban <banjail@srv.lab.test>"
    assert report.message["To"] == "sysadmin@lab.test"
    body = report.body.replace("\r\n", "\n")
    assert f"The IP {attacker} has just been banned by Fail2Ban after\n3 attempts against sshd.\n" in body
    assert f"Here is more information about {attacker} :\n" in body
    # Every log line that names the attacker, verbatim and in order, under its heading.
    heading = f"\nLines containing failures of {attacker} (max 1000)\n"
    assert heading in body
    logged = [line for line in site.sshd.auth_log.read_text().splitlines() if attacker in line]
    failed = [line for line in logged if "Failed password" in line]
    assert len(failed) == 3
    listed = body.split(heading, 1)[1].split("\n\nRegards,", 1)[0].splitlines()
    assert [line for line in listed if "Failed password" in line] == failed
    assert set(listed) <= set(logged)


def test_action_mwl_through_msmtp_while_dns_hangs(seed_site: SeedSite) -> None:
    report, latency, banned_at, daemon = _scenario(seed_site, MWL, hang_dns=True)
    try:
        print(f"\n[action_mwl, DNS hanging] ban latency {latency * 1000:.0f} ms; mail {report.at - banned_at:.1f} s "
              "after the ban")  # fmt: skip
        # The firewall ban does not wait for whois (which waits 20 s for DNS, cut at whois_timeout = 10 s).
        assert 0 < latency < 2
        assert report.at > banned_at + 5
        _check_report(seed_site, report)
        assert "(whois gave no answer within 10 s)" in report.body
    finally:
        daemon.close()


def test_smtp_action_direct(seed_site: SeedSite) -> None:
    report, latency, banned_at, daemon = _scenario(
        seed_site, SMTP.format(port=mail.SMTP_PORT), hang_dns=False
    )
    try:
        print(
            f"\n[smtp] ban latency {latency * 1000:.0f} ms; mail {report.at - banned_at:.1f} s after the ban"
        )
        assert 0 < latency < 2
        assert report.at >= banned_at - 0.1  # sent after the ban (0.1 s: how late the poll may see it)
        _check_report(seed_site, report)
    finally:
        daemon.close()
