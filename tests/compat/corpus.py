"""Upstream's sample corpus read the way upstream's sample test reads it (fail2ban 1.0.2,
tests/samplestestcase.py), as plain data: no engine, no clock.

A sample test is named after a filter (`sshd`) and starts at the log file of the same name. Inside it:
- `# fileOptions: {...}` sets options merged under every later filterOptions entry (for the rest of the test);
- `# filterOptions: {...}` or `[{...}, ...]` starts a block whose lines go to each listed option set; one option set
  is one filter variant, identified by the test name and its options without the `test.*` keys, and the same
  identity later in the test means the same filter (state included). `test.condition` may switch the block off;
- `# addFILE: "name"` appends another sample log to the test (read after the current one);
- `# failJSON: {...}` annotates the next line (which is offered even if it starts with `#`);
- any other non-blank line not starting with `#` is offered without annotation: it must not match;
- an annotation's `constraint` skips the line for the variants it rejects;
- with `logtype: journal` the line carries no date to detect (the journal gives the time: now), and
  `test.prefix-line` is put in front of it.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

SAMPLES_DIR = Path("/usr/lib/python3/dist-packages/fail2ban/tests/files/logs")
CONFIG_DIR = Path("/etc/fail2ban")
# Upstream's sample test runs with this clock and zone; annotation times are local times in that zone.
TEST_NOW = 1124013600.0
TEST_TZ = "CET-01CEST-02,M3.5.0,M10.5.0"

_DIRECTIVE = re.compile(r"^#+ ?(failJSON|fileOptions|filterOptions|addFILE):(.+)$")
# The only condition forms the corpus uses; anything else is refused rather than guessed (upstream eval()s them).
_CONDITION = re.compile(
    r"^\s*(?:name|opts\.get\('(?P<key>[^']*)'\))\s*(?P<op>==|!=)\s*'(?P<value>[^']*)'\s*$"
)
# Annotation keys that are not compared against the failure's groups.
_NOT_GROUPS = frozenset({"time", "match", "desc", "constraint"})


class CorpusError(ValueError):
    """A sample file says something this reader does not understand (named by file and line)."""


@dataclass(frozen=True, slots=True)
class Annotation:
    """What one `failJSON` says about the line after it.

    expected: the keys compared with the failure (host, user, attempts, ip4, users, ...) and their JSON values.
    time: local time text in TEST_TZ (`2005-03-07T18:53:23` or with `.%f`), None when not checked.
    """

    match: bool
    time: str | None = None
    expected: tuple[tuple[str, Any], ...] = ()
    desc: str = ""
    constraint: str = ""

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> Annotation:
        return cls(
            match=bool(data.get("match", False)),
            time=data.get("time"),
            expected=tuple((k, v) for k, v in data.items() if k not in _NOT_GROUPS),
            desc=str(data.get("desc", "")),
            constraint=str(data.get("constraint") or ""),
        )


@dataclass(frozen=True, slots=True)
class Feed:
    """One line offered to a variant's filter. annotation None: the line is unannotated and must not match."""

    file: str  # sample file name, relative to the samples dir
    lineno: int  # 1-based line number in that file
    text: str  # exactly what the engine gets (journal prefix applied)
    annotation: Annotation | None


@dataclass(slots=True)
class Variant:
    """One filter with one option set, and every line the sample test offers it, in order."""

    test: str  # the sample test (= filter) name
    filter: str
    options: dict[str, str]  # filter options (`mode`, `logtype`, ...), `test.*` keys removed
    journal: bool  # lines come "from the journal": no date detection, time = now
    feeds: list[Feed] = field(default_factory=list)

    @property
    def label(self) -> str:
        """`sshd`, `sshd[mode=aggressive]`: the filter in fail2ban's own name[args] syntax."""
        if not self.options:
            return self.test
        return self.test + "[" + ", ".join(f"{k}={v}" for k, v in self.options.items()) + "]"


def sample_tests(config_dir: Path = CONFIG_DIR) -> list[str]:
    """The sample tests upstream defines for a config dir: one per filter.d/*.conf not ending in common.conf."""
    return sorted(
        p.stem
        for p in (config_dir / "filter.d").glob("*.conf")
        if not p.name.endswith("common.conf") and not p.name.startswith(".")
    )


