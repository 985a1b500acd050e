"""packaging/fail2ban.service under a real systemd (PID 1 of a systemd-nspawn machine), driven by `systemctl`.

The unit is installed as shipped; only the command paths are pointed at this checkout's venv (tools/install
links the same commands into /usr/local/bin). The machine has its own network namespace, so the nftables ban the
test makes never reaches the host's firewall.
"""

from __future__ import annotations

import re
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from lab import container

pytestmark = pytest.mark.e2e

REPO = Path(__file__).resolve().parents[2]
VENV_BIN = Path(sys.executable).parent
UNIT = REPO / "packaging" / "fail2ban.service"
SOCKET_UNIT = REPO / "packaging" / "fail2ban.socket"

JAIL_LOCAL = """\
[DEFAULT]
banaction = nftables[type=multiport]
[sshd]
enabled = true
logpath = /var/log/auth.log
backend = polling
[nginx-http-auth]
enabled = true
logpath = /var/log/nginx-error.log
backend = polling
banaction = iptables-multiport
"""


def installed_unit() -> str:
    """The shipped unit with /usr/local/bin/ replaced by this checkout's venv."""
    return UNIT.read_text().replace("/usr/local/bin/", f"{VENV_BIN}/")


@pytest.fixture(scope="module")
def machine(tmp_path_factory: pytest.TempPathFactory) -> Iterator[container.Machine]:
    reason = container.support()
    if reason:
        pytest.skip(reason)
    tmp = tmp_path_factory.mktemp("systemd")
    box = container.Machine(tmp, binds=[str(REPO)])
    try:
        box.boot()
        box.write("/etc/systemd/system/fail2ban.service", installed_unit())
        if REPO.is_relative_to("/tmp") or REPO.is_relative_to("/var/tmp"):
            # The unit's PrivateTmp hides a checkout under /tmp from the service (CI may clone there): the test
            # shows it the checkout again; an installed banjail lives in /opt and needs nothing of the kind.
            box.write("/etc/systemd/system/fail2ban.service.d/checkout.conf",
                      f"[Service]\nBindReadOnlyPaths={REPO}\n")
        box.write("/etc/systemd/system/fail2ban.socket", SOCKET_UNIT.read_text())
        box.write("/etc/fail2ban/jail.local", JAIL_LOCAL)
        box.write("/var/log/auth.log", "")
        box.write("/var/log/nginx-error.log", "")
        box.run(["systemctl", "daemon-reload"], check=True)
        yield box
    finally:
        box.close()


def show(box: container.Machine, *props: str) -> dict[str, str]:
    out = box.run(["systemctl", "show", "fail2ban.service", *[f"--property={p}" for p in props]]).stdout
    return dict(line.split("=", 1) for line in out.splitlines() if "=" in line)


def client(box: container.Machine, *argv: str) -> str:
    done = box.run([str(VENV_BIN / "fail2ban-client"), *argv], timeout=30)
    assert done.returncode == 0, done.stdout + done.stderr
    return done.stdout


def test_start_status_reload_restart_stop(machine: container.Machine) -> None:
    started = machine.run(["systemctl", "start", "fail2ban.service"], timeout=60)
    assert started.returncode == 0, started.stderr + machine.run(["journalctl", "-u", "fail2ban", "--no-pager"]).stdout
    state = show(machine, "ActiveState", "SubState", "Type", "StatusText", "MainPID")
    assert state["ActiveState"] == "active" and state["SubState"] == "running"
    assert state["Type"] == "notify"
    status = machine.run(["systemctl", "status", "--no-pager", "fail2ban.service"]).stdout
    assert "Active: active (running)" in status
    assert "Jail list:\tnginx-http-auth, sshd" in client(machine, "status")

    # reload: `systemctl reload` returns once the server reloaded; the process stays.
    pid = state["MainPID"]
    reloaded = machine.run(["systemctl", "reload", "fail2ban.service"], timeout=60)
    assert reloaded.returncode == 0, reloaded.stderr
    assert show(machine, "MainPID", "ActiveState") == {"MainPID": pid, "ActiveState": "active"}
    # A configuration the server refuses fails the reload, and the server keeps running with the old one.
    machine.write("/etc/fail2ban/jail.local", JAIL_LOCAL + "failregex = ^(unclosed <HOST>\n")
    refused = machine.run(["systemctl", "reload", "fail2ban.service"], timeout=60)
    machine.write("/etc/fail2ban/jail.local", JAIL_LOCAL)
    assert refused.returncode != 0
    assert show(machine, "MainPID", "ActiveState") == {"MainPID": pid, "ActiveState": "active"}
    assert "Jail list:\tnginx-http-auth, sshd" in client(machine, "status")

    # A ban made before a restart is in the machine's firewall, and is still listed after it.
    assert client(machine, "set", "sshd", "banip", "10.79.0.9").strip() == "1"
    restarted = machine.run(["systemctl", "restart", "fail2ban.service"], timeout=60)
    assert restarted.returncode == 0, restarted.stderr
    assert show(machine, "MainPID")["MainPID"] != pid
    assert client(machine, "set", "nginx-http-auth", "banip", "10.79.0.10").strip() == "1"
    assert "10.79.0.9" in client(machine, "status", "sshd")
    # Both kinds of firewall work inside the sandbox: banjail's native nftables and upstream-style iptables.
    assert "10.79.0.9" in machine.run(["nft", "list", "ruleset"]).stdout
    assert "10.79.0.10" in machine.run(["iptables", "-S"]).stdout

    stopped = machine.run(["systemctl", "stop", "fail2ban.service"], timeout=60)
    assert stopped.returncode == 0, stopped.stderr
    assert show(machine, "ActiveState", "Result") == {"ActiveState": "inactive", "Result": "success"}


def test_socket_activation(machine: container.Machine) -> None:
    """With fail2ban.socket listening and the service stopped, the first client command starts the server,
    which answers on the socket systemd passed it; stopping the server leaves systemd's socket in place."""
    machine.run(["systemctl", "stop", "fail2ban.service"], timeout=60)
    assert machine.run(["systemctl", "start", "fail2ban.socket"], timeout=30).returncode == 0
    assert show(machine, "ActiveState")["ActiveState"] == "inactive"
    try:
        assert client(machine, "ping").strip() == "Server replied: pong"
        assert show(machine, "ActiveState", "TriggeredBy") == {"ActiveState": "active",
                                                              "TriggeredBy": "fail2ban.socket"}
        journal = machine.run(["journalctl", "-u", "fail2ban.service", "--no-pager", "-o", "cat"]).stdout
        log = machine.run(["cat", "/var/log/fail2ban.log"]).stdout
        assert "taken over from systemd (socket activation)" in journal + log
        assert client(machine, "stop").strip() == "Shutdown successful"
        assert machine.run(["test", "-S", "/run/fail2ban/fail2ban.sock"]).returncode == 0
    finally:
        machine.run(["systemctl", "stop", "fail2ban.socket", "fail2ban.service"], timeout=60)


def exposure(box: container.Machine) -> float:
    """systemd-analyze's overall exposure score for the unit (0 = locked down, 10 = unprotected)."""
    out = box.run(["systemd-analyze", "security", "--no-pager", "fail2ban.service"], timeout=60).stdout
    found = re.search(r"Overall exposure level for fail2ban\.service: (\d+\.\d+)", out)
    assert found, out
    return float(found.group(1))


def test_hardening_score(machine: container.Machine) -> None:
    score = exposure(machine)
    print(f"systemd-analyze security fail2ban.service: {score}")
    # The sandbox keeps the daemon working (test above) while exposing far less than an unhardened root unit.
    assert score <= 5.0, score
