"""Upstream's own command actions, unchanged from Debian's /etc/fail2ban/action.d, through banjail's installed
fail2ban-server and fail2ban-client, with real iptables in a private server host the test creates.

The site: the lab's server namespace (a TCP listener on PORT) with a private host (mounts, /etc) and an attacker
namespace that probes the listener; banjail's configuration directory is a copy of Debian's /etc/fail2ban plus a
jail.local with one jail `test` reading a log the test appends dated lines to (one line bans: maxretry 1).

Proven, each through the user's commands:
- kill -9 + start, TRIALS times, with iptables-multiport: the attacker is refused throughout, exactly one REJECT
  rule and one INPUT jump stand after each start, unbanip removes the ban (the attacker gets in);
- `fail2ban-client stop` + start with iptables-multiport and with iptables-ipset-proto6: no probe gets in;
- action_mwl (iptables-multiport + sendmail-whois-lines) with a resolver that never answers: the next address's
  firewall ban stands while the first address's whois still hangs (the firewall delay is printed);
- kill -9 during a flood of bans with sendmail (norestored) beside iptables-multiport: every stored ban is mailed
  exactly once (none lost, none twice) and in the firewall once.
"""

from __future__ import annotations

import contextlib
import random
import re
import sqlite3
import sys
import time
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from lab import clients, firewall, mail, testjail
from lab.banjail import BANJAIL, BIN, Banjail, Program
from lab.netns import SERVER_ADDRESS, Lab, Node
from lab.poll import until
from lab.serverhost import ServerHost

pytestmark = pytest.mark.e2e

UPSTREAM_TREE = Path("/etc/fail2ban")
PROGRAM = Program(str(BIN / "fail2ban-server"), str(BIN / "fail2ban-client"), UPSTREAM_TREE)
PORT = 2222
TRIALS = 5
HEAD = """\
[DEFAULT]
ignoreself = false
destemail = sysadmin@lab.test
sender = banjail@srv.lab.test
mta = sendmail

[sshd]
enabled = false

"""
LISTENER = f"""\
import socket
s = socket.socket()
s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind(("0.0.0.0", {PORT}))
s.listen(64)
print("listening", flush=True)
while True:
    s.accept()[0].close()
"""
BLOCKED = ("refused", "timeout")


@dataclass
class Site:
    lab: Lab
    host: ServerHost
    workdir: Path
    daemon: Banjail

    @property
    def attacker(self) -> Node:
        return self.lab["attacker"]

    @property
    def netns(self) -> str:
        return self.lab.server.netns

    @property
    def log(self) -> Path:
        return self.workdir / "test.log"

    def fail(self, *addresses: str) -> None:
        testjail.fail(self.log, addresses)

    def rejects(self, address: str, chain: str = "f2b-test") -> int:
        rule = f"-A {chain} -s {address}/32 -j REJECT --reject-with icmp-port-unreachable"
        return firewall.iptables_rules(self.netns).count(rule)

    def jumps(self) -> int:
        return sum(
            r.startswith("-A INPUT ") and "-j f2b-test" in r for r in firewall.iptables_rules(self.netns)
        )


@contextlib.contextmanager
def upstream_site(
    tmp: Path, *, banaction: str = "iptables-multiport", action: str = "%(action_)s", program: Program = PROGRAM
) -> Iterator[Site]:
    if not (UPSTREAM_TREE / "action.d" / "iptables-multiport.conf").exists():
        pytest.skip("Debian's fail2ban (the upstream action.d files) is not installed")
    (tmp / "test.log").touch()
    options = {"port": str(PORT), "maxretry": "1", "findtime": "1h", "bantime": "1h"}
    local = HEAD + testjail.jail("test", tmp / "test.log", **options, banaction=banaction, action=action)
    with testjail.served(tmp, local, clients=["attacker"], tag="up", program=program) as (lab, host, daemon):
        out = tmp / "listener.out"
        host.popen([sys.executable, "-c", LISTENER], out)
        until(lambda: "listening" in out.read_text(errors="replace") if out.exists() else False, 10)
        yield Site(lab, host, tmp, daemon)


