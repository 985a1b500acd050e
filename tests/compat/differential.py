"""Beyond the annotations: does banjail produce exactly upstream's failures for every line of the corpus (id, time,
number of lines, and every named group), as upstream's own engine does on the same feeds?"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from .agreement import Tally
from .corpus import Variant
from .engines import Found, Run

# Upstream's bookkeeping in ticket data, not groups a user sees.
_BOOKKEEPING = frozenset({"matches", "nofail-matches", "mlfpending", "mlfgained", "mlfforget", "nofail"})


def _visible(groups: Mapping[str, Any]) -> dict[str, Any]:
    return {
        k: sorted(v) if isinstance(v, list) else v
        for k, v in groups.items()
        if v is not None and k not in _BOOKKEEPING
    }


def difference(ours: Sequence[Found], theirs: Sequence[Found]) -> str | None:
    """None when both engines produced the same failures for a line, else the first difference."""
    if len(ours) != len(theirs):
        return f"{len(ours)} failures, upstream {len(theirs)}"
    for mine, upstream in zip(ours, theirs, strict=True):
        for name in ("fid", "time", "lines"):
            a, b = getattr(mine, name), getattr(upstream, name)
            if a != b:
                return f"{name} {a!r}, upstream {b!r}"
        a_groups, b_groups = _visible(mine.groups), _visible(upstream.groups)
        for key in sorted(set(a_groups) | set(b_groups)):
            if a_groups.get(key) != b_groups.get(key):
                return f"group {key} {a_groups.get(key)!r}, upstream {b_groups.get(key)!r}"
    return None


def mark(tallies: Sequence[Tally], ours: Sequence[Run], theirs: Sequence[Run]) -> None:
    """Record in each tally how many of its lines gave exactly upstream's failures."""
    for score, mine, upstream in zip(tallies, ours, theirs, strict=True):
        if mine.error is not None or upstream.error is not None:
            score.identical = 0
            continue
        score.identical = sum(
            difference(a, b) is None for a, b in zip(mine.found, upstream.found, strict=True)
        )


def listing(variants: Sequence[Variant], ours: Sequence[Run], theirs: Sequence[Run]) -> str:
    """Every line whose failures differ from upstream's: `label file:line: difference`."""
    out = []
    for variant, mine, upstream in zip(variants, ours, theirs, strict=True):
        if mine.error is not None or upstream.error is not None:
            continue
        for feed, a, b in zip(variant.feeds, mine.found, upstream.found, strict=True):
            found = difference(a, b)
            if found is not None:
                out.append(f"{variant.label} {feed.file}:{feed.lineno}: {found}")
    return "\n".join(out)
