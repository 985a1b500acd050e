"""fail2ban-python: the interpreter banjail runs in, with the given arguments."""

from __future__ import annotations

import subprocess
import sys


def test_runs_this_interpreter_with_banjail_importable() -> None:
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "banjail.cli.python",
            "-c",
            "import sys, banjail; print(sys.executable, sys.argv[1:])",
            "x",
        ],
        capture_output=True,
        text=True,
        timeout=30,
    )
    assert (done.stdout, done.returncode) == (f"{sys.executable} ['x']\n", 0)
