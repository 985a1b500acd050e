"""Shows the compatibility table at the end of a pytest run that measured it (also under xdist, where the
measuring worker writes the report file and the controller prints it)."""

from __future__ import annotations

import time

import pytest
from tests.dpkg_status import upstream_reading

from .harness import REPORT

__all__ = ["upstream_reading"]

_STARTED = time.time()


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    if REPORT.exists() and REPORT.stat().st_mtime >= _STARTED:
        terminalreporter.section("banjail compatibility with upstream's sample corpus")
        text = REPORT.read_text()
        table = text.split("\n\nDisagreements:\n", 1)[0]
        terminalreporter.write_line(table)
        for line in text.splitlines():
            if line.startswith("Reader: "):
                terminalreporter.write_line(line)
        terminalreporter.write_line(f"(every disagreement: {REPORT})")


@pytest.fixture(autouse=True, scope="module")
def _upstream_files(upstream_reading: object) -> None:
    """Every test here runs upstream on its own installed files and banjail on the same files: fail2ban's
    packaged filters are read as files (tests/dpkg_status.py), not replaced by banjail's."""
