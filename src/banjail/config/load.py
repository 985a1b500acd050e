"""Loaders for filters and actions: spec text in, typed value out, every problem collected into one ConfigError.

A filter spec is a name ("sshd"), a name with arguments ("sshd[mode=aggressive]"), or a path to a filter file
(absolute or relative, with or without .conf, optionally with [arguments]). A file inside a `filter.d` directory
is read with that directory's parent as the config dir (so its .local and includes apply); any other file is
read on its own, with its includes and its .local sibling, as upstream's fail2ban-regex does.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

from banjail.config.definition import DEFINITION, resolve
from banjail.config.ini import Tree
from banjail.config.overlay import STOCK_DIR, Overlay, Source
from banjail.config.schema import ActionSpec
from banjail.config.tags import extract_options
from banjail.errors import ConfigError, Problem
from banjail.model import FilterSpec

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


def _parse_spec(spec: str, kind: str) -> tuple[str, dict[str, str]]:
    try:
        return extract_options(spec)
    except ValueError as exc:
        raise ConfigError(
            Problem(f"invalid {kind} specification: {exc}", value=spec, fix="write name[key=value, ...]")
        ) from None


def _locate(name: str, kind: str, config_dir: Path, stock_dir: Path) -> tuple[Overlay, list[Source], str]:
    """Find the files of filter/action `name`; returns the overlay, top-level sources and the main file."""
    directory = f"{kind}.d"
    if "/" not in name:
        stem = name.removesuffix(".conf").removesuffix(".local")
        overlay = Overlay(config_dir, stock_dir)
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
        overlay = Overlay(found.parent.parent, stock_dir)
        sources = overlay.name_sources(f"{directory}/{found.name.rsplit('.', 1)[0]}")
        return overlay, sources, str(found)
    overlay = Overlay(config_dir, stock_dir)
    return overlay, [Source(str(found), found, False)], str(found)


def read_definition_file(
    name: str, kind: str, config_dir: Path, stock_dir: Path, problems: list[Problem]
) -> tuple[Tree, str]:
    """Read filter/action `name` (kind "filter" or "action") with its .d, .local and includes; returns the merged
    tree and the main file's path. Syntax problems are appended; a missing file raises ConfigError."""
    overlay, sources, main = _locate(name, kind, config_dir, stock_dir)
    tree = overlay.read(sources)
    problems.extend(tree.problems)
    return tree, main


def load_filter(
    spec: str,
    *,
    config_dir: Path | str = "/etc/fail2ban",
    stock_dir: Path = STOCK_DIR,
    args: Mapping[str, str] | None = None,
    jail_options: Mapping[str, str] | None = None,
    backend: str = "auto",
) -> FilterSpec:
    """Resolve filter `spec` into a FilterSpec (see the module doc for the spec forms).

    args are merged over the spec's own arguments. jail_options are a jail's (already interpolated) options: any of
    failregex, ignoreregex, prefregex, datepattern, maxlines, journalmatch, usedns, logtimezone given there replaces
    the filter's, and all of them are visible to the filter's %(...)s. backend chooses the automatic `logtype`
    (file, or journal for systemd backends) unless an argument or the filter sets it.
    Raises ConfigError listing every problem found.
    """
    name, spec_args = _parse_spec(spec, "filter")
    merged = {**spec_args, **(args or {})}
    problems: list[Problem] = []
    spec_obj = filter_from(
        name, merged, Path(config_dir), stock_dir, dict(jail_options or {}), backend, problems
    )
    errors = [p for p in problems if p.severity == "error"]
    if errors:
        raise ConfigError(errors)
    return spec_obj


def filter_from(
    name: str,
    args: dict[str, str],
    config_dir: Path,
    stock_dir: Path,
    jail_options: dict[str, str],
    backend: str,
    problems: list[Problem],
) -> FilterSpec:
    """load_filter's work, appending problems instead of raising (for load_config, which collects them all)."""
    tree, main = read_definition_file(name, "filter", config_dir, stock_dir, problems)
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
                    tree.entry(DEFINITION, "maxlines"),
                    main,
                    "maxlines",
                    values["maxlines"],
                    "must be a whole number of at least 1",
                    "for example maxlines = 2",
                )
            )
    usedns = (jail_options.get("usedns") or values.get("usedns") or "warn").strip().lower()
    if usedns not in USEDNS:
        problems.append(
            _bad(
                tree.entry(DEFINITION, "usedns"),
                main,
                "usedns",
                usedns,
                "is not a known DNS mode",
                "use one of yes, warn, no, raw",
            )
        )
    return FilterSpec(
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


def _bad(entry: object, main: str, option: str, value: str, message: str, fix: str) -> Problem:
    file = getattr(entry, "file", "") or main
    line = getattr(entry, "line", 0)
    return Problem(message, file, line, DEFINITION, option, value, fix)


def load_action(
    spec: str,
    *,
    config_dir: Path | str = "/etc/fail2ban",
    stock_dir: Path = STOCK_DIR,
    args: Mapping[str, str] | None = None,
    jail_options: Mapping[str, str] | None = None,
    jail: str = "",
) -> ActionSpec:
    """Resolve action `spec` ("iptables[port=ssh]", a path, or a `.py` action) for jail `jail`.

    `name` defaults to the jail's name; the action's unique name follows upstream's actname rule.
    Raises ConfigError listing every problem found.
    """
    name, spec_args = _parse_spec(spec, "action")
    problems: list[Problem] = []
    action = action_from(
        name,
        {**spec_args, **(args or {})},
        Path(config_dir),
        stock_dir,
        dict(jail_options or {}),
        jail,
        problems,
    )
    errors = [p for p in problems if p.severity == "error"]
    if errors:
        raise ConfigError(errors)
    return action


def action_from(
    name: str,
    args: dict[str, str],
    config_dir: Path,
    stock_dir: Path,
    jail_options: dict[str, str],
    jail: str,
    problems: list[Problem],
) -> ActionSpec:
    """load_action's work, appending problems instead of raising."""
    args = dict(args)
    if name.endswith(".py"):
        # A Python action gets its arguments as given (no name default), as upstream passes them.
        path = config_dir / "action.d" / name
        return ActionSpec(args.pop("actname", Path(name).stem), str(path), args, dict(args), {}, True)
    label = args.setdefault("name", jail)
    actname = args.get("actname")
    if actname is None:
        actname = name
        if label != jail:
            actname += label[len(jail) :] if label.startswith(jail) else "-" + label
        args["actname"] = actname
    tree, main = read_definition_file(name, "action", config_dir, stock_dir, problems)
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
    return ActionSpec(actname, main, options, init, families)
