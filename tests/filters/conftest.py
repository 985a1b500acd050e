"""Shared fixtures for the stock filter tests: every test reads banjail's own stock tree through an empty config
directory, in UTC."""

from __future__ import annotations

import os
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))  # samplefile, regexshape, crosscheck live beside the tests

STOCK_FILTERS = HERE.parents[1] / "src" / "banjail" / "stock" / "filter.d"


def stock_filter_names() -> list[str]:
    """Every filter of the stock library (common.conf and *-common.conf hold building blocks, not filters)."""
    return sorted(
        p.stem for p in STOCK_FILTERS.glob("*.conf") if p.stem != "common" and not p.stem.endswith("-common")
    )


@pytest.fixture(scope="session")
def empty_config_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("etc-fail2ban-empty")


@pytest.fixture(autouse=True, scope="session")
def _utc() -> Iterator[None]:
    old = os.environ.get("TZ")
    os.environ["TZ"] = "UTC"
    time.tzset()
    yield
    if old is None:
        os.environ.pop("TZ", None)
    else:
        os.environ["TZ"] = old
    time.tzset()
