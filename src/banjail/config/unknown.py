"""Unknown options in jail.conf: warned about, never silently dropped.

An option is known when the reader uses it (the caller's `known` options), when stock configs define it as a helper
for interpolation (HELPER_OPTIONS), or when another option refers to it (`%(name)s` or `<name>`). Every other
option of a jail section is a warning; in [DEFAULT], which legitimately holds helper values, only near-misses of a
known option are (they are almost certainly typos that silently do nothing).
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Sequence

from banjail.config import packaged as packaged_files
from banjail.config.ini import Entry, Tree
from banjail.errors import Problem

# Helper options stock configs define for interpolation; never warned about.
HELPER_OPTIONS = frozenset(
    {"port", "protocol", "chain", "mode", "logtype", "banaction", "banaction_allports", "mta", "destemail"}
    | {"sender", "sendername", "fail2ban_agent", "fail2ban_version", "fail2ban_confpath", "before", "after"}
    | {packaged_files.OPTION}  # read by banjail before the filter (never sent to the server: `-d` stays upstream's)
)
_REFERENCE = re.compile(r"%\(([^)]+)\)s|<([^ <>]+)>")


def references(tree: Tree) -> set[str]:
    """Every option name (lower-cased) that some value in `tree`, [DEFAULT] or any section, refers to as
    `%(name)s` or `<name>`; such an option is used through interpolation, so it is never unknown."""
    names: set[str] = set()
    entries = [*tree.defaults.values(), *(e for s in tree.sections.values() for e in s.values())]
    for entry in entries:
        for m in _REFERENCE.finditer(entry.value):
            names.add((m.group(1) or m.group(2)).lower())
    return names


def warn_unknown(
    tree: Tree, jail: str, known: Sequence[str], referenced: set[str], problems: list[Problem]
) -> None:
    """Append a warning to `problems` for each option of section `jail` that is not in `known`, not a helper,
    not in `referenced` and not internal (`known/…`, `__…`, `action_…`, or holding `?`); each names the file,
    line, section, option and value, and its fix is the closest known option or "remove it, or check its
    spelling". Nothing else is changed."""
    for option, entry in tree.sections[jail].items():
        if _used(option, known, referenced) or option.startswith(("known/", "__", "action_")) or "?" in option:
            continue
        close = difflib.get_close_matches(option, known, n=1)
        fix = f"did you mean {close[0]}?" if close else "remove it, or check its spelling"
        problems.append(_unknown(entry, jail, option, fix))


def warn_default_typos(tree: Tree, known: Sequence[str], referenced: set[str], problems: list[Problem]) -> None:
    """Append a warning to `problems` for each [DEFAULT] option read from a file that is a near-miss (ratio at
    least 0.8) of a `known` option and is itself neither known, a helper, referenced nor internal (`action_…`,
    `__…`); its fix names the known option. Options with no close match are left alone."""
    # [DEFAULT] legitimately holds helper values for interpolation, so only near-misses of real options are
    # reported there (bantime.incremnt, maxretrys): those are almost certainly typos that silently do nothing.
    for option, entry in tree.defaults.items():
        if _used(option, known, referenced) or option.startswith(("action_", "__")) or not entry.file:
            continue
        close = difflib.get_close_matches(option, known, n=1, cutoff=0.8)
        if close:
            problems.append(_unknown(entry, "DEFAULT", option, f"did you mean {close[0]}?"))


def _used(option: str, known: Sequence[str], referenced: set[str]) -> bool:
    return option in known or option in HELPER_OPTIONS or option in referenced


def _unknown(entry: Entry, section: str, option: str, fix: str) -> Problem:
    return Problem(
        "unknown option: banjail does not use it and no other option refers to it",
        entry.file,
        entry.line,
        section,
        option,
        entry.value,
        fix,
        "warning",
    )
