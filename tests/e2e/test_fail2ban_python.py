"""Upstream's helper scripts run under banjail's `fail2ban-python` first in PATH, with upstream's library and with
banjail's stand-in for it: Debian's filter.d/ignorecommands/apache-fakegooglebot, unchanged.

Names resolve from a private /etc/hosts (a mount namespace of the test's own), so the real Googlebot address
and a fake one are told apart without any network.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = pytest.mark.e2e

SCRIPT = Path("/etc/fail2ban/filter.d/ignorecommands/apache-fakegooglebot")
VENV_BIN = Path(sys.executable).parent
HOSTS = """\
127.0.0.1 localhost
66.249.66.1 crawl-66-249-66-1.googlebot.com
192.0.2.66 crawl-192-0-2-66.googlebot.com.evil.example
"""

# (address, library, exit status): 0 = it is Googlebot (the jail ignores it), 1 = it is not, 2 = bad argument.
CASES = [
    ("66.249.66.1", "auto", 0),
    ("66.249.66.1", "shim", 0),
    ("192.0.2.66", "auto", 1),
    ("192.0.2.66", "shim", 1),
    ("203.0.113.9", "shim", 1),
    ("not-an-ip", "shim", 2),
    ("not-an-ip", "auto", 2),
]


def run_script(tmp_path: Path, address: str, library: str) -> subprocess.CompletedProcess[str]:
    hosts = tmp_path / "hosts"
    hosts.write_text(HOSTS)
    env = {"PATH": f"{VENV_BIN}:/usr/bin:/bin", "BANJAIL_FAIL2BAN_LIB": library, "LANG": "C.UTF-8"}
    shell = f'mount --bind "{hosts}" /etc/hosts && exec "{SCRIPT}" "$1" 5'
    return subprocess.run(["unshare", "--mount", "--propagation", "private", "sh", "-c", shell, "sh", address],
                          capture_output=True, text=True, timeout=60, env=env, check=False)


@pytest.mark.parametrize(("address", "library", "status"), CASES)
def test_fakegooglebot_under_banjail(tmp_path: Path, address: str, library: str, status: int) -> None:
    if not SCRIPT.exists():
        pytest.skip(f"{SCRIPT} is missing: upstream's package is the oracle (tools/install-test-deps)")
    done = run_script(tmp_path, address, library)
    assert done.returncode == status, done.stderr
    assert "No module named" not in done.stderr


def test_a_bad_library_choice_is_refused() -> None:
    env = {**os.environ, "BANJAIL_FAIL2BAN_LIB": "both"}
    done = subprocess.run([str(VENV_BIN / "fail2ban-python"), "-c", "pass"], capture_output=True, text=True,
                          timeout=30, env=env, check=False)
    assert (done.returncode, done.stderr) == (255, "fail2ban-python: BANJAIL_FAIL2BAN_LIB='both': use auto, "
                                                   "upstream or shim\n")