def test_kill9_never_stacks_a_second_rule_and_unban_lets_the_attacker_in(tmp_path: Path) -> None:
    with upstream_site(tmp_path) as site:
        daemon, attacker = site.daemon, site.attacker.address
        daemon.start()
        site.fail(attacker)
        assert until(lambda: site.rejects(attacker) == 1, 10) is not None, daemon.output()
        counts, gaps = [], []
        for trial in range(TRIALS):
            watch = clients.start_watch(site.attacker, SERVER_ADDRESS, seconds=2.5, period=0.02, port=PORT)
            time.sleep(0.2)
            daemon.kill()
            daemon.start()
            restores = trial + 1
            until(lambda n=restores: daemon.log.read_text(errors="replace").count("Restore Ban") >= n, 10)
            seen = watch.result()  # 2.5 s: the restored ban's commands have run
            assert len(seen) > 10
            gaps += [at for at, outcome in seen if outcome not in BLOCKED]
            counts.append((site.rejects(attacker), site.jumps()))
        print(
            f"\nkill -9 x{TRIALS}: (REJECT rules, INPUT jumps) after each start {counts}; open probes {gaps}"
        )
        assert counts == [(1, 1)] * TRIALS, firewall.iptables_rules(site.netns)
        assert gaps == []
        assert daemon.client("set", "test", "unbanip", attacker) == ("1\n", 0)
        assert site.rejects(attacker) == 0
        assert clients.probe(site.attacker, SERVER_ADDRESS, PORT) == "open"


@pytest.mark.parametrize("banaction", ["iptables-multiport", "iptables-ipset-proto6"])
def test_a_graceful_stop_and_start_leaves_no_moment_without_the_ban(tmp_path: Path, banaction: str) -> None:
    with upstream_site(tmp_path, banaction=banaction) as site:
        daemon, attacker = site.daemon, site.attacker.address
        daemon.start()
        site.fail(attacker)
        assert (
            until(lambda: clients.probe(site.attacker, SERVER_ADDRESS, PORT, 0.2) in BLOCKED, 10) is not None
        )
        watch = clients.start_watch(site.attacker, SERVER_ADDRESS, seconds=4, period=0.01, port=PORT)
        time.sleep(0.3)
        daemon.stop()  # fail2ban-client stop
        daemon.start()
        seen = watch.result()
        opened = [at for at, outcome in seen if outcome not in BLOCKED]
        print(f"\n[{banaction}] stop + start: {len(seen)} probes, open at {opened}")
        assert len(seen) > 20
        assert opened == []
        assert clients.probe(site.attacker, SERVER_ADDRESS, PORT) in BLOCKED
        assert "banjail-handover" not in firewall.nft_ruleset(site.netns).replace(
            "table inet banjail-handover {\n}", ""
        )


def _whois_running(site: Site, address: str) -> bool:
    run = site.host.run(["sh", "-c", "ps -eo args"], check=False)
    return any(line.startswith(f"whois {address}") for line in run.stdout.splitlines())


def test_a_hanging_whois_does_not_hold_the_next_firewall_ban(tmp_path: Path) -> None:
    with upstream_site(tmp_path, action="%(action_mwl)s") as site:
        mail.start_sink(site.host, site.workdir)
        mail.configure_msmtp(site.host)
        mail.hang_resolver(site.host, site.workdir)
        daemon, first, second = site.daemon, "10.78.0.200", site.attacker.address
        daemon.start()
        site.fail(first)
        assert until(lambda: _whois_running(site, first), 10) is not None, daemon.output()
        written = time.time()
        site.fail(second)
        banned = until(lambda: site.rejects(second) == 1, 30)
        assert banned is not None, daemon.output()
        print(
            f"\naction_mwl, whois hanging: the next address's firewall ban {banned - written:.2f} s after its line"
        )
        assert _whois_running(site, first), "the first whois ended before the second ban: nothing was proven"
        assert clients.probe(site.attacker, SERVER_ADDRESS, PORT) in BLOCKED


