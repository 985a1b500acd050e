"""Without a C compiler the install still succeeds and the Python engine runs: a fresh venv, `pip install` of
this checkout with CC=/bin/false, then the installed fail2ban-regex on upstream's sshd filter."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = pytest.mark.e2e

REPO = Path(__file__).resolve().parents[2]
SSHD = Path("/etc/fail2ban/filter.d/sshd.conf")


@pytest.mark.skipif(not SSHD.exists(), reason="needs upstream's sshd filter")
def test_install_without_compiler_runs_the_python_engine(tmp_path: Path) -> None:
    venv = tmp_path / "venv"
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True, timeout=120)
    env = {**os.environ, "CC": "/bin/false"}
    env.pop("BANJAIL_ENGINE", None)
    done = subprocess.run(
        [str(venv / "bin/pip"), "install", "-q", "--no-deps", str(REPO)],
        capture_output=True, text=True, env=env, timeout=600,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr[-2000:]
    log = tmp_path / "auth.log"
    log.write_text("Mar  1 10:00:00 host sshd[1]: Invalid user bob from 192.0.2.1 port 22\n")
    run = subprocess.run(
        [str(venv / "bin/fail2ban-regex"), str(log), str(SSHD)], capture_output=True, text=True, env=env, timeout=120
    )
    assert run.returncode == 0, run.stderr
    assert "Lines: 1 lines, 0 ignored, 1 matched, 0 missed" in run.stdout
    assert run.stderr.splitlines()[-1] == "engine: python (the native engine is not built)"
