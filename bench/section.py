"""What a benchmark section reports, and how a report is rendered and saved.

A section is the result of one benchmark (core matching, daemon ban latency, nftables bans/s, ...): tables for
people, notes, and JSON-able figures for machines. ``run.py`` composes sections; each section module provides
``NAME``, ``add_arguments(parser)`` and ``run(args) -> Section``.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any


@dataclass(frozen=True)
class Table:
    """A titled table of text cells; every row has exactly one cell per column."""

    title: str
    columns: tuple[str, ...]
    rows: tuple[tuple[str, ...], ...]

    def __post_init__(self) -> None:
        for row in self.rows:
            if len(row) != len(self.columns):
                raise ValueError(f"table {self.title!r}: row {row!r} has {len(row)} cells, expected {len(self.columns)}")


@dataclass(frozen=True)
class Section:
    """One benchmark's result. ``name`` is the file stem under bench/out/; ``figures`` must be JSON-able."""

    name: str
    title: str
    tables: tuple[Table, ...]
    notes: tuple[str, ...] = ()
    figures: dict[str, Any] = field(default_factory=dict)


def markdown(section: Section) -> str:
    """Render a section as GitHub markdown: a heading, each table with aligned columns, then the notes."""
    out = [f"## {section.title}", ""]
    for table in section.tables:
        out += [f"### {table.title}", ""]
        widths = [max([len(c)] + [len(r[i]) for r in table.rows]) for i, c in enumerate(table.columns)]
        out.append("| " + " | ".join(c.ljust(w) for c, w in zip(table.columns, widths, strict=True)) + " |")
        out.append("|" + "|".join("-" * (w + 2) for w in widths) + "|")
        for row in table.rows:
            out.append("| " + " | ".join(c.ljust(w) for c, w in zip(row, widths, strict=True)) + " |")
        out.append("")
    out += [f"- {note}" for note in section.notes]
    return "\n".join(out).rstrip() + "\n"


def save(section: Section, out_dir: Path) -> tuple[Path, Path]:
    """Write ``<name>.md`` and ``<name>.json`` into out_dir (created if missing); return both paths."""
    out_dir.mkdir(parents=True, exist_ok=True)
    md = out_dir / f"{section.name}.md"
    md.write_text(markdown(section), encoding="utf-8")
    js = out_dir / f"{section.name}.json"
    payload = {
        "title": section.title,
        "tables": [{"title": t.title, "columns": list(t.columns), "rows": [list(r) for r in t.rows]}
                   for t in section.tables],
        "notes": list(section.notes),
        "figures": section.figures,
    }  # fmt: skip
    js.write_text(json.dumps(payload, indent=2, sort_keys=True) + "\n", encoding="utf-8")
    return md, js
