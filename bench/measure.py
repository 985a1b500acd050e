"""Run one command under ``/usr/bin/time -v`` and report its wall time, peak RSS and exit status.

The command's stdout goes to a file (benchmarks must not hold big outputs in memory); the tail of stderr is kept
so a failing row can say why.
"""

from __future__ import annotations

import os
import subprocess
import tempfile
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

TIME = "/usr/bin/time"
STDERR_TAIL = 600  # characters of the command's stderr kept for error cells


@dataclass(frozen=True)
class Measurement:
    """One finished run. peak_rss_kb is 0 when /usr/bin/time did not report it (the command could not start)."""

    argv: tuple[str, ...]
    wall_s: float
    peak_rss_kb: int
    returncode: int
    stdout_path: Path
    stderr_tail: str

    @property
    def ok(self) -> bool:
        return self.returncode == 0

    def error(self) -> str:
        """The last non-empty line of stderr, else of stdout (where fail2ban-regex prints its errors), else the
        exit status: a short reason for a table cell."""
        for text in (self.stderr_tail, self._stdout_tail()):
            lines = [ln.strip() for ln in text.splitlines() if ln.strip()]
            if lines:
                return lines[-1]
        return f"exit status {self.returncode}"

    def _stdout_tail(self) -> str:
        try:
            with open(self.stdout_path, "rb") as f:
                f.seek(max(0, f.seek(0, os.SEEK_END) - STDERR_TAIL))
                return f.read().decode("utf-8", "replace")
        except OSError:
            return ""


def measure(argv: Sequence[str], stdout_path: Path, env: dict[str, str] | None = None) -> Measurement:
    """Run argv to completion with stdout into stdout_path; wall time is measured here (monotonic clock)."""
    with tempfile.TemporaryDirectory(prefix="bench-") as tmp:
        report = Path(tmp) / "time.txt"
        err_path = Path(tmp) / "stderr.txt"
        full_env = {**os.environ, **(env or {})}
        with open(stdout_path, "wb") as out, open(err_path, "wb") as err:
            t0 = time.perf_counter()
            proc = subprocess.run([TIME, "-v", "-o", str(report), *argv], stdout=out, stderr=err, env=full_env,
                                  check=False)  # fmt: skip
            wall = time.perf_counter() - t0
        rss = 0
        if report.exists():
            for line in report.read_text(errors="replace").splitlines():
                key, _, value = line.strip().partition(": ")
                if key == "Maximum resident set size (kbytes)":
                    rss = int(value)
        stderr = err_path.read_bytes()[-STDERR_TAIL:].decode("utf-8", "replace")
    return Measurement(tuple(argv), wall, rss, proc.returncode, stdout_path, stderr)
