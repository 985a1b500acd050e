"""Filter.d and action.d files: finding them, and resolving their [Definition] and [Init] sections with
arguments and jail options into a FilterSpec or an ActionSpec.

Precedence, as upstream's readers: arguments (`name[k=v]`) > [Init] > [Definition]. Jail options passed in
override [Definition] options of the same name (which are then not read at all) and are visible to %(...)s.
Every `[Init]` option `x` is also available as `known/x`. Tags are substituted last, across all of them.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from banjail.config import packaged as packaged_files
from banjail.config.ini import InterpolationError, ParsedFile, Tree
from banjail.config.overlay import Overlay, Source
from banjail.config.tags import TagError, substitute
from banjail.errors import ConfigError, Problem
from banjail.model import FilterSpec

if TYPE_CHECKING:  # imported in action_from: a filter's reader (fail2ban-regex) needs no jail schema
    from banjail.config.schema import ActionSpec

DEFINITION = "Definition"
INIT = "Init"
FILTER_OPTIONS = (
    "usedns",
    "prefregex",
    "ignoreregex",
    "failregex",
    "maxlines",
    "datepattern",
    "journalmatch",
)
ACTION_OPTIONS = (
    "actionstart",
    "actionstart_on_demand",
    "actionstop",
    "actionflush",
    "actionreload",
    "actioncheck",
    "actionrepair",
    "actionrepair_on_unban",
    "actionban",
    "actionprolong",
    "actionreban",
    "actionunban",
    "norestored",
)
# Filled per ticket at run time; never substituted from the config (upstream's escaped tags plus these two).
ACTION_RUNTIME_TAGS = frozenset({"matches", "ipmatches", "ipjailmatches", "timeout", "bantime"})
USEDNS = ("yes", "warn", "no", "raw")


def split_lines(value: str) -> tuple[str, ...]:
    """The non-empty lines of a multi-line option value (how failregex and friends list several items)."""
    return tuple(line for line in (part.strip() for part in value.split("\n")) if line)


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


def _locate(
    name: str, kind: str, config_dir: Path, stock_dir: Path, cache: dict[Path, ParsedFile], packaged: str
) -> tuple[Overlay, list[Source], str]:
    """Find the files of filter/action `name`; returns the overlay, top-level sources and the main file.
    A name follows `packaged` (banjail.config.packaged); a path is read as given (the user asked for that file).
    Packaged included files give way to the stock ones under banjail's filters (replacing a packaged one, or
    found only in the stock tree); a filter of the user's, or a packaged one banjail has none for, reads its
    includes as they are."""
    directory = f"{kind}.d"
    if "/" not in name:
        stem = name.removesuffix(".conf").removesuffix(".local")
        packaged_main: packaged_files.Replacement | None = None
        main_file = config_dir / directory / f"{stem}.conf"
        if kind == "filter" and packaged == packaged_files.HARDENED and main_file.is_file():
            packaged_main = packaged_files.replacement_for(main_file, stock_dir)
            if packaged_main is None or not packaged_main.stock:
                packaged = packaged_files.FILE
        overlay = Overlay(config_dir, stock_dir, cache=cache, packaged=packaged)
        if packaged_main is not None and not packaged_main.stock:
            overlay.replaced.append(packaged_main)  # kept as it is: said once, at the jail's start
        sources = overlay.name_sources(f"{directory}/{stem}")
        if not sources:
            raise ConfigError(
                Problem(
                    f"{kind} {stem!r} not found",
                    fix=f"looked for {config_dir / directory / stem}.conf and {stock_dir / directory / stem}.conf",
                )
            )
        return overlay, sources, str(sources[0].path)
    path = Path(name)
    candidates = [path] if path.suffix in (".conf", ".local") else [path, Path(name + ".conf")]
    found = next((p for p in candidates if p.is_file()), None)
    if found is None:
        raise ConfigError(Problem(f"{kind} file {name!r} not found", fix="check the path"))
    found = found.resolve()
    if found.parent.name == directory:
        overlay = Overlay(found.parent.parent, stock_dir, cache=cache, packaged=packaged_files.FILE)
        sources = overlay.name_sources(f"{directory}/{found.name.rsplit('.', 1)[0]}")
        return overlay, sources, str(found)
    overlay = Overlay(config_dir, stock_dir, cache=cache, include_fallback=directory)
    return overlay, [Source(str(found), found, False)], str(found)


def read_definition_file(
    name: str,
    kind: str,
    config_dir: Path,
    stock_dir: Path,
    problems: list[Problem],
    cache: dict[Path, ParsedFile] | None = None,
    *,
    packaged: str = packaged_files.HARDENED,
    replaced: list[packaged_files.Replacement] | None = None,
) -> tuple[Tree, str]:
    """Read filter/action `name` (kind "filter" or "action") with its .d, .local and includes; returns the merged
    tree and the main file's path. Syntax problems are appended; a missing file raises ConfigError. fail2ban's
    packaged filter files met follow `packaged` and are appended to `replaced` (banjail.config.packaged)."""
    overlay, sources, main = _locate(name, kind, config_dir, stock_dir, {} if cache is None else cache, packaged)
    tree = overlay.read(sources)
    problems.extend(tree.problems)
    if replaced is not None:
        replaced.extend(r for r in overlay.replaced if r not in replaced)
    return tree, main


def filter_with_options(
    name: str,
    args: dict[str, str],
    config_dir: Path,
    stock_dir: Path,
    jail_options: dict[str, str],
    backend: str,
    problems: list[Problem],
    cache: dict[Path, ParsedFile] | None = None,
    *,
    packaged: str = packaged_files.HARDENED,
    replaced: list[packaged_files.Replacement] | None = None,
) -> tuple[FilterSpec, tuple[tuple[str, str], ...]]:
    """The resolved FilterSpec (load_filter's work, appending problems instead of raising, for load_config, which
    collects them all), and the filter's own FILTER_OPTIONS (those the jail does not set), substituted,
    in the order upstream's reader holds them (its [Definition] ones, then arguments and [Init])."""
    tree, main = read_definition_file(
        name, "filter", config_dir, stock_dir, problems, cache, packaged=packaged, replaced=replaced
    )
    if not args.get("logtype") and "logtype" not in tree.sections.get(DEFINITION, {}):
        args = {**args, "logtype": "journal" if backend.startswith("systemd") else "file"}
    resolved = resolve(tree, main, wanted=FILTER_OPTIONS, args=args, outer=jail_options, problems=problems)
    values = {**resolved.combined, **{k: v for k, v in jail_options.items() if k in FILTER_OPTIONS}}
    maxlines = 1
    if values.get("maxlines"):
        try:
            maxlines = int(values["maxlines"])
            if maxlines < 1:
                raise ValueError
        except ValueError:
            problems.append(
                _bad(
                    None if "maxlines" in jail_options else tree.entry(DEFINITION, "maxlines"),
                    "" if "maxlines" in jail_options else main,
                    "maxlines",
                    values["maxlines"],
                    "must be a whole number of at least 1",
                    "for example maxlines = 2",
                )
            )
    own = tuple((k, v) for k, v in resolved.combined.items() if k in FILTER_OPTIONS)
    usedns = (jail_options.get("usedns") or values.get("usedns") or "warn").strip().lower()
    if usedns not in USEDNS:
        problems.append(
            _bad(
                None if jail_options.get("usedns") else tree.entry(DEFINITION, "usedns"),
                "" if jail_options.get("usedns") else main,  # the jail's value: placed by the jail reader
                "usedns",
                usedns,
                "is not a known DNS mode",
                "use one of yes, warn, no, raw",
            )
        )
    spec = FilterSpec(
        failregex=split_lines(values.get("failregex", "")),
        ignoreregex=split_lines(values.get("ignoreregex", "")),
        prefregex=values.get("prefregex", "").strip(),
        datepattern=split_lines(values.get("datepattern", "")),
        maxlines=maxlines,
        logtimezone=jail_options.get("logtimezone", "").strip(),
        journalmatch=split_lines(values.get("journalmatch", "")),
        usedns=usedns,
        name=Path(name).name.removesuffix(".conf").removesuffix(".local") if "/" in name else name,
        file=main,
    )
    return spec, own


