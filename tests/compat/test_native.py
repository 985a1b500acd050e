"""The differential test of the native engine on upstream's whole sample corpus: every variant that loads, fed
through the native engine (line by line, and as one chunk) and through the Python reference line by line, must
give the same failures (id, ip, time, groups, lines, line number), the same kinds and the same counts. Variants
the native engine refuses run on the reference and are counted, not hidden."""

from __future__ import annotations

import dataclasses
from typing import Any

import pytest

from banjail.config.load import load_filter
from banjail.errors import BanjailError
from banjail.filter import native
from banjail.filter.datedetect import DateDetector
from banjail.filter.matcher import Matcher
from banjail.filter.outcome import LineOutcome, ScanStats

from .corpus import CONFIG_DIR, TEST_NOW, Variant
from .harness import corpus, in_test_zone, upstream_present

pytestmark = [
    pytest.mark.compat,
    pytest.mark.skipif(not upstream_present(), reason="needs upstream's sample corpus"),
    pytest.mark.skipif(not native.built(), reason="the native engine is not built"),
]


def _matcher(variant: Variant, engine: str) -> Matcher | None:
    try:
        spec = load_filter(variant.filter, config_dir=CONFIG_DIR, args=dict(variant.options))
        spec = dataclasses.replace(spec, usedns="raw")
        return Matcher(spec, detector=DateDetector(spec.datepattern, logtimezone=spec.logtimezone), engine=engine)
    except BanjailError:
        return None


def _brief(outcome: LineOutcome) -> tuple[Any, ...]:
    return (
        outcome.lineno,
        outcome.kind,
        outcome.failregex,
        outcome.ignoreregex,
        tuple((f.fid, f.ip, f.time, f.lines, f.groups, f.lineno, f.regex_index) for f in outcome.failures),
    )


def _compare(variant: Variant, whole: bool, threaded: bool = False) -> tuple[int, int, int]:
    """(lines, lines the native engine ran, failures) after asserting both engines agree."""
    reference, candidate = _matcher(variant, "python"), _matcher(variant, "native")
    if reference is None or candidate is None:
        return 0, 0, 0
    candidate.threaded = threaded
    lines = [feed.text for feed in variant.feeds if "\n" not in feed.text]
    expected = [reference.process(line, TEST_NOW, n) for n, line in enumerate(lines, 1)]
    stats = ScanStats()
    if whole:
        got = candidate.scan("".join(line + "\n" for line in lines), TEST_NOW, 1, stats, keep_missed=False)
    else:
        got = []
        for n, line in enumerate(lines, 1):
            got += candidate.scan(line + "\n", TEST_NOW, n, stats)
    want = [o for o in expected if o.kind != 0]
    assert [_brief(o) for o in got] == [_brief(o) for o in want], variant.label
    assert stats.lines == len(lines)
    assert stats.matched == sum(o.kind == 1 for o in expected), variant.label
    return len(lines), stats.native_lines, sum(len(o.failures) for o in got)


# threaded: every chunk goes through Program.start (its matching shared with a thread of its own), whatever its
# size, in batches of one line, so that the two threads meet at every line; with patience 0 the caller never
# waits for that thread and matches again each batch the thread holds.
@pytest.mark.parametrize(
    ("whole", "threaded", "patience"),
    [(False, False, None), (True, False, None), (True, True, native.PATIENCE_NS), (True, True, 0)],
    ids=["line-by-line", "one-chunk", "one-chunk-threaded", "one-chunk-threaded-impatient"],
)
def test_native_equals_reference_on_upstream_samples(
    whole: bool, threaded: bool, patience: int | None, capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:  # fmt: skip
    if threaded:
        monkeypatch.setattr(native, "THREAD_LINES", 1)
        monkeypatch.setattr(native, "BATCH_LINES", 1)
        monkeypatch.setattr(native, "PATIENCE_NS", patience)
    variants = [v for v in corpus() if not v.journal]
    totals = [0, 0, 0]
    accepted = refused = 0
    with in_test_zone():
        for variant in variants:
            lines, ran, failures = _compare(variant, whole, threaded)
            totals = [totals[0] + lines, totals[1] + ran, totals[2] + failures]
            m = _matcher(variant, "native")
            if m is not None:
                accepted += m.engine.name == "native"
                refused += m.engine.name != "native"
    with capsys.disabled():
        print(
            f"\nnative differential ({'one chunk' if whole else 'line by line'}{', threaded' if threaded else ''}): "
            f"{len(variants)} variants, "
            f"{accepted} on the native engine, {refused} refused; {totals[0]} lines, {totals[1]} run natively, "
            f"{totals[2]} failures identical"
        )
    assert accepted > 50 and totals[1] > 500