FLOOD_TRIALS = 10


MAILERS = {
    # upstream's sendmail.conf (a command action: printf | sendmail, norestored), read from /etc/fail2ban
    "upstream-sendmail": (PROGRAM, 'sendmail[name=test, dest="%(destemail)s", sender="%(sender)s"]'),
    # banjail's own mail action (native = mail) through sendmail, and straight to the SMTP server
    "banjail-sendmail": (BANJAIL, 'sendmail[name=test, dest="%(destemail)s", sender="%(sender)s"]'),
    "banjail-smtp": (
        BANJAIL,
        f'smtp[name=test, dest="%(destemail)s", sender="%(sender)s", host="127.0.0.1:{mail.SMTP_PORT}", '
        'content=ban]',
    ),
}


@pytest.mark.parametrize("mailer", list(MAILERS))
def test_kill9_during_bans_mails_every_ban_once(tmp_path: Path, mailer: str) -> None:
    program, mailed = MAILERS[mailer]
    action = "%(action_)s\n         " + mailed
    with upstream_site(tmp_path, action=action, program=program) as site:
        sink = mail.start_sink(site.host, site.workdir)
        mail.configure_msmtp(site.host)
        daemon, rng = site.daemon, random.Random(20261206)
        written = 0
        for _ in range(FLOOD_TRIALS):
            daemon.start()
            for _ in range(3):  # a few addresses at a time, as attacks come
                site.fail(*[f"10.79.{written // 250}.{written % 250 + n + 1}" for n in range(4)])
                written += 4
                time.sleep(rng.uniform(0.0, 0.15))
            daemon.kill()
        daemon.start()
        stored = _stored_bans(site.daemon.workdir / "f2b.sqlite3")
        assert until(lambda: _mailed(sink) >= stored, 60, period=0.2) is not None, daemon.output()
        time.sleep(1)  # any duplicate in flight arrives
        per = _mailed_per_address(sink)
        missing = sorted(stored - set(per))
        twice = sorted(a for a, n in per.items() if n > 1)
        # the firewall lane restores the last run's bans on its own (the mail lane does not wait for it): under
        # load it may still be at it when the mails are all in
        until(lambda: all(site.rejects(a) >= 1 for a in stored), 60, period=0.5)
        rules = {a: site.rejects(a) for a in stored}
        print(
            f"\n[{mailer}] kill -9 x{FLOOD_TRIALS} while banning: {written} addresses failed, {len(stored)} bans stored, "
            f"{len(per)} mailed, {len(missing)} never mailed, {len(twice)} mailed twice; firewall rules per ban "
            f"{dict(Counter(rules.values()))}"
        )
        assert missing == []
        # exactly once: a mail whose command ran (or still ran) after the kill is not sent again
        # (banjail.actions.completion); sendmail and banjail's SMTP child (banjail.actions.smtp) run on after the
        # kill. A run cut short in the middle of its effect would be logged and sent again: none is here.
        cut = set(re.findall(r"server's ban of (\S+) did not end", daemon.log.read_text(errors="replace")))
        print(f"[{mailer}] runs cut short by a kill (logged, sent again): {len(cut)}")
        assert twice == []
        assert set(rules.values()) == {1}


def _stored_bans(db: Path) -> set[str]:
    with sqlite3.connect(db, timeout=5) as conn:
        return {str(r[0]) for r in conn.execute("SELECT ip FROM bips WHERE jail = 'test'")}


def _mailed_per_address(sink: mail.Sink) -> Counter[str]:
    found: Counter[str] = Counter()
    for message in sink.messages():
        hit = re.search(r"banned (\S+) from", message.subject)
        if hit:
            found[hit.group(1)] += 1
    return found


def _mailed(sink: mail.Sink) -> set[str]:
    return set(_mailed_per_address(sink))