def _bad(entry: object, main: str, option: str, value: str, message: str, fix: str) -> Problem:
    file = getattr(entry, "file", "") or main
    line = getattr(entry, "line", 0)
    return Problem(message, file, line, DEFINITION if file else "", option, value, fix)


def action_from(
    name: str,
    args: dict[str, str],
    config_dir: Path,
    stock_dir: Path,
    jail_options: dict[str, str],
    jail: str,
    problems: list[Problem],
    cache: dict[Path, ParsedFile] | None = None,
) -> ActionSpec:
    """load_action's work, appending problems instead of raising."""
    from banjail.config.schema import ActionSpec

    args = dict(args)
    if name.endswith(".py"):
        # A Python action gets its arguments as given (no name default), as upstream passes them.
        path = config_dir / "action.d" / name
        py_name = args.pop("actname", Path(name).stem)
        return ActionSpec(py_name, str(path), args, dict(args), {}, True, tuple(args.items()))
    label = args.setdefault("name", jail)
    actname = args.get("actname")
    if actname is None:
        actname = name
        if label != jail:
            actname += label[len(jail) :] if label.startswith(jail) else "-" + label
        args["actname"] = actname
    tree, main = read_definition_file(name, "action", config_dir, stock_dir, problems, cache)
    resolved = resolve(
        tree,
        main,
        wanted=ACTION_OPTIONS,
        args=args,
        outer=jail_options,
        problems=problems,
        ignore=ACTION_RUNTIME_TAGS,
    )
    options: dict[str, str] = {}
    families: dict[str, dict[str, str]] = {}
    for key, value in resolved.combined.items():
        if key.startswith("known/"):
            continue
        base, _, cond = key.partition("?")
        if cond:
            family = cond.split("=", 1)[1] if cond.startswith("family=") else cond
            families.setdefault(family, {})[base] = value
        elif key in ACTION_OPTIONS or key in resolved.init:
            options[key] = value
    init = {k: v for k, v in resolved.init.items() if not k.startswith("known/") and "?" not in k}
    # Upstream sends the action* options substituted but the arguments and [Init] values as written.
    sent = [(k, v) for k, v in resolved.combined.items() if k in ACTION_OPTIONS]
    sent += [
        (k, v) for k, v in resolved.init.items() if k not in ACTION_OPTIONS and not k.startswith("known/")
    ]
    return ActionSpec(actname, main, options, init, families, sent=tuple(sent))
