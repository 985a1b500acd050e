"""banjail's reader and matcher on upstream fail2ban's sample logs, judged by their failJSON annotations.

The harness itself is proven by running upstream's own engine through it (every annotation must agree); banjail
must hold, per filter variant, the level recorded in baseline.json. Record a new level with
`tools/compat-report --json tests/compat/baseline.json` once it is higher.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from . import differential, readers
from .agreement import Tally, listing, regressions, table
from .corpus import Variant
from .engines import BanjailEngine, Run, UpstreamEngine
from .harness import REPORT, corpus, measure, replay, upstream_present

BASELINE_FILE = Path(__file__).with_name("baseline.json")
BASELINE: dict[str, dict[str, int]] = json.loads(BASELINE_FILE.read_text())

pytestmark = [
    pytest.mark.compat,
    pytest.mark.skipif(
        not upstream_present(),
        reason="upstream fail2ban (Debian package `fail2ban`) is not installed: its sample logs and "
        "/etc/fail2ban/filter.d are the oracle",
    ),
]


@pytest.fixture(scope="module")
def variants() -> list[Variant]:
    return corpus()


@pytest.fixture(scope="module")
def upstream(variants: list[Variant]) -> list[Run]:
    return replay(UpstreamEngine(), variants)


@pytest.fixture(scope="module")
def banjail(variants: list[Variant], upstream: list[Run]) -> dict[str, Tally]:
    runs = replay(BanjailEngine(), variants)
    tallies = measure(BanjailEngine(), variants, runs)
    readers.mark(tallies, runs, upstream)
    differential.mark(tallies, runs, upstream)
    report = table(tallies)
    text = report + "\n\nDisagreements:\n" + listing(tallies) + "\n\n" + readers.report(variants, runs, upstream)
    text += "\n\nLines whose failures differ from upstream's:\n" + differential.listing(variants, runs, upstream)
    # Written whole and renamed: under xdist several workers write it while the controller may read it.
    partial = REPORT.with_name(f"{REPORT.name}.{os.getpid()}")
    partial.write_text(text + "\n")
    partial.replace(REPORT)
    print("\n" + report)
    return {t.label: t for t in tallies}


def test_harness_reads_annotations_as_upstream_does(variants: list[Variant], upstream: list[Run]) -> None:
    """Upstream's own engine agrees with every annotation, and no unannotated line matches."""
    tallies = measure(UpstreamEngine(), variants, upstream)
    wrong = [t for t in tallies if t.error or t.missed or t.extra]
    assert not wrong, "\n" + table(wrong) + "\n" + listing(wrong)
    assert sum(t.annotations for t in tallies) > 1000


def test_every_variant_has_a_baseline(banjail: dict[str, Tally]) -> None:
    assert sorted(banjail) == sorted(BASELINE)


@pytest.mark.parametrize("label", sorted(BASELINE))
def test_agreement_holds_baseline(label: str, banjail: dict[str, Tally]) -> None:
    score = banjail.get(label)
    assert score is not None, f"{label}: the corpus no longer has this variant"
    problems = regressions([score], BASELINE)
    assert not problems, "\n".join(problems) + "\n" + listing([score])
