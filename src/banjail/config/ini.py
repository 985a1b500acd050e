"""The fail2ban INI dialect: one file's syntax, and how many files merge into one tree.

Syntax (as Python's configparser reads it for upstream): `[section]` headers (names case-sensitive, `[DEFAULT]`
special), `name = value` or `name: value` (names lower-cased), `#`/`;` full-line comments, `;` inline comments only
after whitespace (`#` is never inline), values continued on more-indented lines (blank lines inside are kept,
trailing ones dropped), and an option given twice in one section of one file is an error.

Merging (as upstream's include-aware parser): files are read in order; [DEFAULT] options and section options of a
later file override earlier ones; the value an option had before a later file overrode it stays reachable as
`%(known/opt)s` (banjail keeps every earlier layer, so an override of an override still resolves where upstream
would loop). Sections named `Name?cond` merge into `Name` with keys `opt?cond`.

Files are located by `banjail.config.overlay`; this module does no directory listing of its own beyond reading the
files it is handed.
"""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

from banjail.errors import INTERPOLATION, Problem

DEFAULT = "DEFAULT"
MAX_DEPTH = 10  # configparser's MAX_INTERPOLATION_DEPTH: deeper means a loop or an absurd chain

_SECTION = re.compile(r"\[(?P<header>.+)\]")
_OPTION = re.compile(r"(?P<option>.*?)\s*(?P<vi>=|:)\s*(?P<value>.*)$")
_CONDITIONAL = re.compile(r"^(\w+)(\?.+)$")
_REF = re.compile(r"%\(([^)]+)\)s")
_SECTION_REF = re.compile(r"^([\w\-]+)/([^\s>]+)$")


@dataclass(frozen=True, slots=True)
class Entry:
    """One raw option value and where it was written (file and 1-based line of the option name)."""

    value: str
    file: str = ""
    line: int = 0


@dataclass(slots=True)
class ParsedFile:
    """One file's content: [DEFAULT] options, other sections in file order, and the syntax problems found."""

    path: str
    defaults: dict[str, Entry] = field(default_factory=dict)
    sections: dict[str, dict[str, Entry]] = field(default_factory=dict)
    problems: list[Problem] = field(default_factory=list)


def parse_text(text: str, path: str = "") -> ParsedFile:
    """Parse one file's text. Never raises: every syntax problem is recorded with its line and parsing goes on."""
    out = ParsedFile(path)
    section: dict[str, Entry] | None = None
    section_name = ""
    seen_sections: set[str] = set()
    seen_options: set[tuple[str, str]] = set()
    # The option being continued: its name, first line, and collected value lines.
    opt_name = ""
    opt_line = 0
    opt_lines: list[str] = []
    indent_level = 0

    def finish() -> None:
        if section is not None and opt_name:
            section[opt_name] = Entry("\n".join(opt_lines).rstrip(), path, opt_line)

    for lineno, line in enumerate(text.splitlines(), start=1):
        comment_start = _inline_comment(line)
        stripped = line.strip()
        if stripped.startswith(("#", ";")):
            comment_start = 0
        value = (line if comment_start is None else line[:comment_start]).strip()
        if not value:
            # A blank line inside a value is part of it; a comment line is not, but neither ends the value.
            if comment_start is None and opt_name:
                opt_lines.append("")
            continue
        indent = len(line) - len(line.lstrip())
        if opt_name and indent > indent_level:
            opt_lines.append(value)
            continue
        finish()
        opt_name = ""
        indent_level = indent
        header = _SECTION.match(value)
        if header:
            section_name = header.group("header")
            if section_name == DEFAULT:
                section = out.defaults
            elif section_name in seen_sections:
                out.problems.append(
                    Problem(
                        f"section [{section_name}] appears twice in this file",
                        path,
                        lineno,
                        section_name,
                        fix="merge the two sections into one",
                    )
                )
                section = out.sections[section_name]
            else:
                section = out.sections.setdefault(section_name, {})
                seen_sections.add(section_name)
            continue
        if section is None:
            out.problems.append(
                Problem(
                    f"line {stripped!r} is outside any section",
                    path,
                    lineno,
                    fix="put a [section] header (for example [Definition] or [DEFAULT]) above it",
                )
            )
            continue
        m = _OPTION.match(value)
        if m is None or not m.group("option"):
            out.problems.append(
                Problem(
                    f"cannot parse line {stripped!r}",
                    path,
                    lineno,
                    section_name,
                    fix="write `name = value`, or indent the line to continue the previous value",
                )
            )
            continue
        name = m.group("option").rstrip().lower()
        if (section_name, name) in seen_options:
            out.problems.append(
                Problem(
                    "option is given twice in this section of the same file",
                    path,
                    lineno,
                    section_name,
                    name,
                    fix="keep only one of them (a later file such as a .local may override it)",
                )
            )
        seen_options.add((section_name, name))
        opt_name, opt_line, opt_lines = name, lineno, [m.group("value").strip()]
    finish()
    return out


