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
from .engines import JSON, OUT, BanjailEngine, CommandEngine, Run, UpstreamEngine
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
    text = (
        report + "\n\nDisagreements:\n" + listing(tallies) + "\n\n" + readers.report(variants, runs, upstream)
    )
    text += "\n\nLines whose failures differ from upstream's:\n" + differential.listing(
        variants, runs, upstream
    )
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


@pytest.fixture(scope="module")
def through_command(variants: list[Variant]) -> dict[str, dict[str, Tally]]:
    """The corpus through the installed `fail2ban-regex` (--json and -o row), scored per variant."""
    runs = CommandEngine().run_modes(variants)
    scored = {mode: measure(CommandEngine(), variants, runs[mode]) for mode in (JSON, OUT)}
    for mode, tallies in scored.items():
        print(f"\nThrough fail2ban-regex {mode}: " + table(tallies).splitlines()[-2])
    return {mode: {t.label: t for t in tallies} for mode, tallies in scored.items()}


@pytest.mark.parametrize("mode", [JSON, OUT])
def test_the_installed_command_agrees_as_the_engine_does(
    mode: str, through_command: dict[str, dict[str, Tally]], banjail: dict[str, Tally]
) -> None:
    """What a user sees with `fail2ban-regex --json` or `-o row` agrees with the annotations exactly as the
    engine's API does, variant by variant (same agreed count, same unannotated matches), and holds the baseline."""
    command = through_command[mode]
    assert sorted(command) == sorted(banjail)
    differ = [
        f"{label}: command {c.agreed}/{c.annotations} agree, {c.extra} extra, error {c.error}; "
        f"API {banjail[label].agreed}/{banjail[label].annotations}, {banjail[label].extra} extra"
        for label, c in command.items()
        if (c.agreed, c.extra, c.error) != (banjail[label].agreed, banjail[label].extra, banjail[label].error)
    ]
    assert not differ, "\n".join(differ) + "\n" + listing([command[d.split(":")[0]] for d in differ])
    assert not regressions(list(command.values()), BASELINE)
