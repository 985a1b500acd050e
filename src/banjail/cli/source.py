"""What fail2ban-regex's arguments name: the LOG (a file, log text itself, or the journal) and the REGEX (a regex,
a filter name with options, or a filter file), decided the way upstream decides, with the "Use ..." lines upstream
prints about them."""

from __future__ import annotations

import os
import re
from dataclasses import dataclass

from banjail.cli import report
from banjail.config import packaged as packaged_files
from banjail.config.load import load_filter
from banjail.config.overlay import STOCK_DIR
from banjail.config.tags import extract_options
from banjail.errors import BanjailError
from banjail.filter.datedetect import DateDetector
from banjail.model import FilterSpec

# A REGEX argument shaped like a filter name or path, optionally with [options]; anything else is a regex.
_FILTER_SHAPE = re.compile(r"/{0,3}[\w/.-]+(?:\[.*\])?", re.DOTALL)

FILE = "file"
TEXT = "text"
JOURNAL = "journal"


@dataclass(frozen=True, slots=True)
class Source:
    """The LOG argument: kind FILE (value is a path), TEXT (value is the log text) or JOURNAL. `note`: for
    stderr, when the text looks like a path but names no file."""

    kind: str
    value: str
    note: str = ""


def classify_log(value: str) -> Source:
    """FILE when `value` names a regular file, JOURNAL for systemd-journal[...], else TEXT (a log line or lines).

    Something that is clearly meant as a path (one word with a "/") but is no regular file is tested as a log
    line, as upstream does (and exits 0 as it does), with a note saying so: that is rarely what was meant.
    """
    if os.path.isfile(value):
        return Source(FILE, value)
    if value.startswith("systemd-journal"):
        return Source(JOURNAL, value)
    note = ""
    if "/" in value and not any(c.isspace() for c in value):
        what = "does not exist"
        if os.path.exists(value):
            what = "is a directory" if os.path.isdir(value) else "is not a regular file"
        note = (
            f"log file {value} {what}: testing {value!r} itself as a log line, as fail2ban does; give a readable "
            "log file"
        )
    return Source(TEXT, value, note)


def _find_filter_file(name: str, config_dir: str) -> tuple[str, str] | None:
    """(file, basedir) of the filter `name` ("sshd", "sshd.conf", "path/x.conf"), upstream's way, with banjail's
    stock filter.d as a last resort; None if there is no such file."""
    candidates = (name,) if "." in name[-6:] else (name, name + ".conf", name + ".local")
    filter_d = (
        config_dir if os.path.basename(config_dir) == "filter.d" else os.path.join(config_dir, "filter.d")
    )
    for candidate in candidates:
        if "/" in candidate:
            if os.path.isfile(candidate):
                return candidate, os.path.dirname(candidate)
        elif os.path.isfile(os.path.join(filter_d, candidate)):
            return os.path.join(filter_d, candidate), config_dir
    for candidate in candidates:
        if "/" not in candidate and (STOCK_DIR / "filter.d" / candidate).is_file():
            return str(STOCK_DIR / "filter.d" / candidate), config_dir
    return None


@dataclass(frozen=True, slots=True)
class Resolved:
    """A REGEX argument resolved: the filter, what to echo, and whether it came from a file (so the file's own
    maxlines/datepattern settings are echoed too)."""

    spec: FilterSpec
    echo: tuple[str, ...]
    from_file: bool
    missing_filter: str = ""  # the argument looked like a filter name, but no such filter exists
    notice: str = ""  # for stderr: fail2ban's packaged filter file was replaced, or used because it was named


