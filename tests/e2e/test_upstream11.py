"""Upstream 1.1's additions, through the installed fail2ban-server and fail2ban-client: `status --all` and `stats`
in 1.1's layout (with the Backend column filled), the `<jail.name>` action tag, `skip_if_nologs`, and a
conditional action argument `blocktype?family=inet6=...` on upstream's own iptables-multiport.conf, applied by
real iptables/ip6tables inside a network namespace the test creates."""

from __future__ import annotations

import os
import subprocess
import sys
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from daemon_run import Server, server_tree, wait_for

pytestmark = pytest.mark.e2e

CLIENT = Path(sys.executable).parent / "fail2ban-client"
UPSTREAM_ACTION = Path("/etc/fail2ban/action.d/iptables-multiport.conf")


@pytest.fixture
def netns() -> Iterator[str]:
    name = f"bj11-{os.getpid()}-{uuid.uuid4().hex[:6]}"
    subprocess.run(["ip", "netns", "add", name], check=True, timeout=10)
    try:
        subprocess.run(["ip", "-n", name, "link", "set", "lo", "up"], check=True, timeout=10)
        yield name
    finally:
        subprocess.run(["ip", "netns", "delete", name], check=False, timeout=10)


def configure(tmp: Path) -> Path:
    conf = server_tree(tmp, name="fail2ban.local")
    (conf / "filter.d" / "test.conf").write_text("[Definition]\nfailregex = fail from <HOST>$\n")
    (conf / "action.d" / "named.conf").write_text(f"[Definition]\nactionban = echo <jail.name> <ip> >> {tmp}/named\n")
    # upstream's own action file, unchanged, read from the Debian package
    (conf / "action.d" / "iptables-multiport.conf").write_text(UPSTREAM_ACTION.read_text())
    (conf / "action.d" / "iptables.conf").write_text(UPSTREAM_ACTION.with_name("iptables.conf").read_text())
    (tmp / "web.log").touch()
    (conf / "jail.local").write_text(
        "[DEFAULT]\nignoreself = false\nbackend = polling\n[sshd]\nenabled = false\n"
        f"[web]\nenabled = true\nfilter = test\nlogpath = {tmp}/web.log\n"
        'action = named\n         iptables-multiport[name=web, port="80,443", '
        'blocktype?family=inet6="DROP"]\n'
        f"[gone]\nenabled = true\nfilter = test\nlogpath = {tmp}/missing-*.log\nskip_if_nologs = true\n"
        f"[waits]\nenabled = true\nfilter = test\nlogpath = {tmp}/later.log\n"
    )
    return conf


def client(tmp: Path, *argv: str) -> str:
    done = subprocess.run([str(CLIENT), "-c", str(tmp / "conf"), *argv], capture_output=True, text=True,
                          timeout=30, check=False)
    assert done.returncode == 0, done.stdout + done.stderr
    return done.stdout


def firewall(netns: str, tool: str) -> str:
    return subprocess.run(["ip", "netns", "exec", netns, tool, "-S"], capture_output=True, text=True,
                          timeout=10, check=True).stdout


def test_upstream_11_commands_tags_and_options(tmp_path: Path, netns: str) -> None:
    if not UPSTREAM_ACTION.exists():
        pytest.skip("upstream's action.d is the oracle here (tools/install-test-deps installs fail2ban)")
    configure(tmp_path)
    server = Server(tmp_path, prefix=("ip", "netns", "exec", netns)).start()
    try:
        # skip_if_nologs: `gone` is not started; `waits` (no option) starts and waits for its file
        assert client(tmp_path, "status") == "Status\n|- Number of jail:\t2\n`- Jail list:\twaits, web\n"
        log = (tmp_path / "f2b.log").read_text()
        assert (f"Skipping jail 'gone': no file matches its logpath {tmp_path}/missing-*.log "
                "(skip_if_nologs = true)") in log

        assert client(tmp_path, "set", "web", "banip", "192.0.2.7") == "1\n"
        assert client(tmp_path, "set", "web", "banip", "2001:db8::7") == "1\n"
        wait_for(lambda: "2001:db8::7" in firewall(netns, "ip6tables"), 10, "the IPv6 rule")
        # the conditional argument applies to the IPv6 commands only; IPv4 keeps the file's REJECT
        assert "-A f2b-web -s 2001:db8::7/128 -j DROP" in firewall(netns, "ip6tables")
        assert "-A f2b-web -s 192.0.2.7/32 -j REJECT --reject-with icmp-port-unreachable" in firewall(
            netns, "iptables")
        wait_for(lambda: len((tmp_path / "named").read_text().splitlines()) == 2, 10, "the named action")
        assert (tmp_path / "named").read_text() == "web 192.0.2.7\nweb 2001:db8::7\n"

        assert client(tmp_path, "status", "--all", "short") == (
            "Status\n|- Number of jail:\t2\n|- Jail list:\twaits, web\n`- Status for the jails:\n"
            "   |- Jail: waits\n   |  |- Filter\n   |  |  |- Currently failed:\t0\n"
            "   |  |  |- Total failed:\t0\n"
            f"   |  |  `- File list:\t{tmp_path}/later.log\n"
            "   |  `- Actions\n   |     |- Currently banned:\t0\n   |     `- Total banned:\t0\n"
            "   `- Jail: web\n      |- Filter\n      |  |- Currently failed:\t0\n      |  |- Total failed:\t0\n"
            f"      |  `- File list:\t{tmp_path}/web.log\n"
            "      `- Actions\n         |- Currently banned:\t2\n         `- Total banned:\t2\n"
        )
        # stdout is UTF-8 here (a pipe, Python's default): box drawing, as upstream 1.1 picks it
        rows = client(tmp_path, "stats").splitlines()
        assert rows[1].startswith(" Jail     \u2551 Backend  \u255f")
        assert rows[4:6] == [" waits    \u2551 polling  \u2551   0 \u2502   0 \u2551   0 \u2502   0",
                             " web      \u2551 polling  \u2551   0 \u2502   0 \u2551   2 \u2502   2"]
    finally:
        server.stop()
