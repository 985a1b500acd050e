"""Judging an engine's output against the corpus's annotations, with upstream's sample-test rules, and the table.

An annotated line agrees when
- it says match false and the line produced no failure, or
- it says match true, the line produced exactly one failure, every annotated key equals the failure's value (a
  missing `host` falls back to the failure id, a missing `attempts` to the number of lines the failure carries,
  lists compare as sorted), and its `time`, read as local time in TEST_TZ, equals the failure time.
An unannotated line that produces a failure is an extra (upstream's test fails on it too).
Must run with TZ = TEST_TZ in effect (corpus.TEST_TZ), because annotation times are local.
"""

from __future__ import annotations

import datetime
import ipaddress
import json
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from .corpus import Annotation, Feed, Variant
from .engines import Found, Run

# Float times from different arithmetic may differ in the last bits; a microsecond is the annotations' resolution.
_TIME_TOLERANCE = 1e-6


def annotation_time(text: str) -> float:
    """Epoch of an annotation time (`%Y-%m-%dT%H:%M:%S` with optional `.%f`), as local time."""
    fmt = "%Y-%m-%dT%H:%M:%S.%f" if "." in text else "%Y-%m-%dT%H:%M:%S"
    local = datetime.datetime.strptime(text, fmt)
    return time.mktime(local.timetuple()) + local.microsecond / 1e6


def _actual(key: str, found: Found) -> Any:
    value = found.groups.get(key)
    if value is None:
        if key == "host":
            return found.fid
        if key == "attempts":
            return found.lines
    return value


def _address(text: str) -> ipaddress.IPv4Address | ipaddress.IPv6Address | None:
    try:
        address = ipaddress.ip_address(text)
    except ValueError:
        return None
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        return address.ipv4_mapped
    return address


def _same_host(actual: Any, expected: Any) -> bool:
    """Upstream's failure id is an address object that equals any spelling of the same address."""
    if isinstance(actual, str) and isinstance(expected, str):
        a, e = _address(actual), _address(expected)
        if a is not None and e is not None:
            return a == e
    return _same(actual, expected)


def _agrees(key: str, found: Found, expected: Any) -> bool:
    actual = _actual(key, found)
    if key == "host" and found.groups.get("host") is None:
        return _same_host(actual, expected)
    return _same(actual, expected)


def _same(actual: Any, expected: Any) -> bool:
    if isinstance(actual, list | tuple | set):
        if not isinstance(expected, list):
            return False
        return sorted(actual) == sorted(expected)
    return bool(actual == expected)


def judge(annotation: Annotation, found: Sequence[Found]) -> str | None:
    """None when the engine's output for a line agrees with its annotation, else what went wrong."""
    if not found:
        return "no match" if annotation.match else None
    if not annotation.match:
        return "matched, should not"
    if len(found) != 1:
        return f"{len(found)} failures, expected exactly one"
    one = found[0]
    wrong = [
        f"{key}={_actual(key, one)!r} (expected {value!r})"
        for key, value in annotation.expected
        if not _agrees(key, one, value)
    ]
    if annotation.time is not None:
        expected_time = annotation_time(annotation.time)
        if one.time is None or abs(one.time - expected_time) > _TIME_TOLERANCE:
            got = "none" if one.time is None else _local(one.time)
            wrong.append(f"time={got} (expected {annotation.time})")
    return "; ".join(wrong) or None


def _local(epoch: float) -> str:
    text = time.strftime("%Y-%m-%dT%H:%M:%S", time.localtime(epoch))
    fraction = epoch % 1
    return text + (f"{fraction:.6f}"[1:] if fraction else "")


def describe(found: Sequence[Found]) -> str:
    """The engine's output for a line, for disagreement listings."""
    if not found:
        return "no match"
    parts = []
    for f in found:
        groups = {
            k: v for k, v in f.groups.items() if v is not None and k not in ("matches", "nofail-matches")
        }
        when = "none" if f.time is None else _local(f.time)
        parts.append(f"fid={f.fid!r} time={when} lines={f.lines} groups={json.dumps(groups, sort_keys=True)}")
    return " | ".join(parts)


def expectation(annotation: Annotation | None) -> str:
    if annotation is None:
        return "no match (unannotated line)"
    if not annotation.match:
        return "no match"
    parts = [f"{k}={v!r}" for k, v in annotation.expected]
    if annotation.time is not None:
        parts.append(f"time={annotation.time}")
    return "match " + " ".join(parts)


@dataclass(frozen=True, slots=True)
class Disagreement:
    feed: Feed
    problem: str
    got: str


@dataclass(slots=True)
class Tally:
    """One variant's score."""

    label: str
    annotations: int = 0
    agreed: int = 0
    extra: int = 0  # unannotated lines that produced a failure
    error: str | None = None  # the filter did not load or the engine failed: every annotation is missed
    annotated: set[tuple[str, int]] = field(default_factory=set)  # (file, lineno) of the annotated feeds
    resolved: bool | None = None  # the reader resolved the filter to upstream's texts (None: not compared)
    lines: int = 0  # lines offered
    identical: int | None = None  # lines whose failures equal upstream's exactly (None: not compared)
    disagreements: list[Disagreement] = field(default_factory=list)

    @property
    def missed(self) -> int:
        return self.annotations - self.agreed