def condition_holds(expression: str, name: str, options: Mapping[str, Any]) -> bool:
    """Evaluate a `test.condition` or `constraint` (`name == 'sshd'`, `opts.get('mode') != 'aggressive'`)."""
    m = _CONDITION.match(expression)
    if m is None:
        raise CorpusError(f"unsupported condition {expression!r}")
    subject = name if m["key"] is None else options.get(m["key"])
    return (subject == m["value"]) == (m["op"] == "==")


def read_lines(path: Path) -> list[str]:
    """A log file's lines as upstream's reader yields them: split at b'\\n' only, UTF-8 with invalid bytes
    replaced, trailing CR/LF removed; a last line without newline still counts."""
    data = path.read_bytes()
    chunks = data.split(b"\n")
    if chunks and chunks[-1] == b"":
        chunks.pop()
    return [c.decode("utf-8", "replace").rstrip("\r\n") for c in chunks]


def read_test(name: str, samples_dir: Path = SAMPLES_DIR) -> list[Variant]:
    """Every variant of sample test `name`, in order of first use, with its feeds.

    Raises CorpusError (file:line) on malformed directives and FileNotFoundError when a sample file is missing.
    """
    variants: dict[str, Variant] = {}
    files = [name]
    common: dict[str, Any] = {}
    # (variant, all options incl. test.*) the current block offers lines to; None until a block or a line starts.
    targets: list[tuple[Variant, dict[str, Any]]] | None = None

    def variant_for(opts: Mapping[str, Any]) -> Variant:
        filter_opts = {k: str(v) for k, v in opts.items() if not k.startswith("test.")}
        key = name + str(opts.get("test.filter-name") or (str(filter_opts) if filter_opts else ""))
        if key not in variants:  # same identity later in the test: the same filter, state included
            journal = filter_opts.get("logtype") == "journal"
            variants[key] = Variant(name, name, filter_opts, journal)
        return variants[key]

    index = 0
    while index < len(files):  # addFILE appends while we read
        fname = files[index]
        index += 1
        lines = read_lines(samples_dir / fname)
        skip_block = False
        pos = 0
        while pos < len(lines):
            line = lines[pos]
            pos += 1
            lineno = pos
            annotation: Annotation | None = None
            m = _DIRECTIVE.match(line)
            if m:
                where = f"{fname}:{lineno}"
                try:
                    data = json.loads(m[2])
                except ValueError as e:
                    raise CorpusError(f"{where}: bad JSON: {e}") from None
                if m[1] == "fileOptions":
                    common = dict(data)
                    continue
                if m[1] == "filterOptions":
                    targets = []
                    skip_block = False
                    for entry in data if isinstance(data, list) else [data]:
                        if not isinstance(entry, dict):
                            raise CorpusError(f"{where}: filterOptions entry is not an object")
                        opts = {**common, **entry}
                        if opts.get("test.condition"):
                            skip_block = not condition_holds(opts["test.condition"], name, opts)
                        if not skip_block:
                            targets.append((variant_for(opts), opts))
                    continue
                if m[1] == "addFILE":
                    files.append(str(data))
                    continue
                annotation = Annotation.from_json(data)
                if pos >= len(lines):
                    raise CorpusError(f"{where}: failJSON at end of file")
                line = lines[pos]
                pos += 1
                lineno = pos
            elif skip_block or line.startswith("#") or not line.strip():
                continue
            if skip_block:
                continue
            if not targets:
                targets = [(variant_for({}), {})]
            text = line
            for variant, opts in targets:
                if (
                    annotation
                    and annotation.constraint
                    and not condition_holds(annotation.constraint, name, opts)
                ):
                    continue
                # Upstream prepends the prefix to its loop variable, so with several journal option sets in one
                # block the prefixes would accumulate; reproduce that (the corpus has one such set).
                if opts.get("logtype") == "journal" and opts.get("test.prefix-line"):
                    text = str(opts["test.prefix-line"]) + text
                variant.feeds.append(Feed(fname, lineno, text, annotation))
    return list(variants.values())
