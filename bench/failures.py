"""Read the failures each tool printed and compare them by (id, time).

Upstream's ``fail2ban-regex -o row`` prints ``[id,\\ttime,\\t{groups}],`` per failure (Python reprs); banjail's
``fail2ban-regex --json`` prints one JSON object per failure with ``line``, ``id`` and ``time``.
"""

from __future__ import annotations

import ast
import json
from collections import Counter
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path

Key = tuple[str, float]  # (failure id, epoch time)
EXAMPLES = 5


def upstream_rows(path: Path) -> Iterator[Key]:
    """Yield (id, time) for each ``-o row`` line; other lines (none are expected) are skipped."""
    with open(path, encoding="utf-8", errors="replace") as f:
        for line in f:
            if not line.startswith("["):
                continue
            fid, when, _ = line[1:].split(",\t", 2)
            yield str(ast.literal_eval(fid)), float(when)


def banjail_json(path: Path) -> Iterator[tuple[int, Key]]:
    """Yield (input line number, (id, time)) for each JSON object line; other lines are skipped."""
    with open(path, encoding="utf-8", errors="replace") as f:
        for line in f:
            if not line.startswith("{"):
                continue
            obj = json.loads(line)
            yield int(obj.get("line", 0)), (str(obj["id"]), float(obj["time"]))


@dataclass(frozen=True)
class Comparison:
    """How banjail's failures relate to upstream's. Examples are capped at EXAMPLES each."""

    upstream: int
    banjail: int
    identical: bool  # the same (id, time) pairs in the same order
    same_set: bool  # the same pairs, counted, in any order
    same_seconds: bool  # the same pairs, counted, once times are cut to whole seconds
    only_upstream: tuple[Key, ...]
    only_banjail: tuple[tuple[int, Key], ...]  # with banjail's input line number
    missing: int  # pairs upstream has and banjail lacks (counted)
    extra: int  # pairs banjail has and upstream lacks (counted)

    def verdict(self) -> str:
        """A table cell: "yes", or what differs."""
        if self.identical:
            return "yes"
        if self.same_set:
            return "same pairs, other order"
        text = f"no: {self.missing} missing, {self.extra} extra"
        return text + (" (same at whole seconds)" if self.same_seconds else "")


def compare(upstream: list[Key], banjail: list[tuple[int, Key]]) -> Comparison:
    """Compare the two outputs; order matters for ``identical`` only."""
    bj_keys = [k for _, k in banjail]
    up_count, bj_count = Counter(upstream), Counter(bj_keys)
    missing, extra = up_count - bj_count, bj_count - up_count
    only_upstream = _examples(enumerate(upstream), missing)
    only_banjail = _examples(banjail, extra)
    return Comparison(
        upstream=len(upstream),
        banjail=len(banjail),
        identical=upstream == bj_keys,
        same_set=not missing and not extra,
        same_seconds=Counter((i, int(t)) for i, t in upstream) == Counter((i, int(t)) for i, t in bj_keys),
        only_upstream=tuple(k for _, k in only_upstream),
        only_banjail=only_banjail,
        missing=sum(missing.values()),
        extra=sum(extra.values()),
    )


def _examples(numbered: Iterable[tuple[int, Key]], surplus: Counter[Key]) -> tuple[tuple[int, Key], ...]:
    """The first EXAMPLES pairs, in input order, that are surplus: a key counted n times yields at most n."""
    left = Counter(surplus)
    out: list[tuple[int, Key]] = []
    for n, key in numbered:
        if len(out) >= EXAMPLES:
            break
        if left[key] > 0:
            left[key] -= 1
            out.append((n, key))
    return tuple(out)