def tally(variant: Variant, run: Run) -> Tally:
    """Score one variant's run. A failed run misses every annotation of the variant."""
    annotated = {(f.file, f.lineno) for f in variant.feeds if f.annotation is not None}
    score = Tally(
        variant.label,
        sum(f.annotation is not None for f in variant.feeds),
        annotated=annotated,
        lines=len(variant.feeds),
    )
    if run.error is not None:
        score.error = run.error
        return score
    for feed, found in zip(variant.feeds, run.found, strict=True):
        if feed.annotation is None:
            if found:
                score.extra += 1
                score.disagreements.append(Disagreement(feed, "matched, unannotated", describe(found)))
            continue
        problem = judge(feed.annotation, found)
        if problem is None:
            score.agreed += 1
        else:
            score.disagreements.append(Disagreement(feed, problem, describe(found)))
    return score


def table(tallies: Sequence[Tally]) -> str:
    """The per-variant table and the total line (`Total: A/N annotations agree`)."""
    width = max([len("filter"), *(len(t.label) for t in tallies)])
    compared = any(t.identical is not None for t in tallies)  # the differential columns, when measured
    head = f"{'filter':<{width}}  {'annotations':>11}  {'agreed':>6}  {'missed':>6}  {'extra':>5}"
    lines = [head + (f"  {'lines':>5}  {'=upstream':>9}" if compared else "")]
    for t in tallies:
        row = f"{t.label:<{width}}  {t.annotations:>11}  {t.agreed:>6}  {t.missed:>6}  {t.extra:>5}"
        if compared:
            row += f"  {t.lines:>5}  {'-' if t.identical is None else t.identical:>9}"
        if t.error:
            row += f"  ({t.error.splitlines()[0][:100]})"
        lines.append(row)
    total = sum(t.annotations for t in tallies)
    agreed = sum(t.agreed for t in tallies)
    extra = sum(t.extra for t in tallies)
    failed = sum(t.error is not None for t in tallies)
    percent = 100.0 * agreed / total if total else 100.0
    # One annotated line is checked once per variant it is offered to; count the lines too.
    offered: set[tuple[str, int]] = set()
    wrong: set[tuple[str, int]] = set()
    for t in tallies:
        offered.update(t.annotated)
        wrong.update((d.feed.file, d.feed.lineno) for d in t.disagreements if d.feed.annotation is not None)
        if t.error:
            wrong.update(t.annotated)
    lines.append(
        f"Total: {agreed}/{total} annotations agree ({percent:.1f} %), "
        f"{extra} unannotated lines matched, {failed} variants failed to run"
    )
    lines.append(f"Annotated lines: {len(offered) - len(wrong)}/{len(offered)} agree in every variant")
    if compared:
        same = sum(t.identical or 0 for t in tallies)
        lines.append(
            f"Identical to upstream's failures (id, time, lines, groups): {same}/{sum(t.lines for t in tallies)} lines"
        )
    return "\n".join(lines)


def listing(tallies: Sequence[Tally]) -> str:
    """Every disagreement: file:line, the line, expected, got."""
    out = []
    for t in tallies:
        if t.error:
            out.append(f"{t.label}: FAILED: {t.error}")
        for d in t.disagreements:
            out.append(
                f"{t.label} {d.feed.file}:{d.feed.lineno}: {d.problem}\n"
                f"  line:     {d.feed.text}\n"
                f"  expected: {expectation(d.feed.annotation)}\n"
                f"  got:      {d.got}"
            )
    return "\n".join(out)


def scores(tallies: Sequence[Tally]) -> dict[str, dict[str, int]]:
    """Per-variant figures as stored in baseline.json."""
    out: dict[str, dict[str, int]] = {}
    for t in tallies:
        out[t.label] = {"annotations": t.annotations, "agreed": t.agreed, "extra": t.extra}
        if t.resolved is not None:
            out[t.label]["resolved"] = int(t.resolved)
        if t.identical is not None:
            out[t.label]["identical"] = t.identical
    return out


def regressions(tallies: Sequence[Tally], baseline: Mapping[str, Mapping[str, int]]) -> list[str]:
    """Variants that agree less, or match more unannotated lines, than the baseline records (one text each)."""
    problems = []
    for t in tallies:
        base = baseline.get(t.label)
        if base is None:
            problems.append(f"{t.label}: not in the baseline (record it)")
            continue
        if t.agreed < base["agreed"]:
            problems.append(f"{t.label}: {t.agreed}/{t.annotations} agree, baseline {base['agreed']}")
        if t.extra > base["extra"]:
            problems.append(f"{t.label}: {t.extra} unannotated lines matched, baseline {base['extra']}")
        if t.identical is not None and t.identical < base.get("identical", 0):
            problems.append(
                f"{t.label}: {t.identical}/{t.lines} lines as upstream, baseline {base['identical']}"
            )
        if t.resolved is False and base.get("resolved"):
            problems.append(f"{t.label}: the reader no longer resolves the filter to upstream's texts")
    return problems
