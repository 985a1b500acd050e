"""load_config: fail2ban.conf and jail.conf (with their overlays) into a typed Config.

Jail resolution follows upstream's JailReader: read `enabled`, `backend` and `filter`; resolve the filter with
every option it has and lay those into the jail section as `known/<opt>` (so a jail may write
`failregex = %(known/failregex)s ...`); then read every jail option; then resolve the filter again with the jail's
options overriding its own, and each action of the `action` list with the jail's options visible.

Every bad value becomes a Problem (file, line, section, option, value, fix); all are collected, then one
ConfigError is raised. Unknown options that nothing refers to are warned about (banjail.config.unknown), never
silently dropped. fail2ban.conf is read by banjail.config.server.
"""

from __future__ import annotations

import dataclasses
import re
from pathlib import Path
from typing import TypeVar

from banjail import FAIL2BAN_COMPAT_VERSION
from banjail.config import packaged as packaged_files
from banjail.config.definition import (
    FILTER_OPTIONS,
    action_from,
    filter_with_options,
    read_definition_file,
    resolve,
    split_lines,
)
from banjail.config.ini import Entry, InterpolationError, ParsedFile, Tree
from banjail.config.overlay import INCLUDES, STOCK_DIR, Overlay
from banjail.config.schema import ActionSpec, Config, JailConfig
from banjail.config.server import read_server
from banjail.config.tags import extract_options, split_with_options
from banjail.config.unknown import references, warn_default_typos, warn_unknown
from banjail.config.values import Reader, multipliers, prefix_length
from banjail.errors import ConfigError, Problem
from banjail.fleet import settings as fleet_settings
from banjail.model import FilterSpec
from banjail.sources.tail import DEFAULT_MAX_LINE, MAX_LINE

T = TypeVar("T")
_LINE_LENGTHS = f"a whole number of bytes from 256 to {MAX_LINE}"


def _line_length(value: str) -> int:
    length = int(value)
    if not 256 <= length <= MAX_LINE:
        raise ValueError(value)
    return length


# The options a jail section is read for (upstream's JailReader plus the filter's).
JAIL_OPTIONS = (
    "enabled",
    "backend",
    "maxretry",
    "maxmatches",
    "maxlinelength",
    "findtime",
    "bantime",
    "bantime.increment",
    "bantime.factor",
    "bantime.formula",
    "bantime.multipliers",
    "bantime.maxtime",
    "bantime.rndtime",
    "bantime.overalljails",
    "banprefix4",
    "banprefix6",
    "ignorecommand",
    "ignoreself",
    "ignoreip",
    "ignorecache",
    "filter",
    "logtimezone",
    "logencoding",
    "logpath",
    "skip_if_nologs",
    "action",
    "fleet",
    *FILTER_OPTIONS,
)


def load_config(
    config_dir: Path | str = "/etc/fail2ban", *, stock_dir: Path = STOCK_DIR, skip_broken: bool = False
) -> Config:
    """Read the whole configuration under `config_dir` laid over `stock_dir`.

    Returns the server options and every enabled jail, with notices and warnings; raises ConfigError listing
    every error found in any file. skip_broken (for `-d`, as upstream's client): a jail whose filter or action
    file cannot be read is kept as JailConfig(name, error=...) and its problems become warnings; a bad
    boolean, number or time value is a warning (the default is used).
    """
    root = Path(config_dir)
    problems: list[Problem] = []
    if not root.is_dir():
        problems.append(
            Problem(
                f"config directory {root} does not exist; only banjail's stock configuration is used",
                str(root),
                fix="create it, or pass the right directory with -c",
                severity="warning",
            )
        )
    overlay = Overlay(root, stock_dir)
    server_tree = overlay.read_name("fail2ban")
    problems += server_tree.problems
    server = read_server(server_tree, problems, skip_broken)
    fleet = fleet_settings.read_fleet(server_tree, problems)
    tree = overlay.read_name("jail", conf_local=True)
    problems += tree.problems
    tree.defaults["fail2ban_version"] = Entry(FAIL2BAN_COMPAT_VERSION)
    tree.defaults["fail2ban_confpath"] = Entry(str(root))
    referenced = references(tree)
    jails: list[JailConfig] = []
    cache: dict[Path, ParsedFile] = {}  # filter and action files parsed once for all jails
    for name in list(tree.sections):
        if name == INCLUDES:
            continue
        found: list[Problem] = []
        jail = _jail(tree, name, root, stock_dir, referenced, found, cache, skip_broken)
        if jail is not None and jail.error and skip_broken:
            found = [dataclasses.replace(p, severity="warning") for p in found]
            jail = JailConfig(name, error=jail.error)
        problems += found
        if jail is not None:
            jails.append(jail)
    warn_default_typos(tree, JAIL_OPTIONS, referenced, problems)
    unique = list(dict.fromkeys(problems))
    errors = [p for p in unique if p.severity == "error"]
    if errors:
        raise ConfigError(errors)
    return Config(
        server,
        tuple(jails),
        tuple(dict.fromkeys([*overlay.notices, *(j.filter_note for j in jails if j.filter_note)])),
        tuple(p for p in unique if p.severity != "error"),
        tuple(server_tree.files + tree.files),
        fleet,
    )


