"""The public loaders: filters, actions and the whole configuration, every problem collected into one ConfigError.

A filter spec is a name ("sshd"), a name with arguments ("sshd[mode=aggressive]"), or a path to a filter file
(absolute or relative, with or without .conf, optionally with [arguments]). A file inside a `filter.d` directory
is read with that directory's parent as the config dir (so its .local and includes apply); any other file is
read on its own, with its includes and its .local sibling, as upstream's fail2ban-regex does.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING

from banjail.config.definition import (
    ACTION_OPTIONS,
    ACTION_RUNTIME_TAGS,
    FILTER_OPTIONS,
    action_from,
    filter_with_options,
    split_lines,
)
from banjail.config.overlay import STOCK_DIR
from banjail.config.packaged import HARDENED
from banjail.config.tags import extract_options
from banjail.errors import ConfigError, Problem
from banjail.model import FilterSpec

if TYPE_CHECKING:
    from banjail.config.jail import load_config
    from banjail.config.schema import ActionSpec

__all__ = [
    "ACTION_OPTIONS",
    "ACTION_RUNTIME_TAGS",
    "FILTER_OPTIONS",
    "STOCK_DIR",
    "load_action",
    "load_config",
    "load_filter",
    "split_lines",
]


def __getattr__(name: str) -> object:
    # load_config (banjail.config.jail) is imported on first use (PEP 562): a filter's reader (fail2ban-regex)
    # needs none of the jail.conf schema, sources and fleet settings it brings.
    if name == "load_config":
        from banjail.config.jail import load_config

        return load_config
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def _parse_spec(spec: str, kind: str) -> tuple[str, dict[str, str]]:
    try:
        return extract_options(spec)
    except ValueError as exc:
        raise ConfigError(
            Problem(f"invalid {kind} specification: {exc}", value=spec, fix="write name[key=value, ...]")
        ) from None


def load_filter(
    spec: str,
    *,
    config_dir: Path | str = "/etc/fail2ban",
    stock_dir: Path = STOCK_DIR,
    args: Mapping[str, str] | None = None,
    jail_options: Mapping[str, str] | None = None,
    backend: str = "auto",
    packaged: str = HARDENED,
) -> FilterSpec:
    """Resolve filter `spec` into a FilterSpec (see the module doc for the spec forms).

    args are merged over the spec's own arguments. jail_options are a jail's (already interpolated) options: any of
    failregex, ignoreregex, prefregex, datepattern, maxlines, journalmatch, usedns, logtimezone given there replaces
    the filter's, and all of them are visible to the filter's %(...)s. backend chooses the automatic `logtype`
    (file, or journal for systemd backends) unless an argument or the filter sets it. packaged: what a name does
    with fail2ban's unmodified packaged filter file (banjail.config.packaged; a path is always read as given).
    Raises ConfigError listing every problem found.
    """
    name, spec_args = _parse_spec(spec, "filter")
    merged = {**spec_args, **(args or {})}
    problems: list[Problem] = []
    spec_obj, _options = filter_with_options(
        name, merged, Path(config_dir), stock_dir, dict(jail_options or {}), backend, problems, packaged=packaged
    )
    errors = [p for p in problems if p.severity == "error"]
    if errors:
        raise ConfigError(errors)
    return spec_obj


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
