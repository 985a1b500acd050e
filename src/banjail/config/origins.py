"""Placing a problem found after loading (a regex that does not compile, a bad ignoreip entry, a formula) at the
file and line where the value is written, from the jail's `origins` (banjail.config.jail records them).

An option with several items (failregex, ignoreip...) is placed at the line of the item itself when the file
shows it, else at the option's line.
"""

from __future__ import annotations

import dataclasses
import re
from pathlib import Path

from banjail.config.schema import JailConfig
from banjail.errors import Problem

# How many lines after the option's own a continuation item is looked for (a multi-line value is rarely longer).
_SEARCH_LINES = 200


def placed(problem: Problem, config: JailConfig) -> Problem:
    """`problem` with file, line and section filled from where `config` has problem.option written; for an option
    the jail does not know (an action file's) from where the problem's file or its .local sets it. Unchanged when
    it already has a line."""
    if problem.line or not problem.option:
        return problem
    origin = next((o for o in config.origins if o[0] == problem.option), None)
    if origin is None and problem.file:  # an action file's option: the line there, or in its .local
        return _in_definition(problem)
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


def _in_definition(problem: Problem) -> Problem:
    """`problem` placed at the last line that sets its option in its file or the file's .local (the .local wins)."""
    found = (problem.file, 0)
    local = problem.file[: -len(".conf")] + ".local" if problem.file.endswith(".conf") else ""
    pattern = re.compile(rf"^{re.escape(problem.option)}\s*=", re.IGNORECASE)
    for file in (problem.file, local):
        try:
            lines = Path(file).read_text(encoding="utf-8", errors="replace").splitlines()
        except OSError:
            continue
        for number, line in enumerate(lines, 1):
            if pattern.match(line) and (not problem.value or problem.value in line):
                found = (file, number)
    return dataclasses.replace(problem, file=found[0], line=found[1])
