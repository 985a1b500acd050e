"""What `fail2ban-regex --json` reports for a <HOST> that is a name, per --usedns, through the installed command,
with names resolved offline: /etc/hosts and /etc/resolv.conf are bind-mounted in a private mount namespace made
by `unshare --mount` (the host's files are never touched). Upstream's `-o ip` is the oracle for the addresses."""

from __future__ import annotations

import json
import shlex
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

UPSTREAM = "/usr/bin/fail2ban-regex"
BANJAIL = str(Path(sys.executable).with_name("fail2ban-regex"))
HOSTS = "127.0.0.1 localhost\n10.77.0.2 two.attacker.test\n10.77.0.3 two.attacker.test\n10.77.0.4 one.attacker.test\n"
LINE = "Aug 14 11:59:59 host sshd[1]: Failed password for root from {} port 22 ssh2"

pytestmark = pytest.mark.skipif(shutil.which("unshare") is None, reason="needs unshare (util-linux)")


def _in_namespace(tmp_path: Path, *argv: str) -> subprocess.CompletedProcess[str]:
    hosts, resolv = tmp_path / "hosts", tmp_path / "resolv.conf"
    hosts.write_text(HOSTS)
    resolv.write_text("nameserver 127.0.0.1\noptions timeout:1 attempts:1\n")  # refused at once: offline
    script = f"mount --bind {hosts} /etc/hosts && mount --bind {resolv} /etc/resolv.conf && " + shlex.join(
        argv
    )
    proc = subprocess.run(
        ["unshare", "--mount", "--propagation", "private", "sh", "-c", script],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    if proc.returncode != 0 and "mount" in proc.stderr:
        pytest.skip(f"cannot make a private mount namespace here: {proc.stderr.strip()}")
    assert proc.returncode == 0, proc.stderr
    return proc


CASES = [
    # usedns, name, [(id, ip)] printed by --json
    ("raw", "two.attacker.test", [("two.attacker.test", None)]),
    ("yes", "two.attacker.test", [("10.77.0.2", "10.77.0.2"), ("10.77.0.3", "10.77.0.3")]),
    ("warn", "two.attacker.test", [("10.77.0.2", "10.77.0.2"), ("10.77.0.3", "10.77.0.3")]),
    ("warn", "one.attacker.test", [("10.77.0.4", "10.77.0.4")]),
    ("no", "two.attacker.test", []),
    ("yes", "nx.attacker.test", []),
    ("raw", "nx.attacker.test", [("nx.attacker.test", None)]),
]


@pytest.mark.parametrize(("usedns", "name", "expected"), CASES)
def test_json_reports_a_host_name_per_usedns(
    tmp_path: Path, usedns: str, name: str, expected: list[tuple[str, str | None]]
) -> None:
    line = LINE.format(name)
    proc = _in_namespace(tmp_path, BANJAIL, "--json", "--usedns", usedns, line, "sshd")
    found = [json.loads(row) for row in proc.stdout.splitlines()]
    assert [(f["id"], f["ip"]) for f in found] == expected
    assert all(f["groups"]["dns"] == name for f in found)
    if Path(UPSTREAM).exists():
        theirs = _in_namespace(tmp_path, UPSTREAM, "-o", "ip", "--usedns", usedns, line, "sshd")
        assert sorted(theirs.stdout.split()) == sorted(fid for fid, _ in expected)


def test_raw_flag_is_usedns_raw(tmp_path: Path) -> None:
    proc = _in_namespace(tmp_path, BANJAIL, "--json", "-r", LINE.format("two.attacker.test"), "sshd")
    assert [(f["id"], f["ip"]) for f in map(json.loads, proc.stdout.splitlines())] == [
        ("two.attacker.test", None)
    ]
