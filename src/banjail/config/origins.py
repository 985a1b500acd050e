"""Placing a problem found after loading (a regex that does not compile, a bad ignoreip entry, a formula) at the
file and line where the value is written, from the jail's `origins` (banjail.config.jail records them).

An option with several items (failregex, ignoreip...) is placed at the line of the item itself when the file
shows it, else at the option's line.
"""

from __future__ import annotations

import dataclasses
from pathlib import Path

from banjail.config.schema import JailConfig
from banjail.errors import Problem

# How many lines after the option's own a continuation item is looked for (a multi-line value is rarely longer).
_SEARCH_LINES = 200


def placed(problem: Problem, config: JailConfig) -> Problem:
    """`problem` with file, line and section filled from where `config` has problem.option written (unchanged
    when it already has a line or the option's origin is unknown)."""
    if problem.line or not problem.option:
        return problem
    origin = next((o for o in config.origins if o[0] == problem.option), None)
    if origin is None:
        return dataclasses.replace(problem, section=problem.section or config.name)
    _, file, line = origin
    line = _item_line(file, line, problem.value) or line
    in_jail = "/filter.d/" not in file
    section = config.name if in_jail else "Definition"
    return dataclasses.replace(problem, file=file, line=line, section=section)


def _item_line(file: str, start: int, item: str) -> int:
    """The 1-based line at or after `start` where `item` is written (0 when it is not found there)."""
    text = item.strip()
    if not text or not start:
        return 0
    try:
        lines = Path(file).read_text(encoding="utf-8", errors="replace").splitlines()
    except OSError:
        return 0
    for number in range(start, min(len(lines), start + _SEARCH_LINES) + 1):
        if text in lines[number - 1]:
            return number
    return 0
