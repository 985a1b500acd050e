"""The benchmark hook runs (small counts): `python -m banjail.actions.benchmark` creates and removes its own
namespace and reports native bans/s, restore time and upstream's bans/s."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest

pytestmark = pytest.mark.e2e


def test_benchmark_reports_every_figure_and_leaves_no_namespace() -> None:
    if os.geteuid() != 0:
        pytest.skip("network namespaces need root")
    before = subprocess.run(["ip", "netns", "list"], capture_output=True, text=True, check=True).stdout
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "banjail.actions.benchmark",
            "--bans",
            "2000",
            "--restore",
            "5000",
            "--upstream",
            "5",
            "--json",
        ],
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    )
    figures = json.loads(done.stdout)
    assert (figures["native_bans"], figures["restore_bans"], figures["upstream_bans"]) == (2000, 5000, 5)
    assert figures["native_bans_per_second"] > 0
    assert 0 < figures["restore_seconds"] < 10
    assert figures["upstream_bans_per_second"] > 0
    after = subprocess.run(["ip", "netns", "list"], capture_output=True, text=True, check=True).stdout
    assert "bj-bench" not in after.replace(before, "")
