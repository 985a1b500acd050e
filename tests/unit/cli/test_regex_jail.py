"""`fail2ban-regex LOG JAIL` (upstream 1.1): a REGEX that names no filter file but a jail of the config tree tests
that jail's filter with the jail's arguments and filter options. Through the installed command, on a copy of
Debian's /etc/fail2ban with jails added in jail.d; upstream 1.0.2's `fail2ban-regex LOG 'filter[args]'` is the
oracle for what the jail must test."""

from __future__ import annotations

import ast
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

UPSTREAM = "/usr/bin/fail2ban-regex"
BANJAIL = str(Path(sys.executable).with_name("fail2ban-regex"))
ETC = Path("/etc/fail2ban")
LOGS = Path("/usr/lib/python3/dist-packages/fail2ban/tests/files/logs")

# upstream is run on the same files: banjail reads fail2ban's packaged filters as files here (tests/dpkg_status.py)
pytestmark = [pytest.mark.usefixtures("upstream_reading"), pytest.mark.skipif(
    not (ETC / "filter.d").is_dir() or not Path(UPSTREAM).exists(),
    reason="upstream fail2ban is not installed",
)]

JAILS = """
[strict-ssh]
# disabled jails are found too: fail2ban-regex tests a jail before it is enabled
enabled = false
mode = aggressive
filter = sshd[mode=%(mode)s]

[ssh-noroot]
filter = sshd
ignoreregex = for root from

[dropbear-custom]
filter = dropbear
maxlines = 1
"""


@pytest.fixture(scope="module")
def tree(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("etc") / "fail2ban"
    shutil.copytree(ETC, root, symlinks=True)
    (root / "jail.d").mkdir(exist_ok=True)
    (root / "jail.d" / "zz-regex-test.local").write_text(JAILS)
    return root


def _run(command: str, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([command, *args], capture_output=True, text=True, timeout=60, check=False)


def _rows(proc: subprocess.CompletedProcess[str]) -> list[tuple[object, ...]]:
    assert proc.returncode == 0, proc.stdout + proc.stderr
    out = []
    for line in proc.stdout.splitlines():
        fid, when, groups = ast.literal_eval(line.rstrip(","))
        out.append((fid, when, groups.get("user")))
    return out


@pytest.mark.parametrize(
    ("jail", "upstream_args"),
    [
        ("strict-ssh", ["sshd[mode=aggressive]"]),
        ("ssh-noroot", ["sshd", "for root from"]),
        ("dropbear-custom", ["dropbear"]),
    ],
)
def test_a_jail_name_tests_the_jails_filter_with_its_options(
    tree: Path, jail: str, upstream_args: list[str]
) -> None:
    sample = str(LOGS / upstream_args[0].split("[")[0])
    ours = _rows(_run(BANJAIL, "-c", str(tree), "-o", "row", sample, jail))
    theirs = _rows(_run(UPSTREAM, "-c", str(tree), "-o", "row", sample, *upstream_args))
    assert ours == theirs
    assert ours


def test_the_report_names_the_jail_and_its_filter(tree: Path) -> None:
    proc = _run(BANJAIL, "-c", str(tree), str(LOGS / "sshd"), "strict-ssh")
    assert proc.returncode == 0
    assert proc.stdout.splitlines()[4:6] == [
        f"Use             jail : strict-ssh, basedir: {tree}",
        "Use    jail's filter : sshd[mode=aggressive]",
    ]
    theirs = _run(UPSTREAM, "-c", str(tree), str(LOGS / "sshd"), "sshd[mode=aggressive]").stdout
    line = next(x for x in theirs.splitlines() if x.startswith("Lines: "))
    assert line in proc.stdout.splitlines()


def test_a_filter_file_of_that_name_wins_over_a_jail(tree: Path) -> None:
    """`sshd` is a filter and a jail: as in 1.0.2, the filter file is tested (its report stays upstream's)."""
    proc = _run(BANJAIL, "-c", str(tree), str(LOGS / "sshd"), "sshd")
    assert proc.stdout.splitlines()[4] == f"Use   failregex filter file : sshd, basedir: {tree}"


def test_neither_filter_nor_jail(tree: Path) -> None:
    proc = _run(BANJAIL, "-c", str(tree), "a line", "no-such-jail")
    assert proc.returncode == 255
    assert proc.stdout.splitlines()[-1].startswith(
        f"ERROR: no filter 'no-such-jail' in {tree}/filter.d nor in banjail's stock filters, and as a regex: "
    )
