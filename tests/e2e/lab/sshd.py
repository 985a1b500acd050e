"""A real OpenSSH sshd in the server host with a password-login test user, logging to a file or the journal.

sshd logs with syslog(3) to the host's private /dev/log. There, either rsyslogd (started here, config of our own)
writes auth,authpriv.* to `auth_log` in Debian 12's default file format (`2026-11-25T08:44:15.921753+00:00
srv sshd[49]: message`), or systemd-journald, started by hand, keeps them (`logger="journald"`). pam_unix gets
`nodelay` in the host's private /etc, so a failed password is answered at once (the log lines are the same; only
the client waits less).

Guarantees: when `start()` returns, sshd accepts TCP connections on SERVER_ADDRESS:22 and its logger's socket
exists; processes live inside the server host and die with it.
"""

from __future__ import annotations

import json
import subprocess
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from .netns import SERVER_ADDRESS
from .serverhost import ServerHost

USER = "alice"
PASSWORD = "correct-horse-7"

JOURNALD = "/lib/systemd/systemd-journald"
JOURNAL_SYSLOG = "/run/systemd/journal/dev-log"
JOURNALD_SETUP = """
set -e
mkdir -p /run/systemd/journal
if [ -d /var/log/journal ]; then mount -t tmpfs tmpfs /var/log/journal; fi
mount -t cgroup2 -o ro cgroup2 /sys/fs/cgroup 2>/dev/null || true
"""
RSYSLOG_CONF = """\
global(workDirectory="/run/rsyslog")
module(load="imuxsock" SysSock.RateLimit.Interval="0")
auth,authpriv.* action(type="omfile" file="{log}" template="RSYSLOG_FileFormat" flushOnTXEnd="on")
"""

SSHD_CONFIG = """\
Port 22
ListenAddress {address}
HostKey {key}
PidFile /run/sshd.pid
SyslogFacility AUTH
LogLevel INFO
UsePAM yes
PasswordAuthentication yes
KbdInteractiveAuthentication no
PubkeyAuthentication no
PermitRootLogin no
UseDNS no
MaxStartups 100:30:200
MaxAuthTries 6
LoginGraceTime 20
"""


@dataclass(frozen=True)
class Sshd:
    """What a test needs to know about the running sshd."""

    address: str
    port: int
    user: str
    password: str
    auth_log: Path  # rsyslog's file (empty with journald)
    logger: str  # rsyslog | journald


def start(host: ServerHost, workdir: Path, logger: str = "rsyslog") -> Sshd:
    """Create the test user, start the logger (`rsyslog` writing `auth_log`, or `journald`) then sshd in
    `host`, and wait until both are ready."""
    workdir.mkdir(parents=True, exist_ok=True)
    auth_log = workdir / "auth.log"
    auth_log.touch()
    host.run(["useradd", "-M", "-s", "/bin/sh", USER])
    host.run(["sh", "-c", f"echo '{USER}:{PASSWORD}' | chpasswd"])
    host.run(["sed", "-i", r"s/^\(auth.*pam_unix\.so.*\)$/\1 nodelay/", "/etc/pam.d/common-auth"])
    if logger == "journald":
        _start_journald(host, workdir)
    else:
        _start_rsyslog(host, workdir, auth_log)

    key = workdir / "ssh_host_ed25519_key"
    subprocess.run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", str(key)], check=True, timeout=10)
    config = workdir / "sshd_config"
    config.write_text(SSHD_CONFIG.format(address=SERVER_ADDRESS, key=key))
    host.run(["/usr/sbin/sshd", "-t", "-f", str(config)])
    host.popen(["/usr/sbin/sshd", "-D", "-f", str(config)], workdir / "sshd.out")
    _wait(lambda: _listening(host), "sshd listening on port 22")
    return Sshd(SERVER_ADDRESS, 22, USER, PASSWORD, auth_log, logger)


def _start_rsyslog(host: ServerHost, workdir: Path, auth_log: Path) -> None:
    host.run(["mkdir", "-p", "/run/rsyslog"])
    rsyslog_conf = workdir / "rsyslog.conf"
    rsyslog_conf.write_text(RSYSLOG_CONF.format(log=auth_log))
    host.popen(
        ["rsyslogd", "-n", "-f", str(rsyslog_conf), "-i", "/run/rsyslogd.pid"], workdir / "rsyslogd.out"
    )
    _wait(lambda: host.run(["test", "-S", "/dev/log"], check=False).returncode == 0, "rsyslogd's /dev/log")


def _start_journald(host: ServerHost, workdir: Path) -> None:
    # Without systemd as PID 1 journald needs a cgroup2 mount to read; its journal stays in the private /run
    # (a tmpfs hides any persistent /var/log/journal), and /dev/log is the link systemd would make.
    host.run(["sh", "-c", JOURNALD_SETUP])
    host.popen([JOURNALD], workdir / "journald.out")
    _wait(
        lambda: host.run(["test", "-S", JOURNAL_SYSLOG], check=False).returncode == 0,
        "journald's syslog socket",
    )
    host.run(["ln", "-sf", JOURNAL_SYSLOG, "/dev/log"])


def failed_logins(host: ServerHost, sshd: Sshd, address: str) -> list[float]:
    """When sshd logged each `Failed password ... from address` (epoch seconds, in order), from its log."""
    marker = f" from {address} port "
    if sshd.logger == "journald":
        out = host.run(["journalctl", "-q", "-o", "json", "_COMM=sshd"]).stdout
        entries = [json.loads(line) for line in out.splitlines() if line.strip()]
        return [
            int(entry["__REALTIME_TIMESTAMP"]) / 1e6
            for entry in entries
            if str(entry.get("MESSAGE", "")).startswith("Failed password for ") and marker in entry["MESSAGE"]
        ]
    found = []
    for line in sshd.auth_log.read_text().splitlines():
        stamp, _host, _ident, message = line.split(" ", 3)
        if message.startswith("Failed password for ") and marker in message:
            found.append(datetime.fromisoformat(stamp).timestamp())
    return found


def _listening(host: ServerHost) -> bool:
    out = host.run(["ss", "-Hltn", f"src {SERVER_ADDRESS}:22"], check=False).stdout
    return "LISTEN" in out


def _wait(ready: Callable[[], bool], what: str, timeout: float = 10) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if ready():
            return
        time.sleep(0.05)
    raise RuntimeError(f"timed out waiting for {what}")
