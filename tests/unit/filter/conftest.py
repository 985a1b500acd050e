"""Fixtures shared by the date tests: upstream's sample test reads local times in this zone."""

from __future__ import annotations

import os
import time
from collections.abc import Iterator

import pytest

CET = "CET-01CEST-02,M3.5.0,M10.5.0"


@pytest.fixture
def cet() -> Iterator[None]:
    """Run the test with TZ set to CET/CEST (tzset applied), restoring the previous zone afterwards."""
    saved = os.environ.get("TZ")
    os.environ["TZ"] = CET
    time.tzset()
    yield
    if saved is None:
        os.environ.pop("TZ", None)
    else:
        os.environ["TZ"] = saved
    time.tzset()
