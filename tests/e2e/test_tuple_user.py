"""A filter whose <F-TUPLE_USER> group makes a session's user name a tuple (upstream folds it into the user:
(user, tuple_user)). The installed fail2ban-regex used to fail with a TypeError (a session sorted its users, str
against tuple). Now its report is upstream's on both engines, and -o and --json print every failure."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = pytest.mark.e2e

REGEX = str(Path(sys.executable).parent / "fail2ban-regex")
UPSTREAM = Path("/usr/bin/fail2ban-regex")
FILTER = r"""[Definition]
prefregex = ^<F-MLFID>\s*\S+ app\[\d+\]:</F-MLFID> <F-CONTENT>.+</F-CONTENT>$
failregex = ^plain <F-USER>\w+</F-USER> from <HOST>$
            ^pair <F-USER>\w*</F-USER> <F-TUPLE_USER>\w+</F-TUPLE_USER> from <HOST>$
"""
LOG = """Mar  1 11:59:00 host app[1]: plain bob from 192.0.2.1
Mar  1 11:59:00 host app[1]: pair  x from 192.0.2.1
Mar  1 11:59:01 host app[1]: pair eve y from 192.0.2.1
Mar  1 11:59:02 host app[2]: pair eve y from 192.0.2.3
"""


def _run(command: str, args: list[str], engine: str | None) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if k != "BANJAIL_ENGINE"}
    if engine is not None:
        env["BANJAIL_ENGINE"] = engine
    return subprocess.run([command, *args], capture_output=True, text=True, env=env, timeout=60)


def _report(text: str) -> list[str]:
    return [line for line in text.splitlines() if "[processed in" not in line]


@pytest.mark.parametrize("engine", [None, "python"], ids=["default", "python"])
def test_a_tuple_user_is_reported_as_upstream_does(tmp_path: Path, engine: str | None) -> None:
    (tmp_path / "tuple.conf").write_text(FILTER)
    (tmp_path / "app.log").write_text(LOG)
    args = [str(tmp_path / "app.log"), str(tmp_path / "tuple.conf")]
    got = _run(REGEX, args, engine)
    assert got.returncode == 0, got.stderr
    assert "Lines: 4 lines, 0 ignored, 4 matched, 0 missed" in got.stdout
    if UPSTREAM.exists():
        assert _report(got.stdout) == _report(_run(str(UPSTREAM), args, None).stdout)
    out = _run(REGEX, ["-o", "<fid> <F-USER>", *args], engine)
    assert (out.returncode, out.stdout) == (0, (
        "192.0.2.1 bob\n192.0.2.1 ('', 'x')\n192.0.2.1 ('eve', 'y')\n192.0.2.3 ('eve', 'y')\n"
    )), out.stderr  # fmt: skip
    js = _run(REGEX, ["--json", *args], engine)
    assert js.returncode == 0, js.stderr
    assert js.stdout.count('"id": ') == 4
    assert '"users": ["bob", "(\'\', \'x\')", "(\'eve\', \'y\')"]' in js.stdout
