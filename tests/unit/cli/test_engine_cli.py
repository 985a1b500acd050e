"""fail2ban-regex through the installed command on both engines: the same stdout byte for byte (report, --json,
-o with a template), and one stderr line naming the engine that ran; -o row runs the reference alone."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from banjail.filter import native

REGEX = str(Path(sys.executable).parent / "fail2ban-regex")
SSHD = "/etc/fail2ban/filter.d/sshd.conf"
GENERATOR = Path(__file__).resolve().parents[3] / "bench" / "gen_authlog.py"
NOW = 1796583900
_TIME = re.compile(r"\[processed in [\d.]+ sec\]")

pytestmark = [
    pytest.mark.skipif(not native.built(), reason="the native engine is not built"),
    pytest.mark.skipif(not Path(SSHD).exists(), reason="needs upstream's sshd filter"),
]


@pytest.fixture(scope="module")
def authlog(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("engine") / "auth.log"
    subprocess.run(
        [sys.executable, str(GENERATOR), "--lines", "20000", "--seed", "3", "--format", "syslog",
         "--end", str(NOW - 60), "--out", str(path)],
        check=True, timeout=120,
    )  # fmt: skip
    return path


def _run(args: list[str], engine: str | None) -> tuple[str, str]:
    env = {k: v for k, v in os.environ.items() if k != "BANJAIL_ENGINE"}
    if engine is not None:
        env["BANJAIL_ENGINE"] = engine
    done = subprocess.run([REGEX, *args], capture_output=True, text=True, env=env, timeout=300, check=True)
    return _TIME.sub("[processed in X sec]", done.stdout), done.stderr.splitlines()[-1]


@pytest.mark.parametrize(
    "mode", [[], ["--json"], ["-o", "<ip> <F-USER> <users> <F-NOPE>"]], ids=["report", "json", "template"]
)
@pytest.mark.parametrize("variant", ["", "[mode=aggressive]"], ids=["normal", "aggressive"])
def test_both_engines_print_the_same(authlog: Path, mode: list[str], variant: str) -> None:
    args = ["--now", str(NOW), *mode, str(authlog), SSHD + variant]
    ours, engine = _run(args, None)
    reference, python = _run(args, "python")
    assert ours == reference
    assert python == "engine: python (BANJAIL_ENGINE=python)"
    version = native.version()
    # the first chunk runs on Python in report mode while missed lines may still be listed
    found = re.fullmatch(
        rf"engine: native \({re.escape(version)}\), (\d+) of 20000 lines natively "
        r"\(the rest on Python: non-ASCII or not uniform\)",
        engine,
    )
    assert found is not None, engine
    assert int(found.group(1)) >= 10000


@pytest.mark.parametrize("token", ["row", "matches", "<ip> <time>"])
def test_out_row_runs_the_reference(authlog: Path, token: str) -> None:
    # upstream's whole failure data (None groups, date-split lines, int times) is kept by the reference's general
    # step only; forcing the reference changes neither the output nor what the engine line says but its reason
    args = ["--now", str(NOW), "-o", token, str(authlog), SSHD]
    ours, engine = _run(args, None)
    reference, python = _run(args, "python")
    assert ours == reference
    assert ours.count("\n") > 1000
    assert engine == (
        "engine: python (-o row, matches and <time> print upstream's failure data, which only the reference keeps)"
    )
    assert python == "engine: python (BANJAIL_ENGINE=python)"
