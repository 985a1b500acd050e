"""A real OpenSSH sshd in the server host, logging through rsyslog to a file, with a password-login test user.

sshd logs with syslog(3) to the host's private /dev/log; rsyslogd (started here, config of our own) writes
auth,authpriv.* to `auth_log` in Debian 12's default file format (`2026-11-25T08:44:15.921753+00:00 srv sshd[49]:
message`). pam_unix gets `nodelay` in the host's private /etc, so a failed password is answered at once (the log
lines are the same; only the client waits less).

Guarantees: when `start()` returns, sshd accepts TCP connections on SERVER_ADDRESS:22 and rsyslog's socket
exists; processes live inside the server host and die with it.
"""

from __future__ import annotations

import subprocess
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from .netns import SERVER_ADDRESS
from .serverhost import ServerHost

USER = "alice"
PASSWORD = "correct-horse-7"

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
    auth_log: Path


def start(host: ServerHost, workdir: Path) -> Sshd:
    """Create the test user, start rsyslogd then sshd in `host`, and wait until both are ready."""
    workdir.mkdir(parents=True, exist_ok=True)
    auth_log = workdir / "auth.log"
    auth_log.touch()
    host.run(["useradd", "-M", "-s", "/bin/sh", USER])
    host.run(["sh", "-c", f"echo '{USER}:{PASSWORD}' | chpasswd"])
    host.run(["sed", "-i", r"s/^\(auth.*pam_unix\.so.*\)$/\1 nodelay/", "/etc/pam.d/common-auth"])
    host.run(["mkdir", "-p", "/run/rsyslog"])

    rsyslog_conf = workdir / "rsyslog.conf"
    rsyslog_conf.write_text(RSYSLOG_CONF.format(log=auth_log))
    host.popen(
        ["rsyslogd", "-n", "-f", str(rsyslog_conf), "-i", "/run/rsyslogd.pid"], workdir / "rsyslogd.out"
    )
    _wait(lambda: host.run(["test", "-S", "/dev/log"], check=False).returncode == 0, "rsyslogd's /dev/log")

    key = workdir / "ssh_host_ed25519_key"
    subprocess.run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", str(key)], check=True, timeout=10)
    config = workdir / "sshd_config"
    config.write_text(SSHD_CONFIG.format(address=SERVER_ADDRESS, key=key))
    host.run(["/usr/sbin/sshd", "-t", "-f", str(config)])
    host.popen(["/usr/sbin/sshd", "-D", "-f", str(config)], workdir / "sshd.out")
    _wait(lambda: _listening(host), "sshd listening on port 22")
    return Sshd(SERVER_ADDRESS, 22, USER, PASSWORD, auth_log)


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
