"""fail2ban-regex's native engine shares each chunk's matching with a second thread (Program.start). Through the
installed command, with upstream's sshd filter in both modes, on a generated 40,000-line auth.log (the bench's
generator: interleaved sessions, IPv6, noise), its report and its --json output must be the Python engine's
byte for byte (the report's timing line aside) — also while another process keeps a core busy, when the
second thread is often late and the caller matches its batches itself."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from banjail.filter import native

pytestmark = [
    pytest.mark.e2e,
    pytest.mark.skipif(not native.built(), reason="the native engine is not built"),
    pytest.mark.skipif(not Path("/etc/fail2ban/filter.d/sshd.conf").exists(), reason="needs upstream's sshd filter"),
]

REGEX = str(Path(sys.executable).parent / "fail2ban-regex")
GENERATOR = Path(__file__).resolve().parents[2] / "bench" / "gen_authlog.py"
NOW = 1_800_000_000
LINES = 40_000


@pytest.fixture(scope="module")
def authlog(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("threads") / "auth.log"
    subprocess.run(
        [sys.executable, str(GENERATOR), "--lines", str(LINES), "--seed", "13", "--out", str(out),
         "--end", str(NOW)],
        check=True, timeout=120,
    )  # fmt: skip
    return out


@pytest.fixture
def busy_core() -> Iterator[None]:
    """another process spinning on a core for at most 60 s, stopped by its PID"""
    spin = subprocess.Popen([sys.executable, "-c", "import time\nend = time.time() + 60\nwhile time.time() < end: pass"])
    try:
        yield
    finally:
        spin.kill()
        spin.wait(timeout=10)


def _run(log: Path, mode: str, json: bool, engine: str | None) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if k != "BANJAIL_ENGINE"}
    if engine is not None:
        env["BANJAIL_ENGINE"] = engine
    args = ["--json", "--now", str(NOW)] if json else []
    return subprocess.run(
        [REGEX, *args, str(log), f"/etc/fail2ban/filter.d/sshd.conf[mode={mode}]"],
        capture_output=True, text=True, env=env, timeout=300, check=True,
    )  # fmt: skip


def _report(text: str) -> list[str]:
    return [line for line in text.splitlines() if "[processed in" not in line]


@pytest.mark.parametrize("json", [False, True], ids=["report", "json"])
@pytest.mark.parametrize("mode", ["normal", "aggressive"])
def test_threaded_native_equals_the_python_engine(authlog: Path, mode: str, json: bool) -> None:
    reference, candidate = _run(authlog, mode, json, "python"), _run(authlog, mode, json, None)
    assert candidate.stderr.splitlines()[-1].startswith(
        f"engine: native ({native.version()}), {LINES} of {LINES} lines natively"
    ), candidate.stderr
    assert _report(candidate.stdout) == _report(reference.stdout)
    if json:
        assert candidate.stdout.count('"id": ') > 1000
    else:
        assert f"Lines: {LINES} lines" in candidate.stdout


def test_threaded_native_on_a_busy_machine(authlog: Path, busy_core: None) -> None:
    reference = _run(authlog, "aggressive", True, "python")
    for _ in range(3):
        assert _run(authlog, "aggressive", True, None).stdout == reference.stdout