def resolve_filter(value: str, config_dir: str, backend: str = "auto") -> Resolved:
    """The filter a REGEX argument means: a filter file (upstream 1.0.2's search, banjail's stock filter.d last),
    else a jail of that name in `config_dir`'s jail.conf/jail.local/jail.d, enabled or not (upstream 1.1): its
    filter with the jail's arguments and filter options (failregex, mode, datepattern, maxlines...), else a regex.
    `backend` chooses the automatic logtype (systemd: journal; a jail keeps its own otherwise). Raises
    BanjailError (ConfigError, RegexError) when it cannot be loaded."""
    missing = ""
    if _FILTER_SHAPE.fullmatch(value):
        try:
            name, options = extract_options(value)
        except ValueError as exc:
            raise BanjailError(f"wrong filter name or options in {value!r}: {exc}") from None
        found = _find_filter_file(name, config_dir)
        if found is not None:
            path, basedir = found
            basedir = os.path.dirname(basedir) if os.path.basename(basedir) == "filter.d" else basedir
            within = basedir == config_dir or ("." not in name[-6:] and "/" not in name)
            # a path names the file the user wants, packaged or not; a name means the user's filter
            packaged = packaged_files.FILE if "/" in name else packaged_files.HARDENED
            if within:
                short = os.path.splitext(os.path.basename(name))[0]
                echo = [report.use_line(f"{'failregex':>11} filter file", f"{short}, basedir: {basedir}")]
                spec = load_filter(
                    short + value[len(name) :], config_dir=basedir, backend=backend, packaged=packaged
                )
            else:
                echo = [report.use_line("  failregex file", name)]
                spec = load_filter(
                    os.path.abspath(path) + value[len(name) :], config_dir=config_dir, backend=backend
                )
            if options:
                echo.append(report.use_line("filter options", repr(options)))
            return Resolved(spec, tuple(echo), True, notice=_packaged_notice(path, name, packaged))
        if not options and "/" not in name:
            # imported here: reading jails brings the whole jail.conf schema, which a filter's run never needs
            from banjail.config.jail import load_jail

            jail = load_jail(config_dir, name, backend=None if backend == "auto" else backend)
            if jail is not None:
                echo = [report.use_line("jail", f"{name}, basedir: {config_dir}")]
                if jail.filter_spec.strip():
                    echo.append(report.use_line("jail's filter", jail.filter_spec.strip()))
                return Resolved(jail.filter, tuple(echo), True)
        missing = name
    spec = FilterSpec(failregex=(value,))
    return Resolved(spec, (report.use_line("failregex line", report.shorten(value)),), False, missing)


def _packaged_notice(path: str, name: str, packaged: str) -> str:
    found = packaged_files.replacement_for(path, STOCK_DIR)
    if found is None:
        return ""
    stem, where = found.rel.removeprefix("filter.d/").removesuffix(".conf"), os.path.abspath(path)
    if packaged == packaged_files.HARDENED:
        if not found.stock:
            return packaged_files.describe((found,))
        return (
            f"{found.rel} is fail2ban's unmodified packaged file; using banjail's hardened {stem} filter "
            f"({found.stock}) and your .local files; to test the file itself give its path: {where}"
        )
    if not found.stock:
        return ""
    return (
        f"{where} is fail2ban's unmodified packaged file, used as given; the daemon and the name "
        f"{stem!r} use banjail's hardened filter ({found.stock}) instead"
    )


def echo_filter_settings(resolved: Resolved, maxlines_given: bool, datepattern_given: bool) -> list[str]:
    """The maxlines/datepattern lines upstream prints when the filter sets them (and the command line did not
    already: `maxlines_given`, `datepattern_given`). FilterSpec holds values, not whether a file set them: a datepattern is set when it is not empty (the
    default is), maxlines when it is not 1 or the filter file itself has the option."""
    spec = resolved.spec
    out: list[str] = []
    if not resolved.from_file:
        return out
    if not maxlines_given and (spec.maxlines != 1 or _sets_maxlines(spec.file)):
        out.append(report.use_line("maxlines", str(spec.maxlines)))
    if not datepattern_given and spec.datepattern:
        pattern = "\n".join(spec.datepattern)
        out.append(report.use_line("datepattern", f"{pattern} : {datepattern_name(spec)}"))
    return out


def _sets_maxlines(path: str) -> bool:
    # The filter file and its .local; included files are not searched (no stock filter sets maxlines there).
    for candidate in (path, os.path.splitext(path)[0] + ".local"):
        try:
            with open(candidate, encoding="utf-8", errors="replace") as handle:
                if re.search(r"(?m)^maxlines\s*=", handle.read()):
                    return True
        except OSError:
            pass
    return False


def datepattern_name(spec: FilterSpec) -> str:
    """How upstream names a datepattern: "Default Detectors" when it selects more than two templates, else the
    display name of the (first) template."""
    detector = DateDetector(spec.datepattern, logtimezone=spec.logtimezone)
    templates = detector.templates
    if not templates or len(templates) > 2:
        return "Default Detectors"
    return templates[0].name
