"""Resolve a filter.d or action.d file: its [Definition] and [Init] sections, arguments and jail options.

Precedence, as upstream's readers: arguments (`name[k=v]`) > [Init] > [Definition]. Jail options passed in
override [Definition] options of the same name (which are then not read at all) and are visible to %(...)s.
Every `[Init]` option `x` is also available as `known/x`. Tags are substituted last, across all of them.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

from banjail.config.ini import InterpolationError, Tree
from banjail.config.tags import TagError, substitute
from banjail.errors import Problem

DEFINITION = "Definition"
INIT = "Init"


@dataclass(slots=True)
class Resolved:
    """combined: every option after tag substitution; init: [Init] values and arguments (interpolated);
    skipped: base names that have a `?cond` variant (left unsubstituted for the run time to choose)."""

    combined: dict[str, str] = field(default_factory=dict)
    init: dict[str, str] = field(default_factory=dict)
    skipped: set[str] = field(default_factory=set)


def resolve(
    tree: Tree,
    file: str,
    *,
    wanted: Iterable[str],
    args: Mapping[str, str],
    outer: Mapping[str, str],
    problems: list[Problem],
    every_option: bool = False,
    ignore: Iterable[str] = (),
) -> Resolved:
    """Resolve `tree` (a filter or action file with its includes) into combined options.

    wanted: the [Definition] options the reader asks for (e.g. failregex); every_option: also every other
    [Definition] and [DEFAULT] option (upstream does this for the jail's `known/` view of a filter).
    outer: the jail's options; args: the spec's arguments. Problems are appended, never raised.
    """
    init = dict(args)
    variables = {key.lower(): value for key, value in {**outer, **init}.items()}
    opts: dict[str, str] = {}
    has_definition = tree.has_section(DEFINITION)
    if not has_definition:
        # Upstream then reads nothing, not even [DEFAULT] values (common.conf is such a library file).
        problems.append(
            Problem("no [Definition] section", file, severity="warning", fix="add a [Definition] section")
        )
    for option in wanted if has_definition else ():
        if option in variables:
            continue
        value = _get(tree, DEFINITION, option, variables, problems)
        if value is not None:
            opts[option] = value
    for option in tree.options(INIT):
        value = _get(tree, INIT, option, {}, problems)
        if value is None:
            continue
        if not option.startswith("known/"):
            init["known/" + option] = value
        init.setdefault(option, value)
    if every_option and has_definition:
        for option in tree.options(DEFINITION, with_defaults=True):
            if option not in opts:
                value = _get(tree, DEFINITION, option, {}, problems)
                if value is not None:
                    opts[option] = value
    combined = {**opts, **init}
    skipped = {key.split("?", 1)[0] for key in combined if "?" in key}

    def lookup(tag: str) -> str | None:
        try:
            return tree.get_ex(DEFINITION, tag, variables)
        except InterpolationError:
            return None

    try:
        combined = substitute(combined, ignore={*ignore, *skipped}, lookup=lookup)
    except TagError as exc:
        entry = tree.entry(DEFINITION, exc.tag) or tree.entry(INIT, exc.tag)
        problems.append(
            Problem(
                str(exc),
                entry.file if entry else file,
                entry.line if entry else 0,
                DEFINITION,
                exc.tag,
                fix="break the cycle between these tags",
            )
        )
    return Resolved(combined, init, skipped)


def _get(
    tree: Tree, section: str, option: str, variables: Mapping[str, str], problems: list[Problem]
) -> str | None:
    try:
        return tree.get(section, option, variables)
    except InterpolationError as exc:
        problems.append(exc.problem)
        return None
