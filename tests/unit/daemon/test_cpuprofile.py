"""BANJAIL_PROFILE: off unless set; when set, every thread's calls land in one pstats file at exit."""

from __future__ import annotations

import pstats
import subprocess
import sys
from pathlib import Path

SCRIPT = """
import threading
from banjail.daemon import cpuprofile

def in_thread():
    sum(range(1000))

def in_main():
    sum(range(1000))

print(cpuprofile.start_from_env())
worker = threading.Thread(target=in_thread)
worker.start()
worker.join()
in_main()
"""


def _run(tmp_path: Path, env_value: str | None) -> str:
    env = {"PATH": "/usr/bin:/bin"}
    if env_value is not None:
        env["BANJAIL_PROFILE"] = env_value
    done = subprocess.run([sys.executable, "-c", SCRIPT], capture_output=True, text=True, env=env, timeout=60,
                          cwd=tmp_path, check=True)  # fmt: skip
    return done.stdout.strip()


def test_profile_is_off_by_default(tmp_path: Path) -> None:
    assert _run(tmp_path, None) == "False"
    assert _run(tmp_path, "") == "False"
    assert list(tmp_path.iterdir()) == []


def test_profile_covers_every_thread(tmp_path: Path) -> None:
    out = tmp_path / "server.pstats"
    assert _run(tmp_path, str(out)) == "True"
    names = {name for (_, _, name) in pstats.Stats(str(out)).stats}  # type: ignore[attr-defined]
    assert {"in_thread", "in_main"} <= names