def _inline_comment(line: str) -> int | None:
    # `;` starts a comment only at the line start or after whitespace, so `a;b` stays a value.
    index = line.find(";")
    while index != -1:
        if index == 0 or line[index - 1].isspace():
            return index
        index = line.find(";", index + 1)
    return None


def read_file(path: Path) -> ParsedFile:
    """Read and parse one file as UTF-8; an unreadable or undecodable file becomes a problem, not an exception."""
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        out = ParsedFile(str(path))
        out.problems.append(
            Problem(f"cannot read file: {exc}", str(path), fix="check the file's permissions")
        )
        return out
    return parse_text(text, str(path))


class InterpolationError(Exception):
    """A %(...)s reference cannot be resolved; `problem` says where and why."""

    def __init__(self, problem: Problem) -> None:
        self.problem = dataclasses.replace(problem, kind=INTERPOLATION)
        super().__init__(str(problem))


@dataclass(slots=True)
class Tree:
    """The merge of several files: what one logical config name (e.g. "jail", "filter.d/sshd") reads as.

    `known[section][option]` lists the values the option had before later files overrode it, oldest first.
    """

    defaults: dict[str, Entry] = field(default_factory=dict)
    sections: dict[str, dict[str, Entry]] = field(default_factory=dict)
    known: dict[str, dict[str, list[Entry]]] = field(default_factory=dict)
    files: list[str] = field(default_factory=list)
    problems: list[Problem] = field(default_factory=list)

    def merge(self, parsed: ParsedFile) -> None:
        """Lay `parsed` over what was read so far."""
        self.files.append(parsed.path)
        self.problems.extend(parsed.problems)
        self.defaults.update(parsed.defaults)
        for name, options in parsed.sections.items():
            cond = _CONDITIONAL.match(name)
            if cond:
                name = cond.group(1)
                options = {key + cond.group(2): entry for key, entry in options.items()}
            target = self.sections.get(name)
            if target is None:
                self.sections[name] = dict(options)
                continue
            known = self.known.setdefault(name, {})
            for key in options:
                if key in target:
                    known.setdefault(key, []).append(target[key])
            target.update(options)

    # -- queries -------------------------------------------------------------------------------------------

    def has_section(self, section: str) -> bool:
        return section in self.sections

    def options(self, section: str, *, with_defaults: bool = False) -> list[str]:
        """Option names of `section` in definition order (then [DEFAULT]'s others if asked)."""
        names = list(self.sections.get(section, {}))
        if with_defaults:
            names += [n for n in self.defaults if n not in names]
        return names

    def entry(self, section: str, option: str, vars: Mapping[str, str] | None = None) -> Entry | None:
        """The raw entry `option` has in `section` (vars first, then the section, then [DEFAULT])."""
        option = option.lower()
        if vars and option in vars:
            return Entry(vars[option])
        own = self.sections.get(section, {}) if section != DEFAULT else {}
        if option in own:
            return own[option]
        return self.defaults.get(option)

    def get(self, section: str, option: str, vars: Mapping[str, str] | None = None) -> str | None:
        """The interpolated value of `option` in `section`, None if it is not defined there or in [DEFAULT].

        `vars` (lower-case names) take precedence over the section, as upstream's getOptions passes them.
        Raises InterpolationError for a reference that cannot be resolved.
        """
        entry = self.entry(section, option, vars)
        if entry is None:
            return None
        return self.interpolate(entry, section, option.lower(), vars)

    def get_ex(self, section: str, option: str, vars: Mapping[str, str] | None = None) -> str | None:
        """Like get, but `sec/opt` names another section (`known/opt` the overridden value, `default/opt`)."""
        m = _SECTION_REF.match(option) if "/" in option else None
        if m:
            sec, opt = m.group(1), m.group(2).lower()
            entry = self._section_ref(section, sec, opt, {})
            if entry is not None:
                # A value taken from another section is resolved there, as upstream's get_ex does: its
                # %(x)s may name options only that section defines (asterisk's [lt_journal]).
                where = section if sec.lower() in ("known", "default") or sec not in self.sections else sec
                return self.interpolate(entry, where, opt, vars)
        return self.get(section, option, vars)

    def interpolate(
        self, entry: Entry, section: str, option: str = "", vars: Mapping[str, str] | None = None
    ) -> str:
        """Resolve every %(...)s in entry.value within `section`; `%%` becomes `%`."""
        out: list[str] = []
        self._expand(entry, entry.value, section, option, vars or {}, out, 1, {})
        return "".join(out)

    def _expand(
        self,
        origin: Entry,
        rest: str,
        section: str,
        option: str,
        vars: Mapping[str, str],
        out: list[str],
        depth: int,
        levels: dict[str, int],
    ) -> None:
        if depth > MAX_DEPTH:
            raise InterpolationError(
                Problem(
                    "references nest too deeply (a %(...)s loop?)",
                    origin.file,
                    origin.line,
                    section,
                    option,
                    origin.value,
                    fix="check that no option refers back to itself",
                )
            )
        while rest:
            p = rest.find("%")
            if p < 0:
                out.append(rest)
                return
            out.append(rest[:p])
            rest = rest[p:]
            nxt = rest[1:2]
            if nxt == "%":
                out.append("%")
                rest = rest[2:]
                continue
            m = _REF.match(rest) if nxt == "(" else None
            if m is None:
                raise InterpolationError(
                    Problem(
                        f"a lone '%' at {rest[:20]!r}",
                        origin.file,
                        origin.line,
                        section,
                        option,
                        origin.value,
                        fix="write %% for a literal percent sign, or %(name)s to refer to an option",
                    )
                )
            rest = rest[m.end() :]
            name = m.group(1)
            levels_here = dict(levels)
            found = self._lookup(section, name, vars, levels_here)
            if found is None:
                raise InterpolationError(
                    Problem(
                        f"%({name})s refers to an option that is not defined",
                        origin.file,
                        origin.line,
                        section,
                        option,
                        origin.value,
                        fix=f"define {name.split('/')[-1].lower()} in [{section}] or [DEFAULT], or fix the name",
                    )
                )
            if "%" in found.value:
                self._expand(origin, found.value, section, option, vars, out, depth + 1, levels_here)
            else:
                out.append(found.value)

    def _lookup(
        self, section: str, name: str, vars: Mapping[str, str], levels: dict[str, int]
    ) -> Entry | None:
        lowered = name.lower()
        if lowered == "__name__":
            return Entry(section)
        if lowered in vars:
            return Entry(vars[lowered])
        own = self.sections.get(section, {})
        if lowered in own:
            return own[lowered]
        m = _SECTION_REF.match(name)
        if m is None:
            return self.defaults.get(lowered)
        if lowered in self.defaults:
            return self.defaults[lowered]
        return self._section_ref(section, m.group(1), m.group(2).lower(), levels)

    def _section_ref(self, section: str, sec: str, opt: str, levels: dict[str, int]) -> Entry | None:
        kind = sec.lower()
        if kind == "known":
            # Each nested known/opt steps one layer further back, so overrides of overrides resolve.
            stack = self.known.get(section, {}).get(opt, [])
            level = levels.get(opt, len(stack)) - 1
            if level >= 0:
                levels[opt] = level
                return stack[level]
            return self.defaults.get(opt)
        if kind == "default":
            return self.defaults.get(opt)
        target = self.sections.get(sec)
        if target is None:
            return None
        return target.get(opt, self.defaults.get(opt))
