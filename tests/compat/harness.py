"""Replaying the whole corpus through an engine: read every sample test, run its variants, score them."""

from __future__ import annotations

import os
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path

from .agreement import Tally, tally
from .corpus import CONFIG_DIR, SAMPLES_DIR, TEST_TZ, Variant, read_test, sample_tests
from .engines import Engine, Run

# Where the pytest run leaves the table, every disagreement and the reader comparison (conftest prints the table).
REPORT = Path("/tmp/banjail-compat-report.txt")


def upstream_present() -> bool:
    """Whether upstream's corpus and config (Debian's fail2ban package) are installed."""
    return SAMPLES_DIR.is_dir() and (CONFIG_DIR / "filter.d").is_dir()


@contextmanager
def in_test_zone(zone: str = TEST_TZ) -> Iterator[None]:
    """Run the body with the process's local time zone set to `zone`, restoring the previous one after."""
    before = os.environ.get("TZ")
    os.environ["TZ"] = zone
    time.tzset()
    try:
        yield
    finally:
        if before is None:
            del os.environ["TZ"]
        else:
            os.environ["TZ"] = before
        time.tzset()


def corpus(
    tests: Sequence[str] | None = None, samples_dir: Path = SAMPLES_DIR, config_dir: Path = CONFIG_DIR
) -> list[Variant]:
    """Every variant of the given sample tests (default: all of upstream's), in test order."""
    names = sample_tests(config_dir) if tests is None else tests
    return [v for name in names for v in read_test(name, samples_dir)]


def replay(engine: Engine, variants: Sequence[Variant]) -> list[Run]:
    """Run the variants through the engine in the test zone."""
    with in_test_zone():
        return engine.run(variants)


def measure(engine: Engine, variants: Sequence[Variant], runs: Sequence[Run] | None = None) -> list[Tally]:
    """Score each variant's run (replaying the variants through the engine unless runs are given)."""
    if runs is None:
        runs = replay(engine, variants)
    with in_test_zone():  # annotation times are local times
        return [tally(v, r) for v, r in zip(variants, runs, strict=True)]