def load_jail(
    config_dir: Path | str, name: str, *, backend: str | None = None, stock_dir: Path = STOCK_DIR
) -> JailConfig | None:
    """Jail `name` of the configuration under `config_dir`, enabled or not (fail2ban-regex's jail lookup); None
    when no jail section has that name. `backend` replaces the jail's for the automatic logtype. Raises
    ConfigError listing the errors found in that jail (other jails are not read)."""
    root = Path(config_dir)
    tree = Overlay(root, stock_dir).read_name("jail", conf_local=True)
    if name == INCLUDES or name not in tree.sections:
        return None
    tree.defaults["fail2ban_version"] = Entry(FAIL2BAN_COMPAT_VERSION)
    tree.defaults["fail2ban_confpath"] = Entry(str(root))
    tree.sections[name]["enabled"] = Entry("true")
    if backend is not None:
        tree.sections[name]["backend"] = Entry(backend)
    problems = [p for p in tree.problems if p.severity == "error"]
    jail = _jail(tree, name, root, stock_dir, references(tree), problems, {}, False)
    errors = [p for p in dict.fromkeys(problems) if p.severity == "error"]
    if errors:
        raise ConfigError(errors)
    return jail


def _jail(
    tree: Tree,
    name: str,
    root: Path,
    stock_dir: Path,
    referenced: set[str],
    problems: list[Problem],
    cache: dict[Path, ParsedFile],
    lenient: bool,
) -> JailConfig | None:
    reader = Reader(tree, name, problems, lenient)
    if not reader.boolean("enabled", False):
        return None
    backend = reader.text("backend", "auto")
    filter_text = reader.text("filter")
    first = {"enabled": "True", "backend": backend, "filter": filter_text}
    filter_name, filter_args, broken = _spec(filter_text, tree, name, "filter", problems)
    filter_tree: Tree | None = None
    packaged = reader.typed(
        packaged_files.OPTION, packaged_files.HARDENED, _packaged_choice, packaged_files.EXPECTED
    )
    replaced: list[packaged_files.Replacement] = []
    # broken: upstream's reason to skip the jail, if any (the first one wins)
    if filter_name:
        try:
            ftree, main = read_definition_file(
                filter_name, "filter", root, stock_dir, [], cache, packaged=packaged, replaced=replaced
            )
        except ConfigError as exc:
            problems += [_in_jail(p, tree, name, "filter", filter_text) for p in exc.problems]
            broken = broken or f"Unable to read the filter {filter_name!r}"
            filter_name = ""
        else:
            filter_tree = ftree
            known = resolve(
                ftree,
                main,
                wanted=FILTER_OPTIONS,
                args=filter_args,
                outer=first,
                problems=[],
                every_option=True,
            ).combined
            section = tree.sections[name]
            for key, value in known.items():
                if not key.startswith("known/"):
                    section["known/" + key] = Entry(value, main)
    options: dict[str, str] = {}
    for option in JAIL_OPTIONS:
        try:
            found = tree.get(name, option)
        except InterpolationError as exc:
            problems.append(exc.problem)
            continue
        if found is not None:
            options[option] = found
    spec = None
    if not filter_text.strip():
        entry = tree.entry(name, "filter") or tree.entry(name, "enabled")
        problems.append(
            Problem(
                "no filter set: this jail reads its logs but can never ban",
                entry.file if entry else "",
                entry.line if entry else 0,
                name,
                "filter",
                fix="set filter = <name of a file in filter.d>",
                severity="warning",
            )
        )
    filter_options: tuple[tuple[str, str], ...] = ()
    if filter_name:
        try:
            found_here: list[Problem] = []
            spec, filter_options = filter_with_options(
                filter_name, filter_args, root, stock_dir, options, backend, found_here, cache, packaged=packaged
            )
            # a value the jail set is reported where the jail sets it (the filter reader leaves it unplaced)
            problems += [_in_jail(p, tree, name, p.option, p.value) for p in found_here]
        except ConfigError as exc:
            problems += exc.problems
    actions: list[str] = []
    action_specs: list[ActionSpec] = []
    for item in split_with_options(options.get("action", "")):
        action_name, action_args, bad = _spec(item, tree, name, "action", problems)
        broken = broken or bad
        if not action_name:
            continue
        actions.append(item)
        try:
            action_specs.append(
                action_from(action_name, action_args, root, stock_dir, options, name, problems, cache)
            )
        except ConfigError as exc:
            problems += [_in_jail(p, tree, name, "action", item) for p in exc.problems]
            broken = broken or f"Unable to read action {action_name!r}"
    warn_unknown(tree, name, JAIL_OPTIONS, referenced, problems)
    maxretry = reader.integer("maxretry", 5)
    fleet = fleet_settings.jail_mode(options.get("fleet"))
    if fleet is None:
        entry = tree.entry(name, "fleet")
        problems.append(fleet_settings.mode_problem(options.get("fleet", ""), entry.file if entry else "", entry.line if entry else 0, name))
    spec = spec or FilterSpec()
    return JailConfig(
        name=name,
        enabled=True,
        filter=spec,
        filter_spec=filter_text,
        actions=tuple(actions),
        action_specs=tuple(action_specs),
        logpath=split_lines(options.get("logpath", "")),
        backend=backend.strip() or "auto",
        maxretry=maxretry,
        maxmatches=reader.integer("maxmatches", maxretry),
        maxlinelength=reader.typed("maxlinelength", DEFAULT_MAX_LINE, _line_length, _LINE_LENGTHS),
        findtime=reader.seconds("findtime", 600),
        bantime=reader.seconds("bantime", 600.0),
        bantime_increment=reader.boolean("bantime.increment", False),
        bantime_factor=reader.typed("bantime.factor", 1.0, float, "a number"),
        bantime_formula=options.get("bantime.formula", "").strip(),
        bantime_multipliers=reader.typed("bantime.multipliers", (), multipliers, "a list of whole numbers"),
        bantime_maxtime=reader.seconds_or_none("bantime.maxtime"),
        bantime_rndtime=reader.seconds_or_none("bantime.rndtime"),
        bantime_overalljails=reader.boolean("bantime.overalljails", False),
        banprefix4=reader.typed("banprefix4", 32, prefix_length(32), "a prefix length from 1 to 32"),
        banprefix6=reader.typed("banprefix6", 128, prefix_length(128), "a prefix length from 1 to 128"),
        ignoreip=tuple(w for w in re.split(r"[ ,\n]+", options.get("ignoreip", "")) if w),
        ignoreself=reader.boolean("ignoreself", True),
        ignorecommand=options.get("ignorecommand", "").strip(),
        ignorecache=options.get("ignorecache", "").strip(),
        usedns=spec.usedns,
        logencoding=options.get("logencoding", "auto").strip() or "auto",
        logtimezone=spec.logtimezone,
        journalmatch=spec.journalmatch,
        maxlines=spec.maxlines,
        datepattern=spec.datepattern,
        skip_if_nologs=reader.boolean("skip_if_nologs", False),
        fleet=fleet or "no",
        options=options,
        filter_options=filter_options,
        error=broken,
        origins=_origins(tree, name, options, filter_tree),
        filter_note=packaged_files.describe(tuple(replaced), name),
    )


