"""Prints the generator's case count at the end of the run (summed over xdist workers through each test's
user_properties)."""

from __future__ import annotations

import pytest


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    total = filters = 0
    for report in terminalreporter.stats.get("passed", []) + terminalreporter.stats.get("failed", []):
        if report.when != "call":
            continue
        for key, value in report.user_properties:
            if key == "injection_cases":
                total += int(value)
                filters += 1
    if filters:
        terminalreporter.write_line(f"log-injection generator: {total} cases over {filters} stock filters")
