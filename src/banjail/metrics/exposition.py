"""The Prometheus text exposition format 0.0.4, written: `# HELP` and `# TYPE` lines, then the samples.

Rules followed (https://prometheus.io/docs/instrumenting/exposition_formats/):
- HELP text escapes `\\` as `\\\\` and a line feed as `\\n`; label values also escape `"` as `\\"`.
- Every family has one HELP and one TYPE line before its samples, and its samples are together.
- Values are Go-style floats: `+Inf`, `-Inf`, `NaN`; integral values print without a fraction.
- A histogram writes cumulative `NAME_bucket{le="B"}` rows ending with `le="+Inf"`, then `NAME_sum`, `NAME_count`.
- The text ends with a line feed.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from banjail.metrics.registry import Family

CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8"


def escape_help(text: str) -> str:
    return text.replace("\\", "\\\\").replace("\n", "\\n")


def escape_label(text: str) -> str:
    return text.replace("\\", "\\\\").replace("\n", "\\n").replace('"', '\\"')


def number(value: float) -> str:
    """A sample value as the format writes it."""
    if math.isnan(value):
        return "NaN"
    if math.isinf(value):
        return "+Inf" if value > 0 else "-Inf"
    if float(value).is_integer() and abs(value) < 1e15:
        return str(int(value))
    return repr(float(value))


def labels_text(names: Sequence[str], values: Sequence[str]) -> str:
    if not names:
        return ""
    pairs = ",".join(f'{n}="{escape_label(v)}"' for n, v in zip(names, values, strict=True))
    return "{" + pairs + "}"


def family_text(family: Family) -> str:
    """The lines of one family (HELP, TYPE, samples in label order)."""
    from banjail.metrics.registry import Buckets

    name = family.name
    out = [f"# HELP {name} {escape_help(family.help)}\n", f"# TYPE {name} {family.kind}\n"]
    names = family.label_names
    for values in sorted(family.children):
        child = family.children[values]
        if isinstance(child, Buckets):
            running = 0
            for bound, count in zip((*child.bounds, math.inf), child.counts, strict=True):
                running += count
                le = labels_text((*names, "le"), (*values, number(bound)))
                out.append(f"{name}_bucket{le} {running}\n")
            tags = labels_text(names, values)
            out.append(f"{name}_sum{tags} {number(child.sum)}\n")
            out.append(f"{name}_count{tags} {child.count}\n")
        else:
            out.append(f"{name}{labels_text(names, values)} {number(child.value)}\n")
    return "".join(out)