def _packaged_choice(value: str) -> str:
    """A jail's `packagedfilter` (banjail.config.packaged), lower-cased; ValueError for anything else."""
    choice = value.lower()
    if choice not in packaged_files.CHOICES:
        raise ValueError(value)
    return choice


def _origins(
    tree: Tree, jail: str, options: dict[str, str], filter_tree: Tree | None
) -> tuple[tuple[str, str, int], ...]:
    found: list[tuple[str, str, int]] = []
    for option in JAIL_OPTIONS:
        entry = tree.entry(jail, option) if option in options else None
        if entry is None and filter_tree is not None and option in FILTER_OPTIONS:
            entry = filter_tree.entry("Definition", option)
        if entry is not None and entry.file:
            found.append((option, entry.file, entry.line))
    return tuple(found)


def _spec(
    text: str, tree: Tree, jail: str, kind: str, problems: list[Problem]
) -> tuple[str, dict[str, str], str]:
    """The name and arguments of a filter/action spec; on a syntax error, ("", {}, upstream's reason to skip
    the jail) with the problem appended."""
    if not text.strip():
        return "", {}, ""
    try:
        return *extract_options(text), ""
    except ValueError as exc:
        entry = tree.entry(jail, kind)
        problems.append(
            Problem(
                f"invalid {kind} specification: {exc}",
                entry.file if entry else "",
                entry.line if entry else 0,
                jail,
                kind,
                text,
                'write name[key=value, key="value, with commas"]',
            )
        )
        # Upstream words an unbalanced or nameless spec so; for other syntax errors banjail's reason is given.
        stripped = text.strip()
        unbalanced = stripped.startswith("[") or ("[" in stripped and not stripped.endswith("]"))
        reason = "unexpected option syntax" if unbalanced else str(exc)
        return "", {}, f"Invalid {kind} definition {stripped!r}: {reason}"


def _in_jail(problem: Problem, tree: Tree, jail: str, option: str, value: str) -> Problem:
    if problem.file:
        return problem
    entry = tree.entry(jail, option)
    return Problem(
        problem.message,
        entry.file if entry else "",
        entry.line if entry else 0,
        jail,
        option,
        value,
        problem.fix,
        problem.severity,
    )

