"""fail2ban-regex on a log file imports only what such a run uses: start-up is a large part of a short run."""

from __future__ import annotations

import gc
import subprocess
import sys
from pathlib import Path

import pytest

from banjail.cli.regex import main

# Modules a run on a log file with a filter file never needs (the journal reader, jail.conf's reader and its
# schema, asyncio; shutil, which argparse imports to size its help).
_NOT_NEEDED = (
    "asyncio",
    "subprocess",
    "ssl",
    "banjail.cli.journal",
    "banjail.config.jail",
    "banjail.sources.tail",
    "banjail.config.schema",
    "shutil",
)

_PROBE = """
import sys
from banjail.cli.regex import main
status = main(sys.argv[1:])
print(*sorted(m for m in {names} if m in sys.modules))
sys.exit(status)
"""


@pytest.mark.parametrize("json", [False, True])
def test_a_log_file_run_imports_no_journal_nor_jail_machinery(tmp_path: Path, json: bool) -> None:
    sshd = Path("/etc/fail2ban/filter.d/sshd.conf")
    if not sshd.exists():
        pytest.skip("needs upstream's sshd filter")
    log = tmp_path / "auth.log"
    log.write_text("Dec  6 11:57:28 web1 sshd[3739]: Invalid user ansible from 192.0.2.5 port 43328\n")
    args = [*(["--json"] if json else []), "--now", "1796583900", str(log), str(sshd)]
    probe = _PROBE.format(names=_NOT_NEEDED)
    done = subprocess.run([sys.executable, "-c", probe, *args], capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    assert done.stdout.splitlines()[-1] == ""


def test_a_run_leaves_the_cycle_collector_as_it_found_it(tmp_path: Path) -> None:
    # fail2ban-regex collects cycles less often while it scans (banjail.cli.cycles), also when called in-process
    log = tmp_path / "auth.log"
    log.write_text("Dec  6 11:57:28 web1 sshd[3739]: Invalid user ansible from 192.0.2.5 port 43328\n")
    before = gc.get_threshold()
    assert main(["--json", "--now", "1796583900", str(log), r"Invalid user \S+ from <HOST>"]) == 0
    assert main(["--now", "1796583900", str(log), "/nonexistent/filter.conf[x"]) == 255
    assert gc.get_threshold() == before
