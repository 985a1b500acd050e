"""Whether banjail's config reader resolves a filter to the same texts as upstream's reader.

A variant's misses are routed by this first: when the resolved prefregex/failregex/ignoreregex/maxlines/
datepattern already differ from upstream's, the cause is in the reader (config/); when they are identical, it is in
the engine (filter/).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from .agreement import Tally
from .corpus import Variant
from .engines import Run

_FIELDS = ("prefregex", "failregex", "ignoreregex", "maxlines", "datepattern")


def differences(ours: Mapping[str, Any] | None, theirs: Mapping[str, Any] | None) -> list[str]:
    """Each field where banjail's resolved filter differs from upstream's, with both values."""
    if theirs is None:
        return []  # upstream did not read it either: nothing to compare against
    if ours is None:
        return ["not resolved"]
    out = []
    for name in _FIELDS:
        mine, upstream = ours.get(name), theirs.get(name)
        if mine == upstream:
            continue
        if isinstance(mine, list) and isinstance(upstream, list) and len(mine) == len(upstream):
            for index, (a, b) in enumerate(zip(mine, upstream, strict=True)):
                if a != b:
                    out.append(f"{name}[{index}]:\n    banjail:  {a}\n    upstream: {b}")
        else:
            out.append(f"{name}:\n    banjail:  {mine}\n    upstream: {upstream}")
    return out


def mark(tallies: Sequence[Tally], ours: Sequence[Run], theirs: Sequence[Run]) -> None:
    """Record in each tally whether banjail's reader resolved its filter to upstream's texts."""
    for score, mine, upstream in zip(tallies, ours, theirs, strict=True):
        score.resolved = not differences(mine.spec, upstream.spec)


def report(variants: Sequence[Variant], ours: Sequence[Run], theirs: Sequence[Run]) -> str:
    """Per variant whose resolved filter differs, the differences; then how many variants agree."""
    lines = []
    same = 0
    for variant, mine, upstream in zip(variants, ours, theirs, strict=True):
        found = differences(mine.spec, upstream.spec)
        if found:
            lines.append(f"{variant.label}:")
            lines.extend("  " + d for d in found)
        else:
            same += 1
    lines.append(f"Reader: {same}/{len(variants)} variants resolve to upstream's texts")
    return "\n".join(lines)
